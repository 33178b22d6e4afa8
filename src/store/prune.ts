import { withDatabase, type DatabaseInput } from './database-input.js'
import { KyselyCutoffStore } from './kysely-cutoff-store.js'
import { checkSchemaName } from './schema.js'

/** Options of `pruneExpiredSessions`. */
export interface PruneOptions {
  /** Rows deleted per statement. @default 1000 */
  batchSize?: number
  /**
   * Extra time a row is kept after its `expires_at`, in milliseconds, to cover
   * clock skew between the hosts that wrote the row and this one.
   * @default 60000
   */
  marginMs?: number
  /** Current time in milliseconds since the epoch. @default Date.now() */
  now?: number
}

/** Options of the standalone `pruneExpiredSessions`, which also needs to know where the tables are. */
export interface PruneDatabaseOptions extends PruneOptions {
  /** Schema of jwt-logout's tables. Without it, the connection's search_path finds them. */
  schema?: string
}

/**
 * Deletes the session cutoffs that no token can need any more and returns how
 * many it deleted. A row's `expires_at` already includes the token's expiry and
 * the clock tolerance, so deleting it afterwards lets no revoked token back in.
 * @param db A Kysely instance, a pg pool or a connection string; only a pool opened here is closed.
 * @throws TypeError for an invalid option; StoreUnavailableError when the database fails.
 */
export async function pruneExpiredSessions(db: DatabaseInput, options: PruneDatabaseOptions = {}): Promise<number> {
  const { schema, ...pruneOptions } = options
  const checkedSchema = checkSchemaName(schema)
  const settings = resolvePruneOptions(pruneOptions)
  return withDatabase(db, (kysely) => new KyselyCutoffStore(kysely, { schema: checkedSchema }).pruneExpiredSessions(...settings))
}

const PRUNE_OPTIONS = new Set(['batchSize', 'marginMs', 'now'])

/** Validates prune options and returns the cutoff time (microseconds) and the batch size. */
export function resolvePruneOptions(options: PruneOptions): [before: number, batchSize: number] {
  if (typeof options !== 'object' || options === null) throw new TypeError('prune options must be an object')
  for (const name of Object.keys(options)) {
    if (!PRUNE_OPTIONS.has(name)) throw new TypeError(`Unknown prune option ${JSON.stringify(name)}; the options are batchSize, marginMs and now`)
  }
  const { batchSize = 1000, marginMs = 60_000, now = Date.now() } = options
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new TypeError(`batchSize must be a positive integer, got ${String(batchSize)}`)
  }
  if (!Number.isSafeInteger(marginMs) || marginMs < 0) {
    throw new TypeError(`marginMs must be a non-negative integer of milliseconds, got ${String(marginMs)}`)
  }
  if (typeof now !== 'number' || !Number.isFinite(now)) {
    throw new TypeError(`now must be milliseconds since the epoch, got ${String(now)}`)
  }
  return [Math.floor((now - marginMs) * 1000), batchSize]
}
