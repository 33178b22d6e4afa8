import type { KeyObject } from 'node:crypto'

/** JWS algorithms jwt-logout verifies. `none` is not one of them and is never accepted. */
export const ALGORITHMS = [
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const

/** A JWS algorithm that jwt-logout verifies. */
export type Algorithm = (typeof ALGORITHMS)[number]

/** HMAC algorithms that a shared secret can verify. */
export type HmacAlgorithm = 'HS256' | 'HS384' | 'HS512'

/** Minimum HMAC key length per algorithm, in bytes: RFC 7518 section 3.2 requires at least the hash size. */
export const HMAC_KEY_BYTES: Record<HmacAlgorithm, number> = { HS256: 32, HS384: 48, HS512: 64 }

/** Minimum RSA modulus, in bits, as RFC 7518 section 3.3 requires. */
export const MIN_RSA_BITS = 2048

export function isAlgorithm(value: unknown): value is Algorithm {
  return typeof value === 'string' && (ALGORITHMS as readonly string[]).includes(value)
}

export function isHmacAlgorithm(algorithm: Algorithm): algorithm is HmacAlgorithm {
  return algorithm in HMAC_KEY_BYTES
}

const CURVE_ALGORITHM: Record<string, Algorithm> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' }

/**
 * Returns the algorithms that a public key can verify, so that a token signed
 * with another family (such as HS256 with the public key as the secret, the
 * algorithm confusion attack) is never checked against it.
 */
export function algorithmsForKey(key: KeyObject): Algorithm[] {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']
    case 'rsa-pss':
      return ['PS256', 'PS384', 'PS512']
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve
      const algorithm = curve === undefined ? undefined : CURVE_ALGORITHM[curve]
      return algorithm === undefined ? [] : [algorithm]
    }
    case 'ed25519':
      return ['EdDSA', 'Ed25519']
    default:
      return []
  }
}

/** Returns the algorithm to use when none is configured for `key`. */
export function defaultAlgorithmForKey(key: KeyObject): Algorithm | undefined {
  const [first] = key.asymmetricKeyType === 'ed25519' ? ['EdDSA' as const] : algorithmsForKey(key)
  return first
}
