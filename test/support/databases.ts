import { randomBytes } from 'node:crypto'

import { PGlite } from '@electric-sql/pglite'
import { Kysely, PostgresDialect, type LogEvent } from 'kysely'
import pg from 'pg'
import { inject } from 'vitest'

import type { CutoffDatabase } from '../../src/store/schema.js'
import { PGliteDialect } from '../../src/store/pglite-dialect.js'
import { migrateToLatest } from '../../src/store/migrations.js'

export type DatabaseKind = 'pglite' | 'postgres'

/** A database of one test file, isolated from every other file. */
export interface TestDatabase {
  kind: DatabaseKind
  db: Kysely<CutoffDatabase>
  /** SQL of every query run through `db`, in order; tests count lookups with it. */
  queries: string[]
  /** For PostgreSQL: the schema that isolates this database, and the URL that selects it. */
  schema?: string
  /** Runs SQL outside the Kysely instance, for setup and inspection. */
  execute(sqlText: string, parameters?: unknown[]): Promise<Record<string, unknown>[]>
  close(): Promise<void>
}

/** Returns the databases every store test runs on: PGlite always, PostgreSQL when DATABASE_URL is reachable. */
export function databaseKinds(): DatabaseKind[] {
  return inject('postgresUrl') === null ? ['pglite'] : ['pglite', 'postgres']
}

/** Returns the reachable PostgreSQL URL, or null. */
export function postgresUrl(): string | null {
  return inject('postgresUrl')
}

/**
 * Opens an isolated, migrated database: a fresh in-memory PGlite, or a new
 * schema on the PostgreSQL server, dropped again on close.
 */
export async function createTestDatabase(kind: DatabaseKind, { migrate = true } = {}): Promise<TestDatabase> {
  const database = kind === 'pglite' ? await createPGliteDatabase() : await createPostgresDatabase()
  if (migrate) {
    try {
      await migrateToLatest(database.db)
    } catch (error) {
      // Drops the schema or PGlite instance, which no caller would otherwise close.
      await database.close()
      throw error
    }
    database.queries.length = 0
  }
  return database
}

function queryLogger(queries: string[]): (event: LogEvent) => void {
  return (event) => {
    if (event.level === 'query') queries.push(event.query.sql)
  }
}

async function createPGliteDatabase(): Promise<TestDatabase> {
  const pglite = await PGlite.create()
  const queries: string[] = []
  const db = new Kysely<CutoffDatabase>({ dialect: new PGliteDialect(pglite), log: queryLogger(queries) })
  return {
    kind: 'pglite',
    db,
    queries,
    execute: async (sqlText, parameters = []) => (await pglite.query<Record<string, unknown>>(sqlText, parameters)).rows,
    close: async () => {
      await db.destroy()
      await pglite.close()
    },
  }
}

/** Returns `url` with a search_path that selects `schema`, so unqualified tables land there. */
export function withSearchPath(url: string, schema: string): string {
  const parsed = new URL(url)
  parsed.searchParams.set('options', `-c search_path=${schema}`)
  return parsed.toString()
}

async function createPostgresDatabase(): Promise<TestDatabase> {
  const url = postgresUrl()
  if (url === null) throw new Error('PostgreSQL is not available: set DATABASE_URL')

  const schema = `jwt_logout_test_${randomBytes(6).toString('hex')}`
  // One connection, so that the search_path set in execute() applies to the query after it.
  const admin = new pg.Pool({ connectionString: url, max: 1 })
  await admin.query(`create schema ${schema}`)

  const queries: string[] = []
  const pool = new pg.Pool({ connectionString: withSearchPath(url, schema), max: 5 })
  const db = new Kysely<CutoffDatabase>({ dialect: new PostgresDialect({ pool }), log: queryLogger(queries) })
  return {
    kind: 'postgres',
    db,
    queries,
    schema,
    execute: async (sqlText, parameters = []) => {
      await admin.query(`set search_path to ${schema}`)
      return (await admin.query(sqlText, parameters)).rows
    },
    close: async () => {
      await db.destroy()
      await admin.query(`drop schema ${schema} cascade`)
      await admin.end()
    },
  }
}
