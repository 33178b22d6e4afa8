import { JwtLogoutError } from './jwt-logout-error.js'

/** Codes of a 401 response: the request carries no usable token. */
export type UnauthorizedCode = 'missing_token' | 'invalid_token' | 'token_expired' | 'token_revoked'

/**
 * The request has no token, or its token failed verification or was revoked
 * by a logout. `cause` contains the underlying jose error where there is one.
 */
export class UnauthorizedError extends JwtLogoutError {
  readonly status = 401
  readonly code: UnauthorizedCode

  constructor(code: UnauthorizedCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}
