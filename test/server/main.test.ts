import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { openDatabase } from '../../src/store/open-database.js'

import { buildForTest, type TestBuild } from '../support/build.js'
import { runNode } from '../support/child-process.js'
import { findFreePort, ServerProcess } from '../support/server-process.js'

/** HS256 secret of the server under test: 48 bytes. */
const JWT_SECRET = 'server-main-test-secret-0123456789-abcdefghijklm'

/** Upper bound on start-up. Creating a PGlite data folder took about 5 s on a 2-core VM. */
const START_TIMEOUT_MS = 60_000
const STOP_TIMEOUT_MS = 20_000

let build: TestBuild

beforeAll(async () => {
  build = await buildForTest()
})

afterAll(async () => {
  await build?.remove()
})

/** A started server process and its base URL. */
interface RunningServer {
  process: ServerProcess
  baseUrl: string
}

async function startServer(dataDir: string, env: Record<string, string> = {}): Promise<RunningServer> {
  const port = await findFreePort()
  const child = ServerProcess.start(build.serverPath, {
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    JWT_SECRET,
    LOG_LEVEL: 'info',
    ...env,
  })
  await child.waitForLog('jwt-logout server started', START_TIMEOUT_MS)
  return { process: child, baseUrl: `http://127.0.0.1:${port}` }
}

