import type { PGlite } from '@electric-sql/pglite'
import type pg from 'pg'

import type { Clock } from './clock.js'
import { resolveCookieOptions, type CookieOptions, type ResolvedCookieOptions } from './express/cookie.js'
import { checkChannel, DEFAULT_CHANNEL } from './invalidation/notification.js'
import type { Logger } from './logger.js'
import { checkDatabaseInput, type DatabaseInput } from './store/database-input.js'
import { checkSchemaName } from './store/schema.js'
import { suggestionFor } from './suggest.js'
import { resolveTokenOptions, type ResolvedTokenOptions, type TokenOptions } from './token/token-options.js'

/** Options of `createJwtLogout`. */
export interface JwtLogoutOptions extends TokenOptions {
  /**
   * The database that contains the jwt-logout tables. The application's
   * Kysely instance (PostgreSQL or PGlite) or pg pool is used and never
   * closed. For a PostgreSQL connection string, jwt-logout opens a pool of its
   * own (10 connections, 2-second timeouts), which `close()` ends. Run the
   * migrations first.
   */
  db: DatabaseInput
  /**
   * Schema of the jwt-logout tables, such as `auth`. Pass the same one to the
   * migrations. Without it, the connection's search_path finds the tables.
   */
  schema?: string
  /**
   * Maximum number of users whose cutoffs are cached in this process.
   * @default 10000
   */
  cacheMaxUsers?: number
  /**
   * How long a cached cutoff is trusted, in milliseconds. Without `listen`, a
   * logout written by another process is enforced here after at most this
   * long. With it, this only bounds staleness while the listener is down.
   * @default 10000
   */
  cacheTtlMs?: number
  /**
   * How long past its TTL a cached cutoff may still be served while the
   * database fails, in milliseconds. 0 (the default) fails closed: a request
   * whose cutoff is not fresh gets 503. A positive value trades security for
   * availability: during an outage, a logout written in the last
   * `cacheTtlMs + staleIfErrorMs` may go unseen by this process.
   * @default 0
   */
  staleIfErrorMs?: number
  /**
   * Connection on which to LISTEN for the notifications that every cutoff
   * write sends, so that a logout on one instance reaches every other instance
   * at once. `true` opens it with the settings of the `db` pool or connection
   * string. Pass `{ connectionString }` to name another PostgreSQL address, which
   * must be a direct or session-mode connection because PgBouncer in
   * transaction mode does not carry LISTEN, or `{ pglite }` for the embedded
   * database. Without it, other instances see a logout when their cached
   * entry's TTL ends.
   */
  listen?: ListenOptions | true
  /**
   * PostgreSQL channel of the cutoff notifications: a lowercase identifier.
   * @default 'jwt_logout_cutoffs'
   */
  notifyChannel?: string
  /**
   * Receives revocations, store errors and listener reconnections, with user
   * ids but never tokens. A pino logger fits as it is. Silent by default.
   */
  logger?: Logger
  /**
   * Maximum number of verified tokens kept, so that a repeated token skips
   * the signature check; 0 turns the cache off. Revocation is still checked
   * on every request. Each slot allows for 2048 characters of token text on
   * average, so larger tokens take more slots.
   * @default 0
   */
  tokenCacheMaxTokens?: number
  /** `realm` parameter of the `WWW-Authenticate` challenge. Omitted by default. */
  realm?: string
  /**
   * Cookie mode: also read the token from this cookie when a request has no
   * Authorization header, and clear the cookie on logout. Set the cookie at
   * login with `setTokenCookie`. Cookie authentication needs CSRF protection;
   * the default SameSite=Lax blocks cross-site POSTs in current browsers.
   */
  cookie?: CookieOptions
  /**
   * Clock in milliseconds since the epoch, for tests that freeze time. It
   * drives token issue, verification, cutoffs and the cache TTL.
   * @default Date.now
   */
  now?: Clock
}

/** Settings of the LISTEN connection; every duration is in milliseconds. */
export type ListenOptions =
  | {
      /** Address of the LISTEN connection. @default the settings of the `db` pool or connection string */
      connectionString?: string
      /** Time to wait for the connection and for LISTEN. @default 5000 */
      connectTimeoutMs?: number
      /** Interval of the keepalive query that detects a silently dead connection. @default 10000 */
      keepaliveIntervalMs?: number
      /** Time a keepalive query may take before the connection counts as dead. @default 5000 */
      keepaliveTimeoutMs?: number
      /** First reconnection delay; it doubles per failed attempt, with jitter. @default 100 */
      reconnectMinDelayMs?: number
      /** Maximum reconnection delay. @default 10000 */
      reconnectMaxDelayMs?: number
    }
  | { pglite: PGlite }

/** The listen option after validation: the PostgreSQL connection is known unless it comes from `db`. */
export type ResolvedListen =
  | (Omit<Extract<ListenOptions, { connectionString?: string }>, 'connectionString'> & {
      connection: string | pg.ClientConfig | undefined
    })
  | { pglite: PGlite }

/** JwtLogoutOptions after validation, with every default filled in. */
export interface ResolvedOptions {
  token: ResolvedTokenOptions
  /** The `db` option, checked to be one of the accepted kinds but not opened yet. */
  db: DatabaseInput
  schema: string | undefined
  cacheMaxUsers: number
  cacheTtlMs: number
  staleIfErrorMs: number
  tokenCacheMaxTokens: number
  listen: ResolvedListen | undefined
  notifyChannel: string
  logger: Logger | undefined
  realm: string | undefined
  cookie: ResolvedCookieOptions | undefined
  now: Clock | undefined
}

