import { randomUUID } from 'node:crypto'

import type { Express } from 'express'
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import request, { type Response } from 'supertest'
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest'

import { CutoffCache } from '../../src/cache/cutoff-cache.js'
import { StoreUnavailableError } from '../../src/errors/store-unavailable-error.js'
import type { JwtLogout } from '../../src/jwt-logout.js'
import type { JwtLogoutOptions } from '../../src/options.js'
import { pino } from 'pino'

import { createApp } from '../../src/server/create-app.js'
import { DemoUsers } from '../../src/server/demo-users.js'
import { KyselyCutoffStore } from '../../src/store/kysely-cutoff-store.js'
import { openDatabase } from '../../src/store/open-database.js'
import type { CutoffDatabase } from '../../src/store/schema.js'
import { createTestDatabase, postgresUrl, withSearchPath, type TestDatabase } from '../support/databases.js'
import { onLoopbackPort, TcpProxy } from '../support/tcp-proxy.js'
import { countCutoffLookups, createTestApp } from '../support/test-app.js'

const CONNECT_TIMEOUT_MS = 500
const QUERY_TIMEOUT_MS = 500
/** Long enough that no cached cutoff expires during a test. */
const LONG_CACHE_TTL_MS = 10 * 60_000
/** Upper bound for a 503 on a hanging connection: several times the timeouts, far below the test timeout. */
const MAX_OUTAGE_RESPONSE_MS = 5000
/** Allowance for timer granularity, because libuv may fire a timer slightly before performance.now() reaches its delay. */
const TIMER_SLACK_MS = 50
/** Cache TTL and stale-if-error window of the stale-if-error tests, on a clock that the tests move. */
const SHORT_CACHE_TTL_MS = 1000
const STALE_IF_ERROR_MS = 5000

const databaseUrl = postgresUrl()

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

/** A clock for the `now` option that moves only when the test advances it. */
interface ManualClock {
  now(): number
  /** Moves the clock forward by `ms` and waits until the cache reads the new time. */
  advance(ms: number): Promise<void>
}

