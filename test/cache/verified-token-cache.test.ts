import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases.js'
import { createTestApp, nowSeconds, signToken } from '../support/test-app.js'

function bearer(token: string): [string, string] {
  return ['Authorization', `Bearer ${token}`]
}

describe.each(databaseKinds())('verified-token cache on %s', (kind) => {
  let database: TestDatabase

  beforeAll(async () => {
    database = await createTestDatabase(kind)
  })
  afterAll(async () => {
    await database.close()
  })

  it('skips re-verifying a cached token', async () => {
    const { app, jwtLogout } = createTestApp(database, { tokenCacheMaxTokens: 100 })
    const { token } = await jwtLogout.issueToken('cached-token-user')

    for (let i = 0; i < 5; i++) {
      expect((await request(app).get('/me').set(...bearer(token))).status).toBe(200)
    }

    expect(jwtLogout.stats()).toEqual({ tokenVerifications: 1, tokenCacheHits: 4 })
  })

  it('verifies every time when off', async () => {
    const { app, jwtLogout } = createTestApp(database)
    const { token } = await jwtLogout.issueToken('uncached-token-user')

    for (let i = 0; i < 3; i++) await request(app).get('/me').set(...bearer(token))

    expect(jwtLogout.stats()).toEqual({ tokenVerifications: 3, tokenCacheHits: 0 })
  })

  it('rejects a cached token after logout-all', async () => {
    const { app, jwtLogout } = createTestApp(database, { tokenCacheMaxTokens: 100 })
    const { token } = await jwtLogout.issueToken('cached-then-revoked')
    expect((await request(app).get('/me').set(...bearer(token))).status).toBe(200)

    await request(app).post('/logout-all').set(...bearer(token))
    const response = await request(app).get('/me').set(...bearer(token))

    expect(response.status).toBe(401)
    expect(response.body.error).toBe('token_revoked')
    expect(jwtLogout.stats().tokenCacheHits).toBe(2)
  })

  it('drops a token at its exp', async () => {
    let now = Date.now()
    const { app, jwtLogout } = createTestApp(database, { tokenCacheMaxTokens: 100, tokenLifetimeSeconds: 60, now: () => now })
    const issued = await jwtLogout.issueToken('expiring-token-user')
    expect((await request(app).get('/me').set(...bearer(issued.token))).status).toBe(200)

    now = issued.expiresAt * 1000 - 1
    const beforeExp = await request(app).get('/me').set(...bearer(issued.token))
    now = issued.expiresAt * 1000
    const atExp = await request(app).get('/me').set(...bearer(issued.token))

    expect(beforeExp.status).toBe(200)
    expect(atExp.status).toBe(401)
    expect(atExp.body.error).toBe('token_expired')
    expect(jwtLogout.stats()).toEqual({ tokenVerifications: 2, tokenCacheHits: 1 })
  })

  it('drops a token at its maximum age', async () => {
    let now = Date.now()
    const { app, jwtLogout } = createTestApp(database, {
      tokenCacheMaxTokens: 100,
      tokenLifetimeSeconds: 3600,
      maxTokenAgeSeconds: 60,
      now: () => now,
    })
    const issued = await jwtLogout.issueToken('old-token-user')
    expect((await request(app).get('/me').set(...bearer(issued.token))).status).toBe(200)

    now = (issued.issuedAt + 61) * 1000
    const tooOld = await request(app).get('/me').set(...bearer(issued.token))

    expect(tooOld.status).toBe(401)
    expect(tooOld.body.error).toBe('token_expired')
    expect(jwtLogout.stats().tokenVerifications).toBe(2)
  })

  it('never caches a rejected token', async () => {
    const { app, jwtLogout } = createTestApp(database, { tokenCacheMaxTokens: 100 })
    const forged = await signToken({ sub: 'forged', iat: nowSeconds(), exp: nowSeconds() + 60 }, { secret: 'z'.repeat(40) })

    for (let i = 0; i < 3; i++) {
      expect((await request(app).get('/me').set(...bearer(forged))).body.error).toBe('invalid_token')
    }

    expect(jwtLogout.stats()).toEqual({ tokenVerifications: 3, tokenCacheHits: 0 })
  })

  it('evicts beyond its size', async () => {
    const { app, jwtLogout } = createTestApp(database, { tokenCacheMaxTokens: 2 })
    const tokens = await Promise.all(['e1', 'e2', 'e3'].map((user) => jwtLogout.issueToken(user)))

    for (const { token } of tokens) await request(app).get('/me').set(...bearer(token))
    await request(app).get('/me').set(...bearer(tokens[0]!.token))

    // e1 was evicted by e3, so it is verified again.
    expect(jwtLogout.stats()).toEqual({ tokenVerifications: 4, tokenCacheHits: 0 })
  })

  it('rejects an invalid size', () => {
    expect(() => createTestApp(database, { tokenCacheMaxTokens: -1 })).toThrow(/tokenCacheMaxTokens must be a positive integer, got -1/)
  })
})
