import { describe, expect, it } from 'vitest'

import { createJwtLogout } from '../src/jwt-logout.js'
import type { JwtLogoutOptions } from '../src/options.js'
import { TEST_SECRET } from './support/test-app.js'

/** Stands in for a Kysely instance: option checks never query it. */
const db = { selectFrom: () => undefined } as unknown as JwtLogoutOptions['db']

describe('createJwtLogout options', () => {
  it.each<[string, Record<string, unknown>, RegExp]>([
    ['missing db', { db: undefined }, /db is missing: pass the Kysely instance/],
    ['a pg pool as db', { db: { query: () => undefined } }, /db is missing/],
    ['unknown option', { cacheTTL: 5 }, /Unknown option "cacheTTL"; check its spelling/],
    ['zero cache size', { cacheMaxUsers: 0 }, /cacheMaxUsers must be a positive integer, got 0/],
    ['fractional TTL', { cacheTtlMs: 1.5 }, /cacheTtlMs must be a positive integer, got 1.5/],
    ['realm with a quote', { realm: 'a"b' }, /realm must be a string of printable ASCII/],
    ['non-function clock', { now: 5 }, /now must be a function/],
    ['short secret', { secret: 'short' }, /secret is 5 bytes long/],
    ['negative stale-if-error', { staleIfErrorMs: -1 }, /staleIfErrorMs must be a positive integer, got -1/],
    ['listen as a string', { listen: 'postgres://127.0.0.1/db' }, /listen must be \{ connectionString \} for PostgreSQL or \{ pglite \}/],
    ['listen without URL', { listen: { connectionString: '' } }, /listen.connectionString must be a PostgreSQL connection string/],
    ['listen with bad keepalive', { listen: { connectionString: 'postgres://127.0.0.1/db', keepaliveIntervalMs: 0 } }, /listen.keepaliveIntervalMs must be a positive integer, got 0/],
    ['listen with a non-PGlite', { listen: { pglite: {} } }, /listen.pglite must be the PGlite instance/],
    ['uppercase channel', { notifyChannel: 'Logouts' }, /notifyChannel must be a lowercase identifier/],
    ['channel with a quote', { notifyChannel: 'a"b' }, /notifyChannel must be a lowercase identifier/],
    ['logger without warn', { logger: { info() {}, error() {} } }, /logger must have info, warn and error methods/],
  ])('rejects %s', (_name, overrides, message) => {
    const options = { db, secret: TEST_SECRET, ...overrides } as JwtLogoutOptions

    expect(() => createJwtLogout(options)).toThrow(TypeError)
    expect(() => createJwtLogout(options)).toThrow(message)
  })

  it('rejects a missing options object', () => {
    expect(() => createJwtLogout(undefined as unknown as JwtLogoutOptions)).toThrow(/expects an options object/)
  })

  it('accepts zero stale-if-error', () => {
    expect(() => createJwtLogout({ db, secret: TEST_SECRET, staleIfErrorMs: 0 })).not.toThrow()
  })

  it('accepts the minimal options', () => {
    const jwtLogout = createJwtLogout({ db, secret: TEST_SECRET })

    expect(typeof jwtLogout.requireAuth).toBe('function')
    expect(typeof jwtLogout.errorHandler).toBe('function')
  })
})
