import type { ErrorRequestHandler, RequestHandler, Response } from 'express'
import type pg from 'pg'

import { CutoffCache } from './cache/cutoff-cache.js'
import { VerifiedTokenCache } from './cache/verified-token-cache.js'
import { MicrosecondClock } from './clock.js'
import { StoreUnavailableError } from './errors/store-unavailable-error.js'
import { Authenticator } from './express/authenticator.js'
import { setTokenCookie } from './express/cookie.js'
import { createErrorHandler } from './express/error-handler.js'
import { createLogout, createLogoutAll } from './express/logout-handlers.js'
import { createRequireAuth } from './express/require-auth.js'
import type { CutoffListener, ListenerState } from './invalidation/cutoff-listener.js'
import { PGliteListener } from './invalidation/pglite-listener.js'
import { PostgresListener } from './invalidation/postgres-listener.js'
import { SILENT_LOGGER, type Logger } from './logger.js'
import { MetricsRecorder, type MetricsSnapshot } from './metrics/metrics-recorder.js'
import { resolveOptions, type JwtLogoutOptions, type ResolvedOptions } from './options.js'
import { Revoker } from './revocation/revoker.js'
import { resolveDatabase } from './store/database-input.js'
import { KyselyCutoffStore } from './store/kysely-cutoff-store.js'
import { resolvePruneOptions, type PruneOptions } from './store/prune.js'
import { isStorableText } from './store/storable-text.js'
import type { VerifiedToken } from './token/claims.js'
import { TokenIssuer, type IssuedToken, type IssueTokenOptions } from './token/token-issuer.js'
import { TokenVerifier } from './token/token-verifier.js'

/** The middleware, handlers and functions that `createJwtLogout` returns. */
export interface JwtLogout {
  /** Middleware for protected routes: sets `req.auth` or passes a 401 or 503 error to `next`. */
  requireAuth: RequestHandler
  /** Handler that ends the session of the presented token and responds with 204. */
  logout: RequestHandler
  /** Handler that ends every session of the presented token's user and responds with 204. */
  logoutAll: RequestHandler
  /**
   * Sets the token cookie on a login response, with the attributes of the
   * `cookie` option and the token's lifetime.
   * @throws TypeError without the `cookie` option.
   */
  setTokenCookie(res: Response, issued: IssuedToken): void
  /** Error handler that renders jwt-logout's errors; mount it after your routes. */
  errorHandler: ErrorRequestHandler
  /** Signs a token for a user, starting a new session unless `sessionId` is given. */
  issueToken(userId: string, options?: IssueTokenOptions): Promise<IssuedToken>
  /**
   * Verifies a token and checks it against the cutoffs, for use outside Express.
   * @throws UnauthorizedError, including `token_revoked`; StoreUnavailableError.
   */
  authenticate(token: string): Promise<VerifiedToken>
  /** Ends every session of a user (account blocked, password changed); returns the cutoff in microseconds. */
  revokeUser(userId: string): Promise<number>
  /**
   * Ends one session of a user; returns the cutoff in microseconds.
   * @param expiresAt When every token of the session has expired, in seconds since the epoch.
   */
  revokeSession(userId: string, sessionId: string, expiresAt: number): Promise<number>
  /** Resolves when the database responds; rejects with StoreUnavailableError otherwise. */
  checkStore(): Promise<void>
  /** Returns the state of the store and of the invalidation listener, for a health check. */
  health(): Promise<Health>
  /**
   * Deletes session cutoffs that no token can need any more and returns how
   * many it deleted. See PruneOptions.
   */
  pruneExpiredSessions(options?: PruneOptions): Promise<number>
  /**
   * Returns a copy of the counters since creation: requests accepted and
   * rejected by code, cutoff cache hits and misses, store errors, the
   * duration of cutoff loads, revocations by kind, and the token counters.
   * Counting is always on: it adds integer increments to each request and two
   * `performance.now()` readings to each store load. See MetricsSnapshot for
   * what each counter counts.
   */
  metrics(): MetricsSnapshot
  /**
   * Returns the two token counters of `metrics()`: tokens checked with jose,
   * and tokens served by the verified-token cache.
   * @deprecated Use `metrics()`, which contains the same counters.
   */
  stats(): { tokenVerifications: number; tokenCacheHits: number }
  /**
   * Stops the invalidation listener, and ends the pool that jwt-logout opened
   * when `db` was a connection string. A Kysely instance or pool passed in
   * stays open: its owner closes it.
   */
  close(): Promise<void>
}

/** Health of the two connections jwt-logout depends on. */
export interface Health {
  store: 'ok' | 'unavailable'
  /** `disabled` without the `listen` option. */
  listener: ListenerState | 'disabled'
  /** Cause of the store failure, for logs only. */
  storeDetail?: string
}

