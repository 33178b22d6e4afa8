import { JwtLogoutError } from './jwt-logout-error.js'

/** Codes of a 400 response: the token is valid but the request cannot be served as sent. */
export type InvalidRequestCode = 'invalid_request' | 'missing_session_id'

/**
 * A request that is malformed, or that requests something its valid token
 * cannot support, such as a single-session logout with a token that has no
 * `sid` claim.
 */
export class InvalidRequestError extends JwtLogoutError {
  readonly status = 400
  readonly code: InvalidRequestCode

  constructor(code: InvalidRequestCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}
