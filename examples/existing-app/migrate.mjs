// The application's own migration runner: it applies every .sql file of
// ./migrations once, in name order, each in a transaction, and records it in
// app_migrations. jwt-logout's tables arrive as one more file, written by
// `npx jwt-logout print-sql --schema auth`, so this runner needs no change.
import { readdir, readFile } from 'node:fs/promises'

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url)

/**
 * Applies the pending migrations through `pool` and returns their file names.
 * @param {import('pg').Pool} pool
 */
export async function migrate(pool) {
  await pool.query('create table if not exists app_migrations (name text primary key, applied_at timestamptz not null default now())')
  const files = (await readdir(MIGRATIONS_DIR)).filter((name) => name.endsWith('.sql')).sort()
  const applied = []
  for (const name of files) {
    const client = await pool.connect()
    try {
      await client.query('begin')
      // The lock keeps two instances starting at once from applying the same file twice.
      await client.query('lock table app_migrations in exclusive mode')
      const { rowCount } = await client.query('select 1 from app_migrations where name = $1', [name])
      if (rowCount === 0) {
        // A file with several statements needs the simple query protocol, which a query without parameters uses.
        await client.query(await readFile(new URL(name, MIGRATIONS_DIR), 'utf8'))
        await client.query('insert into app_migrations (name) values ($1)', [name])
        applied.push(name)
      }
      await client.query('commit')
    } catch (error) {
      await client.query('rollback')
      throw new Error(`Migration ${name} failed: ${error.message}`, { cause: error })
    } finally {
      client.release()
    }
  }
  return applied
}