type DatabaseKind = ReturnType<typeof checkDatabaseInput>

const LISTEN_DURATIONS = [
  'connectTimeoutMs',
  'keepaliveIntervalMs',
  'keepaliveTimeoutMs',
  'reconnectMinDelayMs',
  'reconnectMaxDelayMs',
] as const

const KNOWN_OPTIONS = new Set([
  'db',
  'schema',
  'cacheMaxUsers',
  'cacheTtlMs',
  'staleIfErrorMs',
  'tokenCacheMaxTokens',
  'listen',
  'notifyChannel',
  'logger',
  'realm',
  'cookie',
  'now',
  'secret',
  'publicKey',
  'jwksUrl',
  'privateKey',
  'jwks',
  'requireExpiration',
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
    if (!KNOWN_OPTIONS.has(name)) {
      const suggestion = suggestionFor(name, [...KNOWN_OPTIONS]) || ' Check its spelling.'
      throw new TypeError(`Unknown option ${JSON.stringify(name)}.${suggestion}`)
    }
  }
  if (options.db === undefined) {
    throw new TypeError('db is missing: pass the Kysely instance, pg pool or connection string of the database with the jwt-logout tables')
  }
  const databaseKind = checkDatabaseInput(options.db)
  if (options.realm !== undefined && (typeof options.realm !== 'string' || !/^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/.test(options.realm))) {
    throw new TypeError('realm must be a string of printable ASCII characters without " or \\')
  }
  if (options.now !== undefined && typeof options.now !== 'function') {
    throw new TypeError('now must be a function that returns milliseconds since the epoch, like Date.now')
  }

  return {
    token: resolveTokenOptions(options),
    db: options.db,
    schema: checkSchemaName(options.schema),
    cacheMaxUsers: resolvePositiveInteger('cacheMaxUsers', options.cacheMaxUsers, 10_000),
    cacheTtlMs: resolvePositiveInteger('cacheTtlMs', options.cacheTtlMs, 10_000),
    staleIfErrorMs: options.staleIfErrorMs === 0 ? 0 : resolvePositiveInteger('staleIfErrorMs', options.staleIfErrorMs, 0),
    tokenCacheMaxTokens:
      options.tokenCacheMaxTokens === 0 ? 0 : resolvePositiveInteger('tokenCacheMaxTokens', options.tokenCacheMaxTokens, 0),
    listen: resolveListen(options.listen, databaseKind),
    notifyChannel: checkChannel(options.notifyChannel ?? DEFAULT_CHANNEL),
    logger: resolveLogger(options.logger),
    realm: options.realm,
    cookie: resolveCookieOptions(options.cookie),
    now: options.now,
  }
}

function resolveListen(listen: unknown, databaseKind: DatabaseKind): ResolvedListen | undefined {
  if (listen === undefined || listen === false) return undefined
  if (listen === true) listen = {}

  if (typeof listen !== 'object' || listen === null) {
    throw new TypeError('listen must be true, { connectionString } for PostgreSQL or { pglite } for PGlite')
  }
  if ('pglite' in listen) {
    const pglite = (listen as { pglite: unknown }).pglite
    if (typeof pglite !== 'object' || pglite === null || typeof (pglite as PGlite).listen !== 'function') {
      throw new TypeError('listen.pglite must be the PGlite instance that the db option uses')
    }
    return { pglite: pglite as PGlite }
  }

  for (const name of Object.keys(listen)) {
    if (name !== 'connectionString' && !(LISTEN_DURATIONS as readonly string[]).includes(name)) {
      throw new TypeError(`Unknown option listen.${name}; the options are connectionString, ${LISTEN_DURATIONS.join(', ')} and pglite`)
    }
  }
  const { connectionString, ...durations } = listen as Record<string, unknown>
  for (const name of LISTEN_DURATIONS) {
    const value = durations[name]
    if (value !== undefined) resolvePositiveInteger(`listen.${name}`, value, 0)
  }
  if (connectionString === undefined) {
    if (databaseKind === 'kysely') {
      throw new TypeError(
        'listen needs a connectionString when db is a Kysely instance, because a Kysely instance does not tell where it connects',
      )
    }
    // The connection of the pool or of the connection string is filled in when `db` is opened.
    return { ...durations, connection: undefined }
  }
  if (typeof connectionString !== 'string' || connectionString === '') {
    throw new TypeError('listen.connectionString must be a PostgreSQL connection string, such as the one of the pool')
  }
  return { ...durations, connection: connectionString }
}

function resolveLogger(logger: unknown): Logger | undefined {
  if (logger === undefined) return undefined

  const methods = ['info', 'warn', 'error'] as const
  if (typeof logger !== 'object' || logger === null || methods.some((name) => typeof (logger as Logger)[name] !== 'function')) {
    throw new TypeError('logger must have info, warn and error methods, as a pino logger has')
  }
  return logger as Logger
}

function resolvePositiveInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback

  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new TypeError(`${name} must be a positive integer, got ${String(value)}`)
  }
  return value
}
