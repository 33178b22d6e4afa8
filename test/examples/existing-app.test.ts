import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'

import pg from 'pg'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// @ts-expect-error The example is plain JavaScript without type declarations, as an application's files may be.
import { createApp } from '../../examples/existing-app/app.mjs'
// @ts-expect-error The example is plain JavaScript without type declarations.
import { migrate } from '../../examples/existing-app/migrate.mjs'
import type { JwtLogout } from '../../src/jwt-logout.js'
import { schemaSql } from '../../src/store/schema-sql.js'
import { postgresUrl } from '../support/databases.js'
import { TEST_SECRET } from '../support/test-app.js'

const databaseUrl = postgresUrl()
const EXAMPLE_SQL = new URL('../../examples/existing-app/migrations/002_create_jwt_logout_tables.sql', import.meta.url)
/** Upper bound of the bounded waits below, far under the test timeout. */
const MAX_WAIT_MS = 5000

type ExampleApp = { app: import('express').Express; auth: JwtLogout }

describe('the existing-app example', () => {
  it('ships the SQL that print-sql prints', async () => {
    expect(await readFile(EXAMPLE_SQL, 'utf8')).toBe(await schemaSql({ schema: 'auth' }))
  })
})

describe.runIf(databaseUrl !== null)('the existing-app example on PostgreSQL', () => {
  // A database of its own, because the example keeps its tables in public and auth as a real app would.
  const databaseName = `jwt_logout_example_${randomBytes(5).toString('hex')}`
  let admin: pg.Client
  let pool: pg.Pool
  const apps: ExampleApp[] = []

  function startInstance(): ExampleApp {
    const instance = createApp(pool, { secret: TEST_SECRET }) as ExampleApp
    apps.push(instance)
    return instance
  }

  async function logIn(app: ExampleApp['app']): Promise<string> {
    const response = await request(app).post('/login').send({ username: 'ada', password: 'ada-password' })
    expect(response.status).toBe(200)
    return response.body.access_token as string
  }

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: databaseUrl! })
    await admin.connect()
    await admin.query(`create database ${databaseName}`)
    const url = new URL(databaseUrl!)
    url.pathname = `/${databaseName}`
    pool = new pg.Pool({ connectionString: url.toString(), max: 4, connectionTimeoutMillis: 2000, query_timeout: 2000 })
  })
  afterAll(async () => {
    for (const { auth } of apps) await auth.close()
    await pool?.end()
    // pool.end() resolves before its connections finish closing, and terminating one that is still closing
    // raises an error on a client that has no listener any more. So wait, a bounded time, for them to go.
    const deadline = Date.now() + MAX_WAIT_MS
    while (Date.now() < deadline) {
      const { rows } = await admin.query('select count(*)::int as count from pg_stat_activity where datname = $1', [databaseName])
      if (rows[0].count === 0) break
      await sleep(20)
    }
    await admin.query(`drop database if exists ${databaseName} with (force)`)
    await admin.end()
  })

  it('applies its migrations, jwt-logout included, once', async () => {
    expect(await migrate(pool)).toEqual(['001_create_accounts.sql', '002_create_jwt_logout_tables.sql'])
    expect(await migrate(pool)).toEqual([])

    const { rows } = await pool.query(
      "select table_schema || '.' || table_name as name from information_schema.tables where table_schema in ('public', 'auth') order by 1",
    )
    expect(rows.map((row) => row.name)).toEqual([
      'auth.session_logouts',
      'auth.user_logouts',
      'public.accounts',
      'public.app_migrations',
    ])
  })

  it('rejects a wrong password', async () => {
    const { app } = startInstance()

    const response = await request(app).post('/login').send({ username: 'ada', password: 'wrong' })

    expect(response.status).toBe(401)
    expect(response.body.error).toBe('invalid_credentials')
  })

  it('answers a broken body with JSON', async () => {
    const { app } = startInstance()

    const response = await request(app).post('/login').set('Content-Type', 'application/json').send('{"username":')

    expect(response.status).toBe(400)
    expect(response.body.error).toBe('invalid_request')
  })

  it('answers an unknown route with JSON', async () => {
    const { app } = startInstance()

    const response = await request(app).get('/nowhere')

    expect(response.status).toBe(404)
    expect(response.body).toEqual({ error: 'not_found', message: 'No route for GET /nowhere.' })
  })

  it('ends every session on every instance', async () => {
    const first = startInstance()
    const second = startInstance()
    const token = await logIn(first.app)
    const otherSession = await logIn(second.app)
    expect((await request(second.app).get('/orders').auth(token, { type: 'bearer' })).status).toBe(200)
    const deadline = Date.now() + MAX_WAIT_MS
    while ((await second.auth.health()).listener !== 'listening' && Date.now() < deadline) await sleep(10)

    const logout = await request(first.app).post('/logout-all').auth(token, { type: 'bearer' })

    expect(logout.status).toBe(204)
    let status = 200
    while (status === 200 && Date.now() < deadline) {
      status = (await request(second.app).get('/orders').auth(otherSession, { type: 'bearer' })).status
      if (status === 200) await sleep(5)
    }
    expect(status).toBe(401)
    const rejected = await request(first.app).get('/orders').auth(token, { type: 'bearer' })
    expect(rejected.body.error).toBe('token_revoked')
  })

  it('keeps the application pool open after close', async () => {
    const instance = startInstance()

    await instance.auth.close()

    const { rows } = await pool.query('select count(*)::int as count from accounts')
    expect(rows).toEqual([{ count: 1 }])
  })
})
