import { LRUCache } from 'lru-cache'

import type { Clock } from '../clock.js'
import { StoreUnavailableError } from '../errors/store-unavailable-error.js'
import { SILENT_LOGGER, type Logger } from '../logger.js'
import { MetricsRecorder } from '../metrics/metrics-recorder.js'
import type { CutoffStore, UserCutoffs } from '../store/cutoff-store.js'

/** Options of the in-process cutoff cache. */
export interface CutoffCacheOptions {
  /** Maximum number of users kept; the least recently used is evicted first. */
  maxUsers: number
  /**
   * How long a loaded entry is trusted, in milliseconds. Without invalidation
   * messages, this bounds how long a logout written elsewhere goes unseen here.
   */
  ttlMs: number
  /**
   * How long past its TTL an entry may still be served when the store fails,
   * in milliseconds; 0 turns this off and every miss fails closed.
   */
  staleIfErrorMs: number
  /** Receives one record per failed load. Silent when omitted. */
  logger?: Logger
  /** Counts hits, misses, load durations and failed loads. A private recorder when omitted. */
  metrics?: MetricsRecorder
}

/** Maximum number of user ids in the log record of a failed load, because a batch can hold thousands. */
const MAX_LOGGED_USER_IDS = 20

/** A load in flight for one user, shared by every request that misses meanwhile. */
interface PendingLoad {
  userId: string
  promise: Promise<UserCutoffs>
  resolve(cutoffs: UserCutoffs): void
  reject(error: unknown): void
  /** Set when the user's cutoffs changed during the load, so its result may be stale. */
  invalidated: boolean
}

/**
 * Per-user cutoffs in an LRU cache in front of the store, including users with
 * no cutoff (negative caching).
 *
 * - A hit is synchronous.
 * - Misses are batched: every user that misses before the event loop's next
 *   check phase is loaded by one store query, and concurrent misses for one
 *   user share a load.
 * - An invalidation (a revocation by this process, or a notification from
 *   another) marks the user's load in flight as stale, so its result goes
 *   to the requests already waiting but is never stored.
 */
export class CutoffCache {
  readonly #store: CutoffStore
  readonly #entries: LRUCache<string, UserCutoffs>
  readonly #pending = new Map<string, PendingLoad>()
  readonly #clock: Clock
  readonly #staleIfErrorMs: number
  readonly #logger: Logger
  readonly #metrics: MetricsRecorder
  /** Loads waiting for the next batch query. */
  #batch: PendingLoad[] = []
  #batchScheduled = false

