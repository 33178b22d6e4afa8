/** HMAC algorithms that a shared secret can verify. */
export type HmacAlgorithm = 'HS256' | 'HS384' | 'HS512'

const HMAC_KEY_BYTES: Record<HmacAlgorithm, number> = { HS256: 32, HS384: 48, HS512: 64 }

/** Options for signing and verifying tokens. */
export interface TokenOptions {
  /**
   * Shared HMAC secret. A string is used as its UTF-8 bytes. RFC 7518 requires
   * a key at least as long as the hash: 32 bytes for HS256, 48 for HS384 and
   * 64 for HS512, checked against the longest hash in `algorithms`.
   */
  secret: string | Uint8Array
  /**
   * Algorithms that a token may be signed with; `none` is never accepted. Tokens
   * are issued with the first one.
   * @default ['HS256']
   */
  algorithms?: HmacAlgorithm[]
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
  secret: Uint8Array
  algorithms: HmacAlgorithm[]
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
  const algorithms = resolveAlgorithms(options.algorithms)

  return {
    secret: resolveSecret(options.secret, algorithms),
    algorithms,
    issuer: resolveStringList('issuer', options.issuer),
    audience: resolveStringList('audience', options.audience),
    clockToleranceSeconds: resolveSeconds('clockToleranceSeconds', options.clockToleranceSeconds, 0, { allowZero: true }),
    maxTokenAgeSeconds:
      options.maxTokenAgeSeconds === undefined ? undefined : resolveSeconds('maxTokenAgeSeconds', options.maxTokenAgeSeconds, 0),
    tokenLifetimeSeconds: resolveSeconds('tokenLifetimeSeconds', options.tokenLifetimeSeconds, 900),
    maxClaimLength: resolveCount('maxClaimLength', options.maxClaimLength, 255),
    maxTokenLength: resolveCount('maxTokenLength', options.maxTokenLength, 8192),
  }
}

function resolveAlgorithms(algorithms: unknown): HmacAlgorithm[] {
  if (algorithms === undefined) return ['HS256']

  if (!Array.isArray(algorithms) || algorithms.length === 0) {
    throw new TypeError('algorithms must be a non-empty array such as ["HS256"]')
  }
  for (const algorithm of algorithms) {
    if (typeof algorithm !== 'string' || !(algorithm in HMAC_KEY_BYTES)) {
      throw new TypeError(
        `algorithms contains ${JSON.stringify(algorithm)}, which a shared secret cannot verify; use HS256, HS384 or HS512`,
      )
    }
  }
  return [...new Set(algorithms as HmacAlgorithm[])]
}

function resolveSecret(secret: unknown, algorithms: HmacAlgorithm[]): Uint8Array {
  let bytes: Uint8Array
  if (typeof secret === 'string') {
    bytes = new TextEncoder().encode(secret)
  } else if (secret instanceof Uint8Array) {
    bytes = new Uint8Array(secret)
  } else {
    throw new TypeError('secret is missing: pass the HMAC secret as a string or a Uint8Array')
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
