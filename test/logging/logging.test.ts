import { randomUUID } from 'node:crypto'

import { pino } from 'pino'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { CutoffCache } from '../../src/cache/cutoff-cache.js'
import { formatMicros } from '../../src/store/timestamps.js'
import { KyselyCutoffStore } from '../../src/store/kysely-cutoff-store.js'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases.js'
import { createTestApp, nowSeconds } from '../support/test-app.js'
import { hideCutoffTables } from '../metrics/hidden-tables.js'
import { CapturingLogger } from './capturing-logger.js'

const LOAD_FAILED = 'loading cutoffs from the store failed; the waiting requests get 503'
const WRITE_FAILED = 'recording the logout in the store failed'

function bearer(token: string): [string, string] {
  return ['Authorization', `Bearer ${token}`]
}

function newUserId(): string {
  return `logging-user-${randomUUID()}`
}

/** Returns the signature, the last of the token's three parts. */
function signatureOf(token: string): string {
  return token.slice(token.lastIndexOf('.') + 1)
}

/** Creates a pino logger that writes its JSON lines into an array instead of stdout. */
function capturingPino(): { logger: pino.Logger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = []
  const logger = pino({ level: 'info' }, { write: (chunk: string) => void chunks.push(chunk) })
  const lines = () => chunks.join('').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>)
  return { logger, lines }
}

