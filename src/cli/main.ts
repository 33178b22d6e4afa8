#!/usr/bin/env node
import { inspect, parseArgs } from 'node:util'

import { migrateDown, migrateToLatest } from '../store/migrations.js'
import { openDatabase } from '../store/open-database.js'

const USAGE = `Usage: jwt-logout migrate <up|down> [options]

Applies (up) or reverts the latest (down) of jwt-logout's migrations.

Options:
  --database-url URL  PostgreSQL connection string (default: the DATABASE_URL variable)
  --data-dir DIR      folder of an embedded PGlite database; used when no URL is given,
                      and over DATABASE_URL when passed explicitly
                      (default: the DATA_DIR variable)
  -h, --help          print this help

Exit codes: 0 success, 1 a migration or the database failed, 2 invalid usage.`

/** Runs the CLI with `args` (without node and the script) and returns the exit code. */
export async function runCli(args: string[]): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        'database-url': { type: 'string' },
        'data-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    })
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`)
    return 2
  }
  if (parsed.values.help) {
    console.log(USAGE)
    return 0
  }

  const [command, direction, ...extra] = parsed.positionals
  if (command === 'migrate' && direction === undefined) {
    console.error(`Missing direction: run "jwt-logout migrate up" or "jwt-logout migrate down".\n\n${USAGE}`)
    return 2
  }
  if (command !== 'migrate' || (direction !== 'up' && direction !== 'down') || extra.length > 0) {
    console.error(`Unknown command: ${JSON.stringify(parsed.positionals.join(' '))}\n\n${USAGE}`)
    return 2
  }

  // An explicit option wins over the environment, so --data-dir is not overridden by an exported DATABASE_URL.
  const explicitDataDir = parsed.values['data-dir']
  const databaseUrl = parsed.values['database-url'] ?? (explicitDataDir === undefined ? process.env.DATABASE_URL : undefined)
  const dataDir = explicitDataDir ?? process.env.DATA_DIR
  if (!databaseUrl && !dataDir) {
    console.error('No database given: set DATABASE_URL (or pass --database-url), or --data-dir for an embedded database.')
    return 2
  }

  let database
  try {
    database = await openDatabase({ databaseUrl, dataDir })
  } catch (error) {
    console.error(`Failed to open the database: ${describeError(error)}`)
    return 1
  }
  try {
    const results = direction === 'up' ? await migrateToLatest(database.db) : await migrateDown(database.db)
    if (results.length === 0) console.log(`Nothing to migrate ${direction} in ${database.description}.`)
    for (const result of results) console.log(`Migrated ${direction}: ${result.migrationName} (${database.description})`)
    return 0
  } catch (error) {
    console.error(`Failed: ${describeError(error)}`)
    return 1
  } finally {
    await database.close()
  }
}

/** Returns an error's message, or its inspected form for errors without one (PGlite's file system errors). */
function describeError(error: unknown): string {
  return error instanceof Error && error.message !== '' ? error.message : inspect(error)
}

process.exitCode = await runCli(process.argv.slice(2))
