import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto'

import type { JWK } from 'jose'

import {
  algorithmsForKey,
  defaultAlgorithmForKey,
  HMAC_KEY_BYTES,
  isAlgorithm,
  isHmacAlgorithm,
  MIN_RSA_BITS,
  type Algorithm,
  type HmacAlgorithm,
} from './algorithms.js'

/** A public or private key: PEM text (SPKI, PKCS#8 or an X.509 certificate), a JWK object, or a KeyObject. */
export type KeyInput = string | JWK | KeyObject

/** The key material that verification uses, after validation. */
export type ResolvedKey =
  | { kind: 'secret'; secret: Uint8Array }
  | { kind: 'public'; publicKey: KeyObject }
  | { kind: 'jwks'; url: URL }

/** The key options of TokenOptions. */
export interface KeyOptionInputs {
  secret?: unknown
  publicKey?: unknown
  jwksUrl?: unknown
  privateKey?: unknown
  algorithms?: unknown
}

/**
 * Validates the key options and the algorithm list together, because each
 * algorithm must fit the key. Exactly one of `secret`, `publicKey` and
 * `jwksUrl` is required.
 * @throws TypeError naming the option and the fix.
 */
export function resolveKeyOptions(options: KeyOptionInputs): {
  key: ResolvedKey
  algorithms: Algorithm[]
  privateKey: KeyObject | undefined
} {
  const keyOptionsSet = (['secret', 'publicKey', 'jwksUrl'] as const).filter((name) => options[name] !== undefined)
  if (keyOptionsSet.length !== 1) {
    throw new TypeError(
      keyOptionsSet.length === 0
        ? 'secret is missing: pass secret (HMAC), publicKey (PEM or JWK) or jwksUrl (a JSON Web Key Set)'
        : `pass only one of secret, publicKey and jwksUrl, not ${keyOptionsSet.join(' and ')}`,
    )
  }

  if (options.secret !== undefined) {
    const algorithms = resolveAlgorithms(options.algorithms, ['HS256'])
    const wrong = algorithms.find((algorithm) => !isHmacAlgorithm(algorithm))
    if (wrong !== undefined) {
      throw new TypeError(`algorithms contains ${wrong}, which a shared secret cannot verify; use HS256, HS384 or HS512`)
    }
    const hmacAlgorithms = algorithms as HmacAlgorithm[]
    return { key: { kind: 'secret', secret: resolveSecret(options.secret, hmacAlgorithms) }, algorithms, privateKey: undefined }
  }

  if (options.publicKey !== undefined) {
    const publicKey = toKeyObject('publicKey', options.publicKey, 'public')
    const fitting = algorithmsForKey(publicKey)
    const fallback = defaultAlgorithmForKey(publicKey)
    if (fallback === undefined) {
      throw new TypeError(`publicKey is a ${publicKey.asymmetricKeyType} key, which jwt-logout does not support; use RSA, EC (P-256, P-384, P-521) or Ed25519`)
    }
    const algorithms = resolveAlgorithms(options.algorithms, [fallback])
    checkFits('publicKey', publicKey, algorithms, fitting)
    const privateKey = resolvePrivateKey(options.privateKey, algorithms)
    return { key: { kind: 'public', publicKey }, algorithms, privateKey }
  }

  const url = resolveJwksUrl(options.jwksUrl)
  if (options.algorithms === undefined) {
    throw new TypeError('algorithms is required with jwksUrl, because the key set can contain any key type; for example ["RS256"]')
  }
  const algorithms = resolveAlgorithms(options.algorithms, [])
  const hmac = algorithms.find(isHmacAlgorithm)
  if (hmac !== undefined) throw new TypeError(`algorithms contains ${hmac}, which a public key set cannot verify`)
  const privateKey = resolvePrivateKey(options.privateKey, algorithms)
  return { key: { kind: 'jwks', url }, algorithms, privateKey }
}

