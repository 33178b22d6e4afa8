import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'

import { PGlite } from '@electric-sql/pglite'
import { Kysely, sql } from 'kysely'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { UnauthorizedError } from '../../src/errors/unauthorized-error.js'
import { createJwtLogout, type JwtLogout } from '../../src/jwt-logout.js'
import { migrateDown, migrateToLatest, migrationStatus, pendingMigrations } from '../../src/store/migrations.js'
import { PGliteDialect } from '../../src/store/pglite-dialect.js'
import { pruneExpiredSessions } from '../../src/store/prune.js'
import { postgresUrl } from '../support/databases.js'
import { TEST_SECRET } from '../support/test-app.js'

const databaseUrl = postgresUrl()
/** Upper bound of the bounded waits below, far under the test timeout. */
const MAX_WAIT_MS = 5000

/** Expects `authenticate(token)` to fail because the token was revoked. */
async function expectRevoked(jwtLogout: JwtLogout, token: string): Promise<void> {
  const error = await jwtLogout.authenticate(token).then(
    () => undefined,
    (caught: unknown) => caught,
  )
  expect(error).toBeInstanceOf(UnauthorizedError)
  expect((error as UnauthorizedError).code).toBe('token_revoked')
}

/** Returns `url` with an application_name, to find its connections in pg_stat_activity. */
function withApplicationName(url: string, name: string): string {
  const parsed = new URL(url)
  parsed.searchParams.set('application_name', name)
  return parsed.toString()
}

describe.runIf(databaseUrl !== null)('an application pool on PostgreSQL', () => {
  const schema = `jwt_logout_byo_${randomBytes(5).toString('hex')}`
  let admin: pg.Pool
  let appPool: pg.Pool
  const instances: JwtLogout[] = []

  /** Counts the open connections that carry `applicationName`. */
  async function connectionsNamed(applicationName: string): Promise<number> {
    const { rows } = await admin.query<{ count: string }>(
      'select count(*) from pg_stat_activity where application_name = $1',
      [applicationName],
    )
    return Number(rows[0]!.count)
  }

  /** Waits, a bounded time, until no connection carries `applicationName`. */
  async function waitForNoConnections(applicationName: string): Promise<number> {
    const deadline = Date.now() + MAX_WAIT_MS
    let count = await connectionsNamed(applicationName)
    while (count > 0 && Date.now() < deadline) {
      await sleep(20)
      count = await connectionsNamed(applicationName)
    }
    return count
  }

  function create(options: Partial<Parameters<typeof createJwtLogout>[0]> = {}): JwtLogout {
    const jwtLogout = createJwtLogout({ db: appPool, schema, secret: TEST_SECRET, ...options })
    instances.push(jwtLogout)
    return jwtLogout
  }

  beforeAll(async () => {
    admin = new pg.Pool({ connectionString: databaseUrl!, max: 1 })
    // The application's pool has no search_path for jwt-logout: only the schema option points at the tables.
    appPool = new pg.Pool({ connectionString: databaseUrl!, max: 4 })
  })
  afterAll(async () => {
    for (const instance of instances) await instance.close()
    await admin.query(`drop schema if exists ${schema} cascade`)
    await appPool.end()
    await admin.end()
  })

  it('migrates a schema through the pool', async () => {
    expect(await pendingMigrations(appPool, { schema })).toEqual(['0001_create_user_logouts', '0002_create_session_logouts'])

    const results = await migrateToLatest(appPool, { schema })

    expect(results.map((result) => result.status)).toEqual(['Success', 'Success'])
    const { rows } = await admin.query<{ table_name: string }>(
      'select table_name from information_schema.tables where table_schema = $1 order by table_name',
      [schema],
    )
    expect(rows.map((row) => row.table_name)).toEqual([
      'jwt_logout_migration',
      'jwt_logout_migration_lock',
      'session_logouts',
      'user_logouts',
    ])
    const statuses = await migrationStatus(appPool, { schema })
    expect(statuses.every((status) => status.executedAt instanceof Date)).toBe(true)
    expect((await appPool.query('select 1 as one')).rows).toEqual([{ one: 1 }])
  })

  it('keeps the pool open on close', async () => {
    const jwtLogout = create()
    const { token } = await jwtLogout.issueToken('ada')
    await jwtLogout.authenticate(token)

    await jwtLogout.revokeUser('ada')
    await expectRevoked(jwtLogout, token)
    await jwtLogout.close()

    const { rows } = await appPool.query(`select user_id from ${schema}.user_logouts`)
    expect(rows).toEqual([{ user_id: 'ada' }])
  })

  it('notifies other instances with listen: true', async () => {
    const writer = create({ listen: true, cacheTtlMs: 10 * 60_000 })
    const reader = create({ listen: true, cacheTtlMs: 10 * 60_000 })
    const { token } = await writer.issueToken('grace')
    await reader.authenticate(token)
    const deadline = Date.now() + MAX_WAIT_MS
    while ((await reader.health()).listener !== 'listening' && Date.now() < deadline) await sleep(10)
    expect((await reader.health()).listener).toBe('listening')

    await writer.revokeUser('grace')

    // The reader cached the user for ten minutes, so only the notification can make it reject the token now.
    let revoked = false
    while (!revoked && Date.now() < deadline) {
      revoked = await reader.authenticate(token).then(() => false, () => true)
      if (!revoked) await sleep(5)
    }
    expect(revoked).toBe(true)
  })

  it('ends its own pool on close', async () => {
    const applicationName = `jwt-logout-own-pool-${randomBytes(4).toString('hex')}`
    const jwtLogout = createJwtLogout({
      db: withApplicationName(databaseUrl!, applicationName),
      schema,
      secret: TEST_SECRET,
    })
    const { token } = await jwtLogout.issueToken('linus')
    await jwtLogout.authenticate(token)
    expect(await connectionsNamed(applicationName)).toBeGreaterThan(0)

    await jwtLogout.close()

    expect(await waitForNoConnections(applicationName)).toBe(0)
  })

  it('migrates through a connection string', async () => {
    const applicationName = `jwt-logout-migrate-${randomBytes(4).toString('hex')}`
    const url = withApplicationName(databaseUrl!, applicationName)

    expect(await migrateToLatest(url, { schema })).toEqual([])
    expect(await pruneExpiredSessions(url, { schema })).toBe(0)

    expect(await waitForNoConnections(applicationName)).toBe(0)
  })

  it('reports tables missing from a schema', async () => {
    const jwtLogout = create({ schema: `${schema}_missing` })

    await expect(jwtLogout.checkStore()).rejects.toMatchObject({
      code: 'store_unavailable',
      detail: expect.stringMatching(/The jwt-logout tables are missing: run the migrations/),
    })
  })
})

