import request from 'supertest'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'

import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases.js'
import { countCutoffLookups, createTestApp, nowSeconds, signToken } from '../support/test-app.js'

describe.each(databaseKinds())('requireAuth on %s', (kind) => {
  let database: TestDatabase

  beforeAll(async () => {
    database = await createTestDatabase(kind)
  })
  afterAll(async () => {
    await database.close()
  })
  beforeEach(() => {
    database.queries.length = 0
  })

  it('sets req.auth for a valid token', async () => {
    const { app, jwtLogout } = createTestApp(database)
    const issued = await jwtLogout.issueToken('alice')

    const response = await request(app).get('/me').set('Authorization', `Bearer ${issued.token}`)

    expect(response.status).toBe(200)
    expect(response.body.sub).toBe('alice')
    expect(response.body.sid).toBe(issued.sessionId)
    expect(response.body.iat).toBe(issued.issuedAt)
    expect(response.body.exp).toBe(issued.expiresAt)
  })

  it.each([
    ['no header', undefined, 'missing_token'],
    ['empty header', '', 'missing_token'],
    ['Basic scheme', 'Basic YWxpY2U6cGFzcw==', 'missing_token'],
    ['Bearer without token', 'Bearer', 'missing_token'],
    ['two tokens', 'Bearer a.b.c d.e.f', 'invalid_token'],
    ['junk token', 'Bearer not-a-jwt', 'invalid_token'],
  ])('rejects %s', async (_name, header, code) => {
    const { app } = createTestApp(database)

    const call = request(app).get('/me')
    if (header !== undefined) call.set('Authorization', header)
    const response = await call

    expect(response.status).toBe(401)
    expect(response.body.error).toBe(code)
    expect(typeof response.body.message).toBe('string')
    expect(countCutoffLookups(database.queries)).toBe(0)
  })

  it('sends the RFC 6750 challenge', async () => {
    const { app } = createTestApp(database, { realm: 'api' })

    const missing = await request(app).get('/me')
    const invalid = await request(app).get('/me').set('Authorization', 'Bearer junk')

    expect(missing.headers['www-authenticate']).toBe('Bearer realm="api"')
    expect(invalid.headers['www-authenticate']).toBe(
      'Bearer realm="api", error="invalid_token", error_description="The token is malformed: expected a signed JWT in compact form."',
    )
  })

  it('accepts a lowercase scheme and padding', async () => {
    const { app, jwtLogout } = createTestApp(database)
    const { token } = await jwtLogout.issueToken('alice')

    const response = await request(app).get('/me').set('Authorization', `  bearer   ${token}  `)

    expect(response.status).toBe(200)
  })

  it('rejects a NUL byte in sub without querying', async () => {
    const { app } = createTestApp(database)
    const token = await signToken({ sub: 'bad\u0000user', iat: nowSeconds(), exp: nowSeconds() + 60 })

    const response = await request(app).get('/me').set('Authorization', `Bearer ${token}`)

    expect(response.status).toBe(401)
    expect(response.body.error).toBe('invalid_token')
    expect(response.body.message).toMatch(/NUL character/)
    expect(countCutoffLookups(database.queries)).toBe(0)
  })

  it('rejects expired, unsigned and claimless tokens', async () => {
    const { app } = createTestApp(database)
    const now = nowSeconds()
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')
    const cases: Array<[string, string]> = [
      [await signToken({ sub: 'alice', iat: now - 100, exp: now - 1 }), 'token_expired'],
      [`${encode({ alg: 'none' })}.${encode({ sub: 'alice', iat: now, exp: now + 60 })}.`, 'invalid_token'],
      [await signToken({ iat: now, exp: now + 60 }), 'invalid_token'],
      [await signToken({ sub: 'alice', exp: now + 60 }), 'invalid_token'],
      [await signToken({ sub: 'alice', iat: now, exp: now + 60 }, { secret: 'x'.repeat(40) }), 'invalid_token'],
    ]

    for (const [token, code] of cases) {
      const response = await request(app).get('/me').set('Authorization', `Bearer ${token}`)
      expect(response.status, code).toBe(401)
      expect(response.body.error).toBe(code)
    }
    expect(countCutoffLookups(database.queries)).toBe(0)
  })

  it('serves repeat requests from the cache', async () => {
    const { app, jwtLogout } = createTestApp(database)
    const { token } = await jwtLogout.issueToken('cached-user')

    for (let i = 0; i < 5; i++) {
      const response = await request(app).get('/me').set('Authorization', `Bearer ${token}`)
      expect(response.status).toBe(200)
    }

    expect(countCutoffLookups(database.queries)).toBe(1)
  })

  it('shares one query among concurrent misses', async () => {
    const { app, jwtLogout } = createTestApp(database)
    const { token } = await jwtLogout.issueToken('concurrent-user')

    const responses = await Promise.all(
      Array.from({ length: 10 }, () => request(app).get('/me').set('Authorization', `Bearer ${token}`)),
    )

    expect(responses.map((response) => response.status)).toEqual(Array(10).fill(200))
    expect(countCutoffLookups(database.queries)).toBe(1)
  })

  it('sees a revocation by this process at once', async () => {
    const { app, jwtLogout } = createTestApp(database, { cacheTtlMs: 3_600_000 })
    const { token } = await jwtLogout.issueToken('revoked-at-once')
    expect((await request(app).get('/me').set('Authorization', `Bearer ${token}`)).status).toBe(200)

    await jwtLogout.revokeUser('revoked-at-once')
    const response = await request(app).get('/me').set('Authorization', `Bearer ${token}`)

    expect(response.status).toBe(401)
    expect(response.body.error).toBe('token_revoked')
    expect(countCutoffLookups(database.queries)).toBe(1)
  })

  it('rereads the store after the TTL', async () => {
    let now = Date.now()
    const clock = () => now
    const writer = createTestApp(database)
    const reader = createTestApp(database, { cacheTtlMs: 10_000, now: clock })
    const { token } = await reader.jwtLogout.issueToken('ttl-user')
    expect((await request(reader.app).get('/me').set('Authorization', `Bearer ${token}`)).status).toBe(200)

    await writer.jwtLogout.revokeUser('ttl-user')
    const withinTtl = await request(reader.app).get('/me').set('Authorization', `Bearer ${token}`)
    now += 10_001
    const afterTtl = await request(reader.app).get('/me').set('Authorization', `Bearer ${token}`)

    expect(withinTtl.status).toBe(200)
    expect(afterTtl.status).toBe(401)
    expect(afterTtl.body.error).toBe('token_revoked')
  })

  it('caches users without a cutoff', async () => {
    const { app, jwtLogout } = createTestApp(database)
    const tokens = await Promise.all(['n1', 'n2', 'n3'].map((user) => jwtLogout.issueToken(user)))

    for (let round = 0; round < 3; round++) {
      for (const { token } of tokens) {
        expect((await request(app).get('/me').set('Authorization', `Bearer ${token}`)).status).toBe(200)
      }
    }

    expect(countCutoffLookups(database.queries)).toBe(3)
  })
})
