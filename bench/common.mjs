// Helpers shared by the harness and the contender processes.
import express from 'express'

/** HMAC secret of every HS256 contender: 49 bytes, above the 32 that jwt-logout requires for HS256. */
export const HS256_SECRET = 'bench-secret-0123456789abcdefghijklmnopqrstuvwxyz'

/** Reads a required environment variable or exits with a message naming it. */
export function requireEnv(name) {
  const value = process.env[name]
  if (value === undefined || value === '') {
    console.error(`${name} is missing: the harness bench/run.mjs sets it when it starts this contender`)
    process.exit(2)
  }
  return value
}

/** Creates an Express app with the JSON route GET /me behind `middleware` (none when omitted). */
export function createApp(middleware) {
  const app = express()
  app.disable('etag')
  const handlers = middleware === undefined ? [] : [middleware]
  app.get('/me', ...handlers, (req, res) => {
    res.json({ sub: req.auth?.sub ?? 'anonymous' })
  })
  return app
}

/**
 * Listens on a free port of 127.0.0.1 and sends the port to the harness over
 * the IPC channel of `fork()`. The harness starts the load only after this message.
 */
export function listenAndReport(app) {
  const server = app.listen(0, '127.0.0.1', () => {
    process.send({ port: server.address().port })
  })
  server.keepAliveTimeout = 60_000
  process.on('disconnect', () => process.exit(0))
  return server
}

/** Error handler of the verification-only contenders: responds with the error's `status`, or 401 when it has none. */
export function unauthorizedHandler(error, req, res, next) {
  res.status(error.status ?? 401).json({ error: 'unauthorized' })
}
