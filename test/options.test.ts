import { describe, expect, it } from 'vitest'

import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from 'kysely'

import { createJwtLogout } from '../src/jwt-logout.js'
import type { JwtLogoutOptions } from '../src/options.js'
import { TEST_SECRET } from './support/test-app.js'

/** A Kysely instance whose driver runs nothing: option checks never query it. */
const db = new Kysely<any>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (kysely) => new PostgresIntrospector(kysely),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
})

describe('createJwtLogout options', () => {
  it.each<[string, Record<string, unknown>, RegExp]>([
    ['missing db', { db: undefined }, /db is missing: pass the Kysely instance, pg pool or connection string/],
    ['an object that is no pool as db', { db: { query: () => undefined } }, /db must be a Kysely instance, a pg.Pool or a postgres:\/\/ connection string, got an object of class Object/],
    ['a number as db', { db: 5432 }, /db must be a Kysely instance.*got number/],
    ['a MySQL URL as db', { db: 'mysql://root:hunter2@127.0.0.1/app' }, /db must be a connection string such as postgres:\/\/user@host:5432\/database; got a string that is not a PostgreSQL URL/],
    ['an empty schema', { schema: '' }, /schema must be a schema name of 1 to 63 bytes without NUL characters, got ""/],
    ['a 64-byte schema', { schema: 'a'.repeat(64) }, /schema must be a schema name of 1 to 63 bytes/],
    ['a schema with NUL', { schema: 'auth\u0000' }, /schema must be a schema name/],
    ['listen: true on a Kysely instance', { listen: true }, /listen needs a connectionString when db is a Kysely instance/],
    ['an unknown listen option', { listen: { connectionString: 'postgres://127.0.0.1/db', keepAliveMs: 5 } }, /Unknown option listen.keepAliveMs; the options are connectionString, connectTimeoutMs/],
    ['unknown option', { cacheTTL: 5 }, /Unknown option "cacheTTL". Check its spelling./],
    ['misspelled listen', { lisen: true }, /Unknown option "lisen". Did you mean "listen"\?/],
    ['zero cache size', { cacheMaxUsers: 0 }, /cacheMaxUsers must be a positive integer, got 0/],
    ['fractional TTL', { cacheTtlMs: 1.5 }, /cacheTtlMs must be a positive integer, got 1.5/],
    ['realm with a quote', { realm: 'a"b' }, /realm must be a string of printable ASCII/],
    ['non-function clock', { now: 5 }, /now must be a function/],
    ['short secret', { secret: 'short' }, /secret is 5 bytes long/],
    ['negative stale-if-error', { staleIfErrorMs: -1 }, /staleIfErrorMs must be a positive integer, got -1/],
    ['listen as a string', { listen: 'postgres://127.0.0.1/db' }, /listen must be true, \{ connectionString \} for PostgreSQL or \{ pglite \}/],
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
