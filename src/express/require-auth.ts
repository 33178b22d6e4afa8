import type { RequestHandler } from 'express'

import type { MetricsRecorder } from '../metrics/metrics-recorder.js'
import type { Authenticator } from './authenticator.js'
import type { ResolvedCookieOptions } from './cookie.js'
import { readRequestToken } from './request-token.js'

/**
 * Creates the middleware that protects a route: it sets `req.auth` to the
 * claims of a valid, unrevoked bearer token and calls `next()`, or passes an
 * UnauthorizedError or StoreUnavailableError to `next(error)`. The
 * authenticator counts the outcome, except for a request without a readable
 * token, which is counted here.
 */
export function createRequireAuth(
  authenticator: Authenticator,
  cookie: ResolvedCookieOptions | undefined,
  metrics: MetricsRecorder,
): RequestHandler {
  return function requireAuth(req, _res, next) {
    let token: string
    try {
      token = readRequestToken(req, cookie)
    } catch (error) {
      metrics.recordRejection(error)
      next(error)
      return
    }

    // Promise callbacks instead of an async function: Express 4 ignores a rejected promise.
    authenticator.requireValid(token).then((verified) => {
      req.auth = verified.claims
      next()
    }, next)
  }
}
