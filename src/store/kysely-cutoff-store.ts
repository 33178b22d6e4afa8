import { sql, type Kysely } from 'kysely'

import { StoreUnavailableError } from '../errors/store-unavailable-error.js'
import { NO_CUTOFFS, type CutoffStore, type UserCutoffs } from './cutoff-store.js'
import type { CutoffDatabase } from './schema.js'
import { formatMicros, micros, parseMicros } from './timestamps.js'

/** CutoffStore on PostgreSQL or PGlite through Kysely. */
export class KyselyCutoffStore implements CutoffStore {
  readonly #db: Kysely<CutoffDatabase>

  constructor(db: Kysely<CutoffDatabase>) {
    this.#db = db
  }

  async loadCutoffs(userId: string, now: number): Promise<UserCutoffs> {
    // One round trip for both tables: the user row (session_id null) and the live session rows.
    const query = this.#db
      .selectFrom('user_logouts')
      .select([sql<string | null>`null`.as('session_id'), micros('logged_out_at').as('cutoff')])
      .where('user_id', '=', userId)
      .unionAll(
        this.#db
          .selectFrom('session_logouts')
          .select(['session_id', micros('logged_out_at').as('cutoff')])
          .where('user_id', '=', userId)
          .where('expires_at', '>', formatMicros(now)),
      )

    const rows = await run(CHECK_FAILED, 'loading the cutoffs', () => query.execute())
    if (rows.length === 0) return NO_CUTOFFS

    let userCutoff = 0
    let sessionCutoffs: Map<string, number> | undefined
    for (const row of rows) {
      const cutoff = parseMicros(row.cutoff)
      if (row.session_id === null) {
        userCutoff = cutoff
      } else {
        sessionCutoffs ??= new Map()
        sessionCutoffs.set(row.session_id, cutoff)
      }
    }
    return { userCutoff, sessionCutoffs }
  }

  async revokeUser(userId: string, cutoff: number): Promise<void> {
    // GREATEST keeps the later cutoff, so a late or concurrent write never un-revokes a token.
    const query = this.#db
      .insertInto('user_logouts')
      .values({ user_id: userId, logged_out_at: formatMicros(cutoff) })
      .onConflict((conflict) =>
        conflict.column('user_id').doUpdateSet({
          logged_out_at: sql`greatest(user_logouts.logged_out_at, excluded.logged_out_at)`,
        }),
      )
    await run(WRITE_FAILED, 'recording the logout', () => query.execute())
  }

  async revokeSession(userId: string, sessionId: string, cutoff: number, expiresAt: number): Promise<void> {
    const query = this.#db
      .insertInto('session_logouts')
      .values({
        user_id: userId,
        session_id: sessionId,
        logged_out_at: formatMicros(cutoff),
        expires_at: formatMicros(expiresAt),
      })
      .onConflict((conflict) =>
        conflict.columns(['user_id', 'session_id']).doUpdateSet({
          logged_out_at: sql`greatest(session_logouts.logged_out_at, excluded.logged_out_at)`,
          expires_at: sql`greatest(session_logouts.expires_at, excluded.expires_at)`,
        }),
      )
    await run(WRITE_FAILED, 'recording the session logout', () => query.execute())
  }

  async ping(): Promise<void> {
    // Selecting from both tables also reports missing migrations; limit 0 reads no rows.
    const query = sql`select 1 from user_logouts, session_logouts limit 0`
    await run(CHECK_FAILED, 'checking the tables', () => query.execute(this.#db))
  }
}

/** SQLSTATE of "relation does not exist": the migrations have not run. */
const UNDEFINED_TABLE = '42P01'

const CHECK_FAILED = 'Cannot check whether the token was revoked because the revocation store is unavailable; retry later.'
const WRITE_FAILED = 'Cannot record the logout because the revocation store is unavailable; retry later.'

/**
 * Runs a store operation and turns any failure into a StoreUnavailableError:
 * `message` for the client, and a `detail` for the operator that names the
 * operation, the driver's message and, for missing tables, the fix.
 */
async function run<T>(message: string, operation: string, execute: () => Promise<T>): Promise<T> {
  try {
    return await execute()
  } catch (error) {
    const hint =
      (error as { code?: unknown }).code === UNDEFINED_TABLE
        ? ' The jwt-logout tables are missing: run the migrations (jwt-logout migrate up).'
        : ''
    const detail = `${operation} failed: ${error instanceof Error ? error.message : String(error)}.${hint}`
    throw new StoreUnavailableError(message, { cause: error, detail })
  }
}
