import { randomBytes, randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:http'

import { PGlite } from '@electric-sql/pglite'
import type { Express } from 'express'
import { Kysely } from 'kysely'
import request, { type Response } from 'supertest'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

import type { Health, JwtLogout } from '../../src/jwt-logout.js'
import type { Logger } from '../../src/logger.js'
import type { ListenOptions } from '../../src/options.js'
import { migrateToLatest } from '../../src/store/migrations.js'
import { openDatabase } from '../../src/store/open-database.js'
import { PGliteDialect } from '../../src/store/pglite-dialect.js'
import type { CutoffDatabase } from '../../src/store/schema.js'
import { createTestDatabase, postgresUrl, withSearchPath, type TestDatabase } from '../support/databases.js'
import { findFreePort } from '../support/server-process.js'
import { onLoopbackPort, TcpProxy } from '../support/tcp-proxy.js'
import { createTestApp } from '../support/test-app.js'

/** Long enough that no cached cutoff expires during a test, so only an invalidation makes an instance re-read. */
const LONG_CACHE_TTL_MS = 10 * 60_000
/** Maximum time from a logout's response on one instance to the rejection of the token on another. */
const MAX_PROPAGATION_MS = 100
/** Interval between requests while waiting for a rejection. */
const POLL_INTERVAL_MS = 5
/** Interval between checks while waiting for a listener state or a log call. */
const HEALTH_POLL_INTERVAL_MS = 10
/** Upper bound for waits on a reconnection or a timeout, far below the test timeout. */
const MAX_WAIT_MS = 5000
/** Allowance for timer granularity, because libuv may fire a timer slightly before performance.now() reaches its delay. */
const TIMER_SLACK_MS = 50

const databaseUrl = postgresUrl()

type PostgresListenOptions = Exclude<ListenOptions, { pglite: unknown }>
type ListenerStatus = Health['listener']

/** One jwt-logout instance, as a separate process of a deployment would run it. */
interface Instance {
  jwtLogout: JwtLogout
  /** The app, listening on 127.0.0.1, so each request skips supertest's own listen and close. */
  server: Server
  /** `application_name` of the PostgreSQL LISTEN connection, or undefined on PGlite. */
  applicationName?: string
}

/** Everything opened by the running test, closed in reverse order after it. */
const cleanups: Array<() => Promise<void>> = []

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

function newUserId(): string {
  return `cross-instance-user-${randomUUID()}`
}

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}

/** Starts `app` on an ephemeral port of 127.0.0.1. The server is closed after the test. */
async function listenOnLoopback(app: Express): Promise<Server> {
  const server = createServer(app)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  cleanups.push(async () => {
    // Node 20's global agent keeps connections alive, and close() alone would wait for them to time out.
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })
  return server
}

/** Starts an app built by createTestApp as an instance. Its server and listener are closed after the test. */
async function startInstance({ app, jwtLogout }: { app: Express; jwtLogout: JwtLogout }, applicationName?: string): Promise<Instance> {
  cleanups.push(() => jwtLogout.close())
  const server = await listenOnLoopback(app)
  return { jwtLogout, server, applicationName }
}

async function getMe(instance: Instance, token: string): Promise<Response> {
  return request(instance.server).get('/me').set('Authorization', `Bearer ${token}`)
}

async function post(instance: Instance, path: '/logout' | '/logout-all', token: string): Promise<Response> {
  return request(instance.server).post(path).set('Authorization', `Bearer ${token}`)
}

/**
 * Sends GET /me every POLL_INTERVAL_MS until the response has `status` or
 * `timeoutMs` passes, and returns the last response with the milliseconds
 * from `since` (a performance.now() reading) to its arrival.
 */
async function pollMe(
  instance: Instance,
  token: string,
  status: number,
  since: number,
  timeoutMs = MAX_WAIT_MS,
): Promise<{ response: Response; elapsedMs: number }> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const response = await getMe(instance, token)
    const elapsedMs = performance.now() - since
    if (response.status === status || performance.now() >= deadline) return { response, elapsedMs }
    await sleep(POLL_INTERVAL_MS)
  }
}

/** Polls the instance's health until `accept` returns true for the listener state or `timeoutMs` passes, and returns the last state. */
async function waitForListener(
  instance: Instance,
  accept: (state: ListenerStatus) => boolean,
  timeoutMs = MAX_WAIT_MS,
): Promise<ListenerStatus> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const { listener } = await instance.jwtLogout.health()
    if (accept(listener) || performance.now() >= deadline) return listener
    await sleep(HEALTH_POLL_INTERVAL_MS)
  }
}

