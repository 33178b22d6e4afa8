import type { CutoffCache } from '../cache/cutoff-cache.js'
import type { VerifiedTokenCache } from '../cache/verified-token-cache.js'
import { UnauthorizedError } from '../errors/unauthorized-error.js'
import type { MetricsRecorder } from '../metrics/metrics-recorder.js'
import { effectiveCutoff } from '../store/cutoff-store.js'
import type { VerifiedToken } from '../token/claims.js'
import type { TokenVerifier } from '../token/token-verifier.js'

/** Result of authenticating a token: its verified claims and whether a logout has revoked it. */
export interface Authentication {
  token: VerifiedToken
  revoked: boolean
}

/**
 * Verifies a token, then compares its issue time with the later of the user's
 * and the session's cutoff. A token issued at or before the cutoff is revoked.
 */
export class Authenticator {
  readonly #verifier: TokenVerifier
  readonly #cache: CutoffCache
  readonly #tokenCache: VerifiedTokenCache | undefined
  readonly #metrics: MetricsRecorder
  /** Number of requests whose token came from the verified-token cache, for metrics. */
  tokenCacheHits = 0

  constructor(
    verifier: TokenVerifier,
    cache: CutoffCache,
    tokenCache: VerifiedTokenCache | undefined,
    metrics: MetricsRecorder,
  ) {
    this.#verifier = verifier
    this.#cache = cache
    this.#tokenCache = tokenCache
    this.#metrics = metrics
  }

  /**
   * @throws UnauthorizedError when the token fails verification.
   * @throws StoreUnavailableError when the cutoff is not cached and the store fails.
   */
  async authenticate(token: string): Promise<Authentication> {
    // Signature first: only a token we signed may cost a database query.
    const verified = this.#cachedToken(token) ?? (await this.#verify(token))

    // A cache hit needs no await, so the common case adds no microtask turn.
    const cutoffs = this.#cache.peek(verified.userId) ?? (await this.#cache.load(verified.userId))
    const revoked = verified.issuedAtMicros <= effectiveCutoff(cutoffs, verified.sessionId)
    return { token: verified, revoked }
  }

  #cachedToken(token: string): VerifiedToken | undefined {
    const verified = this.#tokenCache?.get(token)
    if (verified !== undefined) this.tokenCacheHits++
    return verified
  }

  async #verify(token: string): Promise<VerifiedToken> {
    const verified = await this.#verifier.verify(token)
    this.#tokenCache?.set(token, verified)
    return verified
  }

  /**
   * Like `authenticate`, but a revoked token is an error too. Counts the
   * request as accepted or rejected.
   * @throws UnauthorizedError with code `token_revoked` for a revoked token.
   */
  async requireValid(token: string): Promise<VerifiedToken> {
    // try/catch instead of a rejection callback, so that counting allocates nothing per request.
    let authentication: Authentication
    try {
      authentication = await this.authenticate(token)
    } catch (error) {
      this.#metrics.recordRejection(error)
      throw error
    }

    if (authentication.revoked) {
      this.#metrics.requestsRejected.token_revoked++
      throw new UnauthorizedError('token_revoked', 'The token was revoked by a logout; log in again to get a new one.')
    }
    this.#metrics.requestsAccepted++
    return authentication.token
  }
}
