import type { Express } from 'express'
import { decodeJwt } from 'jose'
import { pino } from 'pino'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { createJwtLogout } from '../../src/jwt-logout.js'
import { createApp } from '../../src/server/create-app.js'
import { DemoUsers } from '../../src/server/demo-users.js'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases.js'

/** HS256 secret of this file's apps: 48 bytes. */
const SECRET = 'demo-app-test-secret-0123456789-abcdefghijklmnop'

const USERS = 'alice:alice-password,bob:bob-password'

describe.each(databaseKinds())('demo app on %s', (kind) => {
  let database: TestDatabase
  let app: Express

  beforeAll(async () => {
    database = await createTestDatabase(kind)
    app = buildApp(database, DemoUsers.parse(USERS))
  })

  afterAll(async () => {
    await database?.close()
  })

  /** Logs `username` in and returns the access token. */
  async function login(username: string): Promise<string> {
    const response = await request(app).post('/login').send({ username, password: `${username}-password` })
    expect(response.status).toBe(200)
    return (response.body as { access_token: string }).access_token
  }

  function getMe(token: string): request.Test {
    return request(app).get('/me').set('Authorization', `Bearer ${token}`)
  }

  describe('POST /login', () => {
    it('accepts valid credentials', async () => {
      const response = await request(app).post('/login').send({ username: 'alice', password: 'alice-password' })
      expect(response.status).toBe(200)
    })

    it('returns a bearer token', async () => {
      const response = await request(app).post('/login').send({ username: 'alice', password: 'alice-password' })
      expect(response.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 900 })
    })

    it('issues a token for the user', async () => {
      const token = await login('bob')
      expect(decodeJwt(token).sub).toBe('bob')
    })

    it('rejects a wrong password', async () => {
      const response = await request(app).post('/login').send({ username: 'alice', password: 'bob-password' })
      expect(response.status).toBe(401)
      expect(response.body).toEqual({ error: 'invalid_credentials', message: 'The username or password is wrong.' })
    })

    it('rejects an unknown user', async () => {
      const response = await request(app).post('/login').send({ username: 'carol', password: 'alice-password' })
      expect(response.status).toBe(401)
      expect(response.body).toEqual({ error: 'invalid_credentials', message: 'The username or password is wrong.' })
    })

    it.each([
      { case: 'empty object', body: {} },
      { case: 'missing password', body: { username: 'alice' } },
      { case: 'missing username', body: { password: 'alice-password' } },
      { case: 'empty username', body: { username: '', password: 'alice-password' } },
      { case: 'empty password', body: { username: 'alice', password: '' } },
      { case: 'numeric password', body: { username: 'alice', password: 123 } },
      { case: 'array body', body: [] },
    ])('rejects $case', async ({ body }) => {
      const response = await request(app).post('/login').send(body)
      expect(response.status).toBe(400)
      expect(response.body).toEqual({
        error: 'invalid_request',
        message: 'Send a JSON body {"username": "...", "password": "..."} with Content-Type: application/json.',
      })
    })

    it('rejects a non-JSON content type', async () => {
      const response = await request(app)
        .post('/login')
        .type('form')
        .send('username=alice&password=alice-password')
      expect(response.status).toBe(400)
      expect(response.body.error).toBe('invalid_request')
    })

    it('rejects a body without content type', async () => {
      const response = await request(app).post('/login')
      expect(response.status).toBe(400)
      expect(response.body.error).toBe('invalid_request')
    })

    it('rejects malformed JSON', async () => {
      const response = await request(app).post('/login').type('json').send('{"username": "alice",')
      expect(response.status).toBe(400)
      expect(response.body).toEqual({ error: 'invalid_request', message: 'The request body is not valid JSON.' })
    })

    it.each(['null', '42', '"alice"', '[]'])('rejects JSON %s as the body', async (body) => {
      const response = await request(app).post('/login').type('json').send(body)
      expect(response.status).toBe(400)
      expect(response.body.error).toBe('invalid_request')
      expect(response.body.message).toMatch(/^Send a JSON body/)
    })

    it('rejects a body over 16 KB', async () => {
      const body = { username: 'alice', password: 'x'.repeat(17 * 1024) }
      const response = await request(app).post('/login').send(body)
      expect(response.status).toBe(413)
      expect(response.body).toEqual({ error: 'invalid_request', message: 'The request body is larger than 16 KB.' })
    })

    it('rejects an unsupported charset', async () => {
      const response = await request(app)
        .post('/login')
        .set('Content-Type', 'application/json; charset=x-unknown')
        .send('{"username": "alice", "password": "alice-password"}')
      expect(response.status).toBe(415)
      expect(response.body.error).toBe('invalid_request')
    })
  })

  describe('GET /me', () => {
    it('returns the token claims', async () => {
      const response = await getMe(await login('alice'))
      expect(response.status).toBe(200)
      expect(response.body).toEqual({
        sub: 'alice',
        sid: expect.any(String),
        iat: expect.any(Number),
        exp: expect.any(Number),
        jti: expect.any(String),
      })
    })

    it('sets exp to iat plus 900', async () => {
      const response = await getMe(await login('alice'))
      expect(response.body.exp - response.body.iat).toBe(900)
    })

    it('rejects a missing token', async () => {
      const response = await request(app).get('/me')
      expect(response.status).toBe(401)
      expect(response.body.error).toBe('missing_token')
    })

    it('challenges a missing token', async () => {
      const response = await request(app).get('/me')
      expect(response.headers['www-authenticate']).toBe('Bearer')
    })

    it('rejects a malformed token', async () => {
      const response = await getMe('not-a-jwt')
      expect(response.status).toBe(401)
      expect(response.body.error).toBe('invalid_token')
    })

    it('challenges a malformed token', async () => {
      const response = await getMe('not-a-jwt')
      expect(response.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token", error_description="/)
    })
  })

  describe('POST /logout-all', () => {
    it('returns 204', async () => {
      const response = await request(app).post('/logout-all').set('Authorization', `Bearer ${await login('alice')}`)
      expect(response.status).toBe(204)
    })

    it('revokes every token of the user', async () => {
      const first = await login('alice')
      const second = await login('alice')
      await request(app).post('/logout-all').set('Authorization', `Bearer ${first}`).expect(204)

      const response = await getMe(second)
      expect(response.status).toBe(401)
      expect(response.body.error).toBe('token_revoked')
    })

    it('keeps other users logged in', async () => {
      const alice = await login('alice')
      const bob = await login('bob')
      await request(app).post('/logout-all').set('Authorization', `Bearer ${alice}`).expect(204)

      const response = await getMe(bob)
      expect(response.status).toBe(200)
    })

    it('lets a new login in at once', async () => {
      const old = await login('alice')
      await request(app).post('/logout-all').set('Authorization', `Bearer ${old}`).expect(204)

      const response = await getMe(await login('alice'))
      expect(response.status).toBe(200)
    })

    it('requires a token', async () => {
      const response = await request(app).post('/logout-all')
      expect(response.status).toBe(401)
      expect(response.body.error).toBe('missing_token')
    })
  })

  describe('POST /logout', () => {
    it('revokes only its session', async () => {
      const first = await login('bob')
      const second = await login('bob')
      await request(app).post('/logout').set('Authorization', `Bearer ${first}`).expect(204)

      const revoked = await getMe(first)
      expect(revoked.status).toBe(401)
      expect(revoked.body.error).toBe('token_revoked')

      const other = await getMe(second)
      expect(other.status).toBe(200)
    })

    it('requires a token', async () => {
      const response = await request(app).post('/logout')
      expect(response.status).toBe(401)
      expect(response.body.error).toBe('missing_token')
    })
  })

  describe('repeated logout with revoked token', () => {
    let revoked: string
    let active: string

    beforeAll(async () => {
      revoked = await login('bob')
      active = await login('bob')
      await request(app).post('/logout').set('Authorization', `Bearer ${revoked}`).expect(204)
    })

    it('logout returns 204', async () => {
      const response = await request(app).post('/logout').set('Authorization', `Bearer ${revoked}`)
      expect(response.status).toBe(204)
    })

    it('logout-all returns 204', async () => {
      const response = await request(app).post('/logout-all').set('Authorization', `Bearer ${revoked}`)
      expect(response.status).toBe(204)
    })

    it('leaves other sessions alone', async () => {
      // A revoked token must not be able to end the user's other sessions.
      await request(app).post('/logout-all').set('Authorization', `Bearer ${revoked}`).expect(204)

      const response = await getMe(active)
      expect(response.status).toBe(200)
    })
  })

  describe('POST /login/cookie', () => {
    it('sets the token cookie', async () => {
      const response = await request(app).post('/login/cookie').send({ username: 'bob', password: 'bob-password' })
      const setCookie = (response.headers['set-cookie'] as unknown as string[])[0]

      expect(response.status).toBe(204)
      expect(setCookie).toMatch(/^access_token=[\w-]+\.[\w-]+\.[\w-]+; Path=\/; Max-Age=900; Expires=.*; HttpOnly; Secure; SameSite=Lax$/)
    })

    it('rejects wrong credentials', async () => {
      const response = await request(app).post('/login/cookie').send({ username: 'bob', password: 'wrong' })

      expect(response.status).toBe(401)
      expect(response.body.error).toBe('invalid_credentials')
      expect(response.headers['set-cookie']).toBeUndefined()
    })

    it('serves /me and clears on logout', async () => {
      const login = await request(app).post('/login/cookie').send({ username: 'bob', password: 'bob-password' })
      const cookie = (login.headers['set-cookie'] as unknown as string[])[0]!.split(';')[0]!

      const me = await request(app).get('/me').set('Cookie', cookie)
      const logout = await request(app).post('/logout').set('Cookie', cookie)
      const after = await request(app).get('/me').set('Cookie', cookie)

      expect(me.status).toBe(200)
      expect(me.body.sub).toBe('bob')
      expect(logout.status).toBe(204)
      expect(logout.headers['set-cookie']).toEqual([
        'access_token=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax',
      ])
      expect(after.body.error).toBe('token_revoked')
    })
  })

  describe('GET /healthz', () => {
    it('reports the store ok', async () => {
      const response = await request(app).get('/healthz')
      expect(response.status).toBe(200)
      expect(response.body).toEqual({ status: 'ok', store: 'ok', listener: 'disabled' })
    })
  })

  describe('unknown route', () => {
    it('returns 404 JSON', async () => {
      const response = await request(app).get('/nope')
      expect(response.status).toBe(404)
      expect(response.body).toEqual({ error: 'not_found', message: 'No route for GET /nope.' })
    })

    it('returns 404 for GET /login', async () => {
      const response = await request(app).get('/login')
      expect(response.status).toBe(404)
      expect(response.body.error).toBe('not_found')
    })
  })

  describe('login after logout-all in the same second', () => {
    // A frozen clock puts the logout and the next login in the same millisecond.
    let frozenApp: Express

    beforeAll(() => {
      const frozenAt = Date.now()
      frozenApp = buildApp(database, DemoUsers.parse('carol:carol-password'), () => frozenAt)
    })

    it('accepts the new token', async () => {
      const credentials = { username: 'carol', password: 'carol-password' }
      const old = (await request(frozenApp).post('/login').send(credentials).expect(200)).body.access_token as string
      await request(frozenApp).post('/logout-all').set('Authorization', `Bearer ${old}`).expect(204)
      const fresh = (await request(frozenApp).post('/login').send(credentials).expect(200)).body.access_token as string

      expect(decodeJwt(fresh).iat).toBe(decodeJwt(old).iat)

      const oldResponse = await request(frozenApp).get('/me').set('Authorization', `Bearer ${old}`)
      expect(oldResponse.status).toBe(401)
      expect(oldResponse.body.error).toBe('token_revoked')

      const freshResponse = await request(frozenApp).get('/me').set('Authorization', `Bearer ${fresh}`)
      expect(freshResponse.status).toBe(200)
    })
  })
})

function buildApp(database: TestDatabase, users: DemoUsers, now?: () => number): Express {
  // The same cookie settings as the runnable server's defaults.
  const jwtLogout = createJwtLogout({
    db: database.db,
    secret: SECRET,
    cookie: { name: 'access_token' },
    ...(now === undefined ? {} : { now }),
  })
  return createApp({ jwtLogout, users, logger: pino({ level: 'silent' }) })
}