function resolveAlgorithms(value: unknown, fallback: Algorithm[]): Algorithm[] {
  if (value === undefined) return fallback

  if (!Array.isArray(value) || value.length === 0) {
    throw new TypeError('algorithms must be a non-empty array such as ["HS256"]')
  }
  for (const algorithm of value) {
    if (!isAlgorithm(algorithm)) {
      throw new TypeError(
        `algorithms contains ${JSON.stringify(algorithm)}, which is not a supported JWS algorithm; use HS*, RS*, PS*, ES* or EdDSA`,
      )
    }
  }
  return [...new Set(value as Algorithm[])]
}

function resolveSecret(secret: unknown, algorithms: HmacAlgorithm[]): Uint8Array {
  let bytes: Uint8Array
  if (typeof secret === 'string') {
    bytes = new TextEncoder().encode(secret)
  } else if (secret instanceof Uint8Array) {
    bytes = new Uint8Array(secret)
  } else {
    throw new TypeError('secret must be the HMAC secret as a string or a Uint8Array')
  }

  const requiredBytes = Math.max(...algorithms.map((algorithm) => HMAC_KEY_BYTES[algorithm]))
  if (bytes.length < requiredBytes) {
    throw new TypeError(
      `secret is ${bytes.length} bytes long, but ${algorithms.join(', ')} needs at least ${requiredBytes}; ` +
        'generate one with: openssl rand -base64 48',
    )
  }
  return bytes
}

function resolvePrivateKey(value: unknown, algorithms: Algorithm[]): KeyObject | undefined {
  if (value === undefined) return undefined

  const privateKey = toKeyObject('privateKey', value, 'private')
  checkFits('privateKey', privateKey, algorithms.slice(0, 1), algorithmsForKey(privateKey))
  return privateKey
}

/** Checks that every algorithm fits the key, and that an RSA key is long enough. */
function checkFits(name: string, key: KeyObject, algorithms: Algorithm[], fitting: Algorithm[]): void {
  const misfit = algorithms.find((algorithm) => !fitting.includes(algorithm))
  if (misfit !== undefined) {
    throw new TypeError(
      `algorithms contains ${misfit}, which does not fit ${name} (a ${describeKey(key)} key); use ${fitting.join(', ')}`,
    )
  }
  const bits = key.asymmetricKeyDetails?.modulusLength
  if (bits !== undefined && bits < MIN_RSA_BITS) {
    throw new TypeError(`${name} is a ${bits}-bit RSA key; RS* and PS* need at least ${MIN_RSA_BITS} bits`)
  }
}

function toKeyObject(name: string, value: unknown, type: 'public' | 'private'): KeyObject {
  if (typeof value === 'object' && value !== null && (value as KeyObject).type !== undefined && 'export' in value) {
    const key = value as KeyObject
    if (type === 'public' && key.type === 'private') return createPublicKey(key)
    if (key.type === type) return key
    throw new TypeError(`${name} must be a ${type} key, got a ${key.type} KeyObject`)
  }
  try {
    if (typeof value === 'string') return type === 'public' ? createPublicKey(value) : createPrivateKey(value)
    if (typeof value === 'object' && value !== null) {
      // node:crypto's JWK type stays out of the declarations, which use jose's JWK, because some @types/node versions do not export it.
      const input = { key: value as JsonWebKey, format: 'jwk' as const }
      return type === 'public' ? createPublicKey(input) : createPrivateKey(input)
    }
  } catch (error) {
    throw new TypeError(`${name} is not a valid ${type} key in PEM or JWK form: ${(error as Error).message}`, { cause: error })
  }
  throw new TypeError(`${name} must be a PEM string, a JWK object or a KeyObject`)
}

function resolveJwksUrl(value: unknown): URL {
  let url: URL
  try {
    url = new URL(String(value))
  } catch {
    throw new TypeError(`jwksUrl must be an absolute URL, got ${JSON.stringify(value)}`)
  }
  // Plain HTTP would let anyone on the path swap the keys; it is allowed for loopback only, for tests.
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new TypeError(`jwksUrl must use https (http only on localhost), got ${url.protocol}//${url.host}`)
  }
  return url
}

function describeKey(key: KeyObject): string {
  const curve = key.asymmetricKeyDetails?.namedCurve
  return curve === undefined ? String(key.asymmetricKeyType) : `${key.asymmetricKeyType} ${curve}`
}
