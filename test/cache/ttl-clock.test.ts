import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'

import { CutoffCache } from '../../src/cache/cutoff-cache.js'
import { KyselyCutoffStore } from '../../src/store/kysely-cutoff-store.js'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases.js'
import { countCutoffLookups } from '../support/test-app.js'

const TTL_MS = 1000
const STALE_IF_ERROR_MS = 5000

/**
 * Entry ages must come from a clock reading taken at each check. lru-cache
 * reuses one reading for `ttlResolution` milliseconds (1 by default), which
 * makes an entry re-set in that time look younger than it is and hides a
 * jump of a test clock.
 */
describe.each(databaseKinds())('CutoffCache entry age on %s', (kind) => {
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

  it('invalidateAll leaves no fresh entry', async () => {
    const cache = new CutoffCache(
      new KyselyCutoffStore(database.db),
      { maxUsers: 100, ttlMs: TTL_MS, staleIfErrorMs: STALE_IF_ERROR_MS },
      Date.now,
    )
    await cache.load('invalidated')

    cache.invalidateAll()

    expect(cache.peek('invalidated')).toBeUndefined()
  })

  it('rereads the store right after invalidateAll', async () => {
    const cache = new CutoffCache(
      new KyselyCutoffStore(database.db),
      { maxUsers: 100, ttlMs: TTL_MS, staleIfErrorMs: STALE_IF_ERROR_MS },
      Date.now,
    )
    await cache.load('reread')

    cache.invalidateAll()
    await cache.get('reread')

    expect(countCutoffLookups(database.queries)).toBe(2)
  })

  it('sees a jump of the clock at once', async () => {
    let nowMs = Date.now()
    const clock = () => nowMs
    const cache = new CutoffCache(
      new KyselyCutoffStore(database.db),
      { maxUsers: 100, ttlMs: TTL_MS, staleIfErrorMs: 0 },
      clock,
      clock,
    )
    await cache.load('jumped')
    // A hit reads the clock, as a request for a cached user does.
    expect(cache.peek('jumped')).toBeDefined()

    nowMs += TTL_MS + 1

    expect(cache.peek('jumped')).toBeUndefined()
  })
})