/** Checks `condition` every HEALTH_POLL_INTERVAL_MS until it returns true or `timeoutMs` passes. */
async function waitUntil(condition: () => boolean, timeoutMs = MAX_WAIT_MS): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!condition() && performance.now() < deadline) await sleep(HEALTH_POLL_INTERVAL_MS)
}

async function expectListening(...instances: Instance[]): Promise<void> {
  for (const instance of instances) {
    expect(await waitForListener(instance, (state) => state === 'listening')).toBe('listening')
  }
}

/** One call to a Logger method. */
interface LogCall {
  level: 'info' | 'warn' | 'error'
  fields: Record<string, unknown>
  message: string
}

/** Returns a Logger that records its calls in `calls`. */
function recordingLogger(): { logger: Logger; calls: LogCall[] } {
  const calls: LogCall[] = []
  const record = (level: LogCall['level']) => (fields: object, message: string) => {
    calls.push({ level, fields: fields as Record<string, unknown>, message })
  }
  return { logger: { info: record('info'), warn: record('warn'), error: record('error') }, calls }
}

/** Returns `url` with the given query parameter set. */
function withParameter(url: string, name: string, value: string): string {
  const parsed = new URL(url)
  parsed.searchParams.set(name, value)
  return parsed.toString()
}

describe.skipIf(databaseUrl === null)('cross-instance invalidation on PostgreSQL', () => {
  /** Direct connection to the test schema, for setup and inspection. */
  let schemaDatabase: TestDatabase
  /**
   * A channel of this file only. NOTIFY reaches every session of the
   * database, whatever its search_path, so the default channel would also
   * carry the writes of other test files running at the same time.
   */
  const channel = `jwt_logout_test_${randomBytes(6).toString('hex')}`

  beforeAll(async () => {
    schemaDatabase = await createTestDatabase('postgres')
  })

  afterAll(async () => {
    await schemaDatabase?.close()
  })

  interface InstanceSettings {
    /** Connection string of the LISTEN connection, before application_name is added. Defaults to the pool's. */
    listenUrl?: string
    /** Listener settings besides the connection string. */
    listen?: Omit<PostgresListenOptions, 'connectionString'>
    cacheTtlMs?: number
    logger?: Logger
  }

  /**
   * Opens an instance with its own pool, cache and listener on the test
   * schema. Its LISTEN connection carries a unique application_name, so a
   * test can find its backend in pg_stat_activity.
   */
  async function openInstance(name: string, settings: InstanceSettings = {}): Promise<Instance> {
    const poolUrl = withSearchPath(databaseUrl!, schemaDatabase.schema!)
    const applicationName = `jwt-logout-test-${name}-${randomBytes(4).toString('hex')}`
    const database = await openDatabase({
      databaseUrl: poolUrl,
      listenUrl: withParameter(settings.listenUrl ?? poolUrl, 'application_name', applicationName),
    })
    cleanups.push(() => database.close())
    if (!('connectionString' in database.listen)) throw new Error('openDatabase returned PGlite listen options for a PostgreSQL URL')

    const listen: PostgresListenOptions = {
      ...database.listen,
      reconnectMinDelayMs: 50,
      reconnectMaxDelayMs: 500,
      ...settings.listen,
    }
    const testApp = createTestApp(
      { ...schemaDatabase, db: database.db },
      {
        listen,
        notifyChannel: channel,
        cacheTtlMs: settings.cacheTtlMs ?? LONG_CACHE_TTL_MS,
        ...(settings.logger === undefined ? {} : { logger: settings.logger }),
      },
    )
    return startInstance(testApp, applicationName)
  }

  async function listenerBackends(instance: Instance): Promise<number[]> {
    const rows = await schemaDatabase.execute('select pid from pg_stat_activity where application_name = $1', [
      instance.applicationName,
    ])
    return rows.map((row) => row.pid as number)
  }

  it('logout-all reaches other instances', async () => {
    const a = await openInstance('a')
    const b = await openInstance('b')
    const c = await openInstance('c')
    await expectListening(a, b, c)
    const { token } = await a.jwtLogout.issueToken(newUserId())
    // Caches the user on B and C for LONG_CACHE_TTL_MS.
    expect((await getMe(b, token)).status).toBe(200)
    expect((await getMe(c, token)).status).toBe(200)

    const logout = await post(a, '/logout-all', token)
    const loggedOutAt = performance.now()
    const [onB, onC] = await Promise.all([pollMe(b, token, 401, loggedOutAt), pollMe(c, token, 401, loggedOutAt)])

    expect(logout.status).toBe(204)
    expect(onB.response.status).toBe(401)
    expect(onB.response.body.error).toBe('token_revoked')
    expect(onB.elapsedMs).toBeLessThan(MAX_PROPAGATION_MS)
    expect(onC.response.status).toBe(401)
    expect(onC.response.body.error).toBe('token_revoked')
    expect(onC.elapsedMs).toBeLessThan(MAX_PROPAGATION_MS)
  })

  it('session logout reaches other instance', async () => {
    const a = await openInstance('a')
    const b = await openInstance('b')
    await expectListening(a, b)
    const userId = newUserId()
    const ended = await a.jwtLogout.issueToken(userId)
    const otherSession = await a.jwtLogout.issueToken(userId)
    expect((await getMe(b, ended.token)).status).toBe(200)
    expect((await getMe(b, otherSession.token)).status).toBe(200)

    const logout = await post(a, '/logout', ended.token)
    const loggedOutAt = performance.now()
    const onB = await pollMe(b, ended.token, 401, loggedOutAt)
    const otherSessionOnB = await getMe(b, otherSession.token)

    expect(logout.status).toBe(204)
    expect(onB.response.status).toBe(401)
    expect(onB.response.body.error).toBe('token_revoked')
    expect(onB.elapsedMs).toBeLessThan(MAX_PROPAGATION_MS)
    expect(otherSessionOnB.status).toBe(200)
    expect(otherSessionOnB.body.sid).toBe(otherSession.sessionId)
  })

  it('killed listener reconnects and flushes', async () => {
    const { logger, calls } = recordingLogger()
    const a = await openInstance('a')
    // The first reconnection waits 1 to 2 s (half of the delay is random), so B stays down while the test writes.
    const b = await openInstance('b', { listen: { reconnectMinDelayMs: 2000, reconnectMaxDelayMs: 2000 }, logger })
    await expectListening(a, b)
    const { token } = await a.jwtLogout.issueToken(newUserId())

    const backends = await listenerBackends(b)
    expect(backends).toHaveLength(1)
    const terminated = await schemaDatabase.execute('select pg_terminate_backend($1) as terminated', [backends[0]])
    expect(terminated[0]?.terminated).toBe(true)
    expect(await waitForListener(b, (state) => state !== 'listening')).toBe('reconnecting')

    // Loaded while B receives no notifications, so only the reconnection can tell B that this entry went stale.
    expect((await getMe(b, token)).status).toBe(200)
    expect((await post(a, '/logout-all', token)).status).toBe(204)
    expect((await b.jwtLogout.health()).listener).toBe('reconnecting')
    // The notification went out while B had no LISTEN connection, so B still serves its cached entry.
    expect((await getMe(b, token)).status).toBe(200)

    expect(await waitForListener(b, (state) => state === 'listening')).toBe('listening')
    const revoked = await getMe(b, token)
    const newBackends = await listenerBackends(b)

    expect(revoked.status).toBe(401)
    expect(revoked.body.error).toBe('token_revoked')
    expect(newBackends).toHaveLength(1)
    expect(newBackends[0]).not.toBe(backends[0])
    expect(calls.map((call) => call.level)).toEqual(['warn', 'info'])
    expect(calls[0]?.message).toMatch(/cutoff listener is down/)
    // 57P01 is admin_shutdown, the error PostgreSQL sends to a backend ended by pg_terminate_backend.
    expect((calls[0]?.fields.err as { code?: unknown }).code).toBe('57P01')
    expect(calls[1]?.message).toMatch(/cutoff listener reconnected/)
  })

  it('silently dead listener reconnects', async () => {
    const proxy = await TcpProxy.startFor(databaseUrl!)
    cleanups.push(() => proxy.close())
    const a = await openInstance('a')
    // Only the LISTEN connection goes through the proxy. B's pool stays direct, so B keeps serving requests.
    const b = await openInstance('b', {
      listenUrl: onLoopbackPort(withSearchPath(databaseUrl!, schemaDatabase.schema!), proxy.port),
      listen: { connectTimeoutMs: 500, keepaliveIntervalMs: 100, keepaliveTimeoutMs: 200 },
    })
    await expectListening(a, b)
    const { token } = await a.jwtLogout.issueToken(newUserId())

    // Frozen, the connection neither delivers notifications nor closes, so only the keepalive query notices.
    // A keepalive query times out about 300 ms after the freeze (100 ms interval, 200 ms timeout), and 3 s leaves room for a slow machine.
    proxy.cut('freeze')
    expect(await waitForListener(b, (state) => state !== 'listening', 3000)).toBe('reconnecting')

    // Loaded after the listener went down, and the notification of the logout is lost in the frozen path,
    // so B keeps serving its entry until the reconnection drops it.
    expect((await getMe(b, token)).status).toBe(200)
    expect((await post(a, '/logout-all', token)).status).toBe(204)
    expect((await b.jwtLogout.health()).listener).toBe('reconnecting')
    expect((await getMe(b, token)).status).toBe(200)

    proxy.restore()
    expect(await waitForListener(b, (state) => state === 'listening')).toBe('listening')
    const revoked = await getMe(b, token)

    expect(revoked.status).toBe(401)
    expect(revoked.body.error).toBe('token_revoked')
  })

  it('over-long user id flushes everything', async () => {
    const a = await openInstance('a')
    const b = await openInstance('b')
    await expectListening(a, b)
    const userId = newUserId()
    const { token } = await a.jwtLogout.issueToken(userId)
    expect((await getMe(b, token)).status).toBe(200)

    // A write in plain SQL sends no NOTIFY, so B keeps serving its cached entry until its whole cache is dropped.
    await schemaDatabase.execute('insert into user_logouts (user_id, logged_out_at) values ($1, now())', [userId])
    expect((await getMe(b, token)).status).toBe(200)

    // 2700 characters of 3 UTF-8 bytes make a payload over 7999 bytes, so the write announces '*' instead of the id.
    await a.jwtLogout.revokeUser('€'.repeat(2700))
    const revokedAt = performance.now()
    const onB = await pollMe(b, token, 401, revokedAt)

    expect(onB.response.status).toBe(401)
    expect(onB.response.body.error).toBe('token_revoked')
    expect(onB.elapsedMs).toBeLessThan(MAX_PROPAGATION_MS)
  })

  it('unreachable listener falls back to TTL', async () => {
    const { logger, calls } = recordingLogger()
    const ttlMs = 1000
    const a = await openInstance('a')
    await expectListening(a)
    const closedPort = await findFreePort()
    const b = await openInstance('b', {
      listenUrl: onLoopbackPort(withSearchPath(databaseUrl!, schemaDatabase.schema!), closedPort),
      cacheTtlMs: ttlMs,
      logger,
    })

    // The first failure logs a warning and later ones an error, each followed by a retry.
    await waitUntil(() => calls.length >= 3)
    expect(calls.map((call) => call.level).slice(0, 3)).toEqual(['warn', 'error', 'error'])
    expect(calls[0]?.message).toMatch(/cutoff listener is down/)
    expect((calls[0]?.fields.err as { code?: unknown }).code).toBe('ECONNREFUSED')
    expect(calls[0]?.fields.attempt).toBe(1)
    expect(calls[2]?.fields.attempt).toBe(3)
    expect(await b.jwtLogout.health()).toEqual({ store: 'ok', listener: 'reconnecting' })

    const { token } = await a.jwtLogout.issueToken(newUserId())
    const loadedAt = performance.now()
    expect((await getMe(b, token)).status).toBe(200)
    expect((await post(a, '/logout-all', token)).status).toBe(204)
    const onB = await pollMe(b, token, 401, loadedAt, ttlMs + MAX_WAIT_MS)

    expect(onB.response.status).toBe(401)
    expect(onB.response.body.error).toBe('token_revoked')
    // B reads the store again only when its entry expires, so the logout reached it through the TTL.
    expect(onB.elapsedMs).toBeGreaterThanOrEqual(ttlMs - TIMER_SLACK_MS)
  })
})