describe('an application Kysely instance on PGlite', () => {
  let pglite: PGlite
  let db: Kysely<any>

  beforeAll(async () => {
    pglite = await PGlite.create()
    db = new Kysely<any>({ dialect: new PGliteDialect(pglite) })
  })
  afterAll(async () => {
    await db.destroy()
    await pglite.close()
  })

  it('keeps tables in the chosen schema', async () => {
    await migrateToLatest(db, { schema: 'auth' })
    const jwtLogout = createJwtLogout({ db, schema: 'auth', secret: TEST_SECRET, listen: { pglite } })
    const { token, sessionId } = await jwtLogout.issueToken('ada')

    await jwtLogout.revokeSession('ada', sessionId, Math.floor(Date.now() / 1000) + 60)
    await expectRevoked(jwtLogout, token)
    await jwtLogout.close()

    const { rows } = await sql<{ table_name: string }>`
      select table_name from information_schema.tables where table_name like '%logouts' order by 1, table_schema`.execute(db)
    expect(rows).toEqual([{ table_name: 'session_logouts' }, { table_name: 'user_logouts' }])
    const { rows: sessions } = await sql<{ user_id: string }>`select user_id from auth.session_logouts`.execute(db)
    expect(sessions).toEqual([{ user_id: 'ada' }])
  })

  it('reverts a schema migration', async () => {
    await migrateDown(db, { schema: 'auth' })
    await migrateDown(db, { schema: 'auth' })

    expect(await pendingMigrations(db, { schema: 'auth' })).toHaveLength(2)
    const { rows } = await sql`select 1 from information_schema.tables where table_schema = 'auth' and table_name like '%logouts'`.execute(db)
    expect(rows).toEqual([])
  })

  it.each<[string, unknown, RegExp]>([
    ['a number', 5, /db must be a Kysely instance, a pg.Pool or a postgres:\/\/ connection string, got number/],
    ['an HTTP URL', 'https://127.0.0.1/db', /db must be a connection string such as postgres:\/\//],
  ])('rejects %s as a migration database', async (_name, input, message) => {
    await expect(migrateToLatest(input as string)).rejects.toThrow(message)
  })

  it('rejects schema on the instance prune', async () => {
    const jwtLogout = createJwtLogout({ db, secret: TEST_SECRET })

    await expect(jwtLogout.pruneExpiredSessions({ schema: 'auth' } as object)).rejects.toThrow(
      /Unknown prune option "schema"; the options are batchSize, marginMs and now/,
    )
  })

  it('hides a rejected URL password', () => {
    expect(() => createJwtLogout({ db: 'mysql://root:hunter2@127.0.0.1/app', secret: TEST_SECRET })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('hunter2') }),
    )
  })
})
