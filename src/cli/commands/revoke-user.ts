import { MicrosecondClock } from '../../clock.js'
import { KyselyCutoffStore } from '../../store/kysely-cutoff-store.js'
import { formatMicros } from '../../store/timestamps.js'
import { checkId } from '../args.js'
import { type Command, describeTarget, requireDatabase } from '../command.js'
import { attempt } from '../failure.js'
import { quote } from '../output.js'
import { propagationNotice } from './revoke-notice.js'

/** `jwt-logout revoke-user <user-id>`. */
export const revokeUserCommand: Command = {
  name: 'revoke-user',
  arguments: [{ name: 'user-id' }],
  synopsis: 'revoke-user <user-id>',
  summary: 'reject every token of a user issued until now',
  description: [
    'Writes a cutoff of now, in microseconds, for the user: every token whose subject is <user-id> and ' +
      'that was issued at or before the cutoff is rejected from then on, whatever its session. ' +
      'A later cutoff already stored is kept. The write sends a NOTIFY on --notify-channel, ' +
      'so that running instances drop their cached cutoff of the user.',
  ],
  options: {
    json: { type: 'boolean', help: 'print the result as one JSON object' },
  },
  needsDatabase: true,

  prepare({ arguments: [userIdText = ''], values }) {
    const userId = checkId('user-id', userIdText, 'revoke-user')
    const json = values.json === true

    return async (context) => {
      const database = requireDatabase(context)
      const store = new KyselyCutoffStore(database.db, { channel: context.notifyChannel, schema: context.schema })
      const cutoff = new MicrosecondClock().next()
      await attempt(context, `record the logout of user ${quote(userId)}`, () => store.revokeUser(userId, cutoff))

      if (json) {
        context.output.json({ userId, cutoff: formatMicros(cutoff), cutoffMicros: cutoff, notifyChannel: context.notifyChannel })
        return
      }
      context.output.line(`Logged out user ${quote(userId)} everywhere in ${describeTarget(context)}.`)
      context.output.line(`Every token of this user issued at or before ${formatMicros(cutoff)} is now rejected.`)
      context.output.line(propagationNotice(database, context.notifyChannel))
    }
  },
}
