import { Migrator, sql, type Kysely, type MigrationResult, type MigrationResultSet } from 'kysely'

import { migrations } from '../../migrations/index.js'

/**
 * Names of Kysely's bookkeeping tables for jwt-logout. They differ from
 * Kysely's defaults so that the host app's own Kysely migrations never see
 * jwt-logout's, and the other way round.
 */
export const MIGRATION_TABLE = 'jwt_logout_migration'
export const MIGRATION_LOCK_TABLE = 'jwt_logout_migration_lock'

/** A migration failed. `migrationName` names it and `cause` contains the database error. */
export class MigrationError extends Error {
  readonly code = 'migration_failed'
  readonly migrationName: string | undefined
  /** The migrations that ran before the failure. */
  readonly results: readonly MigrationResult[]

  constructor(message: string, migrationName: string | undefined, results: readonly MigrationResult[], cause: unknown) {
    super(message, { cause })
    this.name = 'MigrationError'
    this.migrationName = migrationName
    this.results = results
  }
}

/**
 * Returns a Kysely Migrator over jwt-logout's migrations and bookkeeping tables.
 * @param schema Schema of the bookkeeping tables. Without it, Kysely (0.28) looks
 *   them up by name in every schema of the database, so the tables of another
 *   schema make it skip creating them in this one.
 */
export function createMigrator(db: Kysely<any>, schema?: string): Migrator {
  return new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
    ...(schema === undefined ? {} : { migrationTableSchema: schema }),
  })
}

/**
 * Applies every pending migration and returns what ran.
 * @throws MigrationError naming the migration that failed.
 */
export async function migrateToLatest(db: Kysely<any>): Promise<readonly MigrationResult[]> {
  return checked('up', await migrateInCurrentSchema(db, (migrator) => migrator.migrateToLatest()))
}

/**
 * Reverts the latest applied migration and returns what ran (nothing when none is applied).
 * @throws MigrationError naming the migration that failed.
 */
export async function migrateDown(db: Kysely<any>): Promise<readonly MigrationResult[]> {
  return checked('down', await migrateInCurrentSchema(db, (migrator) => migrator.migrateDown()))
}

/**
 * Returns the names of the migrations not yet applied, in run order.
 * @throws Error when the database cannot be read.
 */
export async function pendingMigrations(db: Kysely<any>): Promise<string[]> {
  const migrator = createMigrator(db, await currentSchema(db))
  const migrationInfos = await migrator.getMigrations()
  return migrationInfos.filter((info) => info.executedAt === undefined).map((info) => info.name)
}

/** Runs `migrate` with the bookkeeping tables in the schema where the migrations create their tables. */
async function migrateInCurrentSchema(
  db: Kysely<any>,
  migrate: (migrator: Migrator) => Promise<MigrationResultSet>,
): Promise<MigrationResultSet> {
  let schema: string
  try {
    schema = await currentSchema(db)
  } catch (error) {
    return { error }
  }
  return migrate(createMigrator(db, schema))
}

/** Returns the first existing schema of the search_path, where unqualified tables are created. */
async function currentSchema(db: Kysely<any>): Promise<string> {
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db)
  const schema = rows[0]?.schema
  if (schema == null) throw new Error('no schema in search_path exists; create the schema or fix search_path')
  return schema
}

function checked(
  direction: 'up' | 'down',
  { error, results = [] }: { error?: unknown; results?: MigrationResult[] },
): readonly MigrationResult[] {
  if (error === undefined) return results

  const failed = results.find((result) => result.status === 'Error')?.migrationName
  const detail = error instanceof Error ? error.message : String(error)
  const message =
    failed === undefined
      ? `Migrating ${direction} failed before any migration ran: ${detail}`
      : `Migration ${failed} failed (${direction}): ${detail}`
  throw new MigrationError(message, failed, results, error)
}
