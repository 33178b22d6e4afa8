import { randomUUID } from 'node:crypto'

import type { Express } from 'express'
import request, { type Response } from 'supertest'
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest'

import type { JwtLogout } from '../../src/jwt-logout.js'
import { pino } from 'pino'

import { createApp } from '../../src/server/create-app.js'
import { DemoUsers } from '../../src/server/demo-users.js'
import { openDatabase } from '../../src/store/open-database.js'
import { createTestDatabase, postgresUrl, withSearchPath, type TestDatabase } from '../support/databases.js'
import { TcpProxy } from '../support/tcp-proxy.js'
import { createTestApp } from '../support/test-app.js'

const CONNECT_TIMEOUT_MS = 500
const QUERY_TIMEOUT_MS = 500
/** Long enough that no cached cutoff expires during a test. */
const LONG_CACHE_TTL_MS = 10 * 60_000
/** Upper bound for a 503 on a hanging connection: several times the timeouts, far below the test timeout. */
const MAX_OUTAGE_RESPONSE_MS = 5000
/** Allowance for timer granularity, because libuv may fire a timer slightly before performance.now() reaches its delay. */
const TIMER_SLACK_MS = 50

const databaseUrl = postgresUrl()

/** Returns the host and port of `url`, where the proxy forwards to. */
function targetOf(url: string): { host: string; port: number } {
  const parsed = new URL(url)
  // URL keeps the brackets of an IPv6 literal, which node:net does not accept.
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1')
  if (host === '') throw new Error('DATABASE_URL has no host; the outage tests need a PostgreSQL server reachable over TCP')
  return { host, port: parsed.port === '' ? 5432 : Number(parsed.port) }
}

/** Returns `url` pointed at the proxy on 127.0.0.1:`port`, with the same user, database and parameters. */
function throughProxy(url: string, port: number): string {
  const parsed = new URL(url)
  parsed.hostname = '127.0.0.1'
  parsed.port = String(port)
  return parsed.toString()
}

function newUserId(): string {
  return `outage-user-${randomUUID()}`
}

async function getMe(app: Express, token: string): Promise<Response> {
  return request(app).get('/me').set('Authorization', `Bearer ${token}`)
}

async function postLogoutAll(app: Express, token: string): Promise<Response> {
  return request(app).post('/logout-all').set('Authorization', `Bearer ${token}`)
}

/** Runs `send` up to `tries` times, `intervalMs` apart, until the response has `status`, and returns the last response. */
async function pollForStatus(send: () => Promise<Response>, status: number, tries = 50, intervalMs = 100): Promise<Response> {
  let response = await send()
  for (let attempt = 1; attempt < tries && response.status !== status; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
    response = await send()
  }
  return response
}

/** Runs `send` and returns its response with the time it took, in milliseconds. */
async function timed(send: () => Promise<Response>): Promise<{ response: Response; elapsedMs: number }> {
  const started = performance.now()
  const response = await send()
  return { response, elapsedMs: performance.now() - started }
}

