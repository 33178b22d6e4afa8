/** Default PostgreSQL channel on which cutoff writes are announced. */
export const DEFAULT_CHANNEL = 'jwt_logout_cutoffs'

/** Payload that makes every listener drop its whole cache. */
export const INVALIDATE_ALL = '*'

const USER_PREFIX = 'user:'

/**
 * Largest payload sent, in UTF-8 bytes. PostgreSQL rejects a NOTIFY payload of
 * 8000 bytes or more; longer user ids are announced as "drop everything".
 */
const MAX_PAYLOAD_BYTES = 7999

/** A parsed notification: one user's cutoffs changed, or any may have. */
export type Invalidation = { userId: string } | 'all'

/** Checks a channel name, which LISTEN needs as a plain identifier. @throws TypeError naming the option. */
export function checkChannel(channel: unknown): string {
  if (typeof channel !== 'string' || !/^[a-z_][a-z0-9_]{0,62}$/.test(channel)) {
    throw new TypeError(
      `notifyChannel must be a lowercase identifier of at most 63 characters (letters, digits, _), got ${JSON.stringify(channel)}`,
    )
  }
  return channel
}

/** Builds the payload announcing that `userId`'s cutoffs changed. */
export function encodeInvalidation(userId: string): string {
  const payload = USER_PREFIX + userId
  return Buffer.byteLength(payload) <= MAX_PAYLOAD_BYTES ? payload : INVALIDATE_ALL
}

/** Parses a payload. Anything unknown invalidates everything, which can cost queries but never accepts a revoked token. */
export function decodeInvalidation(payload: string | undefined): Invalidation {
  if (payload !== undefined && payload.startsWith(USER_PREFIX) && payload.length > USER_PREFIX.length) {
    return { userId: payload.slice(USER_PREFIX.length) }
  }
  return 'all'
}
