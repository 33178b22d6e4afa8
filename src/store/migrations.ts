import { Migrator, sql, type Kysely, type MigrationResult, type MigrationResultSet } from 'kysely'

import { migrations } from '../../migrations/index.js'
import { withDatabase, type DatabaseInput } from './database-input.js'
import { checkSchemaName, inSchema } from './schema.js'

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

/** Options of the migration functions. */
export interface MigrationOptions {
  /**
   * Schema of jwt-logout's tables and of the migration bookkeeping; created
   * when missing. Without it, the first existing schema of the connection's
   * search_path is used, usually `public`. Pass the same `schema` to
   * createJwtLogout.
   */
  schema?: string
}

/** A migration and when it was applied. */
export interface MigrationStatus {
  name: string
  /** When the migration was applied; undefined while it is pending. */
  executedAt: Date | undefined
}

/**
 * Returns a Kysely Migrator over jwt-logout's migrations and bookkeeping tables.
 * @param schema Schema of the tables and of the bookkeeping. Without it, Kysely
 *   (0.28) looks the bookkeeping tables up by name in every schema of the
 *   database, so the tables of another schema make it skip creating them in this one.
 */
export function createMigrator(db: Kysely<any>, schema?: string): Migrator {
  return new Migrator({
    db: inSchema(db, checkSchemaName(schema)),
    provider: { getMigrations: async () => migrations },
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
    ...(schema === undefined ? {} : { migrationTableSchema: schema }),
  })
}

/**
 * Applies every pending migration and returns what ran.
 * @param db A Kysely instance, a pg pool or a connection string; only a pool opened here is closed.
 * @throws MigrationError naming the migration that failed; TypeError for an invalid argument.
 */
export async function migrateToLatest(db: DatabaseInput, options: MigrationOptions = {}): Promise<readonly MigrationResult[]> {
  const schema = checkSchemaName(options.schema)
  return withDatabase(db, async (kysely) => {
    let target: string
    let unmanaged: boolean
    try {
      target = schema ?? (await currentSchema(kysely))
      // Checked before Kysely creates its bookkeeping tables, so a refused run leaves nothing behind.
      unmanaged = await hasUnmanagedTables(kysely, target)
    } catch (error) {
      return checked('up', { error })
    }
    if (unmanaged) {
      const place = schema === undefined ? 'the current schema' : `schema ${JSON.stringify(schema)}`
      throw new MigrationError(
        `The jwt-logout tables already exist in ${place}, but jwt-logout's migrations never ran there: they were ` +
          'created another way, such as print-sql applied by your own migration tool. Keep managing them with that tool.',
        undefined,
        [],
        undefined,
      )
    }
    return checked('up', await createMigrator(kysely, target).migrateToLatest())
  })
}

/**
 * Checks whether jwt-logout's tables exist in `schema` (or the current schema)
 * while none of its migrations is recorded there, which means they were
 * created outside jwt-logout's migrations, for example from print-sql.
 * @throws Error when the database cannot be read.
 */
export async function hasUnmanagedTables(db: Kysely<any>, schema: string | undefined): Promise<boolean> {
  const target = schema ?? (await currentSchema(db))
  const infos = await createMigrator(db, target).getMigrations()
  if (infos.some((info) => info.executedAt !== undefined)) return false
  const { rows } = await sql<{ found: boolean }>`
    select exists (
      select 1 from information_schema.tables
      where table_schema = ${target} and table_name in ('user_logouts', 'session_logouts')
    ) as found`.execute(db)
  return rows[0]?.found === true
}

/**
 * Reverts the latest applied migration and returns what ran (nothing when none is applied).
 * @param db A Kysely instance, a pg pool or a connection string; only a pool opened here is closed.
 * @throws MigrationError naming the migration that failed; TypeError for an invalid argument.
 */
export async function migrateDown(db: DatabaseInput, options: MigrationOptions = {}): Promise<readonly MigrationResult[]> {
  const schema = checkSchemaName(options.schema)
  return withDatabase(db, async (kysely) =>
    checked('down', await migrateInSchema(kysely, schema, (migrator) => migrator.migrateDown())),
  )
}

/**
 * Returns every migration of jwt-logout in run order, with when it was applied.
 * @throws Error when the database cannot be read.
 */
export async function migrationStatus(db: DatabaseInput, options: MigrationOptions = {}): Promise<MigrationStatus[]> {
  const schema = checkSchemaName(options.schema)
  return withDatabase(db, async (kysely) => {
    const migrator = createMigrator(kysely, schema ?? (await currentSchema(kysely)))
    const infos = await migrator.getMigrations()
    return infos.map((info) => ({ name: info.name, executedAt: info.executedAt }))
  })
}

/**
 * Returns the names of the migrations not yet applied, in run order.
 * @throws Error when the database cannot be read.
 */
export async function pendingMigrations(db: DatabaseInput, options: MigrationOptions = {}): Promise<string[]> {
  const statuses = await migrationStatus(db, options)
  return statuses.filter((status) => status.executedAt === undefined).map((status) => status.name)
}

/** Runs `migrate` in `schema`, or else in the schema where unqualified tables are created. */
async function migrateInSchema(
  db: Kysely<any>,
  schema: string | undefined,
  migrate: (migrator: Migrator) => Promise<MigrationResultSet>,
): Promise<MigrationResultSet> {
  let target: string
  try {
    target = schema ?? (await currentSchema(db))
  } catch (error) {
    return { error }
  }
  return migrate(createMigrator(db, target))
}

/** Returns the first existing schema of the search_path, where unqualified tables are created. */
async function currentSchema(db: Kysely<any>): Promise<string> {
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db)
  const schema = rows[0]?.schema
  if (schema == null) throw new Error('no schema in search_path exists; create the schema, fix search_path or pass a schema')
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
