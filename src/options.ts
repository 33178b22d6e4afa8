import type { Kysely } from 'kysely'

import type { Clock } from './clock.js'
import { resolveTokenOptions, type ResolvedTokenOptions, type TokenOptions } from './token/token-options.js'

/** Options of `createJwtLogout`. */
export interface JwtLogoutOptions extends TokenOptions {
  /**
   * Kysely instance on the PostgreSQL (or PGlite) database that contains the
   * jwt-logout tables. Run the migrations first. jwt-logout never closes it.
   */
  db: Kysely<any>
  /**
   * Maximum number of users whose cutoffs are cached in this process.
   * @default 10000
   */
  cacheMaxUsers?: number
  /**
   * How long a cached cutoff is trusted, in milliseconds. A logout written by
   * another process is enforced here after at most this long.
   * @default 10000
   */
  cacheTtlMs?: number
  /** `realm` parameter of the `WWW-Authenticate` challenge. Omitted by default. */
  realm?: string
  /**
   * Clock in milliseconds since the epoch, for tests that freeze time. It
   * drives token issue, verification, cutoffs and the cache TTL.
   * @default Date.now
   */
  now?: Clock
}

/** JwtLogoutOptions after validation, with every default filled in. */
export interface ResolvedOptions {
  token: ResolvedTokenOptions
  db: Kysely<any>
  cacheMaxUsers: number
  cacheTtlMs: number
  realm: string | undefined
  now: Clock | undefined
}

const KNOWN_OPTIONS = new Set([
  'db',
  'cacheMaxUsers',
  'cacheTtlMs',
  'realm',
  'now',
  'secret',
  'algorithms',
  'issuer',
  'audience',
  'clockToleranceSeconds',
  'maxTokenAgeSeconds',
  'tokenLifetimeSeconds',
  'maxClaimLength',
  'maxTokenLength',
])

/** Validates every option once, at start-up, and throws a TypeError that names the option and the fix. */
export function resolveOptions(options: JwtLogoutOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('createJwtLogout expects an options object with at least db and secret')
  }
  for (const name of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(name)) throw new TypeError(`Unknown option ${JSON.stringify(name)}; check its spelling`)
  }
  const db = options.db as unknown
  if (typeof db !== 'object' || db === null || typeof (db as Kysely<any>).selectFrom !== 'function') {
    throw new TypeError('db is missing: pass the Kysely instance of the database that contains the jwt-logout tables')
  }
  if (options.realm !== undefined && (typeof options.realm !== 'string' || !/^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/.test(options.realm))) {
    throw new TypeError('realm must be a string of printable ASCII characters without " or \\')
  }
  if (options.now !== undefined && typeof options.now !== 'function') {
    throw new TypeError('now must be a function that returns milliseconds since the epoch, like Date.now')
  }

  return {
    token: resolveTokenOptions(options),
    db: options.db,
    cacheMaxUsers: resolvePositiveInteger('cacheMaxUsers', options.cacheMaxUsers, 10_000),
    cacheTtlMs: resolvePositiveInteger('cacheTtlMs', options.cacheTtlMs, 10_000),
    realm: options.realm,
    now: options.now,
  }
}

function resolvePositiveInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback

  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new TypeError(`${name} must be a positive integer, got ${String(value)}`)
  }
  return value
}
