import type { KeyObject } from 'node:crypto'

import type { Algorithm } from './algorithms.js'
import { resolveKeyOptions, type KeyInput, type ResolvedKey } from './key-options.js'

export type { Algorithm, HmacAlgorithm } from './algorithms.js'

/** Options for signing and verifying tokens. Exactly one of `secret`, `publicKey` and `jwksUrl` is required. */
export interface TokenOptions {
  /**
   * Shared HMAC secret for HS256, HS384 or HS512. A string is used as its UTF-8
   * bytes. RFC 7518 requires a key at least as long as the hash: 32 bytes for
   * HS256, 48 for HS384 and 64 for HS512, checked against the longest hash in
   * `algorithms`.
   */
  secret?: string | Uint8Array
  /**
   * Public key that verifies tokens signed elsewhere: PEM (SPKI or an X.509
   * certificate), a JWK object or a KeyObject; RSA of at least 2048 bits, EC
   * P-256, P-384 or P-521, or Ed25519. `algorithms` must fit its type.
   */
  publicKey?: KeyInput
  /**
   * URL of a JSON Web Key Set, such as an identity provider's `jwks_uri`.
   * Keys are fetched on first use, cached, and fetched again when a token
   * names an unknown `kid`, so key rotation needs no restart. It must be
   * https (http only on localhost). Requires `algorithms`.
   */
  jwksUrl?: string | URL
  /**
   * Private key that `issueToken` signs with when the algorithm is not HMAC:
   * PKCS#8 PEM, a JWK object or a KeyObject. It must fit the first algorithm.
   */
  privateKey?: KeyInput
  /**
   * Algorithms that a token may be signed with. `none` is never accepted.
   * Each must fit the key, so that one key family cannot be used as another.
   * `issueToken` uses the first one.
   * @default ['HS256'] with a secret; the key's own algorithm with a publicKey; required with jwksUrl
   */
  algorithms?: Algorithm[]
  /**
   * Time limits of the JSON Web Key Set fetch, in milliseconds: how long one
   * fetch may take, how long fetched keys are trusted, and the minimum time
   * between two fetches triggered by unknown `kid` values.
   * @default { timeoutMs: 5000, cacheMaxAgeMs: 600000, cooldownMs: 30000 }
   */
  jwks?: { timeoutMs?: number; cacheMaxAgeMs?: number; cooldownMs?: number }
  /**
   * Whether tokens must have `exp`. Turning it off is unsafe: a token without
   * `exp` never expires, so it then requires `maxTokenAgeSeconds`, which
   * bounds every token's life by its `iat` instead.
   * @default true
   */
  requireExpiration?: boolean
  /** Expected `iss`. Issued tokens get the first value; verification requires one of them. */
  issuer?: string | string[]
  /** Expected `aud`. Issued tokens get these values; verification requires one of them. */
  audience?: string | string[]
  /**
   * Leeway for `exp`, `nbf` and `iat` checks, in seconds, for clocks that
   * disagree a little.
   * @default 0
   */
  clockToleranceSeconds?: number
  /**
   * Maximum age of a token, measured from `iat`, in seconds. Optional.
   * It also bounds how long a single-session logout must be remembered.
   */
  maxTokenAgeSeconds?: number
  /**
   * Lifetime of an issued token, in seconds: its `exp` is `iat` plus this.
   * @default 900
   */
  tokenLifetimeSeconds?: number
  /**
   * Maximum length of `sub` and `sid`, in UTF-16 code units. Longer claims are
   * rejected before they reach the database.
   * @default 255
   */
  maxClaimLength?: number
  /**
   * Maximum length of the compact token, in characters, checked before any
   * decoding so that oversized input costs nothing.
   * @default 8192
   */
  maxTokenLength?: number
}

/** TokenOptions after validation, with every default filled in. */
export interface ResolvedTokenOptions {
  key: ResolvedKey
  algorithms: Algorithm[]
  privateKey: KeyObject | undefined
  jwks: { timeoutMs: number; cacheMaxAgeMs: number; cooldownMs: number }
  requireExpiration: boolean
  issuer: string[] | undefined
  audience: string[] | undefined
  clockToleranceSeconds: number
  maxTokenAgeSeconds: number | undefined
  tokenLifetimeSeconds: number
  maxClaimLength: number
  maxTokenLength: number
}

/** Validates token options once, at start-up, and throws a TypeError that names the option. */
export function resolveTokenOptions(options: TokenOptions): ResolvedTokenOptions {
  const { key, algorithms, privateKey } = resolveKeyOptions(options)
  const maxTokenAgeSeconds =
    options.maxTokenAgeSeconds === undefined ? undefined : resolveSeconds('maxTokenAgeSeconds', options.maxTokenAgeSeconds, 0)

  const requireExpiration = options.requireExpiration ?? true
  if (typeof requireExpiration !== 'boolean') {
    throw new TypeError(`requireExpiration must be true or false, got ${String(requireExpiration)}`)
  }
  if (!requireExpiration && maxTokenAgeSeconds === undefined) {
    throw new TypeError('requireExpiration: false needs maxTokenAgeSeconds, or tokens without exp would never expire')
  }

  return {
    key,
    algorithms,
    privateKey,
    jwks: resolveJwksTimes(options.jwks),
    requireExpiration,
    issuer: resolveStringList('issuer', options.issuer),
    audience: resolveStringList('audience', options.audience),
    clockToleranceSeconds: resolveSeconds('clockToleranceSeconds', options.clockToleranceSeconds, 0, { allowZero: true }),
    maxTokenAgeSeconds,
    tokenLifetimeSeconds: resolveSeconds('tokenLifetimeSeconds', options.tokenLifetimeSeconds, 900),
    maxClaimLength: resolveCount('maxClaimLength', options.maxClaimLength, 255),
    maxTokenLength: resolveCount('maxTokenLength', options.maxTokenLength, 8192),
  }
}

function resolveJwksTimes(value: unknown): ResolvedTokenOptions['jwks'] {
  if (value !== undefined && (typeof value !== 'object' || value === null)) {
    throw new TypeError('jwks must be an object such as { timeoutMs: 5000 }')
  }
  const times = (value ?? {}) as Record<string, unknown>
  return {
    timeoutMs: resolveCount('jwks.timeoutMs', times.timeoutMs, 5000),
    cacheMaxAgeMs: resolveCount('jwks.cacheMaxAgeMs', times.cacheMaxAgeMs, 600_000),
    cooldownMs: resolveCount('jwks.cooldownMs', times.cooldownMs, 30_000),
  }
}

function resolveStringList(name: string, value: unknown): string[] | undefined {
  if (value === undefined) return undefined

  const list = Array.isArray(value) ? value : [value]
  if (list.length === 0 || list.some((item) => typeof item !== 'string' || item === '')) {
    throw new TypeError(`${name} must be a non-empty string or a non-empty array of non-empty strings`)
  }
  return list as string[]
}

function resolveSeconds(name: string, value: unknown, fallback: number, { allowZero = false } = {}): number {
  if (value === undefined) return fallback

  const valid = typeof value === 'number' && Number.isFinite(value) && (allowZero ? value >= 0 : value > 0)
  if (!valid) {
    throw new TypeError(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} number of seconds, got ${String(value)}`)
  }
  return value
}

function resolveCount(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback

  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new TypeError(`${name} must be a positive integer, got ${String(value)}`)
  }
  return value
}
