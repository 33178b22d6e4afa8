import { MicrosecondClock } from '../../clock.js'
import { retainUntil } from '../../revocation/revoker.js'
import { DEFAULT_TOKEN_LIFETIME_SECONDS, MAX_TOKEN_LIFETIME_SECONDS } from '../../server/config.js'
import { KyselyCutoffStore } from '../../store/kysely-cutoff-store.js'
import { formatMicros } from '../../store/timestamps.js'
import { checkId, parseWholeNumber, stringValue, type Environment } from '../args.js'
import { type Command, describeTarget, requireDatabase } from '../command.js'
import { attempt } from '../failure.js'
import { quote } from '../output.js'
import { propagationNotice } from './revoke-notice.js'

/** Clock tolerance added to the retention when --clock-tolerance is not given, in seconds. */
const DEFAULT_CLOCK_TOLERANCE_SECONDS = 60

/**
 * Largest --expires-in and --clock-tolerance: 100 years, in seconds. Now plus
 * both stays far below year 9999, the last year that PostgreSQL parses from
 * the ISO strings the store writes, and inside JavaScript's safe integers.
 */
const MAX_SECONDS = 3_153_600_000

/** `jwt-logout revoke-session <user-id> <session-id>`. */
export const revokeSessionCommand: Command = {
  name: 'revoke-session',
  arguments: [{ name: 'user-id' }, { name: 'session-id' }],
  synopsis: 'revoke-session <user-id> <session-id>',
  summary: 'reject every token of one session issued until now',
  description: [
    'Writes a cutoff of now, in microseconds, for one session of the user: every token with subject ' +
      '<user-id> and sid <session-id> that was issued at or before the cutoff is rejected from then on. ' +
      'The write sends a NOTIFY on --notify-channel, so that running instances drop their cached cutoffs of the user.',
    'The row must outlive every token of the session, or those tokens become valid again once prune deletes it. ' +
      'It is kept until now + --expires-in + --clock-tolerance, the same rule the library applies ' +
      'when an app calls revokeSession, or later when an earlier logout of the session already kept it longer.',
  ],
  options: {
    'expires-in': {
      type: 'string',
      valueName: 'SECONDS',
      help:
        'the longest remaining lifetime of the session\'s tokens, in seconds (default: the TOKEN_LIFETIME_SECONDS ' +
        `variable, else ${DEFAULT_TOKEN_LIFETIME_SECONDS}, the runnable server's token lifetime)`,
    },
    'clock-tolerance': {
      type: 'string',
      valueName: 'SECONDS',
      help: `how long after their exp the app still accepts tokens, in seconds (default: ${DEFAULT_CLOCK_TOLERANCE_SECONDS})`,
    },
    json: { type: 'boolean', help: 'print the result as one JSON object' },
  },
  needsDatabase: true,

  prepare({ arguments: [userIdText = '', sessionIdText = ''], values, env }) {
    const userId = checkId('user-id', userIdText, 'revoke-session')
    const sessionId = checkId('session-id', sessionIdText, 'revoke-session')
    const expiresInSeconds = readExpiresIn(stringValue(values, 'expires-in'), env)
    const toleranceText = stringValue(values, 'clock-tolerance')
    const clockToleranceSeconds =
      toleranceText === undefined
        ? DEFAULT_CLOCK_TOLERANCE_SECONDS
        : parseWholeNumber('--clock-tolerance', toleranceText, { min: 0, max: MAX_SECONDS, unit: 'seconds' }, 'revoke-session')
    const json = values.json === true

    return async (context) => {
      const database = requireDatabase(context)
      const store = new KyselyCutoffStore(database.db, { channel: context.notifyChannel, schema: context.schema })
      const cutoff = new MicrosecondClock().next()
      const tokensExpireAt = cutoff + expiresInSeconds * 1_000_000
      const keptUntil = retainUntil(cutoff, tokensExpireAt, { maxTokenAgeSeconds: undefined, clockToleranceSeconds })
      await attempt(context, `record the logout of session ${quote(sessionId)} of user ${quote(userId)}`, () =>
        store.revokeSession(userId, sessionId, cutoff, keptUntil),
      )

      if (json) {
        context.output.json({
          userId,
          sessionId,
          cutoff: formatMicros(cutoff),
          cutoffMicros: cutoff,
          keptUntil: formatMicros(keptUntil),
          keptUntilMicros: keptUntil,
          expiresInSeconds,
          clockToleranceSeconds,
          notifyChannel: context.notifyChannel,
        })
        return
      }
      context.output.line(`Logged out session ${quote(sessionId)} of user ${quote(userId)} in ${describeTarget(context)}.`)
      context.output.line(`Every token of this session issued at or before ${formatMicros(cutoff)} is now rejected.`)
      context.output.line(
        `The session cutoff is kept until at least ${formatMicros(keptUntil)}: its tokens expire within ` +
          `${expiresInSeconds} s, plus ${clockToleranceSeconds} s of clock tolerance. "jwt-logout prune" deletes it after that.`,
      )
      context.output.line(propagationNotice(database, context.notifyChannel))
    }
  },
}

/** Returns --expires-in, else TOKEN_LIFETIME_SECONDS, else the server's default lifetime, in seconds. */
function readExpiresIn(text: string | undefined, env: Environment): number {
  if (text !== undefined) {
    return parseWholeNumber('--expires-in', text, { min: 1, max: MAX_SECONDS, unit: 'seconds' }, 'revoke-session')
  }
  const lifetime = env.TOKEN_LIFETIME_SECONDS
  if (lifetime === undefined || lifetime === '') return DEFAULT_TOKEN_LIFETIME_SECONDS
  return parseWholeNumber(
    'TOKEN_LIFETIME_SECONDS (the default of --expires-in)',
    lifetime,
    { min: 1, max: MAX_TOKEN_LIFETIME_SECONDS, unit: 'seconds' },
    'revoke-session',
  )
}
