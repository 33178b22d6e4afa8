import { JwtLogoutError } from './jwt-logout-error.js'

/**
 * The JSON Web Key Set could not be fetched, timed out, or was malformed, so
 * no token signed with one of its keys can be verified. Requests fail closed
 * with a 503 and `Retry-After`. `cause` contains the fetch or parse error.
 */
export class KeySetUnavailableError extends JwtLogoutError {
  readonly status = 503
  readonly code = 'key_set_unavailable' as const
  /** Seconds a client should wait before it retries; sent as `Retry-After`. */
  readonly retryAfterSeconds: number

  constructor(message: string, options: { cause?: unknown; retryAfterSeconds?: number } = {}) {
    super(message, { cause: options.cause })
    this.retryAfterSeconds = options.retryAfterSeconds ?? 5
  }
}
