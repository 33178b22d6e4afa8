import { JwtLogoutError, type ErrorCode } from '../errors/jwt-logout-error.js'
import { DurationHistogram, type HistogramSnapshot } from './duration-histogram.js'

/** Kind of a revocation: `user` ends every session of a user, `session` ends one session. */
export type RevocationKind = 'user' | 'session'

/**
 * Upper bounds of the cutoff lookup duration buckets, in seconds: from half a
 * millisecond, a query on a local database, to 10 seconds, past any sensible
 * query timeout.
 */
export const LOOKUP_DURATION_BUCKETS_SECONDS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]

/**
 * Counters since `createJwtLogout`, as `metrics()` returns them. Every count
 * only grows. A request is one call of `requireAuth`, `logout`, `logoutAll`
 * or `authenticate()`, and it is counted once, as accepted or as rejected.
 * A request that fails with an error other than a JwtLogoutError, which is a
 * bug, is in neither count.
 */
export interface MetricsSnapshot {
  /**
   * Requests that passed: `requireAuth` called `next()`, `authenticate()`
   * resolved, or a logout wrote its cutoff and responded with 204.
   */
  requestsAccepted: number
  /**
   * Requests that failed, by the code of their JwtLogoutError. A logout with
   * a token that is already revoked counts as `token_revoked`, although it
   * gets a 204 response.
   */
  requestsRejected: Record<ErrorCode, number>
  /** Cutoff lookups served from the cutoff cache. */
  cutoffCacheHits: number
  /** Cutoff lookups that had to wait for a load from the store, alone or shared with other requests. */
  cutoffCacheMisses: number
  /**
   * Store calls that failed: cutoff loads and cutoff writes. One failed load
   * counts once, however many requests waited for it. Health checks and
   * pruning report their failures to their callers and are not counted.
   */
  storeErrors: number
  /**
   * Duration of each cutoff load from the store, failed ones included. One
   * load serves every user that missed the cache in one event loop turn.
   */
  cutoffLookupDuration: HistogramSnapshot
  /** Cutoffs written: `user` by logout-all and revokeUser, `session` by logout and revokeSession. */
  revocations: Record<RevocationKind, number>
  /** Tokens whose signature and claims were checked with jose. */
  tokenVerifications: number
  /** Requests whose token came from the verified-token cache, skipping the signature check. */
  tokenCacheHits: number
}

/**
 * The mutable counters behind `metrics()`. The request path only increments
 * integer fields, so counting allocates nothing and reads no clock.
 */
export class MetricsRecorder {
  requestsAccepted = 0
  readonly requestsRejected: Record<ErrorCode, number> = {
    missing_token: 0,
    invalid_token: 0,
    token_expired: 0,
    token_revoked: 0,
    invalid_request: 0,
    missing_session_id: 0,
    store_unavailable: 0,
    key_set_unavailable: 0,
  }
  cutoffCacheHits = 0
  cutoffCacheMisses = 0
  storeErrors = 0
  readonly cutoffLookupDuration = new DurationHistogram(LOOKUP_DURATION_BUCKETS_SECONDS)
  readonly revocations: Record<RevocationKind, number> = { user: 0, session: 0 }

  /** Counts a request that failed with `error`, unless it is not a JwtLogoutError. */
  recordRejection(error: unknown): void {
    if (error instanceof JwtLogoutError) this.requestsRejected[error.code]++
  }

  /**
   * Returns a copy of the counters, with the token counters that the verifier
   * and the authenticator keep.
   */
  snapshot(tokenCounters: { tokenVerifications: number; tokenCacheHits: number }): MetricsSnapshot {
    return {
      requestsAccepted: this.requestsAccepted,
      requestsRejected: { ...this.requestsRejected },
      cutoffCacheHits: this.cutoffCacheHits,
      cutoffCacheMisses: this.cutoffCacheMisses,
      storeErrors: this.storeErrors,
      cutoffLookupDuration: this.cutoffLookupDuration.snapshot(),
      revocations: { ...this.revocations },
      tokenVerifications: tokenCounters.tokenVerifications,
      tokenCacheHits: tokenCounters.tokenCacheHits,
    }
  }
}
