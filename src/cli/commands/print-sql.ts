import { migrations } from '../../../migrations/index.js'
import { schemaSql } from '../../store/schema-sql.js'
import { stringValue, UsageError } from '../args.js'
import type { Command } from '../command.js'
import { suggestionFor } from '../../suggest.js'

/** `jwt-logout print-sql [--down] [--after MIGRATION]`. */
export const printSqlCommand: Command = {
  name: 'print-sql',
  arguments: [],
  synopsis: 'print-sql [--down] [--after MIGRATION]',
  summary: 'print the tables as SQL, for your own migration tool',
  description: [
    'Prints the statements that migrate up runs, compiled from the same migrations, so that a team ' +
      'can apply them with its own migration tool. With --schema they create and name that schema. ' +
      'jwt-logout does not record them as applied, so a later migrate up on the same schema fails on the existing tables.',
    'It opens no database, so --database-url, --data-dir and --notify-channel are ignored.',
  ],
  options: {
    down: { type: 'boolean', help: 'print the statements that drop the tables instead (the schema stays)' },
    after: {
      type: 'string',
      valueName: 'MIGRATION',
      help:
        'print only the migrations after this one, such as 0001_create_user_logouts, to upgrade a schema ' +
        "that ran an earlier version's SQL (default: all of them)",
    },
  },
  needsDatabase: false,

  prepare({ values }) {
    const direction = values.down === true ? 'down' : 'up'
    const after = stringValue(values, 'after')
    const names = Object.keys(migrations).sort()
    if (after !== undefined && !names.includes(after)) {
      throw new UsageError(
        `--after must name one of the migrations ${names.join(', ')}, got ${JSON.stringify(after)}.${suggestionFor(after, names)}`,
        'print-sql',
      )
    }
    return async (context) => context.output.raw(await schemaSql({ schema: context.schema, direction, after }))
  },
}