async function login(server: RunningServer, username: string): Promise<string> {
  const response = await fetch(`${server.baseUrl}/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password: `${username}-password` }),
  })
  expect(response.status).toBe(200)
  return ((await response.json()) as { access_token: string }).access_token
}

function send(server: RunningServer, method: 'GET' | 'POST', path: string, token: string): Promise<Response> {
  return fetch(`${server.baseUrl}${path}`, { method, headers: { Authorization: `Bearer ${token}` } })
}

describe('server process', () => {
  let dataDir: string
  let first: RunningServer | undefined
  let second: RunningServer | undefined
  /** Every token issued in this describe, to look for in the logs. */
  const tokens: string[] = []

  // Tokens that the first run ends and the second run checks.
  let aliceToken: string
  let bobLoggedOut: string
  let bobActive: string

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'jwt-logout-server-'))
    first = await startServer(dataDir)
  })

  afterAll(async () => {
    first?.process.kill()
    second?.process.kill()
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true })
  })

  // The steps share the two server processes and run in order.
  it('logs its address and database', () => {
    const started = first!.process.logs.find((log) => log.msg === 'jwt-logout server started')
    expect(started).toMatchObject({
      url: first!.baseUrl,
      database: `embedded PGlite in ${dataDir}`,
      users: ['alice', 'bob'],
    })
  })

  it('applies both migrations', () => {
    const migrations = first!.process.logs.filter((log) => log.msg === 'migration applied').map((log) => log.migration)
    expect(migrations).toEqual(['0001_create_user_logouts', '0002_create_session_logouts'])
  })

  it('logs no generated-secret warning', () => {
    expect(first!.process.output).not.toContain('JWT_SECRET is not set')
  })

  it('serves /me for a token', async () => {
    aliceToken = await login(first!, 'alice')
    tokens.push(aliceToken)

    const response = await send(first!, 'GET', '/me', aliceToken)
    expect(response.status).toBe(200)
    expect(((await response.json()) as { sub: string }).sub).toBe('alice')
  })

  it('revokes it with logout-all', async () => {
    const logout = await send(first!, 'POST', '/logout-all', aliceToken)
    expect(logout.status).toBe(204)

    const response = await send(first!, 'GET', '/me', aliceToken)
    expect(response.status).toBe(401)
    expect(((await response.json()) as { error: string }).error).toBe('token_revoked')
  })

  it('revokes one session with logout', async () => {
    bobLoggedOut = await login(first!, 'bob')
    bobActive = await login(first!, 'bob')
    tokens.push(bobLoggedOut, bobActive)

    const logout = await send(first!, 'POST', '/logout', bobLoggedOut)
    expect(logout.status).toBe(204)

    const response = await send(first!, 'GET', '/me', bobLoggedOut)
    expect(response.status).toBe(401)
    expect(((await response.json()) as { error: string }).error).toBe('token_revoked')
  })

  it('serves Prometheus metrics', async () => {
    const response = await fetch(`${first!.baseUrl}/metrics`)
    const text = await response.text()

    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
    expect(text).toContain('\njwt_logout_revocations_total{kind="user"} 1\n')
    expect(text).toContain('\njwt_logout_revocations_total{kind="session"} 1\n')
    expect(text).toContain('\njwt_logout_requests_rejected_total{code="token_revoked"} 2\n')
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m)
  })

  it('logs each revocation', () => {
    const revocations = first!.process.logs.filter((log) => log.msg.startsWith('revoked '))

    expect(revocations).toEqual([
      expect.objectContaining({ level: 30, kind: 'user', userId: 'alice', cutoff: expect.any(String) }),
      expect.objectContaining({ level: 30, kind: 'session', userId: 'bob', sessionId: expect.any(String) }),
    ])
  })

  it('rejects a second server on DATA_DIR', async () => {
    const result = await runNode(build.serverPath, [], { PORT: '0', DATA_DIR: dataDir, JWT_SECRET })
    expect(result.code).toBe(1)
    expect(result.stdout).toContain(`Opening the database failed: The embedded database in ${dataDir} is in use by process`)
  })

  it('exits 0 on SIGTERM', async () => {
    expect(await first!.process.stop(STOP_TIMEOUT_MS)).toBe(0)
  })

  it('logs the stop', () => {
    expect(first!.process.logs.map((log) => log.msg)).toContain('jwt-logout server stopped')
  })

  it(
    'restarts on the same data',
    async () => {
      second = await startServer(dataDir)
      const migrations = second.process.logs.filter((log) => log.msg === 'migration applied')
      expect(migrations).toEqual([])
    },
    START_TIMEOUT_MS + 10_000,
  )

  it('keeps logout-all after restart', async () => {
    const response = await send(second!, 'GET', '/me', aliceToken)
    expect(response.status).toBe(401)
    expect(((await response.json()) as { error: string }).error).toBe('token_revoked')
  })

  it('keeps logout after restart', async () => {
    const response = await send(second!, 'GET', '/me', bobLoggedOut)
    expect(response.status).toBe(401)
    expect(((await response.json()) as { error: string }).error).toBe('token_revoked')
  })

  it('keeps other sessions after restart', async () => {
    const response = await send(second!, 'GET', '/me', bobActive)
    expect(response.status).toBe(200)
  })

  it('accepts a new login after restart', async () => {
    const token = await login(second!, 'alice')
    tokens.push(token)

    const response = await send(second!, 'GET', '/me', token)
    expect(response.status).toBe(200)
  })

  it('exits 0 again on SIGTERM', async () => {
    expect(await second!.process.stop(STOP_TIMEOUT_MS)).toBe(0)
  })

  it('logs requests with redacted auth', () => {
    const requests = [...first!.process.logs, ...second!.process.logs].filter((log) => log.msg === 'request completed')
    const authorization = requests.map((log) => (log.req as { headers: Record<string, unknown> }).headers.authorization)
    expect(authorization).toContain('[Redacted]')
  })

  it('never logs a token', () => {
    const output = first!.process.output + second!.process.output
    for (const token of tokens) expect(output).not.toContain(token)
  })

  it('never logs a token signature', () => {
    // The signature alone is enough to spot a token that was cut or re-encoded.
    const output = first!.process.output + second!.process.output
    for (const token of tokens) expect(output).not.toContain(token.split('.')[2])
  })

  it('never logs JWT_SECRET', () => {
    expect(first!.process.output + second!.process.output).not.toContain(JWT_SECRET)
  })
})

describe('server with DATABASE_SCHEMA', () => {
  let dataDir: string
  let server: RunningServer | undefined

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'jwt-logout-server-'))
    server = await startServer(dataDir, { DATABASE_SCHEMA: 'auth' })
  })

  afterAll(async () => {
    server?.process.kill()
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true })
  })

  it('writes the cutoffs into that schema', async () => {
    const token = await login(server!, 'alice')
    expect((await send(server!, 'POST', '/logout-all', token)).status).toBe(204)
    expect(await server!.process.stop(STOP_TIMEOUT_MS)).toBe(0)
    server = undefined

    const database = await openDatabase({ dataDir })
    try {
      const { rows } = await sql<{ user_id: string }>`select user_id from auth.user_logouts`.execute(database.db)
      expect(rows).toEqual([{ user_id: 'alice' }])
    } finally {
      await database.close()
    }
  })

  it('names the schema in the pending-migrations hint', async () => {
    const emptyDir = await mkdtemp(join(tmpdir(), 'jwt-logout-server-'))
    try {
      const result = await runNode(build.serverPath, [], {
        PORT: '0',
        DATA_DIR: emptyDir,
        JWT_SECRET,
        MIGRATE_ON_START: 'false',
        DATABASE_SCHEMA: 'auth',
      })
      expect(result.code).toBe(1)
      expect(result.stdout).toContain('run `npx jwt-logout migrate up --schema auth`')
    } finally {
      await rm(emptyDir, { recursive: true, force: true })
    }
  })
})

describe('server with invalid config', () => {
  const shortSecret = 'too-short-secret'
  // The server should exit before it opens the database. The temporary DATA_DIR keeps a failing test from creating ./data.
  let dataDir: string

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'jwt-logout-server-'))
  })

  afterAll(async () => {
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true })
  })

  it('exits 2 naming JWT_SECRET', async () => {
    const result = await runNode(build.serverPath, [], { PORT: '0', DATA_DIR: dataDir, JWT_SECRET: shortSecret })
    expect(result.code).toBe(2)
    expect(result.stdout).toContain('Invalid configuration: JWT_SECRET: must be at least 32 bytes long')
  })

  it('never logs the short secret', async () => {
    const result = await runNode(build.serverPath, [], { PORT: '0', DATA_DIR: dataDir, JWT_SECRET: shortSecret })
    expect(result.stdout + result.stderr).not.toContain(shortSecret)
  })

  it('exits 1 with pending migrations', async () => {
    const result = await runNode(build.serverPath, [], { PORT: '0', DATA_DIR: dataDir, JWT_SECRET, MIGRATE_ON_START: 'false' })
    expect(result.code).toBe(1)
    expect(result.stdout).toContain(
      'migrations 0001_create_user_logouts, 0002_create_session_logouts are not applied; run `npx jwt-logout migrate up` or set MIGRATE_ON_START=true',
    )
  })

  it('exits 2 naming DEMO_USERS', async () => {
    const result = await runNode(build.serverPath, [], { PORT: '0', DATA_DIR: dataDir, JWT_SECRET, DEMO_USERS: 'alice' })
    expect(result.code).toBe(2)
    expect(result.stdout).toContain('Invalid configuration: DEMO_USERS: expected comma-separated name:password pairs')
  })
})
