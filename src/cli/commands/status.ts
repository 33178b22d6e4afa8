import type { Kysely } from 'kysely'

import { KyselyCutoffStore } from '../../store/kysely-cutoff-store.js'
import { inSchema, type CutoffDatabase } from '../../store/schema.js'
import { formatMicros, micros, parseMicros } from '../../store/timestamps.js'
import { checkId } from '../args.js'
import { type Command, type CommandContext, describeTarget, requireDatabase } from '../command.js'
import { attempt } from '../failure.js'
import { quote } from '../output.js'

/** A single-session cutoff in force; times in microseconds since the epoch. */
interface SessionCutoff {
  sessionId: string
  cutoff: number
  /** When prune may delete the row; undefined when it was deleted between the two queries. */
  keptUntil: number | undefined
}

/** `jwt-logout status <user-id>`. */
export const statusCommand: Command = {
  name: 'status',
  arguments: [{ name: 'user-id' }],
  synopsis: 'status <user-id>',
  summary: 'print the cutoffs of a user and of its ended sessions',
  description: [
    'Prints the logout-all cutoff of the user, or that the user never logged out everywhere, and every ' +
      'single-session cutoff whose tokens may still be live, with the time until which it is kept. ' +
      'These are the cutoffs that the library loads when it checks a token of the user.',
  ],
  options: {
    json: { type: 'boolean', help: 'print the result as one JSON object' },
  },
  needsDatabase: true,

  prepare({ arguments: [userIdText = ''], values }) {
    const userId = checkId('user-id', userIdText, 'status')
    const json = values.json === true

    return async (context) => {
      const database = requireDatabase(context)
      const store = new KyselyCutoffStore(database.db, { schema: context.schema })
      const now = Date.now() * 1000
      const action = `read the cutoffs of user ${quote(userId)}`
      const cutoffs = (await attempt(context, action, () => store.loadCutoffs([userId], now))).get(userId)
      const userCutoff = cutoffs?.userCutoff ?? 0
      const sessionCutoffs = [...(cutoffs?.sessionCutoffs ?? new Map<string, number>())]
      const keptUntil = await attempt(context, action, () =>
        loadKeptUntil(inSchema(database.db, context.schema), userId, sessionCutoffs.map(([sessionId]) => sessionId)),
      )
      const sessions: SessionCutoff[] = sessionCutoffs
        .map(([sessionId, cutoff]) => ({ sessionId, cutoff, keptUntil: keptUntil.get(sessionId) }))
        .sort((a, b) => a.cutoff - b.cutoff || (a.sessionId < b.sessionId ? -1 : 1))

      if (json) printJson(context, userId, userCutoff, sessions)
      else printText(context, userId, userCutoff, sessions)
    }
  },
}

/** Loads the expires_at of the given sessions, in microseconds, by session id. */
async function loadKeptUntil(db: Kysely<CutoffDatabase>, userId: string, sessionIds: string[]): Promise<Map<string, number>> {
  if (sessionIds.length === 0) return new Map()
  const rows = await db
    .selectFrom('session_logouts')
    .select(['session_id', micros('expires_at').as('kept_until')])
    .where('user_id', '=', userId)
    .where('session_id', 'in', sessionIds)
    .execute()
  return new Map(rows.map((row) => [row.session_id, parseMicros(row.kept_until)]))
}

function printJson(context: CommandContext, userId: string, userCutoff: number, sessions: SessionCutoff[]): void {
  context.output.json({
    userId,
    userCutoff: userCutoff === 0 ? null : formatMicros(userCutoff),
    userCutoffMicros: userCutoff === 0 ? null : userCutoff,
    sessions: sessions.map((session) => ({
      sessionId: session.sessionId,
      cutoff: formatMicros(session.cutoff),
      cutoffMicros: session.cutoff,
      keptUntil: session.keptUntil === undefined ? null : formatMicros(session.keptUntil),
      keptUntilMicros: session.keptUntil ?? null,
    })),
  })
}

function printText(context: CommandContext, userId: string, userCutoff: number, sessions: SessionCutoff[]): void {
  const { output } = context
  output.line(`User ${quote(userId)} in ${describeTarget(context)}:`)
  if (userCutoff === 0) {
    output.line('  Never logged out everywhere.')
  } else {
    output.line(`  Logged out everywhere at ${formatMicros(userCutoff)}: every token issued at or before it is rejected.`)
  }

  if (sessions.length === 0) {
    output.line('  No ended sessions whose tokens may still be live.')
    return
  }
  output.line(`  Ended sessions whose tokens may still be live: ${sessions.length}`)
  for (const session of sessions) {
    const retention = session.keptUntil === undefined ? 'just pruned' : `kept until ${formatMicros(session.keptUntil)}`
    output.line(`    ${quote(session.sessionId)}: tokens issued at or before ${formatMicros(session.cutoff)} are rejected; ${retention}`)
  }
}