/**
 * Creates jwt-logout for one Express app. Options are validated here, so a
 * misconfiguration throws a TypeError at start-up instead of failing requests.
 */
export function createJwtLogout(options: JwtLogoutOptions): JwtLogout {
  const resolved = resolveOptions(options)
  const wallClock = resolved.now ?? Date.now

  const clock = new MicrosecondClock(wallClock)
  // Opened only after every option passed validation, so that a bad option leaks no pool.
  const database = resolveDatabase(resolved.db)
  const store = new KyselyCutoffStore(database.db, { channel: resolved.notifyChannel, schema: resolved.schema })
  const logger = resolved.logger ?? SILENT_LOGGER
  const metrics = new MetricsRecorder()
  const cache = new CutoffCache(
    store,
    { maxUsers: resolved.cacheMaxUsers, ttlMs: resolved.cacheTtlMs, staleIfErrorMs: resolved.staleIfErrorMs, logger, metrics },
    wallClock,
    resolved.now,
  )
  const verifier = new TokenVerifier(resolved.token, resolved.now)
  const issuer = new TokenIssuer(resolved.token, clock, verifier)
  const tokenCache =
    resolved.tokenCacheMaxTokens === 0 ? undefined : new VerifiedTokenCache(resolved.tokenCacheMaxTokens, resolved.now)
  const authenticator = new Authenticator(verifier, cache, tokenCache, metrics)
  const revoker = new Revoker(store, cache, clock, resolved.token, { logger, metrics })
  const listener = startListener(resolved, database.listenConnection, cache, logger)
  const tokenCounters = () => ({ tokenVerifications: verifier.verifications, tokenCacheHits: authenticator.tokenCacheHits })

  return {
    requireAuth: createRequireAuth(authenticator, resolved.cookie, metrics),
    logout: createLogout(authenticator, revoker, resolved.cookie, metrics),
    logoutAll: createLogoutAll(authenticator, revoker, resolved.cookie, metrics),
    setTokenCookie: (res, issued) => {
      if (resolved.cookie === undefined) throw new TypeError('setTokenCookie needs the cookie option')
      setTokenCookie(res, resolved.cookie, issued.token, issued.expiresIn)
    },
    errorHandler: createErrorHandler(resolved.realm),
    issueToken: (userId, issueOptions) => issuer.issueToken(userId, issueOptions),
    authenticate: (token) => authenticator.requireValid(token),
    revokeUser: async (userId) => revoker.revokeUser(checkId('userId', userId)),
    revokeSession: async (userId, sessionId, expiresAt) => {
      if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) {
        throw new TypeError('expiresAt must be a NumericDate: seconds since the epoch when the session\'s tokens expire')
      }
      return revoker.revokeSession(checkId('userId', userId), checkId('sessionId', sessionId), expiresAt * 1_000_000)
    },
    checkStore: () => store.ping(),
    health: async () => {
      const listenerState = listener?.state ?? 'disabled'
      try {
        await store.ping()
        return { store: 'ok', listener: listenerState }
      } catch (error) {
        const storeDetail = error instanceof StoreUnavailableError ? error.detail : String(error)
        return { store: 'unavailable', listener: listenerState, storeDetail }
      }
    },
    pruneExpiredSessions: async (pruneOptions = {}) =>
      store.pruneExpiredSessions(...resolvePruneOptions({ now: wallClock(), ...pruneOptions })),
    metrics: () => metrics.snapshot(tokenCounters()),
    stats: tokenCounters,
    close: async () => {
      await listener?.close()
      await database.close()
    },
  }
}

/** Starts the listener that the `listen` option configures, wired to the cache, or returns undefined. */
function startListener(
  resolved: ResolvedOptions,
  databaseConnection: string | pg.ClientConfig | undefined,
  cache: CutoffCache,
  logger: Logger,
): CutoffListener | undefined {
  const { listen, notifyChannel: channel } = resolved
  if (listen === undefined) return undefined

  let listener: CutoffListener
  if ('pglite' in listen) {
    listener = new PGliteListener(listen.pglite, channel, logger)
  } else {
    const { connection = databaseConnection, ...durations } = listen
    // Options validation already refused `listen` without a connection when `db` cannot supply one.
    listener = new PostgresListener({ ...durations, connection: connection!, channel, logger })
  }
  listener.start({
    onInvalidation: (invalidation) => {
      if (invalidation === 'all') cache.invalidateAll()
      else cache.invalidate(invalidation.userId)
    },
    onGap: () => cache.invalidateAll(),
  })
  return listener
}

function checkId(name: string, value: unknown): string {
  if (typeof value !== 'string' || value === '' || !isStorableText(value)) {
    throw new TypeError(`${name} must be a non-empty string without NUL characters, got ${JSON.stringify(value)}`)
  }
  return value
}
