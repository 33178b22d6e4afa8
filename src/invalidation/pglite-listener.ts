import type { PGlite } from '@electric-sql/pglite'

import type { Logger } from '../logger.js'
import type { CutoffListener, ListenerEvents, ListenerState } from './cutoff-listener.js'
import { decodeInvalidation } from './notification.js'

/**
 * Listener for the embedded database. PGlite runs inside this process, so its
 * connection cannot drop. It still goes through LISTEN and NOTIFY, so that the
 * embedded mode takes the same path as PostgreSQL.
 */
export class PGliteListener implements CutoffListener {
  readonly #pglite: PGlite
  readonly #channel: string
  readonly #logger: Logger
  #state: ListenerState = 'connecting'
  #unsubscribe: (() => Promise<void>) | undefined

  constructor(pglite: PGlite, channel: string, logger: Logger) {
    this.#pglite = pglite
    this.#channel = channel
    this.#logger = logger
  }

  get state(): ListenerState {
    return this.#state
  }

  start(events: ListenerEvents): void {
    void this.#pglite
      .listen(this.#channel, (payload) => events.onInvalidation(decodeInvalidation(payload)))
      .then(async (unsubscribe) => {
        // close() may have run while LISTEN was in flight.
        if (this.#state === 'closed') {
          await unsubscribe()
          return
        }
        this.#unsubscribe = unsubscribe
        this.#state = 'listening'
        events.onGap()
      })
      .catch((error: unknown) => {
        // Only a closed PGlite instance fails here; the cache then falls back to its TTL.
        this.#state = 'closed'
        this.#logger.error({ err: error, channel: this.#channel }, 'subscribing to cutoff notifications in PGlite failed')
      })
  }

  async close(): Promise<void> {
    this.#state = 'closed'
    await this.#unsubscribe?.()
  }
}
