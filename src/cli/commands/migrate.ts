import { hasUnmanagedTables, MigrationError, migrateDown, migrateToLatest, migrationStatus } from '../../store/migrations.js'
import { UsageError } from '../args.js'
import { type Command, type CommandContext, describeTarget, requireDatabase } from '../command.js'
import { attempt, CommandFailedError, failureMessage, migrateUpCommand } from '../failure.js'
import { suggestionFor } from '../../suggest.js'

const ACTIONS = ['up', 'down', 'status'] as const
type Action = (typeof ACTIONS)[number]

/** `jwt-logout migrate up|down|status`. */
export const migrateCommand: Command = {
  name: 'migrate',
  arguments: [{ name: 'up|down|status' }],
  synopsis: 'migrate up|down|status',
  summary: 'apply, revert or list the schema migrations',
  description: [
    'migrate up applies every pending migration and creates the schema of --schema when it is missing. ' +
      'migrate down reverts the latest applied migration. ' +
      'migrate status lists every migration with the time it was applied, or "pending".',
    'migrate status exits with code 0 whether or not a migration is pending; ' +
      'scripts read the "pending" list of its --json output. When the tables exist but were created ' +
      'outside these migrations, for example from print-sql, "createdOutsideMigrations" is true: ' +
      'the migrate commands do not apply to them, and migrate up refuses to run.',
  ],
  options: {
    json: { type: 'boolean', help: 'migrate status only: print the result as one JSON object' },
  },
  needsDatabase: true,

  prepare({ arguments: [actionText = ''], values }) {
    if (!(ACTIONS as readonly string[]).includes(actionText)) {
      throw new UsageError(
        `Unknown migrate action ${JSON.stringify(actionText)}: use up, down or status.${suggestionFor(actionText, ACTIONS)}`,
        'migrate',
      )
    }
    const action = actionText as Action
    const json = values.json === true
    if (json && action !== 'status') throw new UsageError('--json is only available with migrate status.', 'migrate')

    if (action === 'status') return (context) => printStatus(context, json)
    return (context) => migrate(context, action)
  },
}

async function migrate(context: CommandContext, direction: 'up' | 'down'): Promise<void> {
  const database = requireDatabase(context)
  const options = { schema: context.schema }
  let results
  try {
    results = direction === 'up' ? await migrateToLatest(database.db, options) : await migrateDown(database.db, options)
  } catch (error) {
    if (!(error instanceof MigrationError)) throw error
    // With PostgreSQL's transactional DDL, Kysely rolls back the whole run, so the migrations before the failed one are not reported as applied.
    const action =
      error.migrationName === undefined ? `migrate ${direction}` : `run migration ${error.migrationName} (${direction})`
    // A MigrationError without a cause is a refusal of jwt-logout's own, whose message is the reason.
    throw new CommandFailedError(failureMessage(context, action, error.cause ?? error), { cause: error })
  }

  if (results.length === 0) context.output.line(`Nothing to migrate ${direction} in ${describeTarget(context)}.`)
  for (const result of results) context.output.line(`Migrated ${direction}: ${result.migrationName} in ${describeTarget(context)}`)
}

async function printStatus(context: CommandContext, json: boolean): Promise<void> {
  const database = requireDatabase(context)
  const statuses = await attempt(context, 'read the migration status', () =>
    migrationStatus(database.db, { schema: context.schema }),
  )
  const pending = statuses.filter((status) => status.executedAt === undefined).map((status) => status.name)

  const unmanaged =
    pending.length === statuses.length &&
    (await attempt(context, 'look for the tables', () => hasUnmanagedTables(database.db, context.schema)))
  if (json) {
    context.output.json({
      migrations: statuses.map((status) => ({ name: status.name, appliedAt: status.executedAt?.toISOString() ?? null })),
      pending,
      createdOutsideMigrations: unmanaged,
    })
    return
  }

  const place = context.schema === undefined ? '' : ` (schema ${JSON.stringify(context.schema)})`
  context.output.line(`Migrations in ${database.description}${place}:`)
  const width = Math.max(...statuses.map((status) => status.name.length))
  for (const status of statuses) {
    const missing = unmanaged ? 'not recorded (tables created outside these migrations)' : 'pending'
    const state = status.executedAt === undefined ? missing : `applied ${status.executedAt.toISOString()}`
    context.output.line(`  ${status.name.padEnd(width)}  ${state}`)
  }
  if (pending.length === 0) {
    context.output.line(`All ${statuses.length} migrations are applied.`)
  } else if (unmanaged) {
    context.output.line(
      'The jwt-logout tables exist, but were created outside these migrations (for example from print-sql), ' +
        'so the migrate commands do not apply to them: keep managing them with the tool that created them.',
    )
  } else {
    context.output.line(`${pending.length} of ${statuses.length} migrations pending: run "${migrateUpCommand(context.schema)}" to apply them.`)
  }
}
