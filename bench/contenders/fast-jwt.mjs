// fast-jwt's synchronous verifier with its verified-token cache (1,000 entries, fast-jwt's default size).
import { createVerifier } from 'fast-jwt'

import { createApp, HS256_SECRET, listenAndReport, unauthorizedHandler } from '../common.mjs'

const verify = createVerifier({ key: HS256_SECRET, algorithms: ['HS256'], cache: true })

function verifyWithFastJwt(req, res, next) {
  const header = req.headers.authorization
  if (header === undefined || !header.startsWith('Bearer ')) return next(new Error('missing bearer token'))
  try {
    req.auth = verify(header.slice(7))
    next()
  } catch (error) {
    next(error)
  }
}

const app = createApp(verifyWithFastJwt)
app.use(unauthorizedHandler)
listenAndReport(app)
