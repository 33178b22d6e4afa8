import type { Migration } from 'kysely'

import * as createUserLogouts from './0001_create_user_logouts.js'
import * as createSessionLogouts from './0002_create_session_logouts.js'

/**
 * jwt-logout's migrations by name. Kysely runs them in the order of their
 * names, so each name starts with a zero-padded sequence number.
 */
export const migrations: Record<string, Migration> = {
  '0001_create_user_logouts': createUserLogouts,
  '0002_create_session_logouts': createSessionLogouts,
}
