import type { NextFunction, Request, RequestHandler, Response } from 'express'

import { InvalidRequestError } from '../errors/invalid-request-error.js'
import type { MetricsRecorder } from '../metrics/metrics-recorder.js'
import type { Revoker } from '../revocation/revoker.js'
import type { Authentication, Authenticator } from './authenticator.js'
import { clearTokenCookie, type ResolvedCookieOptions } from './cookie.js'
import { readRequestToken } from './request-token.js'

/**
 * Creates the handler that ends the session of the presented token (`sid`)
 * and responds with 204. A token that is already revoked also gets 204 but writes
 * nothing, so a stolen old token cannot keep moving the cutoff. It counts as
 * a `token_revoked` rejection.
 */
export function createLogout(
  authenticator: Authenticator,
  revoker: Revoker,
  cookie: ResolvedCookieOptions | undefined,
  metrics: MetricsRecorder,
): RequestHandler {
  return function logout(req, res, next) {
    authenticateLogout(authenticator, req, cookie)
      .then(async ({ token, revoked }) => {
        if (revoked) {
          metrics.requestsRejected.token_revoked++
          return
        }

        if (token.sessionId === undefined) {
          throw new InvalidRequestError(
            'missing_session_id',
            'The token has no "sid" claim, so it cannot end a single session; use logout-all to end every session of the user.',
          )
        }
        await revoker.revokeSession(token.userId, token.sessionId, token.expiresAtMicros, token.issuedAtMicros)
        metrics.requestsAccepted++
      })
      .then(() => endLoggedOut(res, cookie), countAndPass(metrics, next))
      // Writing the response can throw too, for example when another middleware already sent one.
      .catch(next)
  }
}

/**
 * Creates the handler that ends every session of the presented token's user
 * and responds with 204. An already revoked token gets 204, writes nothing
 * and counts as a `token_revoked` rejection.
 */
export function createLogoutAll(
  authenticator: Authenticator,
  revoker: Revoker,
  cookie: ResolvedCookieOptions | undefined,
  metrics: MetricsRecorder,
): RequestHandler {
  return function logoutAll(req, res, next) {
    authenticateLogout(authenticator, req, cookie)
      .then(async ({ token, revoked }) => {
        if (revoked) {
          metrics.requestsRejected.token_revoked++
          return
        }
        await revoker.revokeUser(token.userId, token.issuedAtMicros)
        metrics.requestsAccepted++
      })
      .then(() => endLoggedOut(res, cookie), countAndPass(metrics, next))
      // Writing the response can throw too, for example when another middleware already sent one.
      .catch(next)
  }
}

/** Returns the rejection callback of a logout: it counts the failed request, then passes the error to Express. */
function countAndPass(metrics: MetricsRecorder, next: NextFunction): (error: unknown) => void {
  return (error) => {
    metrics.recordRejection(error)
    next(error)
  }
}

async function authenticateLogout(
  authenticator: Authenticator,
  req: Request,
  cookie: ResolvedCookieOptions | undefined,
): Promise<Authentication> {
  return authenticator.authenticate(readRequestToken(req, cookie))
}

/** Responds with 204, clearing the token cookie in cookie mode, so the browser stops sending a revoked token. */
function endLoggedOut(res: Response, cookie: ResolvedCookieOptions | undefined): void {
  if (cookie !== undefined) clearTokenCookie(res, cookie)
  res.status(204).end()
}
