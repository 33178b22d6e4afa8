// jose jwtVerify as a minimal middleware; the HMAC key is imported once as a CryptoKey.
import { jwtVerify } from 'jose'

import { createApp, HS256_SECRET, listenAndReport, unauthorizedHandler } from '../common.mjs'

const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(HS256_SECRET), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify'])

async function verifyWithJose(req, res, next) {
  const header = req.headers.authorization
  if (header === undefined || !header.startsWith('Bearer ')) return next(new Error('missing bearer token'))
  try {
    const { payload } = await jwtVerify(header.slice(7), key, { algorithms: ['HS256'] })
    req.auth = payload
    next()
  } catch (error) {
    next(error)
  }
}

const app = createApp(verifyWithJose)
app.use(unauthorizedHandler)
listenAndReport(app)
