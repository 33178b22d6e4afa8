import { sql } from 'kysely'
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest'

import { openDatabase } from '../../src/store/open-database.js'
import { createTestDatabase, postgresUrl, withSearchPath, type TestDatabase } from '../support/databases.js'
import { onLoopbackPort, TcpProxy } from '../support/tcp-proxy.js'

const databaseUrl = postgresUrl()

/** Comment in the SQL of the probe query, so that pg_stat_activity finds it and only it. */
const PROBE_MARKER = 'connection_reset_probe'

describe.skipIf(databaseUrl === null)('connection reset during a query', () => {
  /** Direct connection to the test schema, bypassing the proxy. */
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

  afterEach(async () => {
    proxy.restore()
    // The server notices the lost client only when the sleep ends, so the probe is ended here.
    await schemaDatabase.execute(
      `select pg_terminate_backend(pid) from pg_stat_activity where query like '%${PROBE_MARKER}%' and pid <> pg_backend_pid()`,
    )
  })

  async function waitForProbe(): Promise<number> {
    let count = 0
    for (let attempt = 0; attempt < 100 && count === 0; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 20))
      const rows = await schemaDatabase.execute(
        `select count(*)::int as count from pg_stat_activity where state = 'active' and query like '%${PROBE_MARKER}%' and pid <> pg_backend_pid()`,
      )
      count = rows[0]?.count as number
    }
    return count
  }

  it('fails the query without an uncaught error', async () => {
    const database = await openDatabase({
      databaseUrl: withSearchPath(onLoopbackPort(databaseUrl!, proxy.port), schemaDatabase.schema!),
      connectTimeoutMs: 500,
      queryTimeoutMs: 30_000,
    })
    onTestFinished(() => database.close())
    const uncaught: unknown[] = []
    const recordUncaught = (error: unknown) => uncaught.push(error)
    process.on('uncaughtException', recordUncaught)
    onTestFinished(() => {
      process.off('uncaughtException', recordUncaught)
    })

    const probe = sql`select pg_sleep(20) /* ${sql.raw(PROBE_MARKER)} */`.execute(database.db)
    probe.catch(() => {})
    expect(await waitForProbe()).toBe(1)
    proxy.cut('refuse')

    await expect(probe).rejects.toThrow(/Connection terminated/)
    // pg emits 'error' in the turn in which it fails the query. One more turn makes sure an uncaught error is recorded.
    await new Promise((resolve) => setImmediate(resolve))
    expect(uncaught).toEqual([])
  })

  it('recovers after the reset', async () => {
    const database = await openDatabase({
      databaseUrl: withSearchPath(onLoopbackPort(databaseUrl!, proxy.port), schemaDatabase.schema!),
      connectTimeoutMs: 500,
      queryTimeoutMs: 30_000,
      // One connection, so the query after the reset runs on a replacement of the broken one.
      poolSize: 1,
    })
    onTestFinished(() => database.close())

    const probe = sql`select pg_sleep(20) /* ${sql.raw(PROBE_MARKER)} */`.execute(database.db)
    probe.catch(() => {})
    expect(await waitForProbe()).toBe(1)
    proxy.cut('refuse')
    await probe.catch(() => {})
    proxy.restore()
    const result = await sql<{ one: number }>`select 1 as one`.execute(database.db)

    expect(result.rows).toEqual([{ one: 1 }])
  })
})
