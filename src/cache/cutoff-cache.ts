import { LRUCache } from 'lru-cache'

import type { Clock } from '../clock.js'
import type { CutoffStore, UserCutoffs } from '../store/cutoff-store.js'

/** Options of the in-process cutoff cache. */
export interface CutoffCacheOptions {
  /** Maximum number of users kept; the least recently used is evicted first. */
  maxUsers: number
  /**
   * How long a loaded entry is trusted, in milliseconds. This bounds how long
   * another process may keep accepting a token after a logout written elsewhere.
   */
  ttlMs: number
}

/** A load in flight for one user, shared by every request that misses meanwhile. */
interface PendingLoad {
  promise: Promise<UserCutoffs>
  /** Set when a revocation for the user happened during the load, so its result may be stale. */
  invalidated: boolean
}

/**
 * Per-user cutoffs in an LRU cache in front of the store, including users with
 * no cutoff (negative caching). A hit is synchronous. Concurrent misses for one
 * user share a single query. Revocations made by this process update the cache
 * at once, and a load that raced with one is not stored.
 */
export class CutoffCache {
  readonly #store: CutoffStore
  readonly #entries: LRUCache<string, UserCutoffs>
  readonly #pending = new Map<string, PendingLoad>()
  readonly #clock: Clock

  /**
   * @param clock Wall clock for the store's expiry filter.
   * @param ttlClock Clock for entry ages; lru-cache's monotonic `performance.now()` when omitted,
   *   so that a wall-clock step cannot stretch the TTL. Tests pass a frozen clock here.
   */
  constructor(store: CutoffStore, options: CutoffCacheOptions, clock: Clock, ttlClock?: Clock) {
    this.#store = store
    this.#clock = clock
    this.#entries = new LRUCache<string, UserCutoffs>({
      max: options.maxUsers,
      ttl: options.ttlMs,
      ...(ttlClock === undefined ? {} : { perf: { now: ttlClock } }),
    })
  }

  /** Returns the cached cutoffs of `userId`, or undefined on a miss. Never touches the store. */
  peek(userId: string): UserCutoffs | undefined {
    return this.#entries.get(userId)
  }

  /** Returns the user's cutoffs: synchronously on a hit, else a promise of one shared load. */
  get(userId: string): UserCutoffs | Promise<UserCutoffs> {
    return this.#entries.get(userId) ?? this.load(userId)
  }

  /** Loads the user's cutoffs from the store, joining a load already in flight. */
  load(userId: string): Promise<UserCutoffs> {
    const inFlight = this.#pending.get(userId)
    if (inFlight !== undefined) return inFlight.promise

    const pending: PendingLoad = { promise: undefined as never, invalidated: false }
    pending.promise = this.#store.loadCutoffs(userId, this.#clock() * 1000).then(
      (cutoffs) => {
        this.#settle(userId, pending)
        // A revocation during the load may have committed after the query read the table.
        if (!pending.invalidated) this.#entries.set(userId, cutoffs)
        return cutoffs
      },
      (error: unknown) => {
        this.#settle(userId, pending)
        throw error
      },
    )
    this.#pending.set(userId, pending)
    return pending.promise
  }

  /** Records a logout-all that this process wrote: tokens issued at or before `cutoff` are revoked. */
  applyUserCutoff(userId: string, cutoff: number): void {
    this.#invalidatePending(userId)

    const entry = this.#entries.get(userId)
    if (entry === undefined || entry.userCutoff >= cutoff) return

    // Session cutoffs at or before the new user cutoff no longer matter.
    let sessionCutoffs: Map<string, number> | undefined
    for (const [sessionId, sessionCutoff] of entry.sessionCutoffs ?? []) {
      if (sessionCutoff > cutoff) (sessionCutoffs ??= new Map()).set(sessionId, sessionCutoff)
    }
    this.#entries.set(userId, { userCutoff: cutoff, sessionCutoffs })
  }

  /** Records a single-session logout that this process wrote. */
  applySessionCutoff(userId: string, sessionId: string, cutoff: number): void {
    this.#invalidatePending(userId)

    const entry = this.#entries.get(userId)
    if (entry === undefined) return
    if (cutoff <= entry.userCutoff || cutoff <= (entry.sessionCutoffs?.get(sessionId) ?? 0)) return

    const sessionCutoffs = new Map(entry.sessionCutoffs)
    sessionCutoffs.set(sessionId, cutoff)
    this.#entries.set(userId, { userCutoff: entry.userCutoff, sessionCutoffs })
  }

  /** Drops every entry, so the next request of each user reads the store. */
  clear(): void {
    for (const pending of this.#pending.values()) pending.invalidated = true
    this.#pending.clear()
    this.#entries.clear()
  }

  /** Number of users currently cached. */
  get size(): number {
    return this.#entries.size
  }

  /**
   * Marks a load in flight as stale and removes it from the pending map, so that requests arriving
   * after the revocation start a fresh load instead of joining the stale one.
   */
  #invalidatePending(userId: string): void {
    const pending = this.#pending.get(userId)
    if (pending === undefined) return
    pending.invalidated = true
    this.#pending.delete(userId)
  }

  #settle(userId: string, pending: PendingLoad): void {
    if (this.#pending.get(userId) === pending) this.#pending.delete(userId)
  }
}
