import { jwtVerify } from 'jose'
import request from 'supertest'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'

import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases.js'
import { createTestApp, signToken, TEST_SECRET } from '../support/test-app.js'

/** Returns a clock frozen at `ms`, moved by assigning to `clock.ms`. */
function frozenClock(ms: number): { ms: number; now: () => number } {
  const clock = { ms, now: () => clock.ms }
  return clock
}

/** Start of a whole second, a little in the past so that tokens are not dated in the future. */
function startOfSecond(): number {
  return (Math.floor(Date.now() / 1000) - 5) * 1000
}

function bearer(token: string): [string, string] {
  return ['Authorization', `Bearer ${token}`]
}

describe.each(databaseKinds())('logout on %s', (kind) => {
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

  it('logout-all revokes and re-login works at once', async () => {
    const clock = frozenClock(startOfSecond() + 100)
    const { app, jwtLogout } = createTestApp(database, { now: clock.now })
    const before = await jwtLogout.issueToken('same-second')

    clock.ms += 300
    expect((await request(app).post('/logout-all').set(...bearer(before.token))).status).toBe(204)
    clock.ms += 300
    const after = await jwtLogout.issueToken('same-second')

    expect(after.issuedAt).toBe(before.issuedAt)
    const revoked = await request(app).get('/me').set(...bearer(before.token))
    expect(revoked.status).toBe(401)
    expect(revoked.body.error).toBe('token_revoked')
    expect((await request(app).get('/me').set(...bearer(after.token))).status).toBe(200)
  })

  it('orders logout and login within one millisecond', async () => {
    const clock = frozenClock(startOfSecond() + 500)
    const { app, jwtLogout } = createTestApp(database, { now: clock.now })

    const before = await jwtLogout.issueToken('same-millisecond')
    await jwtLogout.revokeUser('same-millisecond')
    const after = await jwtLogout.issueToken('same-millisecond')

    expect((await request(app).get('/me').set(...bearer(before.token))).status).toBe(401)
    expect((await request(app).get('/me').set(...bearer(after.token))).status).toBe(200)
  })

  it('rejects a token issued one second before', async () => {
    const clock = frozenClock(startOfSecond())
    const { app, jwtLogout } = createTestApp(database, { now: clock.now })
    const { token } = await jwtLogout.issueToken('one-second')

    clock.ms += 1000
    await jwtLogout.revokeUser('one-second')

    const response = await request(app).get('/me').set(...bearer(token))
    expect(response.status).toBe(401)
    expect(response.body.error).toBe('token_revoked')
  })

  it('fails closed for foreign integer iat', async () => {
    const second = startOfSecond()
    const clock = frozenClock(second + 100)
    const { app, jwtLogout } = createTestApp(database, { now: clock.now })
    const exp = second / 1000 + 600
    await jwtLogout.revokeUser('foreign')

    // Issued by another system 800 ms after the logout, but its whole-second iat cannot show that.
    clock.ms += 800
    const sameSecond = await signToken({ sub: 'foreign', iat: second / 1000, exp })
    clock.ms += 1000
    const nextSecond = await signToken({ sub: 'foreign', iat: second / 1000 + 1, exp })

    const sameResponse = await request(app).get('/me').set(...bearer(sameSecond))
    expect(sameResponse.status).toBe(401)
    expect(sameResponse.body.error).toBe('token_revoked')
    expect((await request(app).get('/me').set(...bearer(nextSecond))).status).toBe(200)
  })

  it('keeps working with maxTokenAge', async () => {
    const { app, jwtLogout } = createTestApp(database, { maxTokenAgeSeconds: 300 })
    const before = await jwtLogout.issueToken('max-age')

    await request(app).post('/logout-all').set(...bearer(before.token))
    const after = await jwtLogout.issueToken('max-age')

    expect((await request(app).get('/me').set(...bearer(before.token))).status).toBe(401)
    expect((await request(app).get('/me').set(...bearer(after.token))).status).toBe(200)
  })

  it('issues tokens that plain jose verifies', async () => {
    const { jwtLogout } = createTestApp(database)
    const { token } = await jwtLogout.issueToken('interop', { claims: { role: 'admin' } })

    const { payload } = await jwtVerify(token, new TextEncoder().encode(TEST_SECRET), { maxTokenAge: 60 })

    expect(Number.isInteger(payload.iat)).toBe(true)
    expect(payload.sub).toBe('interop')
    expect(payload.role).toBe('admin')
    expect(typeof payload.jti).toBe('string')
    expect(typeof payload.sid).toBe('string')
    expect(Math.floor((payload.iat_us as number) / 1_000_000)).toBe(payload.iat)
  })

  it('ends only the current session', async () => {
    const { app, jwtLogout } = createTestApp(database)
    const laptop = await jwtLogout.issueToken('two-devices')
    const phone = await jwtLogout.issueToken('two-devices')

    expect((await request(app).post('/logout').set(...bearer(laptop.token))).status).toBe(204)

    const laptopResponse = await request(app).get('/me').set(...bearer(laptop.token))
    expect(laptopResponse.status).toBe(401)
    expect(laptopResponse.body.error).toBe('token_revoked')
    expect((await request(app).get('/me').set(...bearer(phone.token))).status).toBe(200)
  })

  it('ends the session for other processes', async () => {
    const writer = createTestApp(database)
    const reader = createTestApp(database)
    const { token } = await writer.jwtLogout.issueToken('session-elsewhere')

    await request(writer.app).post('/logout').set(...bearer(token))

    expect((await request(reader.app).get('/me').set(...bearer(token))).status).toBe(401)
  })

  it('rejects logout without sid', async () => {
    const { app } = createTestApp(database)
    const now = Math.floor(Date.now() / 1000)
    const token = await signToken({ sub: 'no-sid', iat: now, exp: now + 60 })

    const response = await request(app).post('/logout').set(...bearer(token))

    expect(response.status).toBe(400)
    expect(response.body.error).toBe('missing_session_id')
    expect(response.body.message).toMatch(/use logout-all/)
    expect(response.headers['www-authenticate']).toMatch(/^Bearer error="invalid_request"/)
    expect((await request(app).get('/me').set(...bearer(token))).status).toBe(200)
  })

  it('repeats with a revoked token without writing', async () => {
    const { app, jwtLogout } = createTestApp(database)
    const old = await jwtLogout.issueToken('idempotent')
    await request(app).post('/logout-all').set(...bearer(old.token))
    const [first] = await database.execute("select logged_out_at::text as at from user_logouts where user_id = 'idempotent'")
    const fresh = await jwtLogout.issueToken('idempotent')
    database.queries.length = 0

    const again = await request(app).post('/logout-all').set(...bearer(old.token))
    const sessionAgain = await request(app).post('/logout').set(...bearer(old.token))

    expect(again.status).toBe(204)
    expect(sessionAgain.status).toBe(204)
    expect(database.queries.filter((query) => /^insert/i.test(query))).toEqual([])
    const [second] = await database.execute("select logged_out_at::text as at from user_logouts where user_id = 'idempotent'")
    expect(second).toEqual(first)
    expect((await request(app).get('/me').set(...bearer(fresh.token))).status).toBe(200)
  })

  it('rejects logout with a bad token', async () => {
    const { app } = createTestApp(database)
    const now = Math.floor(Date.now() / 1000)
    const expired = await signToken({ sub: 'expired', sid: 's', iat: now - 120, exp: now - 60 })
    const forged = await signToken({ sub: 'forged', sid: 's', iat: now, exp: now + 60 }, { secret: 'f'.repeat(40) })

    const expiredResponse = await request(app).post('/logout-all').set(...bearer(expired))
    const forgedResponse = await request(app).post('/logout').set(...bearer(forged))
    const missingResponse = await request(app).post('/logout-all')

    expect(expiredResponse.status).toBe(401)
    expect(expiredResponse.body.error).toBe('token_expired')
    expect(forgedResponse.status).toBe(401)
    expect(forgedResponse.body.error).toBe('invalid_token')
    expect(missingResponse.status).toBe(401)
    expect(missingResponse.body.error).toBe('missing_token')
    expect(database.queries.filter((query) => /^insert/i.test(query))).toEqual([])
  })

  it('keeps the session row until expiry', async () => {
    const { app, jwtLogout } = createTestApp(database, { tokenLifetimeSeconds: 600, clockToleranceSeconds: 5 })
    const issued = await jwtLogout.issueToken('row-expiry')

    await request(app).post('/logout').set(...bearer(issued.token))

    const [row] = await database.execute(
      "select extract(epoch from expires_at)::float8 as expires_at from session_logouts where user_id = 'row-expiry'",
    )
    expect(Number(row?.expires_at)).toBe(issued.expiresAt + 5)
  })

  it('revokes the presented token despite clock skew', async () => {
    // The token's issuer runs 2 s ahead of this process, within the clock tolerance.
    const { app } = createTestApp(database, { clockToleranceSeconds: 5 })
    const ahead = Math.floor(Date.now() / 1000) + 2
    const token = await signToken({ sub: 'skewed', sid: 's1', iat: ahead, iat_us: ahead * 1_000_000 + 999_999, exp: ahead + 60 })

    expect((await request(app).post('/logout').set(...bearer(token))).status).toBe(204)
    expect((await request(app).get('/me').set(...bearer(token))).status).toBe(401)
  })

  it('validates programmatic revocation arguments', async () => {
    const { jwtLogout } = createTestApp(database)

    await expect(jwtLogout.revokeUser('')).rejects.toThrow(/userId must be a non-empty string/)
    await expect(jwtLogout.revokeUser('a\u0000b')).rejects.toThrow(TypeError)
    await expect(jwtLogout.revokeSession('alice', 'sid', Number.NaN)).rejects.toThrow(/expiresAt must be a NumericDate/)
  })

  it('revokeSession ends one session', async () => {
    const { app, jwtLogout } = createTestApp(database)
    const first = await jwtLogout.issueToken('admin-ended')
    const second = await jwtLogout.issueToken('admin-ended')

    await jwtLogout.revokeSession('admin-ended', first.sessionId, first.expiresAt)

    expect((await request(app).get('/me').set(...bearer(first.token))).status).toBe(401)
    expect((await request(app).get('/me').set(...bearer(second.token))).status).toBe(200)
  })
})
