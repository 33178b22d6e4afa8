import { sql, type Kysely } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { migrateToLatest } from '../../src/store/migrations.js'
import { schemaSql } from '../../src/store/schema-sql.js'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases.js'

/**
 * Describes the tables of `schema` as PostgreSQL's catalog records them, with
 * the schema name removed, so that two schemas built two ways can be compared.
 */
async function describeSchema(db: Kysely<any>, schema: string): Promise<string[]> {
  const columns = await sql<{ line: string }>`
    select table_name || '.' || column_name || ' ' || data_type || ' nullable=' || is_nullable
      || ' default=' || coalesce(column_default, '-') as line
    from information_schema.columns where table_schema = ${schema}
    order by table_name, ordinal_position`.execute(db)
  const constraints = await sql<{ line: string }>`
    select cls.relname || ' ' || con.conname || ' ' || pg_get_constraintdef(con.oid) as line
    from pg_constraint con join pg_class cls on cls.oid = con.conrelid join pg_namespace ns on ns.oid = cls.relnamespace
    where ns.nspname = ${schema} order by 1`.execute(db)
  const indexes = await sql<{ line: string }>`
    select replace(indexdef, quote_ident(schemaname) || '.', '<schema>.') as line
    from pg_indexes where schemaname = ${schema} order by indexname`.execute(db)
  return [...columns.rows, ...constraints.rows, ...indexes.rows].map((row) => row.line)
}

/**
 * Runs a SQL script one statement at a time, as a migration tool would,
 * because PGlite's extended protocol takes one statement per query.
 */
async function runScript(db: Kysely<any>, script: string): Promise<void> {
  const statements = script.split('\n').filter((line) => line !== '' && !line.startsWith('--'))
  for (const statement of statements) await sql.raw(statement).execute(db)
}

/** jwt-logout's own tables, without the bookkeeping of its Kysely migrations. */
function withoutBookkeeping(lines: string[]): string[] {
  return lines.filter((line) => !line.includes('jwt_logout_migration'))
}

describe('schemaSql', () => {
  it('qualifies every statement with the schema', async () => {
    const text = await schemaSql({ schema: 'auth' })

    const statements = text.split('\n').filter((line) => line !== '' && !line.startsWith('--'))
    expect(statements[0]).toBe('create schema if not exists "auth";')
    expect(statements.slice(1).every((statement) => statement.includes('"auth".'))).toBe(true)
    expect(statements).toHaveLength(4)
  })

  it('quotes a schema name that needs quoting', async () => {
    expect(await schemaSql({ schema: 'Auth "v2"' })).toContain('create table "Auth ""v2"""."user_logouts"')
  })

  it('drops the tables in reverse order for down', async () => {
    const text = await schemaSql({ direction: 'down' })

    expect(text.split('\n').filter((line) => line.startsWith('drop'))).toEqual([
      'drop table "session_logouts";',
      'drop table "user_logouts";',
    ])
  })

  it('prints only migrations after a given one', async () => {
    const text = await schemaSql({ schema: 'auth', after: '0001_create_user_logouts' })

    expect(text).toContain('create table "auth"."session_logouts"')
    expect(text).not.toContain('user_logouts')
  })

  it('prints no statement after the latest migration', async () => {
    const text = await schemaSql({ schema: 'auth', after: '0002_create_session_logouts' })

    expect(text.split('\n').filter((line) => line !== '' && !line.startsWith('--'))).toEqual([])
  })

  it.each<[string, object, RegExp]>([
    ['an unknown migration', { after: '0003_missing' }, /after must name one of the migrations 0001_create_user_logouts, 0002_create_session_logouts, got "0003_missing"/],
    ['an empty schema', { schema: '' }, /schema must be a schema name of 1 to 63 bytes/],
    ['a sideways direction', { direction: 'sideways' }, /direction must be 'up' or 'down', got "sideways"/],
  ])('rejects %s', async (_name, options, message) => {
    await expect(schemaSql(options)).rejects.toThrow(message)
  })
})

describe.each(databaseKinds())('schemaSql applied on %s', (kind) => {
  let database: TestDatabase
  const suffix = Math.random().toString(36).slice(2, 8)
  const fromSql = `jwt_logout_sql_${suffix}`
  const fromMigrations = `jwt_logout_kysely_${suffix}`

  beforeAll(async () => {
    database = await createTestDatabase(kind, { migrate: false })
  })
  afterAll(async () => {
    for (const schema of [fromSql, fromMigrations]) await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(database.db)
    await database.close()
  })

  it('matches the Kysely migrations', async () => {
    await runScript(database.db, await schemaSql({ schema: fromSql }))
    await migrateToLatest(database.db, { schema: fromMigrations })

    const built = await describeSchema(database.db, fromSql)
    expect(built.length).toBeGreaterThan(8)
    expect(built).toEqual(withoutBookkeeping(await describeSchema(database.db, fromMigrations)))
  })

  it('keeps migrateToLatest off printed tables', async () => {
    await expect(migrateToLatest(database.db, { schema: fromSql })).rejects.toThrow(
      /The jwt-logout tables already exist in schema "jwt_logout_sql_\w+", but jwt-logout's migrations never ran there/,
    )

    // Refused before Kysely creates its bookkeeping tables, so the schema keeps only the printed ones.
    expect((await describeSchema(database.db, fromSql)).some((line) => line.includes('jwt_logout_migration'))).toBe(false)
  })

  it('drops every table going down', async () => {
    await runScript(database.db, await schemaSql({ schema: fromSql, direction: 'down' }))

    expect(await describeSchema(database.db, fromSql)).toEqual([])
  })
})
