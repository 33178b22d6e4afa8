/**
 * The logging calls jwt-logout makes, with pino's argument order: an object
 * of fields first, then the message. A pino logger fits as it is.
 *
 * The records, none of which contains a token, a signature, a cookie or a secret:
 * - `info` for each revocation: `kind` (`user` or `session`), `userId`,
 *   `sessionId` for a session, and `cutoff`, an ISO 8601 time with microseconds.
 * - `error` for each failed cutoff write: `operation` (`revokeUser` or
 *   `revokeSession`), `userId`, `sessionId`, `detail` and `err`.
 * - `error` for each failed cutoff load, once however many requests waited
 *   for it: `operation` (`loadCutoffs`), `userIds` (at most 20), `userCount`,
 *   `usersServedStale`, `detail` and `err`. It is a `warn` when stale cached
 *   cutoffs served every waiting request.
 * - `warn`, then `error` while the invalidation listener is down, with `err`,
 *   `channel`, `attempt` and `retryInMs`, and `info` with `attempts` once it
 *   has reconnected. With PGlite, `error` with `err` and `channel` when
 *   subscribing fails.
 */
export interface Logger {
  info(fields: object, message: string): void
  warn(fields: object, message: string): void
  error(fields: object, message: string): void
}

/** Drops everything: the library logs nothing unless it is given a logger. */
export const SILENT_LOGGER: Logger = {
  info() {},
  warn() {},
  error() {},
}
