import { JwtLogoutError } from './jwt-logout-error.js'

/**
 * The cutoff store (PostgreSQL) failed or timed out, so jwt-logout cannot
 * tell whether a token was revoked. Requests fail closed with a 503 and a
 * `Retry-After` header instead of being let through. `cause` contains the
 * driver error.
 */
export class StoreUnavailableError extends JwtLogoutError {
  readonly status = 503
  readonly code = 'store_unavailable' as const
  /** Seconds a client should wait before it retries; sent as `Retry-After`. */
  readonly retryAfterSeconds: number

  constructor(message: string, options: { cause?: unknown; retryAfterSeconds?: number } = {}) {
    super(message, { cause: options.cause })
    this.retryAfterSeconds = options.retryAfterSeconds ?? 1
  }
}
