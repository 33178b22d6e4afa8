import { PGlite } from '@electric-sql/pglite'
import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely'
import pg from 'pg'

import type { ListenOptions } from '../options.js'
import { lockDataDir } from './data-dir-lock.js'
import { PGliteDialect } from './pglite-dialect.js'
import type { CutoffDatabase } from './schema.js'

/** Location of the cutoffs: a PostgreSQL server, or an embedded PGlite database. */
export interface DatabaseSettings {
  /** PostgreSQL connection string. Without it, an embedded PGlite database is used. */
  databaseUrl?: string
  /** Folder of the embedded database; it keeps every logout across restarts. In memory when omitted. */
  dataDir?: string
  /**
   * Time to wait for a PostgreSQL connection, in milliseconds.
   * @default 2000
   */
  connectTimeoutMs?: number
  /**
   * Time to wait for a PostgreSQL query before failing it, in milliseconds.
   * @default 2000
   */
  queryTimeoutMs?: number
  /**
   * Maximum number of pooled PostgreSQL connections.
   * @default 10
   */
  poolSize?: number
  /**
   * Connection string of the LISTEN connection, when it must differ from
   * `databaseUrl`: PgBouncer in transaction mode does not carry LISTEN, so
   * point this at PostgreSQL itself or at a session-mode pooler.
   */
  listenUrl?: string
  /** Receives errors of idle pooled connections, which otherwise have no caller to reach. */
  onIdleError?: (error: Error) => void
}

/** An open database and how to close it. */
export interface OpenDatabase {
  db: Kysely<CutoffDatabase>
  kind: 'postgres' | 'pglite'
  /** Location of the data, without credentials, for logs. */
  description: string
  /** The `listen` option for createJwtLogout that reaches the same database. */
  listen: ListenOptions
  /** Closes the pool or the PGlite instance. */
  close(): Promise<void>
}

/** Opens the PostgreSQL server at `databaseUrl`, or else the embedded database. */
export async function openDatabase(settings: DatabaseSettings = {}): Promise<OpenDatabase> {
  if (settings.databaseUrl !== undefined && settings.databaseUrl !== '') return openPostgres(settings.databaseUrl, settings)
  return openPGlite(settings.dataDir)
}

function openPostgres(databaseUrl: string, settings: DatabaseSettings): OpenDatabase {
  const queryTimeoutMs = settings.queryTimeoutMs ?? 2000
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: settings.poolSize ?? 10,
    connectionTimeoutMillis: settings.connectTimeoutMs ?? 2000,
    // The client-side timeout also fires when the network path is cut and the server cannot reply.
    query_timeout: queryTimeoutMs,
    statement_timeout: queryTimeoutMs,
    keepAlive: true,
  })
  // An idle connection that breaks emits 'error' on the pool; unhandled, it would crash the process.
  pool.on('error', (error) => settings.onIdleError?.(error))

  const db = new Kysely<CutoffDatabase>({ dialect: new PostgresDialect({ pool: discardBrokenConnections(pool) }) })
  return {
    db,
    kind: 'postgres',
    description: describePostgres(databaseUrl),
    listen: { connectionString: settings.listenUrl || databaseUrl },
    close: () => db.destroy(),
  }
}

/**
 * Wraps `pool` so that a connection whose query failed without a reply from
 * the server (pg's client-side read timeout, a reset) is destroyed when Kysely
 * releases it. pg keeps such a client waiting for the lost reply, so reusing it
 * would time out every later query on it, even after the network recovers.
 */
function discardBrokenConnections(pool: pg.Pool): PostgresPool {
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
            // A DatabaseError is a reply from the server, so the connection is still in sync.
            if (!(error instanceof pg.DatabaseError)) broken = true
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
    end: () => pool.end(),
  }
}

async function openPGlite(dataDir: string | undefined): Promise<OpenDatabase> {
  const unlock = dataDir === undefined ? async () => {} : await lockDataDir(dataDir)
  let pglite: PGlite
  try {
    pglite = await PGlite.create(dataDir)
  } catch (error) {
    await unlock()
    throw error
  }

  const db = new Kysely<CutoffDatabase>({ dialect: new PGliteDialect(pglite) })
  return {
    db,
    kind: 'pglite',
    listen: { pglite },
    description: dataDir === undefined ? 'embedded PGlite in memory' : `embedded PGlite in ${dataDir}`,
    close: async () => {
      await db.destroy()
      await pglite.close()
      await unlock()
    },
  }
}

/** Returns the connection string without its password. */
function describePostgres(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl)
    if (url.password !== '') url.password = '***'
    return `PostgreSQL at ${url.toString()}`
  } catch {
    return 'PostgreSQL (connection string not shown)'
  }
}
