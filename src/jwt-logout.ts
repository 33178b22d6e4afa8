import type { ErrorRequestHandler, RequestHandler } from 'express'

import { CutoffCache } from './cache/cutoff-cache.js'
import { MicrosecondClock } from './clock.js'
import { Authenticator } from './express/authenticator.js'
import { createErrorHandler } from './express/error-handler.js'
import { createLogout, createLogoutAll } from './express/logout-handlers.js'
import { createRequireAuth } from './express/require-auth.js'
import { resolveOptions, type JwtLogoutOptions } from './options.js'
import { Revoker } from './revocation/revoker.js'
import { KyselyCutoffStore } from './store/kysely-cutoff-store.js'
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
}

/**
 * Creates jwt-logout for one Express app. Options are validated here, so a
 * misconfiguration throws a TypeError at start-up instead of failing requests.
 */
export function createJwtLogout(options: JwtLogoutOptions): JwtLogout {
  const resolved = resolveOptions(options)
  const wallClock = resolved.now ?? Date.now

  const clock = new MicrosecondClock(wallClock)
  const store = new KyselyCutoffStore(resolved.db)
  const cache = new CutoffCache(
    store,
    { maxUsers: resolved.cacheMaxUsers, ttlMs: resolved.cacheTtlMs },
    wallClock,
    resolved.now,
  )
  const verifier = new TokenVerifier(resolved.token, resolved.now)
  const issuer = new TokenIssuer(resolved.token, clock, verifier)
  const authenticator = new Authenticator(verifier, cache)
  const revoker = new Revoker(store, cache, clock, resolved.token)

  return {
    requireAuth: createRequireAuth(authenticator),
    logout: createLogout(authenticator, revoker),
    logoutAll: createLogoutAll(authenticator, revoker),
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
  }
}

function checkId(name: string, value: unknown): string {
  if (typeof value !== 'string' || value === '' || value.includes('\u0000') || !value.isWellFormed()) {
    throw new TypeError(`${name} must be a non-empty string without NUL characters, got ${JSON.stringify(value)}`)
  }
  return value
}
