import { pruneExpiredSessions } from '../../store/prune.js'
import { parseWholeNumber, stringValue } from '../args.js'
import { type Command, describeTarget, requireDatabase } from '../command.js'
import { attempt } from '../failure.js'

const DEFAULT_BATCH_SIZE = 1000
const DEFAULT_MARGIN_MS = 60_000

/** `jwt-logout prune`. */
export const pruneCommand: Command = {
  name: 'prune',
  arguments: [],
  synopsis: 'prune',
  summary: 'delete session cutoffs whose tokens have all expired',
  description: [
    'Deletes the rows of session_logouts whose kept-until time (expires_at) has passed, in batches, ' +
      'and prints how many it deleted. The cutoffs of logout-all (user_logouts) are never deleted.',
  ],
  options: {
    'batch-size': {
      type: 'string',
      valueName: 'N',
      help: `rows deleted per statement (default: ${DEFAULT_BATCH_SIZE})`,
    },
    'margin-ms': {
      type: 'string',
      valueName: 'MS',
      help: `keep rows this many milliseconds past their expiry, for clock skew between hosts (default: ${DEFAULT_MARGIN_MS})`,
    },
  },
  needsDatabase: true,

  prepare({ values }) {
    const batchText = stringValue(values, 'batch-size')
    const marginText = stringValue(values, 'margin-ms')
    const batchSize = batchText === undefined ? DEFAULT_BATCH_SIZE : parseWholeNumber('--batch-size', batchText, { min: 1 }, 'prune')
    const marginMs =
      marginText === undefined
        ? DEFAULT_MARGIN_MS
        : parseWholeNumber('--margin-ms', marginText, { min: 0, unit: 'milliseconds' }, 'prune')

    return async (context) => {
      const database = requireDatabase(context)
      const deleted = await attempt(context, 'prune expired session cutoffs', () =>
        pruneExpiredSessions(database.db, { batchSize, marginMs, schema: context.schema }),
      )
      context.output.line(`Pruned ${deleted} expired session cutoffs from ${describeTarget(context)}.`)
    }
  },
}