describe('cross-instance invalidation on PGlite', () => {
  let pglite: PGlite
  let database: TestDatabase

  beforeAll(async () => {
    pglite = await PGlite.create()
    const db = new Kysely<CutoffDatabase>({ dialect: new PGliteDialect(pglite) })
    database = {
      kind: 'pglite',
      db,
      queries: [],
      execute: async (sqlText, parameters = []) => (await pglite.query<Record<string, unknown>>(sqlText, parameters)).rows,
      close: async () => {
        await db.destroy()
        await pglite.close()
      },
    }
    await migrateToLatest(db)
  })

  afterAll(async () => {
    await database?.close()
  })

  async function openInstance(): Promise<Instance> {
    return startInstance(createTestApp(database, { listen: { pglite }, cacheTtlMs: LONG_CACHE_TTL_MS }))
  }

  it('logout-all reaches other instance', async () => {
    const a = await openInstance()
    const b = await openInstance()
    await expectListening(a, b)
    const { token } = await a.jwtLogout.issueToken(newUserId())
    expect((await getMe(b, token)).status).toBe(200)

    const logout = await post(a, '/logout-all', token)
    const loggedOutAt = performance.now()
    const onB = await pollMe(b, token, 401, loggedOutAt)

    expect(logout.status).toBe(204)
    expect(onB.response.status).toBe(401)
    expect(onB.response.body.error).toBe('token_revoked')
    expect(onB.elapsedMs).toBeLessThan(MAX_PROPAGATION_MS)
  })
})
