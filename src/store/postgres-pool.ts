import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely'
import pg from 'pg'

import type { CutoffDatabase } from './schema.js'

/** Settings of a pool that jwt-logout creates itself. Durations are in milliseconds. */
export interface PoolSettings {
  /** Time to wait for a connection. @default 2000 */
  connectTimeoutMs?: number
  /** Time to wait for a query before failing it. @default 2000 */
  queryTimeoutMs?: number
  /** Maximum number of pooled connections. @default 10 */
  poolSize?: number
  /** Receives errors of idle pooled connections, which otherwise have no caller to reach. */
  onIdleError?: (error: Error) => void
}

/** Creates a pg pool with client-side timeouts, so that a cut network fails queries instead of hanging them. */
export function createPostgresPool(connectionString: string, settings: PoolSettings = {}): pg.Pool {
  const queryTimeoutMs = settings.queryTimeoutMs ?? 2000
  const pool = new pg.Pool({
    connectionString,
    max: settings.poolSize ?? 10,
    connectionTimeoutMillis: settings.connectTimeoutMs ?? 2000,
    // The client-side timeout also fires when the network path is cut and the server cannot reply.
    query_timeout: queryTimeoutMs,
    statement_timeout: queryTimeoutMs,
    keepAlive: true,
  })
  // An idle connection that breaks emits 'error' on the pool, and an unhandled 'error' would crash the process.
  pool.on('error', (error) => settings.onIdleError?.(error))
  return pool
}

/**
 * Returns a Kysely instance on `pool`. Destroying it ends the pool only when
 * `owned` is true: a pool that the application passed in stays open for it.
 */
export function kyselyOnPool(pool: pg.Pool, owned: boolean): Kysely<CutoffDatabase> {
  return new Kysely<CutoffDatabase>({ dialect: new PostgresDialect({ pool: discardBrokenConnections(pool, owned) }) })
}

/**
 * Tells a pg pool apart from other objects without `instanceof`, which fails
 * when the application's pg is another copy than jwt-logout's.
 */
export function isPostgresPool(value: unknown): value is pg.Pool {
  if (typeof value !== 'object' || value === null) return false
  const pool = value as Partial<pg.Pool>
  return typeof pool.connect === 'function' && typeof pool.query === 'function' && typeof pool.end === 'function' && 'totalCount' in pool
}

/**
 * Wraps `pool` so that a connection whose query failed without a reply from
 * the server (pg's client-side read timeout, a reset) is destroyed when Kysely
 * releases it. pg keeps such a client waiting for the lost reply, so reusing it
 * would time out every later query on it, even after the network recovers.
 */
function discardBrokenConnections(pool: pg.Pool, owned: boolean): PostgresPool {
  return {
    connect: async () => {
      const client = await pool.connect()
      let broken = false
      // pg emits 'error' on a checked-out client whose connection ends, besides failing its query.
      // The pool listens only to idle clients, so without this listener the error would crash the process.
      const markBroken = () => {
        broken = true
      }
      client.on('error', markBroken)
      const wrapped = {
        query: async (sqlText: string, parameters: readonly unknown[]) => {
          try {
            return await client.query(sqlText, [...parameters])
          } catch (error) {
            // A reply from the server (a DatabaseError, whichever copy of pg made it) leaves the connection in sync.
            if (!isServerError(error)) broken = true
            throw error
          }
        },
        release: (destroy?: boolean) => {
          client.off('error', markBroken)
          client.release(destroy === true || broken)
        },
      }
      // Kysely uses the cursor overload of query() only when the dialect has a `cursor` option, which is not set here.
      return wrapped as unknown as PostgresPoolClient
    },
    end: async () => {
      if (owned) await pool.end()
    },
  }
}

/** Checks whether `error` is an error reply from the server, which carries a SQLSTATE and a severity. */
function isServerError(error: unknown): boolean {
  if (error instanceof pg.DatabaseError) return true
  const { code, severity } = (error ?? {}) as { code?: unknown; severity?: unknown }
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && typeof severity === 'string'
}

/** Returns the connection string without its password, for logs. */
export function describePostgres(connectionString: string): string {
  try {
    const url = new URL(connectionString)
    if (url.password !== '') url.password = '***'
    return `PostgreSQL at ${url.toString()}`
  } catch {
    return 'PostgreSQL (connection string not shown)'
  }
}
