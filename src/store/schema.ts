import type { ColumnType, Kysely } from 'kysely'

import { isStorableText } from './storable-text.js'

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

/** Maximum length of a PostgreSQL identifier, in bytes. PostgreSQL truncates longer names. */
const MAX_IDENTIFIER_BYTES = 63

/**
 * Checks the name of the schema that contains jwt-logout's tables. Any name
 * PostgreSQL accepts is allowed, since Kysely quotes it.
 * @throws TypeError naming the value and the rule it breaks.
 */
export function checkSchemaName(value: unknown, name = 'schema'): string | undefined {
  if (value === undefined) return undefined
  if (
    typeof value !== 'string' ||
    value === '' ||
    !isStorableText(value) ||
    Buffer.byteLength(value) > MAX_IDENTIFIER_BYTES
  ) {
    throw new TypeError(
      `${name} must be a schema name of 1 to ${MAX_IDENTIFIER_BYTES} bytes without NUL characters, got ${JSON.stringify(value)}`,
    )
  }
  return value
}

/**
 * Returns `db` with every table it names placed in `schema`; without a schema,
 * PostgreSQL finds the tables through the connection's search_path.
 */
export function inSchema<Database>(db: Kysely<Database>, schema: string | undefined): Kysely<Database> {
  return schema === undefined ? db : db.withSchema(schema)
}
