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
  ])('rejects %s', (_name, overrides, message) => {
    const options = { db, secret: TEST_SECRET, ...overrides } as JwtLogoutOptions

    expect(() => createJwtLogout(options)).toThrow(TypeError)
    expect(() => createJwtLogout(options)).toThrow(message)
  })

  it('rejects a missing options object', () => {
    expect(() => createJwtLogout(undefined as unknown as JwtLogoutOptions)).toThrow(/expects an options object/)
  })

  it('accepts the minimal options', () => {
    const jwtLogout = createJwtLogout({ db, secret: TEST_SECRET })

    expect(typeof jwtLogout.requireAuth).toBe('function')
    expect(typeof jwtLogout.errorHandler).toBe('function')
  })
})
