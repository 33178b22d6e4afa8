import { JwtLogoutError } from './jwt-logout-error.js'

/**
 * The cutoff store (PostgreSQL) failed or timed out, so jwt-logout cannot
 * tell whether a token was revoked, or cannot record a logout. Requests fail
 * closed with a 503 and a `Retry-After` header instead of being let through.
 * The message is safe to show to clients; `detail` and `cause` are for logs.
 */
export class StoreUnavailableError extends JwtLogoutError {
  readonly status = 503
  readonly code = 'store_unavailable' as const
  /** Seconds a client should wait before it retries; sent as `Retry-After`. */
  readonly retryAfterSeconds: number
  /** Description of the failure and its fix for operators, for logs only. */
  readonly detail: string | undefined

  constructor(message: string, options: { cause?: unknown; detail?: string; retryAfterSeconds?: number } = {}) {
    super(message, { cause: options.cause })
    this.detail = options.detail
    this.retryAfterSeconds = options.retryAfterSeconds ?? 1
  }
}
