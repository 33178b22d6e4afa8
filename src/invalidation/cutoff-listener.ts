import type { Invalidation } from './notification.js'

/** State of a listener, as `/healthz` reports it. */
export type ListenerState = 'connecting' | 'listening' | 'reconnecting' | 'closed'

/** Events that a listener reports to the cache. */
export interface ListenerEvents {
  /** A cutoff write committed somewhere: drop that user's entry, or every entry. */
  onInvalidation(invalidation: Invalidation): void
  /**
   * Notifications may have been missed: the connection dropped, or a new
   * subscription started. Every cached entry must stop being trusted.
   */
  onGap(): void
}

/**
 * Receives the notifications that every cutoff write sends, from whichever
 * process wrote it, so that this process's cache drops what changed at once
 * instead of waiting for the TTL.
 */
export interface CutoffListener {
  /** Starts listening; events go to `events` until `close()`. Call it once. */
  start(events: ListenerEvents): void
  readonly state: ListenerState
  /** Stops listening and closes the connection. */
  close(): Promise<void>
}
