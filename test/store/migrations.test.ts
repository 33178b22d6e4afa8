import { Migrator, sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { MIGRATION_LOCK_TABLE, MIGRATION_TABLE, migrateDown, migrateToLatest } from '../../src/store/migrations.js'
import { createTestDatabase, databaseKinds, postgresUrl, type TestDatabase } from '../support/databases.js'

async function tableNames(database: TestDatabase): Promise<string[]> {
  const rows = await database.execute(
    'select table_name from information_schema.tables where table_schema = current_schema() order by table_name',
  )
  return rows.map((row) => String(row.table_name))
}

describe.each(databaseKinds())('migrations on %s', (kind) => {
  let database: TestDatabase

  beforeAll(async () => {
    database = await createTestDatabase(kind, { migrate: false })
  })
  afterAll(async () => {
    await database.close()
  })

  it('go up and down twice', async () => {
    for (let round = 0; round < 2; round++) {
      const up = await migrateToLatest(database.db)
      expect(up.map((result) => result.migrationName)).toEqual(['0001_create_user_logouts', '0002_create_session_logouts'])
      expect(await tableNames(database)).toEqual(
        expect.arrayContaining(['user_logouts', 'session_logouts', MIGRATION_TABLE, MIGRATION_LOCK_TABLE]),
      )
      expect(await migrateToLatest(database.db)).toEqual([])

      const firstDown = await migrateDown(database.db)
      const secondDown = await migrateDown(database.db)
      expect(firstDown.map((result) => result.migrationName)).toEqual(['0002_create_session_logouts'])
      expect(secondDown.map((result) => result.migrationName)).toEqual(['0001_create_user_logouts'])
      expect(await tableNames(database)).not.toContain('user_logouts')
      expect(await tableNames(database)).not.toContain('session_logouts')
      expect(await migrateDown(database.db)).toEqual([])
    }
  })

  it('leave the host app migrations alone', async () => {
    const hostMigrator = new Migrator({
      db: database.db,
      provider: {
        getMigrations: async () => ({
          '2024_01_01_create_widgets': {
            up: async (db) => {
              await db.schema.createTable('widgets').addColumn('id', 'integer').execute()
            },
          },
        }),
      },
    })

    const host = await hostMigrator.migrateToLatest()
    const ours = await migrateToLatest(database.db)

    expect(host.error).toBeUndefined()
    expect(ours.map((result) => result.migrationName)).toHaveLength(2)
    const hostRows = await sql<{ name: string }>`select name from kysely_migration`.execute(database.db)
    const ourRows = await sql<{ name: string }>`select name from ${sql.table(MIGRATION_TABLE)} order by name`.execute(database.db)
    expect(hostRows.rows.map((row) => row.name)).toEqual(['2024_01_01_create_widgets'])
    expect(ourRows.rows.map((row) => row.name)).toEqual(['0001_create_user_logouts', '0002_create_session_logouts'])
  })
})

describe.skipIf(postgresUrl() === null)('migrations in several schemas', () => {
  it('run beside another schema', async () => {
    // Kysely looks its bookkeeping tables up in every schema unless given one, and the first schema's must not count.
    const databases = [await createTestDatabase('postgres')]

    try {
      databases.push(await createTestDatabase('postgres'))
      for (const database of databases) {
        expect(await tableNames(database)).toEqual(
          expect.arrayContaining(['user_logouts', 'session_logouts', MIGRATION_TABLE, MIGRATION_LOCK_TABLE]),
        )
      }
    } finally {
      await Promise.all(databases.map((database) => database.close()))
    }
  })
})
