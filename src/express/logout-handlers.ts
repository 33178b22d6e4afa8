import type { Request, RequestHandler } from 'express'

import { InvalidRequestError } from '../errors/invalid-request-error.js'
import type { Revoker } from '../revocation/revoker.js'
import type { Authentication, Authenticator } from './authenticator.js'
import { readBearerToken } from './bearer-token.js'

/**
 * Creates the handler that ends the session of the presented token (`sid`)
 * and responds with 204. A token that is already revoked also gets 204 but writes
 * nothing, so a stolen old token cannot keep moving the cutoff.
 */
export function createLogout(authenticator: Authenticator, revoker: Revoker): RequestHandler {
  return function logout(req, res, next) {
    authenticateLogout(authenticator, req)
      .then(async ({ token, revoked }) => {
        if (revoked) return

        if (token.sessionId === undefined) {
          throw new InvalidRequestError(
            'missing_session_id',
            'The token has no "sid" claim, so it cannot end a single session; use logout-all to end every session of the user.',
          )
        }
        await revoker.revokeSession(token.userId, token.sessionId, token.expiresAtMicros, token.issuedAtMicros)
      })
      .then(() => res.status(204).end(), next)
  }
}

/**
 * Creates the handler that ends every session of the presented token's user
 * and responds with 204. An already revoked token gets 204 and writes nothing.
 */
export function createLogoutAll(authenticator: Authenticator, revoker: Revoker): RequestHandler {
  return function logoutAll(req, res, next) {
    authenticateLogout(authenticator, req)
      .then(async ({ token, revoked }) => {
        if (revoked) return
        await revoker.revokeUser(token.userId, token.issuedAtMicros)
      })
      .then(() => res.status(204).end(), next)
  }
}

async function authenticateLogout(authenticator: Authenticator, req: Request): Promise<Authentication> {
  return authenticator.authenticate(readBearerToken(req.headers.authorization))
}
