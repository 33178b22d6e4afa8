import type { ColumnType } from 'kysely'

/**
 * A `timestamptz` column. Reads go through `extract(epoch …)` to keep
 * microseconds, because node-postgres parses timestamptz into a millisecond
 * `Date`; writes pass an ISO 8601 string with six fractional digits.
 */
type Timestamp = ColumnType<Date | string, string, string>

/** `user_logouts`: one row per user who has logged out everywhere. */
export interface UserLogoutsTable {
  user_id: string
  /** Every token of this user issued at or before this instant is revoked. */
  logged_out_at: Timestamp
}

/** `session_logouts`: one row per session ended by a single-session logout. */
export interface SessionLogoutsTable {
  user_id: string
  session_id: string
  /** Every token of this session issued at or before this instant is revoked. */
  logged_out_at: Timestamp
  /** After this instant every token of the session has expired, so the row may be deleted. */
  expires_at: Timestamp
}

/** Kysely types of the tables that jwt-logout owns. */
export interface CutoffDatabase {
  user_logouts: UserLogoutsTable
  session_logouts: SessionLogoutsTable
}
