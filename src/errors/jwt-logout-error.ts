/** Every stable error code that jwt-logout sends to a client. */
export type ErrorCode =
  | 'missing_token'
  | 'invalid_token'
  | 'token_expired'
  | 'token_revoked'
  | 'invalid_request'
  | 'missing_session_id'
  | 'store_unavailable'
  | 'key_set_unavailable'

/**
 * Base class of the errors that reject a request. Each carries the HTTP
 * `status` to respond with and a stable lowercase `code` that clients can
 * branch on. The message is for people and never contains the token.
 */
export abstract class JwtLogoutError extends Error {
  abstract readonly status: number
  abstract readonly code: ErrorCode

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
  }
}
