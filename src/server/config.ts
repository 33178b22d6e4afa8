import { randomBytes } from 'node:crypto'
import { resolve } from 'node:path'

import { checkSchemaName } from '../store/schema.js'

/** A setting of the runnable server is missing or invalid; the message names the variable. */
export class ConfigError extends Error {
  readonly code = 'invalid_config'
  /** The environment variable at fault. */
  readonly variable: string

  constructor(variable: string, message: string) {
    super(`${variable}: ${message}`)
    this.name = 'ConfigError'
    this.variable = variable
  }
}

/** The runnable server's settings, read from the environment; see .env.example. */
export interface ServerConfig {
  port: number
  host: string
  /** PostgreSQL connection string; undefined selects the embedded database. */
  databaseUrl: string | undefined
  /** Connection string of the LISTEN connection; undefined reuses databaseUrl. */
  databaseListenUrl: string | undefined
  /** Schema of the jwt-logout tables; undefined uses the search_path. */
  databaseSchema: string | undefined
  /** Absolute folder of the embedded database. */
  dataDir: string
  jwtSecret: string
  /** True when JWT_SECRET was unset and a random secret was generated. */
  jwtSecretGenerated: boolean
  tokenLifetimeSeconds: number
  cacheMaxUsers: number
  cacheTtlMs: number
  cacheStaleIfErrorMs: number
  /** Size of the verified-token cache; 0 turns it off. */
  tokenCacheMaxTokens: number
  /** Interval of the pruning of expired session rows, in milliseconds; 0 turns it off. */
  pruneIntervalMs: number
  databaseConnectTimeoutMs: number
  databaseQueryTimeoutMs: number
  migrateOnStart: boolean
  /** Name of the token cookie that POST /login/cookie sets. */
  cookieName: string
  /** Whether that cookie is sent over HTTPS only (browsers treat http://localhost as secure). */
  cookieSecure: boolean
  /** `name:password` pairs. */
  demoUsers: string
  logLevel: string
  /**
   * Whether GET /metrics serves Prometheus metrics. It has no
   * authentication, so turn it off, or block the path at the proxy, when the
   * server's port is reachable from outside a private network.
   */
  metricsEnabled: boolean
}

/** Lifetime of issued tokens when TOKEN_LIFETIME_SECONDS is unset, in seconds; the CLI uses it too. */
export const DEFAULT_TOKEN_LIFETIME_SECONDS = 900

/** Largest TOKEN_LIFETIME_SECONDS: 365 days, in seconds. */
export const MAX_TOKEN_LIFETIME_SECONDS = 31_536_000

/** The two demo users that .env.example also lists, used when DEMO_USERS is unset. */
export const DEFAULT_DEMO_USERS = 'alice:alice-password,bob:bob-password'

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

/** Reads and validates the server's settings. @throws ConfigError naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv): ServerConfig {
  const jwtSecret = env.JWT_SECRET
  if (jwtSecret !== undefined && jwtSecret !== '' && Buffer.byteLength(jwtSecret) < 32) {
    throw new ConfigError('JWT_SECRET', 'must be at least 32 bytes long for HS256; generate one with: openssl rand -base64 48')
  }

  const logLevel = env.LOG_LEVEL || 'info'
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(logLevel)}`)
  }

  return {
    port: readInteger(env, 'PORT', 3000, 0, 65_535),
    host: env.HOST || '127.0.0.1',
    databaseUrl: env.DATABASE_URL || undefined,
    databaseListenUrl: env.DATABASE_LISTEN_URL || undefined,
    databaseSchema: readSchema(env),
    dataDir: resolve(env.DATA_DIR || 'data'),
    jwtSecret: jwtSecret || randomBytes(48).toString('base64'),
    jwtSecretGenerated: !jwtSecret,
    tokenLifetimeSeconds: readInteger(env, 'TOKEN_LIFETIME_SECONDS', DEFAULT_TOKEN_LIFETIME_SECONDS, 1, MAX_TOKEN_LIFETIME_SECONDS),
    cacheMaxUsers: readInteger(env, 'CACHE_MAX_USERS', 10_000, 1, Number.MAX_SAFE_INTEGER),
    cacheTtlMs: readInteger(env, 'CACHE_TTL_MS', 10_000, 1, Number.MAX_SAFE_INTEGER),
    cacheStaleIfErrorMs: readInteger(env, 'CACHE_STALE_IF_ERROR_MS', 0, 0, Number.MAX_SAFE_INTEGER),
    tokenCacheMaxTokens: readInteger(env, 'TOKEN_CACHE_MAX_TOKENS', 10_000, 0, Number.MAX_SAFE_INTEGER),
    // setInterval takes at most 2^31 - 1 ms (about 24.8 days).
    pruneIntervalMs: readInteger(env, 'PRUNE_INTERVAL_MS', 3_600_000, 0, 2_147_483_647),
    databaseConnectTimeoutMs: readInteger(env, 'DATABASE_CONNECT_TIMEOUT_MS', 2000, 1, 600_000),
    databaseQueryTimeoutMs: readInteger(env, 'DATABASE_QUERY_TIMEOUT_MS', 2000, 1, 600_000),
    migrateOnStart: readBoolean(env, 'MIGRATE_ON_START', true),
    cookieName: readCookieName(env),
    cookieSecure: readBoolean(env, 'COOKIE_SECURE', true),
    demoUsers: env.DEMO_USERS || DEFAULT_DEMO_USERS,
    logLevel,
    metricsEnabled: readBoolean(env, 'METRICS_ENABLED', true),
  }
}

function readSchema(env: NodeJS.ProcessEnv): string | undefined {
  try {
    return checkSchemaName(env.DATABASE_SCHEMA || undefined, 'DATABASE_SCHEMA')
  } catch (error) {
    throw new ConfigError('DATABASE_SCHEMA', (error as Error).message.replace(/^DATABASE_SCHEMA /, ''))
  }
}

function readInteger(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const text = env[name]
  if (text === undefined || text === '') return fallback

  const value = Number(text)
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(name, `must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`)
  }
  return value
}

function readCookieName(env: NodeJS.ProcessEnv): string {
  const name = env.COOKIE_NAME || 'access_token'
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) {
    throw new ConfigError('COOKIE_NAME', `must be a cookie name of letters, digits and !#$%&'*+-.^_\`|~, got ${JSON.stringify(name)}`)
  }
  return name
}

function readBoolean(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const text = env[name]?.trim().toLowerCase()
  if (text === undefined || text === '') return fallback
  if (['1', 'true', 'yes'].includes(text)) return true
  if (['0', 'false', 'no'].includes(text)) return false
  throw new ConfigError(name, `must be true or false, got ${JSON.stringify(env[name])}`)
}
