import { randomUUID } from 'node:crypto'

import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import type { MetricsSnapshot } from '../../src/metrics/metrics-recorder.js'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases.js'
import { createTestApp, nowSeconds, signToken } from '../support/test-app.js'
import { hideCutoffTables } from './hidden-tables.js'

function bearer(token: string): [string, string] {
  return ['Authorization', `Bearer ${token}`]
}

function newUserId(): string {
  return `metrics-user-${randomUUID()}`
}

/** Returns the codes whose count is not zero, so that one assertion also checks that the others stayed at zero. */
function nonZero(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).filter(([, count]) => count !== 0))
}

describe.each(databaseKinds())('metrics on %s', (kind) => {
  let database: TestDatabase

  beforeAll(async () => {
    database = await createTestDatabase(kind)
  })
  afterAll(async () => {
    await database.close()
  })

  describe('requests', () => {
    it('counts an accepted request', async () => {
      const { app, jwtLogout } = createTestApp(database)
      const { token } = await jwtLogout.issueToken(newUserId())

      await request(app).get('/me').set(...bearer(token)).expect(200)

      const metrics = jwtLogout.metrics()
      expect(metrics.requestsAccepted).toBe(1)
      expect(nonZero(metrics.requestsRejected)).toEqual({})
    })

    it('counts a missing token', async () => {
      const { app, jwtLogout } = createTestApp(database)

      await request(app).get('/me').expect(401)

      const metrics = jwtLogout.metrics()
      expect(nonZero(metrics.requestsRejected)).toEqual({ missing_token: 1 })
      expect(metrics.requestsAccepted).toBe(0)
    })

    it('counts a garbage token', async () => {
      const { app, jwtLogout } = createTestApp(database)

      await request(app).get('/me').set(...bearer('not-a-jwt')).expect(401)
      await request(app).get('/me').set(...bearer('a.b.c')).expect(401)

      expect(nonZero(jwtLogout.metrics().requestsRejected)).toEqual({ invalid_token: 2 })
    })

    it('counts an expired token', async () => {
      const { app, jwtLogout } = createTestApp(database)
      const token = await signToken({ sub: newUserId(), iat: nowSeconds() - 120, exp: nowSeconds() - 60 })

      await request(app).get('/me').set(...bearer(token)).expect(401)

      expect(nonZero(jwtLogout.metrics().requestsRejected)).toEqual({ token_expired: 1 })
    })

    it('counts a revoked token', async () => {
      const { app, jwtLogout } = createTestApp(database)
      const userId = newUserId()
      const { token } = await jwtLogout.issueToken(userId)
      await jwtLogout.revokeUser(userId)

      await request(app).get('/me').set(...bearer(token)).expect(401)

      const metrics = jwtLogout.metrics()
      expect(nonZero(metrics.requestsRejected)).toEqual({ token_revoked: 1 })
      expect(metrics.requestsAccepted).toBe(0)
    })

    it('counts authenticate() calls', async () => {
      const { jwtLogout } = createTestApp(database)
      const { token } = await jwtLogout.issueToken(newUserId())

      await jwtLogout.authenticate(token)
      await expect(jwtLogout.authenticate('not-a-jwt')).rejects.toMatchObject({ code: 'invalid_token' })

      const metrics = jwtLogout.metrics()
      expect(metrics.requestsAccepted).toBe(1)
      expect(nonZero(metrics.requestsRejected)).toEqual({ invalid_token: 1 })
    })

    it('counts a logout as accepted', async () => {
      const { app, jwtLogout } = createTestApp(database)
      const { token } = await jwtLogout.issueToken(newUserId())

      await request(app).post('/logout').set(...bearer(token)).expect(204)

      const metrics = jwtLogout.metrics()
      expect(metrics.requestsAccepted).toBe(1)
      expect(metrics.revocations).toEqual({ user: 0, session: 1 })
    })

    it('counts a repeated logout-all as revoked', async () => {
      const { app, jwtLogout } = createTestApp(database)
      const userId = newUserId()
      const { token } = await jwtLogout.issueToken(userId)
      await jwtLogout.revokeUser(userId)

      // The response is 204, so that retries succeed, but the token was rejected and nothing was written.
      await request(app).post('/logout-all').set(...bearer(token)).expect(204)

      const metrics = jwtLogout.metrics()
      expect(nonZero(metrics.requestsRejected)).toEqual({ token_revoked: 1 })
      expect(metrics.requestsAccepted).toBe(0)
      expect(metrics.revocations).toEqual({ user: 1, session: 0 })
    })

    it('counts a logout without sid', async () => {
      const { app, jwtLogout } = createTestApp(database)
      const token = await signToken({ sub: newUserId(), iat: nowSeconds(), exp: nowSeconds() + 60 })

      await request(app).post('/logout').set(...bearer(token)).expect(400)

      expect(nonZero(jwtLogout.metrics().requestsRejected)).toEqual({ missing_session_id: 1 })
    })
  })

  describe('cutoff cache', () => {
    it('counts a miss, then a hit', async () => {
      const { app, jwtLogout } = createTestApp(database)
      const { token } = await jwtLogout.issueToken(newUserId())

      await request(app).get('/me').set(...bearer(token)).expect(200)
      const afterFirst = jwtLogout.metrics()
      await request(app).get('/me').set(...bearer(token)).expect(200)
      const afterSecond = jwtLogout.metrics()

      expect(afterFirst.cutoffCacheMisses).toBe(1)
      expect(afterFirst.cutoffCacheHits).toBe(0)
      expect(afterSecond.cutoffCacheMisses).toBe(1)
      expect(afterSecond.cutoffCacheHits).toBe(1)
    })

    it('times only store loads', async () => {
      const { app, jwtLogout } = createTestApp(database)
      const { token } = await jwtLogout.issueToken(newUserId())

      for (let i = 0; i < 3; i++) await request(app).get('/me').set(...bearer(token)).expect(200)

      const { cutoffLookupDuration } = jwtLogout.metrics()
      expect(cutoffLookupDuration.count).toBe(1)
      expect(cutoffLookupDuration.sumSeconds).toBeGreaterThan(0)
      expect(cutoffLookupDuration.sumSeconds).toBeLessThan(10)
    })

    it('reports cumulative buckets', async () => {
      const { app, jwtLogout } = createTestApp(database)
      for (let i = 0; i < 3; i++) {
        const { token } = await jwtLogout.issueToken(newUserId())
        await request(app).get('/me').set(...bearer(token)).expect(200)
      }

      const { buckets, count } = jwtLogout.metrics().cutoffLookupDuration
      const counts = buckets.map((bucket) => bucket.count)
      expect(count).toBe(3)
      expect(counts).toEqual([...counts].sort((a, b) => a - b))
      // The last bound is 10 s, far above a query on a test database.
      expect(counts.at(-1)).toBe(3)
      expect(buckets.map((bucket) => bucket.upperBoundSeconds)).toEqual([
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
      ])
    })
  })

  describe('revocations', () => {
    it('counts each kind', async () => {
      const { jwtLogout } = createTestApp(database)
      const userId = newUserId()

      await jwtLogout.revokeUser(userId)
      await jwtLogout.revokeUser(userId)
      await jwtLogout.revokeSession(userId, 'session-1', nowSeconds() + 60)

      expect(jwtLogout.metrics().revocations).toEqual({ user: 2, session: 1 })
    })

    it('counts logout-all as user', async () => {
      const { app, jwtLogout } = createTestApp(database)
      const { token } = await jwtLogout.issueToken(newUserId())

      await request(app).post('/logout-all').set(...bearer(token)).expect(204)

      const metrics = jwtLogout.metrics()
      expect(metrics.revocations).toEqual({ user: 1, session: 0 })
      expect(metrics.requestsAccepted).toBe(1)
    })
  })

  describe('token counters', () => {
    it('reports verifications and hits', async () => {
      const { app, jwtLogout } = createTestApp(database, { tokenCacheMaxTokens: 100 })
      const { token } = await jwtLogout.issueToken(newUserId())

      for (let i = 0; i < 3; i++) await request(app).get('/me').set(...bearer(token)).expect(200)

      const metrics = jwtLogout.metrics()
      expect(metrics.tokenVerifications).toBe(1)
      expect(metrics.tokenCacheHits).toBe(2)
    })

    it('keeps stats() equal', async () => {
      const { app, jwtLogout } = createTestApp(database, { tokenCacheMaxTokens: 100 })
      const { token } = await jwtLogout.issueToken(newUserId())

      for (let i = 0; i < 3; i++) await request(app).get('/me').set(...bearer(token)).expect(200)

      const { tokenVerifications, tokenCacheHits } = jwtLogout.metrics()
      expect(jwtLogout.stats()).toEqual({ tokenVerifications, tokenCacheHits })
    })
  })

  describe('snapshot', () => {
    it('returns a copy', async () => {
      const { app, jwtLogout } = createTestApp(database)
      const before: MetricsSnapshot = jwtLogout.metrics()
      const { token } = await jwtLogout.issueToken(newUserId())

      await request(app).get('/me').set(...bearer(token)).expect(200)
      await request(app).get('/me').expect(401)
      await jwtLogout.revokeUser(newUserId())

      expect(before.requestsAccepted).toBe(0)
      expect(before.requestsRejected.missing_token).toBe(0)
      expect(before.revocations.user).toBe(0)
      expect(before.cutoffLookupDuration.count).toBe(0)
    })

    it('lists every error code', () => {
      const { jwtLogout } = createTestApp(database)

      expect(jwtLogout.metrics().requestsRejected).toEqual({
        missing_token: 0,
        invalid_token: 0,
        token_expired: 0,
        token_revoked: 0,
        invalid_request: 0,
        missing_session_id: 0,
        store_unavailable: 0,
        key_set_unavailable: 0,
      })
    })
  })

  describe('store outage', () => {
    it('counts a failed lookup', async () => {
      const { app, jwtLogout } = createTestApp(database)
      const { token } = await jwtLogout.issueToken(newUserId())

      await hideCutoffTables(database)
      const response = await request(app).get('/me').set(...bearer(token))

      expect(response.status).toBe(503)
      const metrics = jwtLogout.metrics()
      expect(metrics.storeErrors).toBe(1)
      expect(nonZero(metrics.requestsRejected)).toEqual({ store_unavailable: 1 })
      expect(metrics.requestsAccepted).toBe(0)
      expect(metrics.cutoffCacheMisses).toBe(1)
      expect(metrics.cutoffLookupDuration.count).toBe(1)
    })

    it('counts a failed write', async () => {
      const { app, jwtLogout } = createTestApp(database)
      const { token } = await jwtLogout.issueToken(newUserId())
      // With the user cached, the logout gets as far as the write.
      await request(app).get('/me').set(...bearer(token)).expect(200)

      await hideCutoffTables(database)
      const response = await request(app).post('/logout-all').set(...bearer(token))

      expect(response.status).toBe(503)
      const metrics = jwtLogout.metrics()
      expect(metrics.storeErrors).toBe(1)
      expect(nonZero(metrics.requestsRejected)).toEqual({ store_unavailable: 1 })
      expect(metrics.requestsAccepted).toBe(1)
      expect(metrics.revocations).toEqual({ user: 0, session: 0 })
    })

    it('serves cached users without errors', async () => {
      const { app, jwtLogout } = createTestApp(database)
      const { token } = await jwtLogout.issueToken(newUserId())
      await request(app).get('/me').set(...bearer(token)).expect(200)

      await hideCutoffTables(database)
      await request(app).get('/me').set(...bearer(token)).expect(200)

      const metrics = jwtLogout.metrics()
      expect(metrics.storeErrors).toBe(0)
      expect(metrics.cutoffCacheHits).toBe(1)
      expect(metrics.requestsAccepted).toBe(2)
    })
  })
})
