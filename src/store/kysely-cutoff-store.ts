import { sql, type Kysely } from 'kysely'

import { StoreUnavailableError } from '../errors/store-unavailable-error.js'
import { NO_CUTOFFS, type CutoffStore, type UserCutoffs } from './cutoff-store.js'
import { checkSchemaName, inSchema, type CutoffDatabase } from './schema.js'
import { formatMicros, micros, parseMicros } from './timestamps.js'
import { checkChannel, DEFAULT_CHANNEL, encodeInvalidation } from '../invalidation/notification.js'

/** Options of the Kysely cutoff store. */
export interface KyselyCutoffStoreOptions {
  /** Channel on which every cutoff write is announced with NOTIFY, in the same transaction. */
  channel?: string
  /** Schema of the tables. Without it, the connection's search_path finds them. */
  schema?: string
}

/** Maximum number of users loaded by one query; larger batches are split. */
export const MAX_BATCH_USERS = 1000

/** CutoffStore on PostgreSQL or PGlite through Kysely. */
export class KyselyCutoffStore implements CutoffStore {
  readonly #db: Kysely<CutoffDatabase>
  readonly #channel: string

  constructor(db: Kysely<CutoffDatabase>, options: KyselyCutoffStoreOptions = {}) {
    this.#db = inSchema(db, checkSchemaName(options.schema))
    this.#channel = checkChannel(options.channel ?? DEFAULT_CHANNEL)
  }

  async loadCutoffs(userIds: readonly string[], now: number): Promise<Map<string, UserCutoffs>> {
    const found = new Map<string, UserCutoffs>()
    for (let start = 0; start < userIds.length; start += MAX_BATCH_USERS) {
      await this.#loadBatch(userIds.slice(start, start + MAX_BATCH_USERS), now, found)
    }
    return found
  }

  async #loadBatch(userIds: readonly string[], now: number, found: Map<string, UserCutoffs>): Promise<void> {
    // One round trip for both tables: user rows (session_id null) and live session rows.
    // `= any($1)` keeps the SQL text the same for every batch size, so PostgreSQL can reuse its plan.
    const ids = sql`${[...userIds]}::text[]`
    const query = this.#db
      .selectFrom('user_logouts')
      .select(['user_id', sql<string | null>`null`.as('session_id'), micros('logged_out_at').as('cutoff')])
      .where(sql<boolean>`user_id = any(${ids})`)
      .unionAll(
        this.#db
          .selectFrom('session_logouts')
          .select(['user_id', 'session_id', micros('logged_out_at').as('cutoff')])
          .where(sql<boolean>`user_id = any(${ids})`)
          .where('expires_at', '>', formatMicros(now)),
      )
    const rows = await run(CHECK_FAILED, 'loading the cutoffs', () => query.execute())

    const builders = new Map<string, { userCutoff: number; sessionCutoffs: Map<string, number> | undefined }>()
    for (const row of rows) {
      let cutoffs = builders.get(row.user_id)
      if (cutoffs === undefined) {
        cutoffs = { userCutoff: 0, sessionCutoffs: undefined }
        builders.set(row.user_id, cutoffs)
      }
      const cutoff = parseMicros(row.cutoff)
      if (row.session_id === null) {
        cutoffs.userCutoff = cutoff
      } else {
        cutoffs.sessionCutoffs ??= new Map()
        cutoffs.sessionCutoffs.set(row.session_id, cutoff)
      }
    }
    for (const userId of userIds) found.set(userId, builders.get(userId) ?? NO_CUTOFFS)
  }

  async revokeUser(userId: string, cutoff: number): Promise<void> {
    // GREATEST keeps the later cutoff, so a late or concurrent write never un-revokes a token.
    const upsert = (db: Kysely<CutoffDatabase>) => db
      .insertInto('user_logouts')
      .values({ user_id: userId, logged_out_at: formatMicros(cutoff) })
      .onConflict((conflict) =>
        conflict.column('user_id').doUpdateSet({
          logged_out_at: sql`greatest(user_logouts.logged_out_at, excluded.logged_out_at)`,
        }),
      )
    await run(WRITE_FAILED, 'recording the logout', () => this.#writeAndNotify(userId, (trx) => upsert(trx).execute()))
  }

  async revokeSession(userId: string, sessionId: string, cutoff: number, expiresAt: number): Promise<void> {
    const upsert = (db: Kysely<CutoffDatabase>) => db
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
    await run(WRITE_FAILED, 'recording the session logout', () =>
      this.#writeAndNotify(userId, (trx) => upsert(trx).execute()),
    )
  }

  /**
   * Deletes session rows that expired at or before `before` (microseconds), in
   * batches of `batchSize` rows so that no statement holds many row locks, and
   * returns how many it deleted. A row is only deleted once every token of its
   * session has expired, clock tolerance included, so no revoked token can
   * come back.
   */
  async pruneExpiredSessions(before: number, batchSize: number): Promise<number> {
    let deleted = 0
    for (;;) {
      const expired = this.#db
        .selectFrom('session_logouts')
        .select(sql`ctid`.as('ctid'))
        .where('expires_at', '<=', formatMicros(before))
        .limit(batchSize)
      const query = this.#db.deleteFrom('session_logouts').where(sql<boolean>`ctid = any(array(${expired}))`)
      const result = await run(WRITE_FAILED, 'pruning expired sessions', () => query.executeTakeFirst())
      const count = Number(result.numDeletedRows)
      deleted += count
      if (count < batchSize) return deleted
    }
  }

  /**
   * Runs a cutoff write and a NOTIFY about it in one transaction, so that
   * listeners hear of the write exactly when it commits, and never of a write
   * that rolled back.
   */
  async #writeAndNotify(userId: string, write: (trx: Kysely<CutoffDatabase>) => Promise<unknown>): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      await write(trx)
      await sql`select pg_notify(${this.#channel}, ${encodeInvalidation(userId)})`.execute(trx)
    })
  }

  async ping(): Promise<void> {
    // Selecting from both tables also reports missing migrations; limit 0 reads no rows.
    const query = this.#db.selectFrom(['user_logouts', 'session_logouts']).select(sql`1`.as('one')).limit(0)
    await run(CHECK_FAILED, 'checking the tables', () => query.execute())
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
