import { sql, type RawBuilder } from 'kysely'

/**
 * Formats microseconds since the epoch as an ISO 8601 UTC string with six
 * fractional digits, which PostgreSQL parses into `timestamptz` without loss.
 * (A float8 seconds value such as `to_timestamp($1)` has 15–16 significant
 * digits and can drop the last microsecond.)
 */
export function formatMicros(micros: number): string {
  const millis = Math.floor(micros / 1000)
  const extraMicros = micros - millis * 1000
  const iso = new Date(millis).toISOString() // 2026-12-04T20:04:39.123Z
  return `${iso.slice(0, -1)}${String(extraMicros).padStart(3, '0')}Z`
}

/**
 * Selects a timestamptz column as whole microseconds since the epoch, as `bigint`.
 * Exact from PostgreSQL 14 on, where `extract` returns `numeric`; before that it
 * returned float8, which can be off by a microsecond.
 */
export function micros(column: string): RawBuilder<string | number> {
  return sql<string | number>`(extract(epoch from ${sql.ref(column)}) * 1000000)::bigint`
}

/** Parses a `bigint` from the driver: node-postgres returns a string, PGlite a number. */
export function parseMicros(value: string | number | bigint): number {
  return Number(value)
}
