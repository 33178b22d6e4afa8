import type { ErrorRequestHandler } from 'express'

import { JwtLogoutError } from '../errors/jwt-logout-error.js'
import { renderError } from './render-error.js'

/**
 * Creates the Express error handler that renders jwt-logout's errors (401,
 * 400, 503) and passes every other error on. Mount it after your routes.
 */
export function createErrorHandler(realm: string | undefined): ErrorRequestHandler {
  return function jwtLogoutErrorHandler(error, _req, res, next) {
    if (!(error instanceof JwtLogoutError) || res.headersSent) {
      next(error)
      return
    }
    renderError(res, error, realm)
  }
}
