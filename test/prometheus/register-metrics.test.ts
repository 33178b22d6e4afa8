import { Counter, Registry } from 'prom-client'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { registerPrometheusMetrics } from '../../src/prometheus/index.js'
import { createTestDatabase, type TestDatabase } from '../support/databases.js'
import { createTestApp, type TestApp } from '../support/test-app.js'

describe('registerPrometheusMetrics', () => {
  let database: TestDatabase
  let testApp: TestApp
  let registry: Registry

  beforeAll(async () => {
    database = await createTestDatabase('pglite')
    testApp = createTestApp(database)
    // The application's own registry, with a metric of its own.
    registry = new Registry()
    new Counter({ name: 'app_orders_total', help: 'Orders placed.', registers: [registry] }).inc(3)
    registerPrometheusMetrics(registry, testApp.jwtLogout)
  })
  afterAll(async () => {
    await testApp.jwtLogout.close()
    await database.close()
  })

  it('adds jwt-logout metrics next to the app', async () => {
    const { token } = await testApp.jwtLogout.issueToken('ada')
    await request(testApp.app).get('/me').auth(token, { type: 'bearer' }).expect(200)
    await request(testApp.app).get('/me').auth('not-a-token', { type: 'bearer' }).expect(401)

    const text = await registry.metrics()

    expect(text).toContain('app_orders_total 3')
    expect(text).toContain('jwt_logout_requests_accepted_total 1')
    expect(text).toContain('jwt_logout_requests_rejected_total{code="invalid_token"} 1')
    expect(text).toMatch(/^jwt_logout_cutoff_lookup_duration_seconds_count 1$/m)
  })

  it('rejects a second instance in one registry', () => {
    expect(() => registerPrometheusMetrics(registry, testApp.jwtLogout)).toThrow(/already been registered/)
  })

  it('rejects an argument that is not jwt-logout', () => {
    expect(() => registerPrometheusMetrics(new Registry(), {} as never)).toThrow(
      'registerPrometheusMetrics needs the object that createJwtLogout returned',
    )
  })
})
