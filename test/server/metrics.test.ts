import type { Express } from 'express'
import { pino } from 'pino'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { createJwtLogout } from '../../src/jwt-logout.js'
import { createApp } from '../../src/server/create-app.js'
import { DemoUsers } from '../../src/server/demo-users.js'
import { createMetricsRegistry } from '../../src/server/metrics-registry.js'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases.js'
import { hideCutoffTables } from '../metrics/hidden-tables.js'

/** HS256 secret of this file's apps: 48 bytes. */
const SECRET = 'metrics-route-test-secret-0123456789-abcdefghijk'

const USERS = DemoUsers.parse('alice:alice-password,bob:bob-password')

const JWT_LOGOUT_METRICS = [
  ['jwt_logout_requests_accepted_total', 'counter'],
  ['jwt_logout_requests_rejected_total', 'counter'],
  ['jwt_logout_cache_hits_total', 'counter'],
  ['jwt_logout_cache_misses_total', 'counter'],
  ['jwt_logout_store_errors_total', 'counter'],
  ['jwt_logout_cutoff_lookup_duration_seconds', 'histogram'],
  ['jwt_logout_revocations_total', 'counter'],
  ['jwt_logout_token_verifications_total', 'counter'],
  ['jwt_logout_token_cache_hits_total', 'counter'],
] as const

const ERROR_CODES = [
  'missing_token',
  'invalid_token',
  'token_expired',
  'token_revoked',
  'invalid_request',
  'missing_session_id',
  'store_unavailable',
  'key_set_unavailable',
]

/**
 * Parses the samples of a Prometheus text exposition into a map from the
 * series, as written (`name{label="value"}`), to its value. Comment lines are skipped.
 */
function parseSamples(text: string): Map<string, number> {
  const samples = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const match = /^(\S+?(?:\{[^}]*\})?) (\S+)$/.exec(line)
    if (match === null) throw new Error(`Not a Prometheus sample line: ${JSON.stringify(line)}`)
    samples.set(match[1]!, Number(match[2]))
  }
  return samples
}

