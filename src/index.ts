// PGlite's declarations, which the public types reach, use the global Emscripten
// namespace without loading it, so this directive loads it whatever the app's `types` setting.
/// <reference types="emscripten" preserve="true" />
import './express/request-auth.js'

export { createJwtLogout, type Health, type JwtLogout } from './jwt-logout.js'
export type { JwtLogoutOptions, ListenOptions } from './options.js'
export type { CookieOptions } from './express/cookie.js'
export { KeySetUnavailableError } from './errors/key-set-unavailable-error.js'
export type { Algorithm, HmacAlgorithm } from './token/algorithms.js'
export type { Logger } from './logger.js'
export type { MetricsSnapshot, RevocationKind } from './metrics/metrics-recorder.js'
export type { HistogramSnapshot } from './metrics/duration-histogram.js'
export type { ListenerState } from './invalidation/cutoff-listener.js'
export { DEFAULT_CHANNEL } from './invalidation/notification.js'
export { pruneExpiredSessions, type PruneDatabaseOptions, type PruneOptions } from './store/prune.js'
export type { Clock } from './clock.js'
export type { TokenOptions } from './token/token-options.js'
export { ISSUED_AT_MICROS_CLAIM, type VerifiedClaims, type VerifiedToken } from './token/claims.js'
export type { IssuedToken, IssueTokenOptions } from './token/token-issuer.js'
export { JwtLogoutError, type ErrorCode } from './errors/jwt-logout-error.js'
export { UnauthorizedError, type UnauthorizedCode } from './errors/unauthorized-error.js'
export { InvalidRequestError, type InvalidRequestCode } from './errors/invalid-request-error.js'
export { StoreUnavailableError } from './errors/store-unavailable-error.js'
export type { CutoffDatabase, SessionLogoutsTable, UserLogoutsTable } from './store/schema.js'
export {
  MIGRATION_LOCK_TABLE,
  MIGRATION_TABLE,
  MigrationError,
  createMigrator,
  migrateDown,
  migrateToLatest,
  migrationStatus,
  pendingMigrations,
  type MigrationOptions,
  type MigrationStatus,
} from './store/migrations.js'
export { schemaSql, type SchemaSqlOptions } from './store/schema-sql.js'
export type { DatabaseInput } from './store/database-input.js'
export { PGliteDialect } from './store/pglite-dialect.js'
export { openDatabase, type DatabaseSettings, type OpenDatabase } from './store/open-database.js'
export { DataDirLockedError } from './store/data-dir-lock.js'
