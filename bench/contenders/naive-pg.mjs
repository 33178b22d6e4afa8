// jose verification plus one query on user_logouts per request through a pg Pool: no cache.
import { jwtVerify } from 'jose'
import pg from 'pg'

import { createApp, HS256_SECRET, listenAndReport, requireEnv, unauthorizedHandler } from '../common.mjs'

const pool = new pg.Pool({ connectionString: requireEnv('DATABASE_URL'), max: 10 })
const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(HS256_SECRET), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify'])

async function verifyAndQuery(req, res, next) {
  const header = req.headers.authorization
  if (header === undefined || !header.startsWith('Bearer ')) return next(new Error('missing bearer token'))
  try {
    const { payload } = await jwtVerify(header.slice(7), key, { algorithms: ['HS256'] })
    const { rows } = await pool.query('select extract(epoch from logged_out_at) as cutoff from user_logouts where user_id = $1', [payload.sub])
    // A token issued in or before the cutoff's second is revoked, as with jwt-logout's foreign tokens.
    if (rows.length > 0 && payload.iat <= Number(rows[0].cutoff)) return next(new Error('token revoked'))
    req.auth = payload
    next()
  } catch (error) {
    next(error)
  }
}

const app = createApp(verifyAndQuery)
app.use(unauthorizedHandler)
listenAndReport(app)
