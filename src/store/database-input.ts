import type { Kysely } from 'kysely'
import type pg from 'pg'

import { createPostgresPool, isPostgresPool, kyselyOnPool } from './postgres-pool.js'
import type { CutoffDatabase } from './schema.js'

/**
 * A database that jwt-logout can use: the application's Kysely instance, its
 * pg pool, or a PostgreSQL connection string for a pool of jwt-logout's own.
 */
export type DatabaseInput = Kysely<any> | pg.Pool | string

/** A database input turned into a Kysely instance, with what jwt-logout may close. */
export interface ResolvedDatabase {
  db: Kysely<CutoffDatabase>
  /** Settings for a dedicated LISTEN connection to the same server, when the input provides them. */
  listenConnection: string | pg.ClientConfig | undefined
  /**
   * Closes only what jwt-logout created: the pool it opened for a connection
   * string. An application's Kysely instance or pool stays open.
   */
  close(): Promise<void>
}

/**
 * Turns the `db` option (or a migration function's argument) into a Kysely instance.
 * @throws TypeError naming `name` when the value matches none of the accepted kinds.
 */
export function resolveDatabase(input: unknown, name = 'db'): ResolvedDatabase {
  const kind = checkDatabaseInput(input, name)
  if (kind === 'connection string') {
    const connectionString = input as string
    const db = kyselyOnPool(createPostgresPool(connectionString), true)
    return { db, listenConnection: connectionString, close: () => db.destroy() }
  }
  if (kind === 'pool') {
    const db = kyselyOnPool(input as pg.Pool, false)
    // pg keeps the pool's settings in `options`, and a pg.Client accepts the same connection settings.
    const options = (input as pg.Pool & { options?: pg.ClientConfig }).options
    return { db, listenConnection: options, close: () => db.destroy() }
  }
  return { db: input as Kysely<CutoffDatabase>, listenConnection: undefined, close: async () => {} }
}

/**
 * Returns which kind of database input `input` is, without opening anything.
 * @throws TypeError naming `name` when the value matches none of the accepted kinds.
 */
export function checkDatabaseInput(input: unknown, name = 'db'): 'connection string' | 'pool' | 'kysely' {
  if (typeof input === 'string') {
    checkConnectionString(input, name)
    return 'connection string'
  }
  if (isPostgresPool(input)) return 'pool'
  if (isKysely(input)) return 'kysely'
  throw new TypeError(
    `${name} must be a Kysely instance, a pg.Pool or a postgres:// connection string, got ${describeValue(input)}`,
  )
}

/** Runs `use` on the database that `input` names, then closes what was opened for it. */
export async function withDatabase<T>(input: unknown, use: (db: Kysely<CutoffDatabase>) => Promise<T>): Promise<T> {
  const resolved = resolveDatabase(input)
  try {
    return await use(resolved.db)
  } finally {
    await resolved.close()
  }
}

function isKysely(value: unknown): value is Kysely<any> {
  if (typeof value !== 'object' || value === null) return false
  const db = value as Partial<Kysely<any>>
  return typeof db.selectFrom === 'function' && typeof db.transaction === 'function' && typeof db.destroy === 'function'
}

/** Checks whether `value` is a URL with the postgres: or postgresql: scheme. */
export function isPostgresUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value)
    return protocol === 'postgres:' || protocol === 'postgresql:'
  } catch {
    return false
  }
}

function checkConnectionString(value: string, name: string): void {
  if (!isPostgresUrl(value)) {
    // The value itself is not shown, because a connection string may contain a password.
    throw new TypeError(`${name} must be a connection string such as postgres://user@host:5432/database; got a string that is not a PostgreSQL URL`)
  }
}

function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value !== 'object') return typeof value
  return `an object of class ${value.constructor?.name ?? 'Object'}`
}
