#!/usr/bin/env node
import { inspect, parseArgs } from 'node:util'

import { migrateDown, migrateToLatest } from '../store/migrations.js'
import { openDatabase, type OpenDatabase } from '../store/open-database.js'
import { pruneExpiredSessions } from '../store/prune.js'

const USAGE = `Usage: jwt-logout migrate <up|down> [options]
       jwt-logout prune [--batch-size N] [--margin-ms MS] [options]

Commands:
  migrate up          apply every pending migration
  migrate down        revert the latest applied migration
  prune               delete session cutoffs whose tokens have all expired; for cron jobs

Options:
  --database-url URL  PostgreSQL connection string (default: the DATABASE_URL variable)
  --data-dir DIR      folder of an embedded PGlite database; used when no URL is given,
                      and over DATABASE_URL when passed explicitly
                      (default: the DATA_DIR variable)
  --batch-size N      prune: rows deleted per statement (default: 1000)
  --margin-ms MS      prune: keep rows this many milliseconds past their expiry, for
                      clock skew between hosts (default: 60000)
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
        'batch-size': { type: 'string' },
        'margin-ms': { type: 'string' },
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
  let run: (database: OpenDatabase) => Promise<void>
  if (command === 'migrate' && direction === undefined) {
    console.error(`Missing direction: run "jwt-logout migrate up" or "jwt-logout migrate down".\n\n${USAGE}`)
    return 2
  } else if (command === 'migrate' && (direction === 'up' || direction === 'down') && extra.length === 0) {
    run = (database) => migrate(database, direction)
  } else if (command === 'prune' && direction === undefined) {
    const batchSize = readCount('--batch-size', parsed.values['batch-size'], 1000, 1)
    const marginMs = readCount('--margin-ms', parsed.values['margin-ms'], 60_000, 0)
    if (batchSize === undefined || marginMs === undefined) return 2
    run = (database) => prune(database, batchSize, marginMs)
  } else {
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
    await run(database)
    return 0
  } catch (error) {
    console.error(`Failed: ${describeError(error)}`)
    return 1
  } finally {
    await database.close()
  }
}

async function migrate(database: OpenDatabase, direction: 'up' | 'down'): Promise<void> {
  const results = direction === 'up' ? await migrateToLatest(database.db) : await migrateDown(database.db)
  if (results.length === 0) console.log(`Nothing to migrate ${direction} in ${database.description}.`)
  for (const result of results) console.log(`Migrated ${direction}: ${result.migrationName} (${database.description})`)
}

async function prune(database: OpenDatabase, batchSize: number, marginMs: number): Promise<void> {
  const deleted = await pruneExpiredSessions(database.db, { batchSize, marginMs })
  console.log(`Pruned ${deleted} expired session cutoffs from ${database.description}.`)
}

/** Parses a whole-number option; prints the error and returns undefined when it is invalid. */
function readCount(name: string, text: string | undefined, fallback: number, min: number): number | undefined {
  if (text === undefined) return fallback
  const value = Number(text)
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min) {
    console.error(`${name} must be a whole number of at least ${min}, got ${JSON.stringify(text)}`)
    return undefined
  }
  return value
}

/** Returns an error's message, or its inspected form for errors without one (PGlite's file system errors). */
function describeError(error: unknown): string {
  // A StoreUnavailableError's message is written for HTTP clients; its detail names the failed operation and the fix.
  const detail = (error as { detail?: unknown } | null)?.detail
  if (typeof detail === 'string') return detail
  return error instanceof Error && error.message !== '' ? error.message : inspect(error)
}

process.exitCode = await runCli(process.argv.slice(2))
