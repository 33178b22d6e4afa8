import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { CutoffCache } from '../../src/cache/cutoff-cache.js'
import { MicrosecondClock } from '../../src/clock.js'
import { Revoker } from '../../src/revocation/revoker.js'
import type { CutoffStore, UserCutoffs } from '../../src/store/cutoff-store.js'
import { KyselyCutoffStore } from '../../src/store/kysely-cutoff-store.js'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases.js'

/**
 * The real store, with loads that can be held after the query has read the
 * table and before its result reaches the cache.
 */
class GatedStore implements CutoffStore {
  readonly #inner: CutoffStore
  #gate: Promise<void> | undefined
  #open: (() => void) | undefined
  #markRead: (() => void) | undefined
  /** Resolves once a held load's query has read the tables. */
  read: Promise<void> = Promise.resolve()
  loads = 0

  constructor(inner: CutoffStore) {
    this.#inner = inner
  }

  hold(): void {
    this.#gate = new Promise((resolve) => (this.#open = resolve))
    this.read = new Promise((resolve) => (this.#markRead = resolve))
  }

  release(): void {
    this.#open?.()
    this.#gate = undefined
  }

  async loadCutoffs(userIds: readonly string[], now: number): Promise<Map<string, UserCutoffs>> {
    this.loads++
    const gate = this.#gate
    const cutoffs = await this.#inner.loadCutoffs(userIds, now)
    this.#markRead?.()
    await gate
    return cutoffs
  }

  revokeUser(userId: string, cutoff: number): Promise<void> {
    return this.#inner.revokeUser(userId, cutoff)
  }

  revokeSession(userId: string, sessionId: string, cutoff: number, expiresAt: number): Promise<void> {
    return this.#inner.revokeSession(userId, sessionId, cutoff, expiresAt)
  }

  ping(): Promise<void> {
    return this.#inner.ping()
  }

  pruneExpiredSessions(before: number, batchSize: number): Promise<number> {
    return this.#inner.pruneExpiredSessions(before, batchSize)
  }
}

describe.each(databaseKinds())('CutoffCache on %s', (kind) => {
  let database: TestDatabase

  beforeAll(async () => {
    database = await createTestDatabase(kind)
  })
  afterAll(async () => {
    await database.close()
  })

  function setup(ttlMs = 60_000) {
    const store = new GatedStore(new KyselyCutoffStore(database.db))
    const cache = new CutoffCache(store, { maxUsers: 100, ttlMs, staleIfErrorMs: 0 }, Date.now)
    const revoker = new Revoker(store, cache, new MicrosecondClock(), { maxTokenAgeSeconds: undefined, clockToleranceSeconds: 0 })
    return { store, cache, revoker }
  }

  it('returns a hit synchronously', async () => {
    const { cache } = setup()
    await cache.load('sync-hit')

    const hit = cache.get('sync-hit')

    expect(hit).not.toBeInstanceOf(Promise)
    expect(hit).toEqual({ userCutoff: 0, sessionCutoffs: undefined })
  })

  it('does not store a load that raced a revocation', async () => {
    const { store, cache, revoker } = setup()
    store.hold()
    const staleLoad = cache.load('raced')
    await store.read

    // The load has read "no cutoff" and waits at the gate; the logout commits now.
    const cutoff = await revoker.revokeUser('raced')
    store.release()

    expect((await staleLoad).userCutoff).toBe(0)
    expect(cache.peek('raced')).toBeUndefined()
    expect((await cache.get('raced')).userCutoff).toBe(cutoff)
  })

  it('starts a new load after a revocation', async () => {
    const { store, cache, revoker } = setup()
    store.hold()
    const staleLoad = cache.load('rejoined')
    await store.read

    const cutoff = await revoker.revokeUser('rejoined')
    const freshLoad = cache.load('rejoined')
    store.release()

    expect(freshLoad).not.toBe(staleLoad)
    expect((await freshLoad).userCutoff).toBe(cutoff)
    expect(store.loads).toBe(2)
  })

  it('merges a revocation into a cached entry', async () => {
    const { cache, revoker } = setup()
    await cache.load('merged')

    const sessionCutoff = await revoker.revokeSession('merged', 'phone', Date.now() * 1000 + 60_000_000)
    const userCutoff = await revoker.revokeUser('merged')

    expect(cache.peek('merged')?.userCutoff).toBe(userCutoff)
    expect(userCutoff).toBeGreaterThan(sessionCutoff)
    expect(cache.peek('merged')?.sessionCutoffs).toBeUndefined()
  })

  it('keeps a later session cutoff', async () => {
    const { cache, revoker } = setup()
    await cache.load('later-session')

    const userCutoff = await revoker.revokeUser('later-session')
    const sessionCutoff = await revoker.revokeSession('later-session', 'tablet', Date.now() * 1000 + 60_000_000)

    expect(cache.peek('later-session')?.userCutoff).toBe(userCutoff)
    expect(cache.peek('later-session')?.sessionCutoffs?.get('tablet')).toBe(sessionCutoff)
  })

  it('evicts the least recently used user', async () => {
    const store = new GatedStore(new KyselyCutoffStore(database.db))
    const cache = new CutoffCache(store, { maxUsers: 2, ttlMs: 60_000, staleIfErrorMs: 0 }, Date.now)

    await cache.load('lru-a')
    await cache.load('lru-b')
    cache.get('lru-a')
    await cache.load('lru-c')

    expect(cache.size).toBe(2)
    expect(cache.peek('lru-a')).toBeDefined()
    expect(cache.peek('lru-b')).toBeUndefined()
  })

  it('passes store failures to every waiter', async () => {
    const failing: CutoffStore = {
      loadCutoffs: () => Promise.reject(new Error('connection refused')),
      revokeUser: () => Promise.resolve(),
      revokeSession: () => Promise.resolve(),
      ping: () => Promise.resolve(),
      pruneExpiredSessions: () => Promise.resolve(0),
    }
    const cache = new CutoffCache(failing, { maxUsers: 10, ttlMs: 60_000, staleIfErrorMs: 0 }, Date.now)

    const results = await Promise.allSettled([cache.load('down'), cache.load('down')])

    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected'])
    expect(cache.peek('down')).toBeUndefined()
  })
})
