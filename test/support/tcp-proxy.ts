import net from 'node:net'

/**
 * How the proxy treats connections while it is cut:
 * - `blackhole` destroys open connections, then accepts new ones and forwards nothing, so clients wait until their own timeouts fire.
 * - `refuse` destroys open connections, then resets new ones as soon as they are accepted, so clients fail at once.
 * - `freeze` keeps open connections but stops forwarding on them, like a network path that silently drops
 *   packets; new connections are blackholed. Frozen connections stay frozen after `restore()`, as half-open
 *   TCP connections do, so only a client that discards them recovers.
 */
export type CutMode = 'blackhole' | 'refuse' | 'freeze'

/**
 * TCP proxy on 127.0.0.1 in front of one target, for tests that cut the
 * network path to a real server and restore it.
 */
export class TcpProxy {
  readonly #targetHost: string
  readonly #targetPort: number
  readonly #server: net.Server
  /** Every open socket on either side, so that `cut()` and `close()` can destroy them all. */
  readonly #sockets = new Set<net.Socket>()
  /** Forwarding connections as client and upstream pairs, so that `cut('freeze')` can stop them. */
  readonly #pairs = new Set<[net.Socket, net.Socket]>()
  /** Connections accepted while cut, never connected to the target. */
  readonly #held = new Set<net.Socket>()
  #mode: 'forward' | CutMode = 'forward'

  constructor(targetHost: string, targetPort: number) {
    this.#targetHost = targetHost
    this.#targetPort = targetPort
    this.#server = net.createServer((client) => this.#accept(client))
  }

  /** Creates and starts a proxy in front of the PostgreSQL server of `databaseUrl`. */
  static async startFor(databaseUrl: string): Promise<TcpProxy> {
    const target = proxyTarget(databaseUrl)
    const proxy = new TcpProxy(target.host, target.port)
    await proxy.start()
    return proxy
  }

  /** Starts listening on an ephemeral port of 127.0.0.1 and returns the port. */
  async start(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject)
      this.#server.listen(0, '127.0.0.1', () => {
        this.#server.off('error', reject)
        resolve()
      })
    })
    return this.port
  }

  /** Port the proxy listens on. */
  get port(): number {
    const address = this.#server.address()
    if (address === null || typeof address === 'string') throw new Error('TcpProxy is not listening: call start() first')
    return address.port
  }

  /** Cuts the path to the target until `restore()`; see CutMode. */
  cut(mode: CutMode = 'blackhole'): void {
    this.#mode = mode
    if (mode !== 'freeze') {
      this.#destroyAll()
      return
    }
    for (const [client, upstream] of this.#pairs) {
      client.unpipe(upstream)
      upstream.unpipe(client)
      client.pause()
      upstream.pause()
    }
    this.#pairs.clear()
  }

  /**
   * Forwards new connections again. Connections held by a blackhole are
   * destroyed, because they were never connected to the target; frozen ones stay frozen.
   */
  restore(): void {
    if (this.#mode === 'forward') return
    this.#mode = 'forward'
    for (const socket of this.#held) socket.destroy()
    this.#held.clear()
  }

  /** Destroys every connection and stops listening. */
  async close(): Promise<void> {
    this.#destroyAll()
    if (!this.#server.listening) return
    await new Promise<void>((resolve, reject) => this.#server.close((error) => (error ? reject(error) : resolve())))
  }

  #accept(client: net.Socket): void {
    if (this.#mode === 'refuse') {
      // A reset rather than a FIN, so the client fails at once with ECONNRESET, much as on a refused port.
      client.resetAndDestroy()
      return
    }

    this.#track(client)
    if (this.#mode !== 'forward') {
      this.#held.add(client)
      return
    }

    const upstream = net.connect({ host: this.#targetHost, port: this.#targetPort })
    this.#track(upstream)
    // Closing either side closes the other, so the client notices a dead target at once.
    client.once('close', () => upstream.destroy())
    upstream.once('close', () => client.destroy())
    client.pipe(upstream)
    upstream.pipe(client)
    const pair: [net.Socket, net.Socket] = [client, upstream]
    this.#pairs.add(pair)
    client.once('close', () => this.#pairs.delete(pair))
  }

  #track(socket: net.Socket): void {
    this.#sockets.add(socket)
    socket.once('close', () => this.#sockets.delete(socket))
    // Sockets torn down by cut(), close() or the other side may report ECONNRESET or EPIPE. The 'close' listeners clean up.
    socket.on('error', () => {})
  }

  #destroyAll(): void {
    for (const socket of this.#sockets) socket.destroy()
    this.#sockets.clear()
    this.#pairs.clear()
    this.#held.clear()
  }
}

/**
 * Returns the host and port of a PostgreSQL connection string, for a proxy
 * to forward to.
 * @throws Error when the URL names no host, as with a Unix socket.
 */
export function proxyTarget(databaseUrl: string): { host: string; port: number } {
  const parsed = new URL(databaseUrl)
  // URL keeps the brackets of an IPv6 literal, which node:net does not accept.
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1')
  if (host === '') {
    throw new Error('DATABASE_URL has no host, but the proxy tests need a PostgreSQL server reachable over TCP: set a host in DATABASE_URL')
  }
  return { host, port: parsed.port === '' ? 5432 : Number(parsed.port) }
}

/** Returns `url` pointed at 127.0.0.1:`port`, with the same user, database and parameters. */
export function onLoopbackPort(url: string, port: number): string {
  const parsed = new URL(url)
  parsed.hostname = '127.0.0.1'
  parsed.port = String(port)
  return parsed.toString()
}