  /**
   * @param clock Wall clock for the store's expiry filter.
   * @param ttlClock Clock for entry ages; lru-cache's monotonic `performance.now()` when omitted,
   *   so that a wall-clock step cannot stretch the TTL. Tests pass a frozen clock here.
   */
  constructor(store: CutoffStore, options: CutoffCacheOptions, clock: Clock, ttlClock?: Clock) {
    this.#store = store
    this.#clock = clock
    this.#staleIfErrorMs = options.staleIfErrorMs
    this.#logger = options.logger ?? SILENT_LOGGER
    this.#metrics = options.metrics ?? new MetricsRecorder()
    // Entries live for TTL plus the stale-if-error window; peek() treats the last part as expired.
    this.#entries = new LRUCache<string, UserCutoffs>({
      max: options.maxUsers,
      ttl: options.ttlMs + options.staleIfErrorMs,
      // lru-cache otherwise reuses one clock reading for 1 ms, so an entry re-set by invalidateAll()
      // would look younger than it is, and a test clock's jump would go unseen.
      ttlResolution: 0,
      ...(ttlClock === undefined ? {} : { perf: { now: ttlClock } }),
    })
  }

  /**
   * Returns the fresh cached cutoffs of `userId`, or undefined on a miss, and
   * counts the hit or miss. Never touches the store.
   */
  peek(userId: string): UserCutoffs | undefined {
    const entry = this.#freshEntry(userId)
    if (entry === undefined) {
      this.#metrics.cutoffCacheMisses++
    } else {
      this.#metrics.cutoffCacheHits++
    }
    return entry
  }

  /** Returns the user's cutoffs: synchronously on a hit, else a promise of a shared load. */
  get(userId: string): UserCutoffs | Promise<UserCutoffs> {
    return this.peek(userId) ?? this.load(userId)
  }

  /**
   * Loads the user's cutoffs from the store in the next batch, joining a load
   * already in flight. When the store fails and stale-if-error is on, an entry
   * within its stale window is returned instead.
   */
  load(userId: string): Promise<UserCutoffs> {
    const inFlight = this.#pending.get(userId)
    if (inFlight !== undefined) return inFlight.promise

    let resolve!: (cutoffs: UserCutoffs) => void
    let reject!: (error: unknown) => void
    const promise = new Promise<UserCutoffs>((onResolve, onReject) => {
      resolve = onResolve
      reject = onReject
    })
    const pending: PendingLoad = { userId, promise, resolve, reject, invalidated: false }
    this.#pending.set(userId, pending)

    this.#batch.push(pending)
    if (!this.#batchScheduled) {
      this.#batchScheduled = true
      // setImmediate runs after the I/O callbacks of this loop turn, so it gathers the misses made in one
      // turn, at the cost of one turn of delay. Requests that arrive together verify their signatures on
      // the thread pool and reach the cache over several turns, so they form several smaller batches.
      setImmediate(() => this.#loadBatch())
    }
    return promise
  }

  /** Records a logout-all that this process wrote: tokens issued at or before `cutoff` are revoked. */
  applyUserCutoff(userId: string, cutoff: number): void {
    this.#invalidatePending(userId)

    const entry = this.#entries.peek(userId)
    if (entry === undefined || entry.userCutoff >= cutoff) return

    // Session cutoffs at or before the new user cutoff no longer matter.
    let sessionCutoffs: Map<string, number> | undefined
    for (const [sessionId, sessionCutoff] of entry.sessionCutoffs ?? []) {
      if (sessionCutoff > cutoff) (sessionCutoffs ??= new Map()).set(sessionId, sessionCutoff)
    }
    this.#replace(userId, { userCutoff: cutoff, sessionCutoffs })
  }

  /** Records a single-session logout that this process wrote. */
  applySessionCutoff(userId: string, sessionId: string, cutoff: number): void {
    this.#invalidatePending(userId)

    const entry = this.#entries.peek(userId)
    if (entry === undefined) return
    if (cutoff <= entry.userCutoff || cutoff <= (entry.sessionCutoffs?.get(sessionId) ?? 0)) return

    const sessionCutoffs = new Map(entry.sessionCutoffs)
    sessionCutoffs.set(sessionId, cutoff)
    this.#replace(userId, { userCutoff: entry.userCutoff, sessionCutoffs })
  }

  /** Forgets one user, whose cutoffs changed elsewhere; the next request reads the store. */
  invalidate(userId: string): void {
    this.#invalidatePending(userId)
    this.#entries.delete(userId)
  }

  /**
   * Stops trusting every entry, because changes may have gone unheard (the
   * invalidation listener was down). With stale-if-error on, entries are kept
   * for that fallback only; otherwise they are dropped.
   */
  invalidateAll(): void {
    for (const pending of this.#pending.values()) pending.invalidated = true
    this.#pending.clear()

    if (this.#staleIfErrorMs === 0) {
      this.#entries.clear()
      return
    }
    // Collected first, because set() reorders the list that entries() walks.
    for (const [userId, entry] of [...this.#entries.entries()]) {
      const remaining = this.#entries.getRemainingTTL(userId)
      // Resetting the TTL to at most the stale window makes peek() treat the entry as expired.
      if (remaining > 0) this.#entries.set(userId, entry, { ttl: Math.min(remaining, this.#staleIfErrorMs) })
    }
  }

  /** Number of users currently cached, fresh or kept for stale-if-error. */
  get size(): number {
    return this.#entries.size
  }

  #freshEntry(userId: string): UserCutoffs | undefined {
    const entry = this.#entries.get(userId)
    if (entry === undefined || this.#staleIfErrorMs === 0) return entry
    return this.#entries.getRemainingTTL(userId) > this.#staleIfErrorMs ? entry : undefined
  }

  /** Replaces an entry that a local write changed, keeping its remaining TTL. */
  #replace(userId: string, cutoffs: UserCutoffs): void {
    this.#entries.set(userId, cutoffs, { ttl: this.#entries.getRemainingTTL(userId) })
  }

  async #loadBatch(): Promise<void> {
    const batch = this.#batch
    this.#batch = []
    this.#batchScheduled = false

    const userIds = [...new Set(batch.map((pending) => pending.userId))]
    let loaded: Map<string, UserCutoffs>
    const started = performance.now()
    try {
      loaded = await this.#store.loadCutoffs(userIds, this.#clock() * 1000)
    } catch (error) {
      this.#metrics.cutoffLookupDuration.observe((performance.now() - started) / 1000)
      this.#metrics.storeErrors++
      let servedStale = 0
      for (const pending of batch) {
        if (this.#fail(pending, error)) servedStale++
      }
      this.#logLoadFailure(userIds, error, servedStale, batch.length)
      return
    }
    this.#metrics.cutoffLookupDuration.observe((performance.now() - started) / 1000)

    for (const pending of batch) {
      this.#settle(pending)
      const cutoffs = loaded.get(pending.userId)!
      // A revocation during the load may have committed after the query read the table.
      if (!pending.invalidated) this.#entries.set(pending.userId, cutoffs)
      pending.resolve(cutoffs)
    }
  }

  /** Settles a load whose query failed, with a stale entry if stale-if-error allows one, and returns whether it did. */
  #fail(pending: PendingLoad, error: unknown): boolean {
    this.#settle(pending)
    const stale = this.#staleIfErrorMs > 0 && error instanceof StoreUnavailableError ? this.#entries.get(pending.userId) : undefined
    if (stale !== undefined && !pending.invalidated) {
      pending.resolve(stale)
      return true
    }
    pending.reject(error)
    return false
  }

  /**
   * Logs a failed load once, however many requests waited for it: as a
   * warning when stale entries served every waiting load, else as an error.
   */
  #logLoadFailure(userIds: readonly string[], error: unknown, servedStale: number, loads: number): void {
    const fields = {
      err: error,
      operation: 'loadCutoffs',
      detail: error instanceof StoreUnavailableError ? error.detail : undefined,
      userIds: userIds.slice(0, MAX_LOGGED_USER_IDS),
      userCount: userIds.length,
      usersServedStale: servedStale,
    }
    if (servedStale === loads) {
      this.#logger.warn(fields, 'loading cutoffs from the store failed; stale cached cutoffs were served instead')
    } else {
      this.#logger.error(fields, 'loading cutoffs from the store failed; the waiting requests get 503')
    }
  }

  /**
   * Marks a load in flight as stale and removes it from the pending map, so
   * that requests arriving after the change start a fresh load instead of
   * joining the stale one.
   */
  #invalidatePending(userId: string): void {
    const pending = this.#pending.get(userId)
    if (pending === undefined) return
    pending.invalidated = true
    this.#pending.delete(userId)
  }

  #settle(pending: PendingLoad): void {
    if (this.#pending.get(pending.userId) === pending) this.#pending.delete(pending.userId)
  }
}
