// An Express app with its own pg pool and its own migrations, with jwt-logout
// added: the pool is shared, the tables live in the `auth` schema, and
// jwt-logout's middleware and logout routes sit next to the app's routes.
import { scrypt, timingSafeEqual } from 'node:crypto'
import { promisify } from 'node:util'

import express from 'express'
import { createJwtLogout } from 'jwt-logout'

const scryptAsync = promisify(scrypt)

/**
 * Builds the app on the application's pool.
 * @param {import('pg').Pool} pool
 * @param {{ secret: string, logger?: import('jwt-logout').Logger }} settings
 */
export function createApp(pool, { secret, logger }) {
  const auth = createJwtLogout({
    db: pool, // reused: jwt-logout never ends a pool it did not open
    schema: 'auth', // where 002_create_jwt_logout_tables.sql put the tables
    secret,
    listen: true, // one extra connection, opened with the pool's settings, receives logouts from other instances
    logger,
  })

  const app = express()
  app.post('/login', express.json(), async (req, res, next) => {
    try {
      const { username, password } = req.body ?? {}
      if (typeof username !== 'string' || typeof password !== 'string') {
        res.status(400).json({ error: 'invalid_request', message: 'Send {"username": "...", "password": "..."} as JSON.' })
        return
      }
      const { rows } = await pool.query('select password_hash from accounts where username = $1', [username])
      if (rows.length === 0 || !(await passwordMatches(password, rows[0].password_hash))) {
        res.status(401).json({ error: 'invalid_credentials', message: 'The username or password is wrong.' })
        return
      }
      const { token, expiresIn } = await auth.issueToken(username)
      res.json({ access_token: token, token_type: 'Bearer', expires_in: expiresIn })
    } catch (error) {
      next(error)
    }
  })
  app.get('/orders', auth.requireAuth, (req, res) => {
    res.json({ user: req.auth.sub, orders: [] })
  })
  app.post('/logout', auth.logout)
  app.post('/logout-all', auth.logoutAll)

  app.use((req, res) => {
    res.status(404).json({ error: 'not_found', message: `No route for ${req.method} ${req.path}.` })
  })
  // jwt-logout renders its own errors (401, 400, 503); the app renders the rest, also as JSON.
  app.use(auth.errorHandler)
  app.use(renderAppErrors)
  return { app, auth }
}

/** Renders errors that jwt-logout passed on: a body that is not JSON (400 from express.json) or a bug (500). */
function renderAppErrors(error, _req, res, _next) {
  if (error.type === 'entity.parse.failed') {
    res.status(400).json({ error: 'invalid_request', message: 'The body is not valid JSON.' })
    return
  }
  console.error(error)
  res.status(500).json({ error: 'server_error', message: 'Something went wrong; try again later.' })
}

/** Checks `password` against a stored `scrypt$<salt>$<key>` hash in constant time. */
async function passwordMatches(password, stored) {
  const [scheme, salt, keyHex] = stored.split('$')
  if (scheme !== 'scrypt') return false
  const expected = Buffer.from(keyHex, 'hex')
  const actual = await scryptAsync(password, salt, expected.length)
  return timingSafeEqual(actual, expected)
}
