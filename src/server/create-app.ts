import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express'
import type { Logger } from 'pino'
import { pinoHttp } from 'pino-http'
import type { Registry } from 'prom-client'

import { JwtLogoutError } from '../errors/jwt-logout-error.js'
import type { JwtLogout } from '../jwt-logout.js'
import type { DemoUsers } from './demo-users.js'

/** Dependencies of the demo app. */
export interface AppDependencies {
  jwtLogout: JwtLogout
  users: DemoUsers
  logger: Logger
  /** Registry that GET /metrics serves in the Prometheus text format. Without it, the route does not exist. */
  metricsRegistry?: Registry
}

/**
 * Builds the runnable server's Express app, mounting jwt-logout the way an
 * application would: a login route that issues tokens, a protected route,
 * the two logout routes, a health check, the metrics and the error handlers.
 */
export function createApp({ jwtLogout, users, logger, metricsRegistry }: AppDependencies): Express {
  const app = express()
  app.disable('x-powered-by')
  app.use(pinoHttp({ logger, customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : 'info') }))

  // strict: false lets a JSON null or number through, so that it gets the same 400 as any other wrong body.
  app.post('/login', express.json({ limit: '16kb', strict: false }), createLogin(jwtLogout, users, 'body'))
  app.post('/login/cookie', express.json({ limit: '16kb', strict: false }), createLogin(jwtLogout, users, 'cookie'))
  app.get('/me', jwtLogout.requireAuth, (req, res) => {
    const { sub, sid, iat, exp, jti } = req.auth!
    res.json({ sub, sid, iat, exp, jti })
  })
  app.post('/logout', jwtLogout.logout)
  app.post('/logout-all', jwtLogout.logoutAll)
  app.get('/healthz', createHealthCheck(jwtLogout, logger))
  if (metricsRegistry !== undefined) app.get('/metrics', createMetricsRoute(metricsRegistry))

  app.use((req, res) => {
    res.status(404).json({ error: 'not_found', message: `No route for ${req.method} ${req.path}.` })
  })
  app.use(logServerErrors)
  app.use(jwtLogout.errorHandler)
  app.use(renderOtherErrors)
  return app
}

/**
 * Creates a login route. It returns the token as OAuth-style JSON, or, for
 * browsers, sets it as an HttpOnly cookie and responds with 204.
 */
function createLogin(jwtLogout: JwtLogout, users: DemoUsers, delivery: 'body' | 'cookie'): RequestHandler {
  return function login(req, res, next) {
    const body: unknown = req.body
    const username = (body as { username?: unknown } | undefined)?.username
    const password = (body as { password?: unknown } | undefined)?.password
    if (typeof username !== 'string' || typeof password !== 'string' || username === '' || password === '') {
      res.status(400).json({
        error: 'invalid_request',
        message: 'Send a JSON body {"username": "...", "password": "..."} with Content-Type: application/json.',
      })
      return
    }

    users
      .verify(username, password)
      .then(async (valid) => {
        if (!valid) {
          res.status(401).json({ error: 'invalid_credentials', message: 'The username or password is wrong.' })
          return
        }
        const issued = await jwtLogout.issueToken(username)
        if (delivery === 'cookie') {
          jwtLogout.setTokenCookie(res, issued)
          res.status(204).end()
          return
        }
        res.json({ access_token: issued.token, token_type: 'Bearer', expires_in: issued.expiresIn })
      })
      .catch(next)
  }
}

/**
 * Creates GET /healthz: 503 while the store fails, because no token can be
 * checked then; 200 otherwise, with status `degraded` while the invalidation
 * listener is down, because logouts elsewhere then reach this instance only
 * after the cache TTL.
 */
function createHealthCheck(jwtLogout: JwtLogout, logger: Logger): RequestHandler {
  return function healthCheck(_req, res, next) {
    jwtLogout
      .health()
      .then(({ store, listener, storeDetail }) => {
        if (store === 'unavailable') {
          logger.error({ store, listener }, `health check failed: ${storeDetail ?? 'the store is unavailable'}`)
          res.status(503).set('Retry-After', '1').json({ status: 'unavailable', store, listener })
          return
        }
        const status = listener === 'listening' || listener === 'disabled' ? 'ok' : 'degraded'
        res.json({ status, store, listener })
      })
      .catch(next)
  }
}

/** Creates GET /metrics, which serves every metric of `registry` in the Prometheus text format. */
function createMetricsRoute(registry: Registry): RequestHandler {
  return function serveMetrics(_req, res, next) {
    registry.metrics().then((text) => {
      res.set('Content-Type', registry.contentType).send(text)
    }, next)
  }
}

/** Logs the errors that become 5xx responses, with their cause. pino-http logs client errors. */
const logServerErrors: ErrorRequestHandler = (error, req, _res, next) => {
  const status = (error as { status?: unknown }).status
  if (!(typeof status === 'number' && status < 500)) {
    const detail = (error as { detail?: unknown }).detail
    req.log.error({ err: error, detail }, typeof detail === 'string' ? `request failed: ${detail}` : 'request failed')
  }
  next(error)
}

/** Renders errors that jwt-logout's handler passed on: body parsing failures and bugs. */
const renderOtherErrors: ErrorRequestHandler = (error, _req, res, next) => {
  if (res.headersSent) {
    next(error)
    return
  }
  const { status, type } = error as { status?: unknown; type?: unknown }
  if (type === 'entity.parse.failed') {
    res.status(400).json({ error: 'invalid_request', message: 'The request body is not valid JSON.' })
  } else if (type === 'entity.too.large') {
    res.status(413).json({ error: 'invalid_request', message: 'The request body is larger than 16 KB.' })
  } else if (typeof status === 'number' && status >= 400 && status < 500 && !(error instanceof JwtLogoutError)) {
    res.status(status).json({ error: 'invalid_request', message: (error as Error).message })
  } else {
    res.status(500).json({ error: 'internal_error', message: 'The server failed to handle the request; see its log.' })
  }
}
