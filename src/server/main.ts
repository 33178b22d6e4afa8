#!/usr/bin/env node
import { existsSync } from 'node:fs'
import type { Server, ServerResponse } from 'node:http'

import { pino, type Logger } from 'pino'

import { createJwtLogout, type JwtLogout } from '../jwt-logout.js'
import { migrateToLatest, pendingMigrations } from '../store/migrations.js'
import { openDatabase, type OpenDatabase } from '../store/open-database.js'
import { ConfigError, loadConfig, type ServerConfig } from './config.js'
import { createApp } from './create-app.js'
import { DemoUsers } from './demo-users.js'
import { createMetricsRegistry } from './metrics-registry.js'

/** Header and cookie values are credentials; pino replaces them in every log line. */
const REDACTED_PATHS = ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]']

async function main(): Promise<void> {
  const logger = pino({ level: 'info', redact: REDACTED_PATHS })

  // Variables already set in the environment win over the file.
  if (existsSync('.env')) {
    process.loadEnvFile('.env')
    logger.info('read settings from .env')
  }

  let config: ServerConfig
  let users: DemoUsers
  try {
    config = loadConfig(process.env)
    users = DemoUsers.parse(config.demoUsers)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    logger.fatal(`Invalid configuration: ${error.message}`)
    process.exitCode = 2
    return
  }
  logger.level = config.logLevel
  if (config.jwtSecretGenerated) {
    logger.warn('JWT_SECRET is not set, so a random secret was generated: tokens stop working when the server restarts')
  }

  let database: OpenDatabase
  try {
    database = await openDatabase({
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      connectTimeoutMs: config.databaseConnectTimeoutMs,
      queryTimeoutMs: config.databaseQueryTimeoutMs,
      listenUrl: config.databaseListenUrl,
      onIdleError: (error) => logger.error({ err: error }, 'an idle database connection failed'),
    })
  } catch (error) {
    logger.fatal({ err: error }, `Opening the database failed: ${(error as Error).message}`)
    process.exitCode = 1
    return
  }
  try {
    if (config.migrateOnStart) {
      await migrate(database, config.databaseSchema, logger)
    } else {
      await checkMigrations(database, config.databaseSchema)
    }
  } catch (error) {
    const action = config.migrateOnStart ? 'Migrating' : 'Checking the migrations of'
    logger.fatal({ err: error }, `${action} ${database.description} failed: ${(error as Error).message}`)
    await database.close()
    process.exitCode = 1
    return
  }

  const jwtLogout = createJwtLogout({
    db: database.db,
    schema: config.databaseSchema,
    secret: config.jwtSecret,
    tokenLifetimeSeconds: config.tokenLifetimeSeconds,
    cacheMaxUsers: config.cacheMaxUsers,
    cacheTtlMs: config.cacheTtlMs,
    staleIfErrorMs: config.cacheStaleIfErrorMs,
    tokenCacheMaxTokens: config.tokenCacheMaxTokens,
    listen: database.listen,
    logger,
    cookie: { name: config.cookieName, secure: config.cookieSecure },
  })
  const metricsRegistry = config.metricsEnabled ? createMetricsRegistry(jwtLogout) : undefined
  const app = createApp({ jwtLogout, users, logger, metricsRegistry })
  const pruneTimer = startPruning(jwtLogout, config.pruneIntervalMs, logger)

  const server = app.listen(config.port, config.host)
  const openResponses = trackOpenResponses(server, () => stopping !== undefined)
  // A second signal during shutdown must not close the database twice.
  let stopping: Promise<void> | undefined
  server.once('listening', () => {
    const address = server.address()
    const port = typeof address === 'object' && address !== null ? address.port : config.port
    logger.info(
      { url: `http://${formatHost(config.host)}:${port}`, database: database.description, users: users.names, metrics: config.metricsEnabled },
      'jwt-logout server started',
    )
  })
  server.once('error', (error) => {
    logger.fatal({ err: error }, `Failed to listen on ${config.host}:${config.port}; set PORT to a free port`)
    void database.close().finally(() => (process.exitCode = 1))
  })

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      clearInterval(pruneTimer)
      stopping ??= shutdown(server, openResponses, jwtLogout, database, logger, signal).catch((error: unknown) => {
        logger.error({ err: error }, 'jwt-logout server failed to stop cleanly')
        process.exitCode = 1
      })
    })
  }
}

async function migrate(database: OpenDatabase, schema: string | undefined, logger: Logger): Promise<void> {
  const results = await migrateToLatest(database.db, { schema })
  for (const result of results) logger.info({ migration: result.migrationName }, 'migration applied')
}

/** Fails start-up when migrations are pending, instead of responding to every request with 503. */
async function checkMigrations(database: OpenDatabase, schema: string | undefined): Promise<void> {
  const pending = await pendingMigrations(database.db, { schema })
  if (pending.length > 0) {
    throw new Error(
      `migrations ${pending.join(', ')} are not applied; run \`npx jwt-logout migrate up${schema === undefined ? '' : ` --schema ${quoteForShell(schema)}`}\` or set MIGRATE_ON_START=true`,
    )
  }
}

/** Returns `value` as one shell word: as it is when it is a plain identifier, else in single quotes. */
function quoteForShell(value: string): string {
  return /^[A-Za-z0-9_]+$/.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`
}

/** Prunes expired session rows every `intervalMs`; returns the timer, or undefined when pruning is off. */
function startPruning(jwtLogout: JwtLogout, intervalMs: number, logger: Logger): NodeJS.Timeout | undefined {
  if (intervalMs === 0) return undefined

  const timer = setInterval(() => {
    jwtLogout.pruneExpiredSessions().then(
      (deleted) => logger.info({ deleted }, 'pruned expired session cutoffs'),
      (error: unknown) => logger.error({ err: error, detail: (error as { detail?: unknown }).detail }, 'pruning expired session cutoffs failed'),
    )
  }, intervalMs)
  timer.unref()
  return timer
}

/**
 * Stops accepting connections, lets requests in flight finish, then closes the
 * invalidation listener and the database.
 */
async function shutdown(
  server: Server,
  openResponses: ReadonlySet<ServerResponse>,
  jwtLogout: JwtLogout,
  database: OpenDatabase,
  logger: Logger,
  signal: string,
): Promise<void> {
  logger.info({ signal }, 'jwt-logout server stopping')
  for (const res of openResponses) closeConnectionAfter(res)
  server.closeIdleConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  await jwtLogout.close()
  await database.close()
  logger.info('jwt-logout server stopped')
}

/**
 * Records the responses not yet sent. Once `isStopping()` returns true, every
 * response requests that its connection close. server.close() closes only the
 * connections idle at the time, so a keep-alive client could otherwise go on
 * sending requests and keep the process from exiting.
 */
function trackOpenResponses(server: Server, isStopping: () => boolean): Set<ServerResponse> {
  const openResponses = new Set<ServerResponse>()
  // Prepended, so that it runs before the app can send the headers.
  server.prependListener('request', (_req, res) => {
    if (isStopping()) closeConnectionAfter(res)
    openResponses.add(res)
    res.once('close', () => openResponses.delete(res))
  })
  return openResponses
}

/** Makes Node close the connection once `res` is sent, unless its headers are already out. */
function closeConnectionAfter(res: ServerResponse): void {
  if (!res.headersSent) res.setHeader('Connection', 'close')
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host
}

await main()
