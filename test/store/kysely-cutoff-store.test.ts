import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { StoreUnavailableError } from '../../src/errors/store-unavailable-error.js'
import { NO_CUTOFFS } from '../../src/store/cutoff-store.js'
import { KyselyCutoffStore } from '../../src/store/kysely-cutoff-store.js'
import { formatMicros } from '../../src/store/timestamps.js'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases.js'

/** A fixed instant with a non-zero microsecond part: 2026-12-04T12:00:00.123456Z. */
const BASE = Date.UTC(2026, 11, 4, 12) * 1000 + 123_456

describe('formatMicros', () => {
  it('keeps six fractional digits', () => {
    expect(formatMicros(BASE)).toBe('2026-12-04T12:00:00.123456Z')
    expect(formatMicros(BASE - 123_456 + 7)).toBe('2026-12-04T12:00:00.000007Z')
  })
})

describe.each(databaseKinds())('KyselyCutoffStore on %s', (kind) => {
  let database: TestDatabase
  let store: KyselyCutoffStore

  async function load(userId: string, now: number) {
    return (await store.loadCutoffs([userId], now)).get(userId)!
  }

  beforeAll(async () => {
    database = await createTestDatabase(kind)
    store = new KyselyCutoffStore(database.db)
  })
  afterAll(async () => {
    await database.close()
  })

  it('loads no cutoffs for a new user', async () => {
    expect(await load('nobody', BASE)).toBe(NO_CUTOFFS)
  })

  it('round-trips microseconds exactly', async () => {
    await store.revokeUser('precise', BASE + 1)
    await store.revokeSession('precise', 's1', BASE + 2, BASE + 3_600_000_000)

    const cutoffs = await load('precise', BASE)

    expect(cutoffs.userCutoff).toBe(BASE + 1)
    expect(cutoffs.sessionCutoffs?.get('s1')).toBe(BASE + 2)
  })

  it('never moves a cutoff backwards', async () => {
    await store.revokeUser('monotonic', BASE + 500)
    await store.revokeUser('monotonic', BASE + 100)
    await store.revokeSession('monotonic', 's', BASE + 900, BASE + 5_000_000)
    await store.revokeSession('monotonic', 's', BASE + 200, BASE + 1_000_000)

    const cutoffs = await load('monotonic', BASE)
    const [row] = await database.execute(
      "select (extract(epoch from expires_at) * 1000000)::bigint as expires_at from session_logouts where user_id = 'monotonic'",
    )

    expect(cutoffs.userCutoff).toBe(BASE + 500)
    expect(cutoffs.sessionCutoffs?.get('s')).toBe(BASE + 900)
    expect(Number(row?.expires_at)).toBe(BASE + 5_000_000)
  })

  it('keeps the latest of concurrent writes', async () => {
    const cutoffs = Array.from({ length: 20 }, (_, i) => BASE + ((i * 7919) % 20) * 1000)

    await Promise.all(cutoffs.map((cutoff) => store.revokeUser('concurrent', cutoff)))

    expect((await load('concurrent', BASE)).userCutoff).toBe(Math.max(...cutoffs))
  })

  it('skips expired session rows', async () => {
    await store.revokeSession('expiring', 'old', BASE, BASE + 1_000_000)
    await store.revokeSession('expiring', 'live', BASE, BASE + 3_000_000)

    const cutoffs = await load('expiring', BASE + 2_000_000)

    expect(cutoffs.sessionCutoffs?.has('old')).toBe(false)
    expect(cutoffs.sessionCutoffs?.get('live')).toBe(BASE)
    expect(cutoffs.userCutoff).toBe(0)
  })

  it('keeps ids that look like SQL', async () => {
    const userId = "x'); drop table user_logouts; --"
    await store.revokeUser(userId, BASE)

    expect((await load(userId, BASE)).userCutoff).toBe(BASE)
  })

  it('answers ping', async () => {
    await expect(store.ping()).resolves.toBeUndefined()
  })
})

describe.each(databaseKinds())('store without migrations on %s', (kind) => {
  let database: TestDatabase

  beforeAll(async () => {
    database = await createTestDatabase(kind, { migrate: false })
  })
  afterAll(async () => {
    await database.close()
  })

  it('says to run the migrations', async () => {
    const store = new KyselyCutoffStore(database.db)

    const error = await store.loadCutoffs(['alice'], BASE).catch((caught: unknown) => caught)

    expect(error).toBeInstanceOf(StoreUnavailableError)
    expect((error as StoreUnavailableError).code).toBe('store_unavailable')
    expect((error as StoreUnavailableError).message).toBe(
      'Cannot check whether the token was revoked because the revocation store is unavailable; retry later.',
    )
    expect((error as StoreUnavailableError).detail).toMatch(/^loading the cutoffs failed: .*user_logouts/)
    expect((error as StoreUnavailableError).detail).toMatch(/run the migrations \(jwt-logout migrate up\)/)
    expect((error as StoreUnavailableError).cause).toBeDefined()
  })

  it('fails ping without tables', async () => {
    const store = new KyselyCutoffStore(database.db)

    const error = await store.ping().catch((caught: unknown) => caught)

    expect(error).toBeInstanceOf(StoreUnavailableError)
    expect((error as StoreUnavailableError).detail).toMatch(/run the migrations/)
  })
})
