import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { buildForTest, type TestBuild } from '../support/build.js'
import { runNode, type ProcessResult } from '../support/child-process.js'
import { createTestDatabase, postgresUrl, withSearchPath, type TestDatabase } from '../support/databases.js'

const USAGE_START = 'Usage: jwt-logout migrate <up|down> [options]'

let build: TestBuild

beforeAll(async () => {
  build = await buildForTest()
})

afterAll(async () => {
  await build?.remove()
})

function runCli(args: readonly string[], env: Record<string, string> = {}): Promise<ProcessResult> {
  return runNode(build.cliPath, args, env)
}

describe('migrate CLI usage', () => {
  it('prints help for --help', async () => {
    const result = await runCli(['--help'])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain(USAGE_START)
  })

  it('prints help for -h', async () => {
    const result = await runCli(['-h'])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain(USAGE_START)
  })

  it('rejects an unknown command', async () => {
    const result = await runCli(['migrate', 'sideways'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('Unknown command: "migrate sideways"')
    expect(result.stderr).toContain(USAGE_START)
  })

  it('rejects a missing command', async () => {
    const result = await runCli([])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain(USAGE_START)
  })

  it('rejects migrate without a direction', async () => {
    const result = await runCli(['migrate'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('Missing direction: run "jwt-logout migrate up" or "jwt-logout migrate down".')
  })

  it('rejects an extra argument', async () => {
    const result = await runCli(['migrate', 'up', 'now'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('Unknown command: "migrate up now"')
  })

  it('rejects an unknown option', async () => {
    const result = await runCli(['migrate', 'up', '--force'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain("Unknown option '--force'")
    expect(result.stderr).toContain(USAGE_START)
  })

  it('rejects a missing database', async () => {
    const result = await runCli(['migrate', 'up'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('No database given: set DATABASE_URL (or pass --database-url)')
  })
})

describe('migrate CLI on a failing server', () => {
  // A local server that closes every connection at once, so the migration fails without a network timeout.
  let server: Server
  let url: string

  beforeAll(async () => {
    server = createServer((socket) => socket.destroy())
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const address = server.address()
    if (address === null || typeof address === 'string') throw new Error('the test server has no TCP address')
    url = `postgres://postgres@127.0.0.1:${address.port}/test`
  })

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve))
  })

  it('exits 1 with the error', async () => {
    const result = await runCli(['migrate', 'up', '--database-url', url])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^Failed: Migrating up failed before any migration ran: /)
  })
})

describe('migrate CLI on PGlite', () => {
  let dataDir: string

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'jwt-logout-cli-'))
  })

  afterAll(async () => {
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true })
  })

  it('applies both migrations', async () => {
    const result = await runCli(['migrate', 'up', '--data-dir', dataDir])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain(`Migrated up: 0001_create_user_logouts (embedded PGlite in ${dataDir})`)
    expect(result.stdout).toContain(`Migrated up: 0002_create_session_logouts (embedded PGlite in ${dataDir})`)
  })

  it('keeps them in DATA_DIR', async () => {
    // DATA_DIR is the fallback of --data-dir. The first run's migrations are still applied, so nothing is left to do.
    const result = await runCli(['migrate', 'up'], { DATA_DIR: dataDir })
    expect(result.code).toBe(0)
    expect(result.stdout).toBe(`Nothing to migrate up in embedded PGlite in ${dataDir}.\n`)
  })

  it('prefers --data-dir to DATABASE_URL', async () => {
    // Nothing listens on this loopback port, so using the URL would fail.
    const result = await runCli(['migrate', 'up', '--data-dir', dataDir], { DATABASE_URL: 'postgres://postgres@127.0.0.1:9/none' })
    expect(result.code).toBe(0)
    expect(result.stdout).toBe(`Nothing to migrate up in embedded PGlite in ${dataDir}.\n`)
  })

  it('exits 1 when --data-dir is a file', async () => {
    const file = join(dataDir, 'not-a-folder')
    await writeFile(file, '')
    const result = await runCli(['migrate', 'up', '--data-dir', file])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^Failed to open the database: /)
    expect(result.stderr).not.toMatch(/\n\s+at /)
  })
})

