import express4 from 'express4'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { createJwtLogout } from '../../src/jwt-logout.js'
import { createTestDatabase, type TestDatabase } from '../support/databases.js'
import { TEST_SECRET } from '../support/test-app.js'

// Express 4 ignores rejected promises from handlers, so this checks that every
// path, the asynchronous failures included, reaches next() or sends a response.
describe('Express 4', () => {
  let database: TestDatabase

  beforeAll(async () => {
    database = await createTestDatabase('pglite')
  })
  afterAll(async () => {
    await database.close()
  })

  // The handlers are typed against Express 5's types, which TypeScript keeps apart from Express 4's.
  const asHandler = (handler: unknown) => handler as express4.RequestHandler

  function createApp() {
    const jwtLogout = createJwtLogout({ db: database.db, secret: TEST_SECRET })
    const app = express4()
    app.get('/me', asHandler(jwtLogout.requireAuth), (req, res) => {
      res.json((req as unknown as { auth: unknown }).auth)
    })
    app.post('/logout', asHandler(jwtLogout.logout))
    app.post('/logout-all', asHandler(jwtLogout.logoutAll))
    app.use(jwtLogout.errorHandler as unknown as express4.ErrorRequestHandler)
    return { app, jwtLogout }
  }

  it('runs the logout flow', async () => {
    const { app, jwtLogout } = createApp()
    const first = await jwtLogout.issueToken('express4-user')
    const second = await jwtLogout.issueToken('express4-user')

    const me = await request(app).get('/me').set('Authorization', `Bearer ${first.token}`)
    const logout = await request(app).post('/logout').set('Authorization', `Bearer ${first.token}`)
    const afterLogout = await request(app).get('/me').set('Authorization', `Bearer ${first.token}`)
    const otherSession = await request(app).get('/me').set('Authorization', `Bearer ${second.token}`)
    const logoutAll = await request(app).post('/logout-all').set('Authorization', `Bearer ${second.token}`)
    const afterLogoutAll = await request(app).get('/me').set('Authorization', `Bearer ${second.token}`)

    expect(me.status).toBe(200)
    expect(me.body.sub).toBe('express4-user')
    expect(logout.status).toBe(204)
    expect(afterLogout.body.error).toBe('token_revoked')
    expect(otherSession.status).toBe(200)
    expect(logoutAll.status).toBe(204)
    expect(afterLogoutAll.body.error).toBe('token_revoked')
  })

  it('renders asynchronous rejections', async () => {
    const { app } = createApp()

    const invalid = await request(app).get('/me').set('Authorization', 'Bearer a.b.c')
    const missing = await request(app).post('/logout-all')

    expect(invalid.status).toBe(401)
    expect(invalid.body.error).toBe('invalid_token')
    expect(missing.status).toBe(401)
    expect(missing.body.error).toBe('missing_token')
  })
})