describe.each(databaseKinds())('logging on %s', (kind) => {
  let database: TestDatabase

  beforeAll(async () => {
    database = await createTestDatabase(kind)
  })
  afterAll(async () => {
    await database.close()
  })

  describe('revocations', () => {
    it('logs logout-all with the user id', async () => {
      const logger = new CapturingLogger()
      const { app, jwtLogout } = createTestApp(database, { logger })
      const userId = newUserId()
      const { token } = await jwtLogout.issueToken(userId)

      await request(app).post('/logout-all').set(...bearer(token)).expect(204)

      expect(logger.records).toEqual([
        {
          level: 'info',
          fields: { kind: 'user', userId, cutoff: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/) },
          message: 'revoked every session of the user',
        },
      ])
    })

    it('logs no token text on logout-all', async () => {
      const logger = new CapturingLogger()
      const { app, jwtLogout } = createTestApp(database, { logger })
      const { token } = await jwtLogout.issueToken(newUserId())

      await request(app).post('/logout-all').set(...bearer(token)).expect(204)
      // The revoked token once more, which gets 204 without a write.
      await request(app).post('/logout-all').set(...bearer(token)).expect(204)
      await request(app).get('/me').set(...bearer(token)).expect(401)

      const serialized = logger.serialize()
      expect(logger.records).toHaveLength(1)
      expect(serialized).not.toContain(token)
      expect(serialized).not.toContain(signatureOf(token))
    })

    it('logs logout with the session id', async () => {
      const logger = new CapturingLogger()
      const { app, jwtLogout } = createTestApp(database, { logger })
      const userId = newUserId()
      const { token, sessionId } = await jwtLogout.issueToken(userId)

      await request(app).post('/logout').set(...bearer(token)).expect(204)

      expect(logger.records).toEqual([
        {
          level: 'info',
          fields: { kind: 'session', userId, sessionId, cutoff: expect.any(String) },
          message: 'revoked one session of the user',
        },
      ])
      expect(logger.serialize()).not.toContain(signatureOf(token))
    })

    it('logs the cutoff that revokeUser returns', async () => {
      const logger = new CapturingLogger()
      const { jwtLogout } = createTestApp(database, { logger })
      const userId = newUserId()

      const cutoff = await jwtLogout.revokeUser(userId)

      expect(logger.records).toEqual([
        { level: 'info', fields: { kind: 'user', userId, cutoff: formatMicros(cutoff) }, message: 'revoked every session of the user' },
      ])
    })

    it('logs revokeSession', async () => {
      const logger = new CapturingLogger()
      const { jwtLogout } = createTestApp(database, { logger })
      const userId = newUserId()

      const cutoff = await jwtLogout.revokeSession(userId, 'session-7', nowSeconds() + 60)

      expect(logger.records).toEqual([
        {
          level: 'info',
          fields: { kind: 'session', userId, sessionId: 'session-7', cutoff: formatMicros(cutoff) },
          message: 'revoked one session of the user',
        },
      ])
    })

    it('logs nothing for requests', async () => {
      const logger = new CapturingLogger()
      const { app, jwtLogout } = createTestApp(database, { logger })
      const { token } = await jwtLogout.issueToken(newUserId())

      await request(app).get('/me').set(...bearer(token)).expect(200)
      await request(app).get('/me').set(...bearer('not-a-jwt')).expect(401)
      await request(app).get('/me').expect(401)

      expect(logger.records).toEqual([])
    })
  })

  describe('store outage', () => {
    it('logs a failed lookup', async () => {
      const logger = new CapturingLogger()
      const { app, jwtLogout } = createTestApp(database, { logger })
      const userId = newUserId()
      const { token } = await jwtLogout.issueToken(userId)

      await hideCutoffTables(database)
      await request(app).get('/me').set(...bearer(token)).expect(503)

      expect(logger.records).toHaveLength(1)
      const [record] = logger.records
      expect(record!.level).toBe('error')
      expect(record!.message).toBe(LOAD_FAILED)
      expect(record!.fields).toMatchObject({ operation: 'loadCutoffs', userIds: [userId], userCount: 1, usersServedStale: 0 })
      expect(record!.fields.detail).toMatch(/^loading the cutoffs failed: .*user_logouts.* The jwt-logout tables are missing/)
      expect(record!.fields.err).toMatchObject({ name: 'StoreUnavailableError', code: 'store_unavailable' })
      expect(logger.serialize()).not.toContain(signatureOf(token))
    })

    it('logs a failed write', async () => {
      const logger = new CapturingLogger()
      const { app, jwtLogout } = createTestApp(database, { logger })
      const userId = newUserId()
      const { token } = await jwtLogout.issueToken(userId)
      // With the user cached, the logout gets as far as the write.
      await request(app).get('/me').set(...bearer(token)).expect(200)

      await hideCutoffTables(database)
      await request(app).post('/logout-all').set(...bearer(token)).expect(503)

      expect(logger.records).toHaveLength(1)
      const [record] = logger.records
      expect(record!.level).toBe('error')
      expect(record!.message).toBe(WRITE_FAILED)
      expect(record!.fields).toMatchObject({ operation: 'revokeUser', userId })
      expect(record!.fields.detail).toMatch(/^recording the logout failed: .*user_logouts/)
      expect(logger.serialize()).not.toContain(token)
      expect(logger.serialize()).not.toContain(signatureOf(token))
    })

    it('logs a failed session write', async () => {
      const logger = new CapturingLogger()
      const { jwtLogout } = createTestApp(database, { logger })
      const userId = newUserId()

      await hideCutoffTables(database)
      await expect(jwtLogout.revokeSession(userId, 'session-9', nowSeconds() + 60)).rejects.toMatchObject({ code: 'store_unavailable' })

      expect(logger.records).toHaveLength(1)
      expect(logger.records[0]!.fields).toMatchObject({ operation: 'revokeSession', userId, sessionId: 'session-9' })
    })

    it('logs a shared load once', async () => {
      // Loads requested in one event loop turn go to the store as one query.
      const logger = new CapturingLogger()
      const cache = new CutoffCache(
        new KyselyCutoffStore(database.db),
        { maxUsers: 100, ttlMs: 60_000, staleIfErrorMs: 0, logger },
        Date.now,
      )
      const first = newUserId()
      const second = newUserId()

      await hideCutoffTables(database)
      const loads = [cache.load(first), cache.load(first), cache.load(second), cache.load(first), cache.load(second)]
      const results = await Promise.allSettled(loads)

      expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected', 'rejected', 'rejected', 'rejected'])
      expect(logger.records).toHaveLength(1)
      expect(logger.records[0]!.fields).toMatchObject({ userIds: [first, second], userCount: 2 })
    })

    it('matches the store error count', async () => {
      const logger = new CapturingLogger()
      const { app, jwtLogout } = createTestApp(database, { logger })
      const tokens = await Promise.all([1, 2, 3].map(() => jwtLogout.issueToken(newUserId())))

      await hideCutoffTables(database)
      const responses = await Promise.all(tokens.map(({ token }) => request(app).get('/me').set(...bearer(token))))

      // Concurrent requests may share loads, so there are at most as many records as requests, one per failed load.
      expect(responses.map((response) => response.status)).toEqual([503, 503, 503])
      expect(logger.withMessage(LOAD_FAILED)).toHaveLength(jwtLogout.metrics().storeErrors)
      expect(logger.records.length).toBeLessThanOrEqual(3)
    })

    it('warns when stale entries served', async () => {
      let now = Date.now()
      const logger = new CapturingLogger()
      const { app, jwtLogout } = createTestApp(database, { logger, now: () => now, cacheTtlMs: 1000, staleIfErrorMs: 60_000 })
      const userId = newUserId()
      const { token } = await jwtLogout.issueToken(userId)
      await request(app).get('/me').set(...bearer(token)).expect(200)

      await hideCutoffTables(database)
      now += 2000
      await request(app).get('/me').set(...bearer(token)).expect(200)

      expect(logger.records).toHaveLength(1)
      expect(logger.records[0]).toMatchObject({
        level: 'warn',
        fields: { operation: 'loadCutoffs', userIds: [userId], usersServedStale: 1 },
        message: 'loading cutoffs from the store failed; stale cached cutoffs were served instead',
      })
    })
  })

  describe('pino as the logger', () => {
    it('writes revocations as JSON', async () => {
      const { logger, lines } = capturingPino()
      const { app, jwtLogout } = createTestApp(database, { logger })
      const userId = newUserId()
      const { token } = await jwtLogout.issueToken(userId)

      await request(app).post('/logout-all').set(...bearer(token)).expect(204)

      expect(lines()).toEqual([
        expect.objectContaining({ level: 30, msg: 'revoked every session of the user', kind: 'user', userId, cutoff: expect.any(String) }),
      ])
    })

    it('serializes the store error', async () => {
      const { logger, lines } = capturingPino()
      const { app, jwtLogout } = createTestApp(database, { logger })
      const userId = newUserId()
      const { token } = await jwtLogout.issueToken(userId)

      await hideCutoffTables(database)
      await request(app).get('/me').set(...bearer(token)).expect(503)

      const [line] = lines()
      expect(line).toMatchObject({ level: 50, msg: LOAD_FAILED, operation: 'loadCutoffs', userIds: [userId] })
      // pino's err serializer keeps the class, message and stack, which the operator needs.
      expect(line!.err).toMatchObject({ type: 'StoreUnavailableError', code: 'store_unavailable', stack: expect.any(String) })
      expect(JSON.stringify(lines())).not.toContain(signatureOf(token))
    })
  })
})