describe.skipIf(postgresUrl() === null)('migrate CLI on PostgreSQL', () => {
  let database: TestDatabase
  let url: string

  beforeAll(async () => {
    database = await createTestDatabase('postgres', { migrate: false })
    url = withSearchPath(postgresUrl()!, database.schema!)
  })

  afterAll(async () => {
    await database?.close()
  })

  async function listTables(): Promise<string[]> {
    const rows = await database.execute(
      'select table_name from information_schema.tables where table_schema = $1 order by table_name',
      [database.schema],
    )
    return rows.map((row) => row.table_name as string)
  }

  // The steps share one schema and run in order.
  it('up applies both migrations', async () => {
    const result = await runCli(['migrate', 'up', '--database-url', url])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^Migrated up: 0001_create_user_logouts \(PostgreSQL at postgres:\/\//m)
    expect(result.stdout).toMatch(/^Migrated up: 0002_create_session_logouts \(PostgreSQL at postgres:\/\//m)
  })

  it('up creates the tables', async () => {
    expect(await listTables()).toEqual([
      'jwt_logout_migration',
      'jwt_logout_migration_lock',
      'session_logouts',
      'user_logouts',
    ])
  })

  it('second up has nothing to do', async () => {
    const result = await runCli(['migrate', 'up'], { DATABASE_URL: url })
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^Nothing to migrate up in PostgreSQL at postgres:\/\/.*\.\n$/)
  })

  it('first down reverts 0002', async () => {
    const result = await runCli(['migrate', 'down', '--database-url', url])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^Migrated down: 0002_create_session_logouts \(/)
  })

  it('first down drops session_logouts', async () => {
    expect(await listTables()).not.toContain('session_logouts')
  })

  it('second down reverts 0001', async () => {
    const result = await runCli(['migrate', 'down', '--database-url', url])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^Migrated down: 0001_create_user_logouts \(/)
  })

  it('second down drops user_logouts', async () => {
    expect(await listTables()).toEqual(['jwt_logout_migration', 'jwt_logout_migration_lock'])
  })

  it('third down has nothing to do', async () => {
    const result = await runCli(['migrate', 'down', '--database-url', url])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^Nothing to migrate down in PostgreSQL at /)
  })

  it('--database-url overrides DATABASE_URL', async () => {
    // Through DATABASE_URL, the search_path names a schema that does not exist, so creating a table there fails.
    const unusable = withSearchPath(postgresUrl()!, `${database.schema}_missing`)
    const result = await runCli(['migrate', 'up', '--database-url', url], { DATABASE_URL: unusable })
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('Migrated up: 0002_create_session_logouts')
  })
})

describe('prune CLI usage', () => {
  it.each(['0', '-1', '1.5', 'ten', '', '9007199254740993'])('rejects --batch-size=%j', async (value) => {
    // The option is checked before the database is opened, so no database is needed.
    const result = await runCli(['prune', `--batch-size=${value}`])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain(`--batch-size must be a whole number of at least 1, got ${JSON.stringify(value)}`)
  })

  it('rejects a negative --margin-ms', async () => {
    const result = await runCli(['prune', '--margin-ms=-1'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('--margin-ms must be a whole number of at least 0, got "-1"')
  })

  it('rejects an argument after prune', async () => {
    const result = await runCli(['prune', 'now'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('Unknown command: "prune now"')
  })
})

describe.skipIf(postgresUrl() === null)('prune CLI on PostgreSQL', () => {
  let database: TestDatabase
  let url: string

  beforeAll(async () => {
    database = await createTestDatabase('postgres')
    url = withSearchPath(postgresUrl()!, database.schema!)
    // Three rows expired a day ago, one 10 s ago (inside the default margin of 60 s) and one live for an hour.
    const rows: Array<[string, string]> = [
      ['expired-1', "now() - interval '1 day'"],
      ['expired-2', "now() - interval '1 day'"],
      ['expired-3', "now() - interval '1 day'"],
      ['inside-margin', "now() - interval '10 seconds'"],
      ['live', "now() + interval '1 hour'"],
    ]
    for (const [sessionId, expiresAt] of rows) {
      await database.execute(
        `insert into session_logouts (user_id, session_id, logged_out_at, expires_at) values ('cli-user', $1, now() - interval '2 days', ${expiresAt})`,
        [sessionId],
      )
    }
  })

  afterAll(async () => {
    await database?.close()
  })

  async function listSessions(): Promise<string[]> {
    const rows = await database.execute('select session_id from session_logouts order by session_id')
    return rows.map((row) => row.session_id as string)
  }

  // The steps share one schema and run in order.
  it('prunes the expired rows', async () => {
    // A batch size below the number of expired rows also checks that --batch-size reaches the store.
    const result = await runCli(['prune', '--batch-size', '2', '--database-url', url])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^Pruned 3 expired session cutoffs from PostgreSQL at postgres:\/\/.*\.\n$/)
  })

  it('keeps rows inside the margin', async () => {
    expect(await listSessions()).toEqual(['inside-margin', 'live'])
  })

  it('prunes them with --margin-ms 0', async () => {
    const result = await runCli(['prune', '--margin-ms', '0'], { DATABASE_URL: url })
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^Pruned 1 expired session cutoffs from /)
  })

  it('keeps live rows', async () => {
    expect(await listSessions()).toEqual(['live'])
  })

  it('prunes nothing on a second run', async () => {
    const result = await runCli(['prune', '--margin-ms', '0', '--database-url', url])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^Pruned 0 expired session cutoffs from /)
  })

  it('exits 1 without the tables', async () => {
    // The search_path names a schema that does not exist, so session_logouts is not found.
    const result = await runCli(['prune', '--database-url', withSearchPath(postgresUrl()!, `${database.schema}_missing`)])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^Failed: pruning expired sessions failed: /)
    expect(result.stderr).toContain('run the migrations (jwt-logout migrate up)')
  })
})
