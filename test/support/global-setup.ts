import pg from 'pg'
import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    /** Connection string of a reachable PostgreSQL server, or null to run on PGlite only. */
    postgresUrl: string | null
  }
}

/**
 * Checks once whether the PostgreSQL server in DATABASE_URL is reachable. Without
 * it the database tests run on PGlite only; with REQUIRE_POSTGRES=1 a missing
 * or unreachable server fails the run instead.
 */
export default async function setup(project: TestProject): Promise<void> {
  const url = process.env.DATABASE_URL || null
  const required = process.env.REQUIRE_POSTGRES === '1'

  if (url === null) {
    if (required) throw new Error('REQUIRE_POSTGRES=1 but DATABASE_URL is not set; set it to a PostgreSQL test database')
    project.provide('postgresUrl', null)
    return
  }

  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 })
  try {
    await client.connect()
    await client.query('select 1')
    project.provide('postgresUrl', url)
  } catch (error) {
    if (required) throw new Error(`REQUIRE_POSTGRES=1 but PostgreSQL at DATABASE_URL is unreachable: ${(error as Error).message}`)
    console.warn(`PostgreSQL at DATABASE_URL is unreachable, so its tests are skipped: ${(error as Error).message}`)
    project.provide('postgresUrl', null)
  } finally {
    await client.end().catch(() => {})
  }
}
