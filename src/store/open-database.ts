import { PGlite } from '@electric-sql/pglite'
import { Kysely } from 'kysely'

import type { ListenOptions } from '../options.js'
import { lockDataDir } from './data-dir-lock.js'
import { PGliteDialect } from './pglite-dialect.js'
import { createPostgresPool, describePostgres, kyselyOnPool, type PoolSettings } from './postgres-pool.js'
import type { CutoffDatabase } from './schema.js'

/** Location of the cutoffs: a PostgreSQL server, or an embedded PGlite database. */
export interface DatabaseSettings extends PoolSettings {
  /** PostgreSQL connection string. Without it, an embedded PGlite database is used. */
  databaseUrl?: string
  /** Folder of the embedded database; it keeps every logout across restarts. In memory when omitted. */
  dataDir?: string
  /**
   * Connection string of the LISTEN connection, when it must differ from
   * `databaseUrl`: PgBouncer in transaction mode does not carry LISTEN, so
   * point this at PostgreSQL itself or at a session-mode pooler.
   */
  listenUrl?: string
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
  const db = kyselyOnPool(createPostgresPool(databaseUrl, settings), true)
  return {
    db,
    kind: 'postgres',
    description: describePostgres(databaseUrl),
    listen: { connectionString: settings.listenUrl || databaseUrl },
    close: () => db.destroy(),
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
