import type { Express } from 'express'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { createJwtLogout, type JwtLogout } from '../../src/jwt-logout.js'
import { readCookie, resolveCookieOptions } from '../../src/express/cookie.js'
import type { CookieOptions } from '../../src/express/cookie.js'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases.js'
import { express } from '../support/express.js'
import { TEST_SECRET } from '../support/test-app.js'

const COOKIE: CookieOptions = { name: 'session_token', path: '/api', domain: 'app.test', sameSite: 'strict' }

function createCookieApp(database: TestDatabase): { app: Express; jwtLogout: JwtLogout } {
  const jwtLogout = createJwtLogout({ db: database.db, secret: TEST_SECRET, cookie: COOKIE })
  const app = express()
  app.post('/api/login', async (_req, res, next) => {
    try {
      jwtLogout.setTokenCookie(res, await jwtLogout.issueToken('cookie-user'))
      res.status(204).end()
    } catch (error) {
      next(error)
    }
  })
  app.get('/api/me', jwtLogout.requireAuth, (req, res) => {
    res.json(req.auth)
  })
  app.post('/api/logout', jwtLogout.logout)
  app.post('/api/logout-all', jwtLogout.logoutAll)
  app.use(jwtLogout.errorHandler)
  return { app, jwtLogout }
}

/** Returns the `name=value` part of a Set-Cookie header. */
function cookiePair(setCookie: string): string {
  return setCookie.split(';')[0]!
}

describe.each(databaseKinds())('cookie mode on %s', (kind) => {
  let database: TestDatabase

  beforeAll(async () => {
    database = await createTestDatabase(kind)
  })
  afterAll(async () => {
    await database.close()
  })

  it('sets the cookie at login', async () => {
    const { app } = createCookieApp(database)

    const response = await request(app).post('/api/login')
    const setCookie = response.headers['set-cookie'] as unknown as string[]

    expect(response.status).toBe(204)
    expect(setCookie).toHaveLength(1)
    expect(setCookie[0]).toMatch(/^session_token=[\w-]+\.[\w-]+\.[\w-]+; Path=\/api; Domain=app.test; Max-Age=900; Expires=/)
    expect(setCookie[0]).toMatch(/; HttpOnly; Secure; SameSite=Strict$/)
  })

  it('passes a late cookie error to next', async () => {
    const { jwtLogout } = createCookieApp(database)
    const { token } = await jwtLogout.issueToken('late-user')
    const errors: unknown[] = []
    const app = express()
    // A middleware that responds before the logout handler runs, as a timeout middleware may.
    app.post('/api/logout', (_req, res, next) => {
      res.status(202).end()
      next()
    }, jwtLogout.logout)
    app.use((error: unknown, _req: unknown, _res: unknown, next: (error?: unknown) => void) => {
      errors.push(error)
      next()
    })

    const response = await request(app).post('/api/logout').set('Cookie', `${COOKIE.name}=${token}`)

    expect(response.status).toBe(202)
    const deadline = Date.now() + 5000
    while (errors.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
    expect(errors).toHaveLength(1)
    expect((errors[0] as { code?: string }).code).toBe('ERR_HTTP_HEADERS_SENT')
  })

  it('authenticates with the cookie', async () => {
    const { app } = createCookieApp(database)
    const login = await request(app).post('/api/login')
    const cookie = cookiePair((login.headers['set-cookie'] as unknown as string[])[0]!)

    const response = await request(app).get('/api/me').set('Cookie', `other=1; ${cookie}`)

    expect(response.status).toBe(200)
    expect(response.body.sub).toBe('cookie-user')
  })

  it('prefers the Authorization header', async () => {
    const { app, jwtLogout } = createCookieApp(database)
    const headerToken = await jwtLogout.issueToken('header-user')

    const response = await request(app)
      .get('/api/me')
      .set('Authorization', `Bearer ${headerToken.token}`)
      .set('Cookie', 'session_token=not-a-token')

    expect(response.status).toBe(200)
    expect(response.body.sub).toBe('header-user')
  })

  it('rejects a request without either', async () => {
    const { app } = createCookieApp(database)

    const response = await request(app).get('/api/me').set('Cookie', 'unrelated=1')

    expect(response.status).toBe(401)
    expect(response.body.error).toBe('missing_token')
    expect(response.body.message).toBe('The request has neither an Authorization header nor the session_token cookie; log in first.')
  })

  it.each(['/api/logout', '/api/logout-all'])('%s clears the cookie', async (path) => {
    const { app } = createCookieApp(database)
    const login = await request(app).post('/api/login')
    const cookie = cookiePair((login.headers['set-cookie'] as unknown as string[])[0]!)

    const logout = await request(app).post(path).set('Cookie', cookie)
    const after = await request(app).get('/api/me').set('Cookie', cookie)

    expect(logout.status).toBe(204)
    expect(logout.headers['set-cookie']).toEqual([
      'session_token=; Path=/api; Domain=app.test; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Strict',
    ])
    expect(after.status).toBe(401)
    expect(after.body.error).toBe('token_revoked')
  })

  it('rejects a forged cookie', async () => {
    const { app } = createCookieApp(database)

    const response = await request(app).get('/api/me').set('Cookie', 'session_token=a.b.c')

    expect(response.status).toBe(401)
    expect(response.body.error).toBe('invalid_token')
  })
})

describe('readCookie', () => {
  it.each<[string | undefined, string | undefined]>([
    [undefined, undefined],
    ['', undefined],
    ['a=1', undefined],
    ['token=abc', 'abc'],
    ['a=1; token=abc; b=2', 'abc'],
    ['token="abc"', 'abc'],
    ['mytoken=x; token=y', 'y'],
    ['token=first; token=second', 'first'],
    ['token', undefined],
  ])('reads %j', (header, expected) => {
    expect(readCookie(header, 'token')).toBe(expected)
  })
})

describe('cookie options', () => {
  it.each<[string, unknown, RegExp]>([
    ['a missing name', {}, /cookie.name must be a cookie name/],
    ['a name with a space', { name: 'a b' }, /cookie.name must be a cookie name/],
    ['a relative path', { name: 't', path: 'api' }, /cookie.path must start with \//],
    ['a path with a semicolon', { name: 't', path: '/a;b' }, /cookie.path must start with \/ and contain no ';'/],
    ['an unknown SameSite', { name: 't', sameSite: 'loose' }, /cookie.sameSite must be 'strict', 'lax' or 'none'/],
    ['SameSite none without Secure', { name: 't', sameSite: 'none', secure: false }, /cookie.sameSite 'none' needs cookie.secure/],
    ['a string', 'token', /cookie must be an object/],
  ])('rejects %s', (_name, cookie, message) => {
    expect(() => resolveCookieOptions(cookie)).toThrow(TypeError)
    expect(() => resolveCookieOptions(cookie)).toThrow(message)
  })

  it('fills in defaults', () => {
    expect(resolveCookieOptions({ name: 't' })).toEqual({
      name: 't',
      path: '/',
      domain: undefined,
      sameSite: 'lax',
      secure: true,
      httpOnly: true,
    })
  })

  it('requires the option for setTokenCookie', async () => {
    // The pool for this loopback address is never used, so it never connects.
    const jwtLogout = createJwtLogout({ db: 'postgres://127.0.0.1:1/unused', secret: TEST_SECRET })

    expect(() => jwtLogout.setTokenCookie({} as never, {} as never)).toThrow('setTokenCookie needs the cookie option')
    await jwtLogout.close()
  })
})
