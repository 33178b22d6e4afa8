import type { CutoffCache } from '../cache/cutoff-cache.js'
import type { MicrosecondClock } from '../clock.js'
import { StoreUnavailableError } from '../errors/store-unavailable-error.js'
import { SILENT_LOGGER, type Logger } from '../logger.js'
import { MetricsRecorder, type RevocationKind } from '../metrics/metrics-recorder.js'
import type { CutoffStore } from '../store/cutoff-store.js'
import { formatMicros } from '../store/timestamps.js'

/**
 * Latest time a session cutoff is kept until: 9999-12-31T23:59:59Z, in
 * microseconds. PostgreSQL does not parse the extended-year form that
 * toISOString writes after year 9999, so a later `exp` is kept until here.
 */
const MAX_RETAIN_UNTIL_MICROS = Date.UTC(9999, 11, 31, 23, 59, 59) * 1000

/** The user and, for a single-session logout, the session that a log record names. */
interface RevocationIds {
  userId: string
  sessionId?: string
}

/** Token settings that decide how long a session's cutoff must be remembered. */
export interface RetentionSettings {
  /** Maximum token age in seconds, when configured. */
  maxTokenAgeSeconds: number | undefined
  /** Clock tolerance in seconds: a token is still accepted this long after its `exp`. */
  clockToleranceSeconds: number
}

/** Observers of the revoker, each optional: a logger and a metrics recorder. */
export interface RevokerObservers {
  /** Receives one info record per revocation and one error record per failed write. Silent when omitted. */
  logger?: Logger
  /** Counts revocations by kind and failed writes. A private recorder when omitted. */
  metrics?: MetricsRecorder
}

/**
 * Writes cutoffs to the store, then applies them to this process's cache, so
 * that this process rejects a revoked token from the moment the write returns.
 */
export class Revoker {
  readonly #store: CutoffStore
  readonly #cache: CutoffCache
  readonly #clock: MicrosecondClock
  readonly #retention: RetentionSettings
  readonly #logger: Logger
  readonly #metrics: MetricsRecorder

  constructor(
    store: CutoffStore,
    cache: CutoffCache,
    clock: MicrosecondClock,
    retention: RetentionSettings,
    observers: RevokerObservers = {},
  ) {
    this.#store = store
    this.#cache = cache
    this.#clock = clock
    this.#retention = retention
    this.#logger = observers.logger ?? SILENT_LOGGER
    this.#metrics = observers.metrics ?? new MetricsRecorder()
  }

  /**
   * Revokes every token of `userId` issued up to now, or up to `notBefore`
   * (microseconds) when that is later, and returns the cutoff written.
   */
  async revokeUser(userId: string, notBefore = 0): Promise<number> {
    const cutoff = Math.max(this.#clock.next(), notBefore)
    await this.#write('revokeUser', { userId }, () => this.#store.revokeUser(userId, cutoff))
    this.#cache.applyUserCutoff(userId, cutoff)
    this.#recordRevocation('user', { userId }, cutoff)
    return cutoff
  }

  /**
   * Revokes every token of one session issued up to now, or up to `notBefore`
   * when that is later, and returns the cutoff written. `tokenExpiresAt` is the
   * `exp` of the session's token in microseconds; see retainUntil for how long
   * the store keeps the row.
   */
  async revokeSession(userId: string, sessionId: string, tokenExpiresAt: number, notBefore = 0): Promise<number> {
    const cutoff = Math.max(this.#clock.next(), notBefore)
    const keepUntil = retainUntil(cutoff, tokenExpiresAt, this.#retention)
    await this.#write('revokeSession', { userId, sessionId }, () =>
      this.#store.revokeSession(userId, sessionId, cutoff, keepUntil),
    )
    this.#cache.applySessionCutoff(userId, sessionId, cutoff)
    this.#recordRevocation('session', { userId, sessionId }, cutoff)
    return cutoff
  }

  /** Runs a store write. When it fails, it counts and logs the failure once, then rethrows it. */
  async #write(operation: string, ids: RevocationIds, write: () => Promise<void>): Promise<void> {
    try {
      await write()
    } catch (error) {
      this.#metrics.storeErrors++
      const detail = error instanceof StoreUnavailableError ? error.detail : undefined
      this.#logger.error({ err: error, operation, ...ids, detail }, 'recording the logout in the store failed')
      throw error
    }
  }

  #recordRevocation(kind: RevocationKind, ids: RevocationIds, cutoff: number): void {
    this.#metrics.revocations[kind]++
    const message = kind === 'user' ? 'revoked every session of the user' : 'revoked one session of the user'
    this.#logger.info({ kind, ...ids, cutoff: formatMicros(cutoff) }, message)
  }

}

/**
 * Returns when a session cutoff may be forgotten, in microseconds: after the
 * session's token has expired, plus the clock tolerance, and, when a maximum
 * token age is set, after every token issued before the cutoff is too old.
 * The CLI's revoke-session applies the same rule.
 */
export function retainUntil(cutoff: number, tokenExpiresAt: number, retention: RetentionSettings): number {
  const { maxTokenAgeSeconds, clockToleranceSeconds } = retention
  let keepUntil = Math.max(tokenExpiresAt, cutoff)
  if (maxTokenAgeSeconds !== undefined) {
    keepUntil = Math.max(keepUntil, cutoff + maxTokenAgeSeconds * 1_000_000)
  }
  // NOTE: without maxTokenAgeSeconds, an older token of the same session may expire after this one.
  // Once the row is deleted, that token is valid again. Logout-all has no such gap.
  return Math.min(keepUntil + clockToleranceSeconds * 1_000_000, MAX_RETAIN_UNTIL_MICROS)
}