describe.each(databaseKinds())('GET /metrics on %s', (kind) => {
  let database: TestDatabase

  beforeAll(async () => {
    database = await createTestDatabase(kind)
  })
  afterAll(async () => {
    await database?.close()
  })

  /** Builds the demo app with a fresh jwt-logout, so that every counter starts at zero. */
  function buildApp(): Express {
    const jwtLogout = createJwtLogout({ db: database.db, secret: SECRET })
    return createApp({ jwtLogout, users: USERS, logger: pino({ level: 'silent' }), metricsRegistry: createMetricsRegistry(jwtLogout) })
  }

  async function login(app: Express, username: string): Promise<string> {
    const response = await request(app).post('/login').send({ username, password: `${username}-password` }).expect(200)
    return (response.body as { access_token: string }).access_token
  }

  function getMe(app: Express, token: string): request.Test {
    return request(app).get('/me').set('Authorization', `Bearer ${token}`)
  }

  async function scrape(app: Express): Promise<Map<string, number>> {
    const response = await request(app).get('/metrics').expect(200)
    return parseSamples(response.text)
  }

  it('serves the Prometheus text format', async () => {
    const response = await request(buildApp()).get('/metrics')

    expect(response.status).toBe(200)
    expect(response.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8')
    expect(() => parseSamples(response.text)).not.toThrow()
  })

  it.each(JWT_LOGOUT_METRICS)('declares %s as a %s', async (name, type) => {
    const response = await request(buildApp()).get('/metrics')

    expect(response.text).toContain(`\n# TYPE ${name} ${type}\n`)
    expect(response.text).toMatch(new RegExp(`^# HELP ${name} \\S`, 'm'))
  })

  it('includes process metrics', async () => {
    const samples = await scrape(buildApp())

    // prom-client counts CPU time from the creation of the registry, so a scrape right after it may read 0.
    expect(samples.get('process_cpu_user_seconds_total')).toBeGreaterThanOrEqual(0)
    expect(samples.get('nodejs_heap_size_used_bytes')).toBeGreaterThan(0)
  })

  it('starts every code at zero', async () => {
    const samples = await scrape(buildApp())

    for (const code of ERROR_CODES) {
      expect(samples.get(`jwt_logout_requests_rejected_total{code="${code}"}`), code).toBe(0)
    }
    expect(samples.get('jwt_logout_requests_accepted_total')).toBe(0)
    expect(samples.get('jwt_logout_revocations_total{kind="user"}')).toBe(0)
    expect(samples.get('jwt_logout_revocations_total{kind="session"}')).toBe(0)
  })

  it('counts requests', async () => {
    const app = buildApp()
    const alice = await login(app, 'alice')

    await getMe(app, alice).expect(200)
    await getMe(app, alice).expect(200)
    await getMe(app, 'not-a-jwt').expect(401)
    await request(app).get('/me').expect(401)
    const samples = await scrape(app)

    expect(samples.get('jwt_logout_requests_accepted_total')).toBe(2)
    expect(samples.get('jwt_logout_requests_rejected_total{code="invalid_token"}')).toBe(1)
    expect(samples.get('jwt_logout_requests_rejected_total{code="missing_token"}')).toBe(1)
    expect(samples.get('jwt_logout_cache_misses_total')).toBe(1)
    expect(samples.get('jwt_logout_cache_hits_total')).toBe(1)
    expect(samples.get('jwt_logout_token_verifications_total')).toBe(2)
  })

  it('counts a revoked token', async () => {
    const app = buildApp()
    const bob = await login(app, 'bob')

    await request(app).post('/logout-all').set('Authorization', `Bearer ${bob}`).expect(204)
    const before = await scrape(app)
    await getMe(app, bob).expect(401)
    const after = await scrape(app)

    expect(before.get('jwt_logout_revocations_total{kind="user"}')).toBe(1)
    expect(before.get('jwt_logout_requests_rejected_total{code="token_revoked"}')).toBe(0)
    expect(after.get('jwt_logout_requests_rejected_total{code="token_revoked"}')).toBe(1)
  })

  it('counts a session logout', async () => {
    const app = buildApp()
    const alice = await login(app, 'alice')

    await request(app).post('/logout').set('Authorization', `Bearer ${alice}`).expect(204)
    const samples = await scrape(app)

    expect(samples.get('jwt_logout_revocations_total{kind="session"}')).toBe(1)
    expect(samples.get('jwt_logout_revocations_total{kind="user"}')).toBe(0)
  })

  it('exposes the lookup histogram', async () => {
    const app = buildApp()
    await getMe(app, await login(app, 'alice')).expect(200)
    const samples = await scrape(app)

    expect(samples.get('jwt_logout_cutoff_lookup_duration_seconds_count')).toBe(1)
    expect(samples.get('jwt_logout_cutoff_lookup_duration_seconds_sum')).toBeGreaterThan(0)
    expect(samples.get('jwt_logout_cutoff_lookup_duration_seconds_bucket{le="10"}')).toBe(1)
    expect(samples.get('jwt_logout_cutoff_lookup_duration_seconds_bucket{le="+Inf"}')).toBe(1)
    expect(samples.get('jwt_logout_cutoff_lookup_duration_seconds_bucket{le="0.0005"}')).toBeLessThanOrEqual(1)
  })

  it('lists the buckets in order', async () => {
    const app = buildApp()
    const response = await request(app).get('/metrics').expect(200)

    const bounds = [...response.text.matchAll(/^jwt_logout_cutoff_lookup_duration_seconds_bucket\{le="([^"]+)"\}/gm)].map((match) => match[1])
    expect(bounds).toEqual(['0.0005', '0.001', '0.0025', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf'])
  })

  it('counts a store outage', async () => {
    const app = buildApp()
    const alice = await login(app, 'alice')

    await hideCutoffTables(database)
    await getMe(app, alice).expect(503)
    const samples = await scrape(app)

    expect(samples.get('jwt_logout_store_errors_total')).toBe(1)
    expect(samples.get('jwt_logout_requests_rejected_total{code="store_unavailable"}')).toBe(1)
    expect(samples.get('jwt_logout_cutoff_lookup_duration_seconds_count')).toBe(1)
  })

  it('is absent without a registry', async () => {
    const jwtLogout = createJwtLogout({ db: database.db, secret: SECRET })
    const app = createApp({ jwtLogout, users: USERS, logger: pino({ level: 'silent' }) })

    const response = await request(app).get('/metrics')

    expect(response.status).toBe(404)
    expect(response.body.error).toBe('not_found')
  })
})