describe.skipIf(databaseUrl === null)('store outage behind a TCP proxy', () => {
  /** Direct connection to the test schema, bypassing the proxy, for setup and inspection. */
  let schemaDatabase: TestDatabase
  let proxy: TcpProxy

  beforeAll(async () => {
    schemaDatabase = await createTestDatabase('postgres')
    const target = targetOf(databaseUrl!)
    proxy = new TcpProxy(target.host, target.port)
    await proxy.start()
  })

  afterAll(async () => {
    await proxy?.close()
    await schemaDatabase?.close()
  })

  // A failed assertion must not leave the next test with a cut proxy.
  afterEach(() => proxy.restore())

  /** Opens the test schema through the proxy and builds the test app on it. Both are closed when the test ends. */
  async function openProxiedApp(poolSize?: number): Promise<{ app: Express; jwtLogout: JwtLogout; idleErrors: Error[] }> {
    const idleErrors: Error[] = []
    const database = await openDatabase({
      databaseUrl: withSearchPath(throughProxy(databaseUrl!, proxy.port), schemaDatabase.schema!),
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      queryTimeoutMs: QUERY_TIMEOUT_MS,
      poolSize,
      onIdleError: (error) => idleErrors.push(error),
    })
    onTestFinished(() => database.close())

    const { app, jwtLogout } = createTestApp({ ...schemaDatabase, db: database.db }, { cacheTtlMs: LONG_CACHE_TTL_MS })
    return { app, jwtLogout, idleErrors }
  }

  async function countUserLogouts(userId: string): Promise<number> {
    const rows = await schemaDatabase.execute('select count(*)::int as count from user_logouts where user_id = $1', [userId])
    return rows[0]?.count as number
  }

  it('returns 503 after the connect timeout', async () => {
    const { app, jwtLogout } = await openProxiedApp()
    const { token } = await jwtLogout.issueToken(newUserId())

    proxy.cut('blackhole')
    const { response, elapsedMs } = await timed(() => getMe(app, token))

    expect(response.status).toBe(503)
    expect(response.body).toMatchObject({ error: 'store_unavailable' })
    expect(response.headers['retry-after']).toBe('1')
    // The blackhole keeps the connection open, so the 503 comes from the connect timeout, not from an early error.
    expect(elapsedMs).toBeGreaterThanOrEqual(CONNECT_TIMEOUT_MS - TIMER_SLACK_MS)
    expect(elapsedMs).toBeLessThan(MAX_OUTAGE_RESPONSE_MS)
  })

  it('returns 503 at once when refused', async () => {
    const { app, jwtLogout } = await openProxiedApp()
    const { token } = await jwtLogout.issueToken(newUserId())

    proxy.cut('refuse')
    const { response, elapsedMs } = await timed(() => getMe(app, token))

    expect(response.status).toBe(503)
    expect(response.body).toMatchObject({ error: 'store_unavailable' })
    expect(response.headers['retry-after']).toBe('1')
    expect(elapsedMs).toBeLessThan(CONNECT_TIMEOUT_MS)
  })

  it('serves only cached users while cut', async () => {
    const { app, jwtLogout } = await openProxiedApp()
    const cachedUserId = newUserId()
    const cached = await jwtLogout.issueToken(cachedUserId)
    const uncached = await jwtLogout.issueToken(newUserId())
    expect((await getMe(app, cached.token)).status).toBe(200)

    proxy.cut('blackhole')
    const hit = await getMe(app, cached.token)
    const miss = await getMe(app, uncached.token)

    // Only cache misses fail closed, because a cached cutoff is trusted for its TTL even while the store is down.
    expect(hit.status).toBe(200)
    expect(hit.body.sub).toBe(cachedUserId)
    expect(miss.status).toBe(503)
    expect(miss.body).toMatchObject({ error: 'store_unavailable' })
  })

  it('failed logout-all of cached user writes nothing', async () => {
    const { app, jwtLogout } = await openProxiedApp()
    const userId = newUserId()
    const { token } = await jwtLogout.issueToken(userId)
    // With the user cached, authentication needs no query, so the request gets as far as the write.
    expect((await getMe(app, token)).status).toBe(200)

    proxy.cut('blackhole')
    const { response, elapsedMs } = await timed(() => postLogoutAll(app, token))

    expect(response.status).toBe(503)
    expect(response.body).toMatchObject({ error: 'store_unavailable' })
    expect(response.headers['retry-after']).toBe('1')
    expect(elapsedMs).toBeLessThan(MAX_OUTAGE_RESPONSE_MS)

    proxy.restore()
    expect(await countUserLogouts(userId)).toBe(0)
    // The failed write must not have revoked the token in this process's cache either.
    expect((await getMe(app, token)).status).toBe(200)
    const other = await openProxiedApp()
    expect((await pollForStatus(() => getMe(other.app, token), 200)).status).toBe(200)
  })

  it('failed logout-all of uncached user writes nothing', async () => {
    const { app, jwtLogout } = await openProxiedApp()
    const userId = newUserId()
    const { token } = await jwtLogout.issueToken(userId)

    proxy.cut('blackhole')
    const response = await postLogoutAll(app, token)

    expect(response.status).toBe(503)
    expect(response.body).toMatchObject({ error: 'store_unavailable' })

    proxy.restore()
    expect(await countUserLogouts(userId)).toBe(0)
    expect((await pollForStatus(() => getMe(app, token), 200)).status).toBe(200)
  })

  it('recovers after restore, then revokes', async () => {
    const { app, jwtLogout } = await openProxiedApp()
    const userId = newUserId()
    const { token } = await jwtLogout.issueToken(userId)

    proxy.cut('blackhole')
    expect((await getMe(app, token)).status).toBe(503)

    proxy.restore()
    const recovered = await pollForStatus(() => getMe(app, token), 200)
    expect(recovered.status).toBe(200)

    expect((await postLogoutAll(app, token)).status).toBe(204)
    const revoked = await getMe(app, token)
    expect(revoked.status).toBe(401)
    expect(revoked.body).toMatchObject({ error: 'token_revoked' })
    expect(await countUserLogouts(userId)).toBe(1)
  })

  it('returns 503 after the query timeout', async () => {
    const { app, jwtLogout } = await openProxiedApp(1)
    const first = await jwtLogout.issueToken(newUserId())
    const second = await jwtLogout.issueToken(newUserId())
    const third = await jwtLogout.issueToken(newUserId())
    // Leaves the pool's only connection open and idle, so the next query is sent on it.
    expect((await getMe(app, first.token)).status).toBe(200)

    proxy.cut('freeze')
    const { response, elapsedMs } = await timed(() => getMe(app, second.token))
    proxy.restore()
    const afterRestore = await getMe(app, third.token)

    expect(response.status).toBe(503)
    expect(response.body).toMatchObject({ error: 'store_unavailable' })
    expect(elapsedMs).toBeGreaterThanOrEqual(QUERY_TIMEOUT_MS - TIMER_SLACK_MS)
    expect(elapsedMs).toBeLessThan(MAX_OUTAGE_RESPONSE_MS)
    // The frozen connection never answers again; only discarding it lets the next request through.
    expect(afterRestore.status).toBe(200)
  })

  it('reports the outage on /healthz', async () => {
    const { jwtLogout } = await openProxiedApp()
    const server = createApp({ jwtLogout, users: DemoUsers.parse('alice:alice-password'), logger: pino({ level: 'silent' }) })
    expect((await request(server).get('/healthz')).status).toBe(200)

    proxy.cut('refuse')
    const down = await request(server).get('/healthz')
    proxy.restore()
    const up = await pollForStatus(() => request(server).get('/healthz'), 200)

    expect(down.status).toBe(503)
    expect(down.body).toEqual({ status: 'unavailable', store: 'unavailable', listener: 'disabled' })
    expect(down.headers['retry-after']).toBe('1')
    expect(up.status).toBe(200)
    expect(up.body).toEqual({ status: 'ok', store: 'ok', listener: 'disabled' })
  })

  it('reports broken idle connections', async () => {
    const { app, jwtLogout, idleErrors } = await openProxiedApp()
    const { token } = await jwtLogout.issueToken(newUserId())
    // Leaves one idle connection in the pool.
    expect((await getMe(app, token)).status).toBe(200)

    proxy.cut('refuse')
    for (let attempt = 0; attempt < 50 && idleErrors.length === 0; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }

    // Without the pool's 'error' listener this error would be unhandled and end the test process.
    expect(idleErrors.length).toBeGreaterThan(0)
    expect(idleErrors[0]?.message).toMatch(/terminated/i)
  })
})