function createManualClock(): ManualClock {
  let nowMs = Date.now()
  return {
    now: () => nowMs,
    advance: async (ms) => {
      nowMs += ms
    },
  }
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
    proxy = await TcpProxy.startFor(databaseUrl!)
  })

  afterAll(async () => {
    await proxy?.close()
    await schemaDatabase?.close()
  })

  // A failed assertion must not leave the next test with a cut proxy.
  afterEach(() => proxy.restore())

  /**
   * Opens the test schema through the proxy and builds the test app on it, with a long cache TTL unless
   * `options` sets one. Both are closed when the test ends.
   */
  async function openProxiedApp(
    poolSize?: number,
    options: Partial<JwtLogoutOptions> = {},
  ): Promise<{ app: Express; jwtLogout: JwtLogout; idleErrors: Error[] }> {
    const idleErrors: Error[] = []
    const database = await openDatabase({
      databaseUrl: withSearchPath(onLoopbackPort(databaseUrl!, proxy.port), schemaDatabase.schema!),
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      queryTimeoutMs: QUERY_TIMEOUT_MS,
      poolSize,
      onIdleError: (error) => idleErrors.push(error),
    })
    onTestFinished(() => database.close())

    const { app, jwtLogout } = createTestApp({ ...schemaDatabase, db: database.db }, { cacheTtlMs: LONG_CACHE_TTL_MS, ...options })
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
    // The frozen connection never replies again, so only discarding it lets the next request through.
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

  /**
   * Opens a Kysely instance on the test schema through the proxy that records the SQL of every query,
   * for tests that use the cache directly. It is closed when the test ends.
   */
  function openProxiedDb(): { db: Kysely<CutoffDatabase>; queries: string[]; idleErrors: Error[] } {
    const queries: string[] = []
    const idleErrors: Error[] = []
    const pool = new pg.Pool({
      connectionString: withSearchPath(onLoopbackPort(databaseUrl!, proxy.port), schemaDatabase.schema!),
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      query_timeout: QUERY_TIMEOUT_MS,
    })
    // Cutting the proxy breaks the idle connections, and without a listener their errors would end the test process.
    pool.on('error', (error) => idleErrors.push(error))
    const db = new Kysely<CutoffDatabase>({
      dialect: new PostgresDialect({ pool }),
      log: (event) => {
        if (event.level === 'query') queries.push(event.query.sql)
      },
    })
    onTestFinished(() => db.destroy())
    return { db, queries, idleErrors }
  }

  /**
   * Cuts the proxy with `refuse` and waits until the pool has seen its idle connection break, so that no
   * query is sent on a connection whose reset is still unread. Such a query fails, and pg also emits
   * 'error' on the checked-out client, where no listener handles it.
   */
  async function cutAndWaitForIdleError(idleErrors: Error[]): Promise<void> {
    proxy.cut('refuse')
    for (let attempt = 0; attempt < 50 && idleErrors.length === 0; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect(idleErrors.length).toBeGreaterThan(0)
  }

  it('serves no expired entry by default', async () => {
    const clock = createManualClock()
    const { app, jwtLogout, idleErrors } = await openProxiedApp(undefined, { now: clock.now, cacheTtlMs: SHORT_CACHE_TTL_MS })
    const { token } = await jwtLogout.issueToken(newUserId())
    expect((await getMe(app, token)).status).toBe(200)

    await clock.advance(SHORT_CACHE_TTL_MS + 1)
    await cutAndWaitForIdleError(idleErrors)
    const response = await getMe(app, token)

    expect(response.status).toBe(503)
    expect(response.body).toMatchObject({ error: 'store_unavailable' })
  })

  it('serves a stale entry only within its window', async () => {
    const clock = createManualClock()
    const options = { now: clock.now, cacheTtlMs: SHORT_CACHE_TTL_MS, staleIfErrorMs: STALE_IF_ERROR_MS }
    const { app, jwtLogout, idleErrors } = await openProxiedApp(undefined, options)
    const userId = newUserId()
    const { token } = await jwtLogout.issueToken(userId)
    expect((await getMe(app, token)).status).toBe(200)

    await cutAndWaitForIdleError(idleErrors)
    await clock.advance(SHORT_CACHE_TTL_MS + 1)
    const pastTtl = await getMe(app, token)
    await clock.advance(STALE_IF_ERROR_MS - 1)
    const atWindowEnd = await getMe(app, token)
    await clock.advance(1)
    const pastWindow = await getMe(app, token)

    expect(pastTtl.status).toBe(200)
    expect(pastTtl.body.sub).toBe(userId)
    expect(atWindowEnd.status).toBe(200)
    expect(pastWindow.status).toBe(503)
    expect(pastWindow.body).toMatchObject({ error: 'store_unavailable' })
  })

  it('reloads after a stale outage, then revokes', async () => {
    const clock = createManualClock()
    const options = { now: clock.now, cacheTtlMs: SHORT_CACHE_TTL_MS, staleIfErrorMs: STALE_IF_ERROR_MS }
    const { app, jwtLogout, idleErrors } = await openProxiedApp(undefined, options)
    const other = await openProxiedApp(undefined, options)
    const { token } = await jwtLogout.issueToken(newUserId())
    expect((await getMe(app, token)).status).toBe(200)

    await cutAndWaitForIdleError(idleErrors)
    await clock.advance(SHORT_CACHE_TTL_MS + STALE_IF_ERROR_MS + 1)
    expect((await getMe(app, token)).status).toBe(503)
    proxy.restore()
    // The entry is gone, so this 200 comes from a load.
    const recovered = await pollForStatus(() => getMe(app, token), 200)
    // The logout goes through the other instance, so this one learns of it only from the store.
    const logout = await postLogoutAll(other.app, token)
    const beforeTtl = await getMe(app, token)
    await clock.advance(SHORT_CACHE_TTL_MS + 1)
    const afterTtl = await getMe(app, token)

    expect(recovered.status).toBe(200)
    expect(logout.status).toBe(204)
    expect(beforeTtl.status).toBe(200)
    expect(afterTtl.status).toBe(401)
    expect(afterTtl.body).toMatchObject({ error: 'token_revoked' })
  })

  it('invalidateAll rereads the store when up', async () => {
    const clock = createManualClock()
    const { db, queries } = openProxiedDb()
    const cache = new CutoffCache(
      new KyselyCutoffStore(db),
      { maxUsers: 100, ttlMs: SHORT_CACHE_TTL_MS, staleIfErrorMs: STALE_IF_ERROR_MS },
      clock.now,
      clock.now,
    )
    const userId = newUserId()
    await cache.load(userId)
    // A logout written elsewhere, whose notification this cache never got.
    await new KyselyCutoffStore(schemaDatabase.db).revokeUser(userId, clock.now() * 1000)

    const beforeInvalidation = cache.get(userId)
    cache.invalidateAll()
    const afterInvalidation = await cache.get(userId)

    expect(beforeInvalidation).toMatchObject({ userCutoff: 0 })
    expect(afterInvalidation.userCutoff).toBe(clock.now() * 1000)
    expect(countCutoffLookups(queries)).toBe(2)
  })

  it('invalidateAll keeps entries as fallback', async () => {
    const clock = createManualClock()
    const { db, queries, idleErrors } = openProxiedDb()
    const cache = new CutoffCache(
      new KyselyCutoffStore(db),
      { maxUsers: 100, ttlMs: SHORT_CACHE_TTL_MS, staleIfErrorMs: STALE_IF_ERROR_MS },
      clock.now,
      clock.now,
    )
    const cachedUserId = newUserId()
    const cached = await cache.load(cachedUserId)

    cache.invalidateAll()
    await cutAndWaitForIdleError(idleErrors)
    const fallback = cache.get(cachedUserId)
    const uncached = cache.get(newUserId())

    expect(fallback).toBeInstanceOf(Promise)
    await expect(fallback).resolves.toBe(cached)
    await expect(uncached).rejects.toThrow(StoreUnavailableError)
    expect(countCutoffLookups(queries)).toBe(1)
  })
})
