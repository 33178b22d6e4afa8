/** Cutoffs of one user, as loaded from the store. All times are microseconds since the epoch. */
export interface UserCutoffs {
  /** Cutoff of logout-all: tokens issued at or before it are revoked. 0 when the user never logged out everywhere. */
  readonly userCutoff: number
  /** Cutoffs of single-session logouts, by session id; only sessions whose tokens may still be live. */
  readonly sessionCutoffs: ReadonlyMap<string, number> | undefined
}

/** The value for a user who has no cutoff; shared, because most users look like this. */
export const NO_CUTOFFS: UserCutoffs = Object.freeze({ userCutoff: 0, sessionCutoffs: undefined })

/** Returns the cutoff that applies to a token of `sessionId`: the later of the user's and the session's. */
export function effectiveCutoff(cutoffs: UserCutoffs, sessionId: string | undefined): number {
  if (sessionId === undefined || cutoffs.sessionCutoffs === undefined) return cutoffs.userCutoff
  const sessionCutoff = cutoffs.sessionCutoffs.get(sessionId) ?? 0
  return sessionCutoff > cutoffs.userCutoff ? sessionCutoff : cutoffs.userCutoff
}

/**
 * Durable storage of logout cutoffs. Writes are monotonic: a write never moves
 * a stored cutoff backwards, whatever order concurrent writes commit in.
 * Every method rejects with StoreUnavailableError when the store fails.
 */
export interface CutoffStore {
  /**
   * Loads the cutoffs of each user in `userIds`, in one round trip where the
   * store allows, with the sessions whose tokens may still be live: those
   * remembered until after `now` (microseconds). Every requested user is in
   * the result, with NO_CUTOFFS when they have none.
   */
  loadCutoffs(userIds: readonly string[], now: number): Promise<Map<string, UserCutoffs>>
  /** Revokes every token of the user issued at or before `cutoff` (microseconds). */
  revokeUser(userId: string, cutoff: number): Promise<void>
  /**
   * Revokes every token of one session issued at or before `cutoff`, remembering
   * it until `expiresAt` (microseconds), when every token of the session has expired.
   */
  revokeSession(userId: string, sessionId: string, cutoff: number, expiresAt: number): Promise<void>
  /** Resolves when the store completes a trivial query. */
  ping(): Promise<void>
  /**
   * Deletes session cutoffs remembered until `before` (microseconds) or
   * earlier, in batches of `batchSize`, and returns how many it deleted.
   */
  pruneExpiredSessions(before: number, batchSize: number): Promise<number>
}
