import pg from 'pg'

import type { Logger } from '../logger.js'
import type { CutoffListener, ListenerEvents, ListenerState } from './cutoff-listener.js'
import { decodeInvalidation } from './notification.js'

/** Options of the PostgreSQL listener; every duration is in milliseconds. */
export interface PostgresListenerOptions {
  /**
   * Connection string or pg client settings of the LISTEN connection. It must
   * reach PostgreSQL directly or through a session-mode pooler: PgBouncer in
   * transaction mode does not carry LISTEN.
   */
  connection: string | pg.ClientConfig
  channel: string
  logger: Logger
  /** Time to wait for the connection and for LISTEN. @default 5000 */
  connectTimeoutMs?: number
  /** Interval of the keepalive query that detects a silently dead connection. @default 10000 */
  keepaliveIntervalMs?: number
  /** Time a keepalive query may take before the connection counts as dead. @default 5000 */
  keepaliveTimeoutMs?: number
  /** First reconnection delay; it doubles per failed attempt. @default 100 */
  reconnectMinDelayMs?: number
  /** Maximum reconnection delay. @default 10000 */
  reconnectMaxDelayMs?: number
}

/**
 * Keeps one dedicated connection (never one from the pool, which would hand
 * it back) subscribed with LISTEN to the cutoff channel.
 *
 * When the connection fails, notifications sent meanwhile are lost, so the
 * listener reports a gap, which makes the cache stop trusting its entries,
 * and reconnects with capped exponential backoff and jitter. It reports a gap
 * again once it is subscribed, because entries loaded while it was down may
 * have missed a change. A keepalive query notices a connection that died
 * without closing.
 */
export class PostgresListener implements CutoffListener {
  readonly #options: Required<PostgresListenerOptions>
  #events: ListenerEvents | undefined
  #state: ListenerState = 'connecting'
  #client: pg.Client | undefined
  #attempt = 0
  #reconnectTimer: NodeJS.Timeout | undefined
  #keepaliveTimer: NodeJS.Timeout | undefined

  constructor(options: PostgresListenerOptions) {
    this.#options = {
      connectTimeoutMs: 5000,
      keepaliveIntervalMs: 10_000,
      keepaliveTimeoutMs: 5000,
      reconnectMinDelayMs: 100,
      reconnectMaxDelayMs: 10_000,
      ...options,
    }
  }

  get state(): ListenerState {
    return this.#state
  }

  start(events: ListenerEvents): void {
    if (this.#events !== undefined) throw new Error('PostgresListener.start() was called twice')
    this.#events = events
    void this.#connect()
  }

  async close(): Promise<void> {
    this.#state = 'closed'
    clearTimeout(this.#reconnectTimer)
    clearInterval(this.#keepaliveTimer)
    const client = this.#client
    this.#client = undefined
    if (client !== undefined) await endQuietly(client)
  }

  async #connect(): Promise<void> {
    const { connection, channel, connectTimeoutMs, logger } = this.#options
    const settings = typeof connection === 'string' ? { connectionString: connection } : connection
    const client = new pg.Client({
      ...settings,
      connectionTimeoutMillis: connectTimeoutMs,
      query_timeout: connectTimeoutMs,
      keepAlive: true,
      // Names the connection in pg_stat_activity, unless the settings name it already.
      ...(namesApplication(settings) ? {} : { application_name: 'jwt-logout-listener' }),
    })
    client.on('error', (error) => this.#fail(client, error))
    client.on('end', () => this.#fail(client, new Error('the connection was closed')))
    client.on('notification', (message) => {
      if (message.channel === channel) this.#events!.onInvalidation(decodeInvalidation(message.payload))
    })
    this.#client = client

    try {
      await client.connect()
      // The channel was checked to be a plain lowercase identifier, so quoting it is enough.
      await client.query(`LISTEN "${channel}"`)
    } catch (error) {
      this.#fail(client, error)
      return
    }
    if (this.#client !== client) return

    this.#state = 'listening'
    if (this.#attempt > 0) logger.info({ channel, attempts: this.#attempt }, 'cutoff listener reconnected')
    this.#attempt = 0
    this.#events!.onGap()
    this.#keepaliveTimer = setInterval(() => void this.#keepalive(client), this.#options.keepaliveIntervalMs)
    this.#keepaliveTimer.unref()
  }

  async #keepalive(client: pg.Client): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`keepalive query timed out after ${this.#options.keepaliveTimeoutMs} ms`)),
        this.#options.keepaliveTimeoutMs,
      )
    })
    try {
      await Promise.race([client.query('select 1'), timeout])
    } catch (error) {
      this.#fail(client, error)
    } finally {
      clearTimeout(timer)
    }
  }

  /** Handles the failure of `client`, once: reports the gap, drops the client and schedules a reconnection. */
  #fail(client: pg.Client, error: unknown): void {
    if (this.#client !== client || this.#state === 'closed') return
    this.#client = undefined
    clearInterval(this.#keepaliveTimer)
    destroyQuietly(client)

    const wasListening = this.#state === 'listening'
    this.#state = 'reconnecting'
    if (wasListening) this.#events!.onGap()

    this.#attempt++
    const delay = this.#backoff()
    const log = this.#attempt === 1 ? this.#options.logger.warn : this.#options.logger.error
    log.call(
      this.#options.logger,
      { err: error, channel: this.#options.channel, attempt: this.#attempt, retryInMs: delay },
      'cutoff listener is down; the cache is not trusted until it reconnects',
    )
    this.#reconnectTimer = setTimeout(() => void this.#connect(), delay)
    this.#reconnectTimer.unref()
  }

  /** Returns the next delay: exponential, capped, and with half of it random so instances do not retry in step. */
  #backoff(): number {
    const { reconnectMinDelayMs, reconnectMaxDelayMs } = this.#options
    const ceiling = Math.min(reconnectMaxDelayMs, reconnectMinDelayMs * 2 ** Math.min(this.#attempt - 1, 30))
    return Math.round(ceiling / 2 + Math.random() * (ceiling / 2))
  }
}

/**
 * Closes the socket of a failed client at once. pg's `end()` waits for the
 * server to acknowledge, which never happens on a dead connection.
 */
function destroyQuietly(client: pg.Client): void {
  // NOTE: `connection.stream` is internal to pg 8; without it the socket lingers until TCP gives up.
  const stream = (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream
  stream?.destroy()
  client.removeAllListeners('notification')
  client.on('error', () => {})
}

async function endQuietly(client: pg.Client): Promise<void> {
  client.removeAllListeners('end')
  client.on('error', () => {})
  await Promise.race([client.end().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 1000).unref())])
  destroyQuietly(client)
}

/** Checks whether the connection settings already set an application_name. */
function namesApplication(settings: pg.ClientConfig): boolean {
  return settings.application_name !== undefined || (settings.connectionString?.includes('application_name=') ?? false)
}
