import request from 'supertest'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'

import { CutoffCache } from '../../src/cache/cutoff-cache.js'
import type { UserCutoffs } from '../../src/store/cutoff-store.js'
import { KyselyCutoffStore, MAX_BATCH_USERS } from '../../src/store/kysely-cutoff-store.js'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases.js'
import { countCutoffLookups, createTestApp } from '../support/test-app.js'

/** Number of distinct users in the concurrent-request tests. */
const USER_COUNT = 50

/** The real store, recording the user ids of every load that the cache sends it. */
class RecordingStore extends KyselyCutoffStore {
  readonly loads: string[][] = []

  override async loadCutoffs(userIds: readonly string[], now: number): Promise<Map<string, UserCutoffs>> {
    this.loads.push([...userIds])
    return super.loadCutoffs(userIds, now)
  }
}

/** Returns `count` user ids that start with `prefix`, so that tests sharing a database never share a user. */
function userIds(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, index) => `${prefix}-${index}`)
}

describe.each(databaseKinds())('cutoff batching on %s', (kind) => {
  let database: TestDatabase

  beforeAll(async () => {
    database = await createTestDatabase(kind)
  })

  afterAll(async () => {
    await database?.close()
  })

  beforeEach(() => {
    database.queries.length = 0
  })

  function createCache(store = new KyselyCutoffStore(database.db)): CutoffCache {
    return new CutoffCache(store, { maxUsers: 10_000, ttlMs: 60_000, staleIfErrorMs: 0 }, Date.now)
  }

  it('loads misses of one tick in one query', async () => {
    const cache = createCache()

    const results = await Promise.all(userIds('one-tick', USER_COUNT).map((userId) => cache.get(userId)))

    expect(results).toHaveLength(USER_COUNT)
    expect(countCutoffLookups(database.queries)).toBe(1)
  })

  // NOTE: this does not assert one lookup for the concurrent requests. A request misses only after its
  // token's signature check, which WebCrypto runs on libuv's thread pool, so the misses of requests sent
  // together reach the cache over several event loop turns and usually cost several lookups.
  it('answers each user of concurrent requests', async () => {
    const setup = createTestApp(database)
    const users = userIds('mixed', USER_COUNT)
    const issued = await Promise.all(users.map((userId) => setup.jwtLogout.issueToken(userId)))
    // Every third user logs out everywhere and every third user after the first logs out of one session.
    // The users of single-session logouts also get a token of a second session, which stays valid.
    const otherSessions = new Map<string, string>()
    for (const [index, { token }] of issued.entries()) {
      const userId = users[index]!
      if (index % 3 === 1) {
        expect((await request(setup.app).post('/logout-all').set('Authorization', `Bearer ${token}`)).status).toBe(204)
      } else if (index % 3 === 2) {
        otherSessions.set(userId, (await setup.jwtLogout.issueToken(userId)).token)
        expect((await request(setup.app).post('/logout').set('Authorization', `Bearer ${token}`)).status).toBe(204)
      }
    }

    // A second instance starts with an empty cache, so every cutoff comes from the store.
    const { app } = createTestApp(database)
    const send = (token: string) => request(app).get('/me').set('Authorization', `Bearer ${token}`)
    const responses = await Promise.all(issued.map(({ token }) => send(token)))
    const otherResponses = new Map(
      await Promise.all([...otherSessions].map(async ([userId, token]) => [userId, await send(token)] as const)),
    )

    for (const [index, response] of responses.entries()) {
      const userId = users[index]!
      if (index % 3 === 0) {
        expect(response.status, userId).toBe(200)
        expect(response.body.sub, userId).toBe(userId)
      } else {
        expect(response.status, userId).toBe(401)
        expect(response.body.error, userId).toBe('token_revoked')
      }
    }
    for (const [userId, response] of otherResponses) {
      expect(response.status, `${userId}, other session`).toBe(200)
    }
  })

  it('serves cached users without lookups', async () => {
    const { app, jwtLogout } = createTestApp(database)
    const issued = await Promise.all(userIds('cached', USER_COUNT).map((userId) => jwtLogout.issueToken(userId)))
    const sendAll = () =>
      Promise.all(issued.map(({ token }) => request(app).get('/me').set('Authorization', `Bearer ${token}`)))
    await sendAll()
    database.queries.length = 0

    const responses = await sendAll()

    expect(responses.map((response) => response.status)).toEqual(issued.map(() => 200))
    expect(countCutoffLookups(database.queries)).toBe(0)
  })

  it.each([
    [1, 1],
    [MAX_BATCH_USERS, 1],
    [MAX_BATCH_USERS + 1, 2],
    [MAX_BATCH_USERS * 2.5, 3],
  ])('store loads %i users in %i queries', async (count, queryCount) => {
    const store = new KyselyCutoffStore(database.db)

    const loaded = await store.loadCutoffs(userIds(`store-${count}`, count), Date.now() * 1000)

    expect(loaded.size).toBe(count)
    expect(countCutoffLookups(database.queries)).toBe(queryCount)
  })

  it('splits a large batch of misses', async () => {
    const count = MAX_BATCH_USERS * 2.5
    const users = userIds('large', count)
    // The users at both edges of every split, so that a lost or shifted chunk shows.
    const revoked = [0, MAX_BATCH_USERS - 1, MAX_BATCH_USERS, 2 * MAX_BATCH_USERS, count - 1].map((index) => users[index]!)
    const writer = new KyselyCutoffStore(database.db)
    for (const [offset, userId] of revoked.entries()) await writer.revokeUser(userId, 1_000_000 + offset)
    database.queries.length = 0
    const cache = createCache()

    const results = await Promise.all(users.map((userId) => cache.get(userId)))

    expect(countCutoffLookups(database.queries)).toBe(Math.ceil(count / MAX_BATCH_USERS))
    for (const [offset, userId] of revoked.entries()) {
      expect(results[users.indexOf(userId)]!.userCutoff, userId).toBe(1_000_000 + offset)
    }
    expect(results.filter((cutoffs) => cutoffs.userCutoff === 0)).toHaveLength(count - revoked.length)
  })

  it('sends a requeued user once', async () => {
    const store = new RecordingStore(database.db)
    const cache = createCache(store)

    // Invalidating a queued load leaves it in the batch and queues a second load of the same user.
    const stale = cache.load('requeued')
    cache.invalidate('requeued')
    const fresh = cache.load('requeued')
    const other = cache.load('requeued-other')
    await Promise.all([stale, fresh, other])

    expect(fresh).not.toBe(stale)
    expect(store.loads).toEqual([['requeued', 'requeued-other']])
    expect(countCutoffLookups(database.queries)).toBe(1)
  })

  it('sends a user of concurrent misses once', async () => {
    const store = new RecordingStore(database.db)
    const cache = createCache(store)

    await Promise.all([cache.get('shared'), cache.get('shared'), cache.get('shared-other'), cache.get('shared')])

    expect(store.loads).toEqual([['shared', 'shared-other']])
  })
})
