import type { RequestHandler } from 'express'

import type { Authenticator } from './authenticator.js'
import type { ResolvedCookieOptions } from './cookie.js'
import { readRequestToken } from './request-token.js'

/**
 * Creates the middleware that protects a route: it sets `req.auth` to the
 * claims of a valid, unrevoked bearer token and calls `next()`, or passes an
 * UnauthorizedError or StoreUnavailableError to `next(error)`.
 */
export function createRequireAuth(authenticator: Authenticator, cookie: ResolvedCookieOptions | undefined): RequestHandler {
  return function requireAuth(req, _res, next) {
    let token: string
    try {
      token = readRequestToken(req, cookie)
    } catch (error) {
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
