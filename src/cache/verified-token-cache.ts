import { LRUCache } from 'lru-cache'

import type { Clock } from '../clock.js'
import type { VerifiedToken } from '../token/claims.js'

/**
 * Average token length, in characters, that one slot of the cache allows for.
 * Longer tokens take more slots, so memory stays bounded by about
 * `maxTokens × 2048 × 2` bytes of token text whatever the tokens' sizes.
 */
const CHARACTERS_PER_SLOT = 2048

/**
 * Tokens that already passed signature and claim checks, keyed by the exact
 * token string, so a repeated token skips the signature check, which costs
 * more than everything else on the request path.
 *
 * - An entry expires no later than the token's `exp`, or its `iat` plus the
 *   maximum age when that comes first.
 * - Only successes are stored; a rejected token is checked again every time.
 * - The cache stores verification results only: the revocation cutoff is
 *   still checked on every request, so a logout takes effect at once.
 */
export class VerifiedTokenCache {
  readonly #entries: LRUCache<string, VerifiedToken>
  readonly #now: Clock

  constructor(maxTokens: number, clock: Clock | undefined) {
    this.#now = clock ?? Date.now
    this.#entries = new LRUCache<string, VerifiedToken>({
      max: maxTokens,
      maxSize: maxTokens * CHARACTERS_PER_SLOT,
      sizeCalculation: (_verified, token) => token.length,
      // Every entry gets its own TTL in set(); this only turns TTL tracking on.
      ttl: 1,
      ttlResolution: 0,
      ...(clock === undefined ? {} : { perf: { now: clock } }),
    })
  }

  /** Returns the verified token, or undefined when it is not cached or its validity has ended. */
  get(token: string): VerifiedToken | undefined {
    return this.#entries.get(token)
  }

  /** Stores a verified token until it stops being valid; a token already past that is not stored. */
  set(token: string, verified: VerifiedToken): void {
    // lru-cache expires an entry once its age exceeds the TTL, so one millisecond less makes it
    // expire exactly at validUntil, where jose starts rejecting the token.
    const ttlMs = Math.floor(verified.validUntilMicros / 1000 - this.#now()) - 1
    if (ttlMs > 0) this.#entries.set(token, verified, { ttl: ttlMs })
  }

  /** Number of tokens cached. */
  get size(): number {
    return this.#entries.size
  }
}
