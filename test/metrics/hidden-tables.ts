import { onTestFinished } from 'vitest'

import type { TestDatabase } from '../support/databases.js'

const TABLES = ['user_logouts', 'session_logouts']

/**
 * Renames the cutoff tables until the test ends, so that every store query
 * fails with "relation does not exist" on the real database, PGlite or
 * PostgreSQL, as it does before the migrations run.
 */
export async function hideCutoffTables(database: TestDatabase): Promise<void> {
  for (const table of TABLES) await database.execute(`alter table ${table} rename to ${table}_hidden`)
  onTestFinished(async () => {
    for (const table of TABLES) await database.execute(`alter table ${table}_hidden rename to ${table}`)
  })
}
