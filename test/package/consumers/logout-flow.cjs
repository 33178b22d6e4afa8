'use strict'

// Shared by the ESM and the CommonJS consumer. It is CommonJS so that both can
// load it, and it takes the library and express as arguments so that each
// consumer loads them its own way.

const { once } = require('node:events')

const SECRET = 'consumer-test-secret-0123456789abcdefghijklmnopqr'
const REQUEST_TIMEOUT_MS = 10_000

/**
 * Runs login, a protected request, logout and the same request again on an
 * in-memory PGlite database, and returns what each step observed.
 */
async function runLogoutFlow(library, express) {
  const { createJwtLogout, openDatabase, migrateToLatest } = library

  const database = await openDatabase()
  let jwtLogout
  let server
  try {
    const migrations = await migrateToLatest(database.db)
    jwtLogout = createJwtLogout({ db: database.db, secret: SECRET, listen: database.listen })

    const app = express()
    app.get('/me', jwtLogout.requireAuth, (req, res) => {
      res.json({ sub: req.auth.sub })
    })
    app.post('/logout', jwtLogout.logout)
    app.use(jwtLogout.errorHandler)
    server = app.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const baseUrl = `http://127.0.0.1:${server.address().port}`

    const { token } = await jwtLogout.issueToken('alice')
    const headers = { authorization: `Bearer ${token}` }
    const before = await request(`${baseUrl}/me`, { headers })
    const logout = await request(`${baseUrl}/logout`, { method: 'POST', headers })
    const after = await request(`${baseUrl}/me`, { headers })
    const rejection = await jwtLogout.authenticate(token).then(
      () => undefined,
      (error) => error,
    )

    return {
      migrations: migrations.map((result) => `${result.migrationName} ${result.status}`),
      beforeLogout: before,
      logout,
      afterLogout: after,
      rejection: describeRejection(rejection, library),
    }
  } finally {
    if (server !== undefined) {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
    await jwtLogout?.close()
    await database.close()
  }
}

/** Sends one request and returns its status, WWW-Authenticate header and JSON body (null when empty). */
async function request(url, init) {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
  const text = await response.text()
  return {
    status: response.status,
    challenge: response.headers.get('www-authenticate'),
    body: text === '' ? null : JSON.parse(text),
  }
}

/** Describes the error that `authenticate` rejected with, checked against the library's classes. */
function describeRejection(error, library) {
  if (error === undefined) return null
  return {
    name: error.name,
    code: error.code,
    status: error.status,
    isUnauthorizedError: error instanceof library.UnauthorizedError,
    isJwtLogoutError: error instanceof library.JwtLogoutError,
  }
}

module.exports = { runLogoutFlow }
