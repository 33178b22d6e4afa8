import { mkdtemp, rm } from 'node:fs/promises'
import { Agent, request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { buildForTest, type TestBuild } from '../support/build.js'
import { findFreePort, ServerProcess } from '../support/server-process.js'

/** HS256 secret of the server under test: 48 bytes. */
const JWT_SECRET = 'server-shutdown-test-secret-0123456789-abcdefghi'

/** Upper bound on start-up, which includes creating the PGlite data folder. */
const START_TIMEOUT_MS = 60_000
const STOP_TIMEOUT_MS = 20_000
/** Logins held open across SIGTERM. */
const HELD_LOGINS = 3

/** A complete HTTP response. */
interface CompleteResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/** A POST /login whose headers the server has accepted and whose body is not sent yet. */
interface HeldLogin {
  /** Sends the body, so that the server can finish the request. */
  sendBody(): void
  /** Resolves with the whole response, or rejects when the connection fails before the response ends. */
  response: Promise<CompleteResponse>
}

/**
 * Starts a POST /login with `Expect: 100-continue` and resolves once the server
 * has sent 100 Continue. By then the server has parsed the headers and its
 * handler waits for the body, so the request is in flight on the server.
 */
async function startHeldLogin(baseUrl: string, username: string, agent: Agent): Promise<HeldLogin> {
  const body = JSON.stringify({ username, password: `${username}-password` })
  const outgoing = request(`${baseUrl}/login`, {
    method: 'POST',
    agent,
    headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), Expect: '100-continue' },
  })
  const response = new Promise<CompleteResponse>((resolve, reject) => {
    outgoing.once('error', reject)
    outgoing.once('response', (incoming) => {
      let text = ''
      incoming.setEncoding('utf8')
      incoming.on('data', (chunk: string) => (text += chunk))
      incoming.once('error', reject)
      incoming.once('end', () => resolve({ status: incoming.statusCode!, headers: incoming.headers, body: text }))
    })
  })
  // Keeps a failure before the test awaits the response from counting as unhandled.
  response.catch(() => {})

  const continued = new Promise<void>((resolve, reject) => {
    outgoing.once('continue', resolve)
    outgoing.once('error', reject)
  })
  outgoing.flushHeaders()
  await continued
  return { sendBody: () => outgoing.end(body), response }
}

describe('server shutdown', () => {
  let build: TestBuild
  let dataDir: string
  let server: ServerProcess | undefined
  let baseUrl: string
  // A keep-alive agent, like those of browsers and most HTTP clients, so the server must close the connections itself.
  const agent = new Agent({ keepAlive: true })

  beforeAll(async () => {
    build = await buildForTest()
    dataDir = await mkdtemp(join(tmpdir(), 'jwt-logout-shutdown-'))
    const port = await findFreePort()
    server = ServerProcess.start(build.serverPath, {
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      JWT_SECRET,
      LOG_LEVEL: 'info',
    })
    await server.waitForLog('jwt-logout server started', START_TIMEOUT_MS)
    baseUrl = `http://127.0.0.1:${port}`
  })

  afterAll(async () => {
    agent.destroy()
    server?.kill()
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true })
    await build?.remove()
  })

  // The steps share one server process and run in order.
  let heldLogins: HeldLogin[]
  let responses: PromiseSettledResult<CompleteResponse>[]
  let exitCode: number | null

  it('finishes requests in flight at SIGTERM', async () => {
    const usernames = Array.from({ length: HELD_LOGINS }, (_, index) => (index % 2 === 0 ? 'alice' : 'bob'))
    heldLogins = await Promise.all(usernames.map((username) => startHeldLogin(baseUrl, username, agent)))

    const exited = server!.stop(STOP_TIMEOUT_MS)
    await server!.waitForLog('jwt-logout server stopping', STOP_TIMEOUT_MS)
    for (const login of heldLogins) login.sendBody()
    responses = await Promise.allSettled(heldLogins.map((login) => login.response))
    exitCode = await exited

    expect(responses.map((result) => result.status)).toEqual(heldLogins.map(() => 'fulfilled'))
  })

  it('responds 200 with a token', () => {
    for (const result of responses) {
      expect(result.status).toBe('fulfilled')
      if (result.status !== 'fulfilled') continue
      expect(result.value.status).toBe(200)
      expect(JSON.parse(result.value.body)).toHaveProperty('access_token')
    }
  })

  it('closes their connections', () => {
    // Without Connection: close, a keep-alive client could go on sending requests and delay the exit.
    for (const result of responses) {
      expect(result.status).toBe('fulfilled')
      if (result.status !== 'fulfilled') continue
      expect(result.value.headers.connection).toBe('close')
    }
  })

  it('exits 0 after SIGTERM', () => {
    expect(exitCode).toBe(0)
  })

  it('logs the stop after the requests', () => {
    const messages = server!.logs.map((log) => log.msg)
    const stopping = messages.indexOf('jwt-logout server stopping')
    const stopped = messages.indexOf('jwt-logout server stopped')
    const completed = messages
      .map((message, index) => ({ message, index }))
      .filter(({ message, index }) => message === 'request completed' && index > stopping)
      .map(({ index }) => index)

    expect(stopping).toBeGreaterThanOrEqual(0)
    expect(completed).toHaveLength(HELD_LOGINS)
    expect(stopped).toBeGreaterThan(Math.max(...completed))
  })
})
