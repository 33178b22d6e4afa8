import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type CompiledQuery,
  type DatabaseConnection,
  type QueryResult,
} from 'kysely'

import { migrations } from '../../migrations/index.js'
import { checkSchemaName, inSchema } from './schema.js'

/** Options of `schemaSql`. */
export interface SchemaSqlOptions {
  /** Schema to create the tables in, named in every statement. Without it, the tables land in the search_path's first schema. */
  schema?: string
  /**
   * `up` creates the tables, `down` drops them (and leaves the schema).
   * @default 'up'
   */
  direction?: 'up' | 'down'
  /**
   * Name of the latest migration already applied, such as
   * `0001_create_user_logouts`: only the migrations after it are printed, to
   * upgrade a database that ran an earlier version's SQL. All by default.
   */
  after?: string
}

/**
 * Returns jwt-logout's tables as plain SQL, for teams that apply schema
 * changes with their own migration tool. The statements are compiled from the
 * same Kysely migrations that `migrateToLatest` runs, so the two cannot drift.
 * They are not recorded in jwt-logout's migration bookkeeping.
 * @throws TypeError for an invalid option.
 */
export async function schemaSql(options: SchemaSqlOptions = {}): Promise<string> {
  const schema = checkSchemaName(options.schema)
  const direction = options.direction ?? 'up'
  if (direction !== 'up' && direction !== 'down') {
    throw new TypeError(`direction must be 'up' or 'down', got ${JSON.stringify(direction)}`)
  }

  let names = Object.keys(migrations).sort()
  if (options.after !== undefined) {
    const applied = names.indexOf(options.after)
    if (applied === -1) {
      throw new TypeError(`after must name one of the migrations ${names.join(', ')}, got ${JSON.stringify(options.after)}`)
    }
    names = names.slice(applied + 1)
  }
  if (direction === 'down') names.reverse()

  const statements: string[] = [
    `-- jwt-logout tables (${direction}), compiled from its Kysely migrations.`,
    '-- Apply them with your own migration tool; jwt-logout does not record them as applied.',
  ]
  const recorder = new Kysely<any>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new RecordingDriver(statements),
      createIntrospector: (db) => new PostgresIntrospector(db),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  })
  if (schema !== undefined && direction === 'up' && names.length > 0) {
    await recorder.schema.createSchema(schema).ifNotExists().execute()
  }
  for (const name of names) {
    statements.push(`-- ${name} (${direction})`)
    await migrations[name]![direction]!(inSchema(recorder, schema))
  }
  await recorder.destroy()
  return statements.map((statement) => (statement.startsWith('--') ? statement : `${statement};`)).join('\n') + '\n'
}

/** A driver that runs nothing and keeps the SQL of every query it is given. */
class RecordingDriver extends DummyDriver {
  readonly #statements: string[]

  constructor(statements: string[]) {
    super()
    this.#statements = statements
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    const statements = this.#statements
    return {
      async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
        // PostgreSQL accepts no parameters in DDL, so a parameter means a migration broke that rule.
        if (query.parameters.length > 0) throw new Error(`Migration statement has parameters, which plain SQL cannot carry; inline them: ${query.sql}`)
        statements.push(query.sql)
        return { rows: [] }
      },
      // eslint-disable-next-line require-yield
      async *streamQuery() {
        throw new Error('Migrations do not stream queries')
      },
    }
  }
}
