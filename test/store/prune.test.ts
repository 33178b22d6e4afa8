import type { Express } from 'express'
import request, { type Response } from 'supertest'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'

import { KyselyCutoffStore } from '../../src/store/kysely-cutoff-store.js'
import { pruneExpiredSessions, type PruneOptions } from '../../src/store/prune.js'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases.js'
import { createTestApp } from '../support/test-app.js'

/** A fixed instant in whole seconds, in milliseconds since the epoch: 2026-12-04T12:00:00Z. */
const NOW_MS = Date.UTC(2026, 11, 4, 12)
const MARGIN_MS = 60_000

function micros(milliseconds: number): number {
  return milliseconds * 1000
}

function countStatements(queries: readonly string[], verb: string): number {
  return queries.filter((query) => query.trimStart().toLowerCase().startsWith(verb)).length
}

async function getMe(app: Express, token: string): Promise<Response> {
  return request(app).get('/me').set('Authorization', `Bearer ${token}`)
}

describe.each(databaseKinds())('pruneExpiredSessions on %s', (kind) => {
  let database: TestDatabase
  let store: KyselyCutoffStore

  beforeAll(async () => {
    database = await createTestDatabase(kind)
    store = new KyselyCutoffStore(database.db)
  })

  afterAll(async () => {
    await database?.close()
  })

  // Every test counts rows and deletions, so each starts with an empty table.
  beforeEach(async () => {
    await database.execute('delete from session_logouts')
    database.queries.length = 0
  })

  /** Writes a session cutoff remembered until `expiresAtMs`. */
  async function addSession(sessionId: string, expiresAtMs: number): Promise<void> {
    await store.revokeSession('prune-user', sessionId, micros(expiresAtMs - 3_600_000), micros(expiresAtMs))
  }

  async function listSessions(): Promise<string[]> {
    const rows = await database.execute('select session_id from session_logouts order by session_id')
    return rows.map((row) => row.session_id as string)
  }

  async function prune(options: PruneOptions): Promise<number> {
    database.queries.length = 0
    return pruneExpiredSessions(database.db, options)
  }

  it('deletes rows expired past the margin', async () => {
    await addSession('expired-long-ago', NOW_MS - 86_400_000)
    await addSession('expired-at-margin', NOW_MS - MARGIN_MS)

    await prune({ now: NOW_MS, marginMs: MARGIN_MS })

    expect(await listSessions()).toEqual([])
  })

  it('keeps rows within the margin', async () => {
    await addSession('expired-inside-margin', NOW_MS - MARGIN_MS + 1)
    await addSession('expired-now', NOW_MS)

    await prune({ now: NOW_MS, marginMs: MARGIN_MS })

    expect(await listSessions()).toEqual(['expired-inside-margin', 'expired-now'])
  })

  it('keeps live rows', async () => {
    await addSession('live', NOW_MS + 1)
    await addSession('live-for-an-hour', NOW_MS + 3_600_000)

    await prune({ now: NOW_MS, marginMs: 0 })

    expect(await listSessions()).toEqual(['live', 'live-for-an-hour'])
  })

  it('returns the number deleted', async () => {
    for (let index = 0; index < 7; index++) await addSession(`expired-${index}`, NOW_MS - 1000 * (index + 1))
    await addSession('live', NOW_MS + 1000)

    const deleted = await prune({ now: NOW_MS, marginMs: 0 })

    expect(deleted).toBe(7)
  })

  it('returns 0 with nothing expired', async () => {
    await addSession('live', NOW_MS + 1000)

    expect(await prune({ now: NOW_MS, marginMs: 0 })).toBe(0)
  })

  it('deletes in batches until done', async () => {
    for (let index = 0; index < 25; index++) {
      await addSession(`expired-${String(index).padStart(2, '0')}`, NOW_MS - 1000 * (index + 1))
    }
    await addSession('live', NOW_MS + 1000)

    const deleted = await prune({ now: NOW_MS, marginMs: 0, batchSize: 10 })

    expect(deleted).toBe(25)
    expect(await listSessions()).toEqual(['live'])
    // 10, 10 and 5 rows: the short third batch ends the loop.
    expect(countStatements(database.queries, 'delete')).toBe(3)
  })

  it('runs one more batch after a full one', async () => {
    for (let index = 0; index < 20; index++) {
      await addSession(`expired-${String(index).padStart(2, '0')}`, NOW_MS - 1000 * (index + 1))
    }

    const deleted = await prune({ now: NOW_MS, marginMs: 0, batchSize: 10 })

    expect(deleted).toBe(20)
    // A full batch may leave more rows, so the loop ends only on a batch of fewer than 10.
    expect(countStatements(database.queries, 'delete')).toBe(3)
  })

  it.each<[string, PruneOptions]>([
    ['batchSize', { batchSize: 0 }],
    ['batchSize', { batchSize: -1 }],
    ['batchSize', { batchSize: 2.5 }],
    ['batchSize', { batchSize: Number.NaN }],
    ['batchSize', { batchSize: '10' as unknown as number }],
    ['marginMs', { marginMs: -1 }],
    ['marginMs', { marginMs: 0.5 }],
    ['marginMs', { marginMs: Number.POSITIVE_INFINITY }],
    ['now', { now: Number.NaN }],
    ['now', { now: Number.POSITIVE_INFINITY }],
    ['now', { now: '2026-12-04' as unknown as number }],
  ])('rejects invalid %s: %o', async (name, options) => {
    await addSession('expired', NOW_MS - 86_400_000)

    const pruning = prune({ now: NOW_MS, ...options })

    await expect(pruning).rejects.toThrow(TypeError)
    await expect(pruning).rejects.toThrow(new RegExp(`^${name} `))
    expect(countStatements(database.queries, 'delete')).toBe(0)
  })

  it('rejects invalid options through jwtLogout', async () => {
    const { jwtLogout } = createTestApp(database)

    await expect(jwtLogout.pruneExpiredSessions({ batchSize: 0 })).rejects.toThrow(TypeError)
  })

  describe('after a logout through the app', () => {
    // Each test logs out its own user, so rows of earlier tests never change a count.
    let clockMs = NOW_MS
    const clock = () => clockMs
    const clockToleranceSeconds = 30

    beforeEach(() => {
      clockMs = NOW_MS
    })

    /** Issues a token for `userId` on a new app, logs its session out and returns the token with its `exp` in seconds. */
    async function logOutOneSession(userId: string, options = {}): Promise<{ token: string; expiresAt: number }> {
      const { app, jwtLogout } = createTestApp(database, options)
      const { token, expiresAt } = await jwtLogout.issueToken(userId)
      expect((await request(app).post('/logout').set('Authorization', `Bearer ${token}`)).status).toBe(204)
      return { token, expiresAt }
    }

    it('keeps a fresh row with the default now', async () => {
      const { token } = await logOutOneSession('fresh-logout')
      const { jwtLogout } = createTestApp(database)

      const deleted = await jwtLogout.pruneExpiredSessions({ marginMs: 0 })
      // A new instance has an empty cache, so it reads the row that pruning left.
      const response = await getMe(createTestApp(database).app, token)

      expect(deleted).toBe(0)
      expect(await listSessions()).toHaveLength(1)
      expect(response.status).toBe(401)
      expect(response.body.error).toBe('token_revoked')
    })

    it('keeps the row until exp plus tolerance', async () => {
      const options = { now: clock, clockToleranceSeconds }
      const { token, expiresAt } = await logOutOneSession('before-expiry', options)
      clockMs = (expiresAt + clockToleranceSeconds) * 1000 - 1
      const { jwtLogout, app } = createTestApp(database, options)

      const deleted = await jwtLogout.pruneExpiredSessions({ marginMs: 0 })
      const response = await getMe(app, token)

      expect(deleted).toBe(0)
      expect(response.status).toBe(401)
      expect(response.body.error).toBe('token_revoked')
    })

    it('deletes the row once the token expired', async () => {
      const options = { now: clock, clockToleranceSeconds }
      const { token, expiresAt } = await logOutOneSession('after-expiry', options)
      clockMs = (expiresAt + clockToleranceSeconds) * 1000
      const { jwtLogout, app } = createTestApp(database, options)

      const deleted = await jwtLogout.pruneExpiredSessions({ marginMs: 0 })
      const response = await getMe(app, token)

      expect(deleted).toBe(1)
      expect(await listSessions()).toEqual([])
      expect(response.status).toBe(401)
      expect(response.body.error).toBe('token_expired')
    })
  })
})
