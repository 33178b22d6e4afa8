import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { PGlite } from '@electric-sql/pglite'
import { Kysely } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { UnauthorizedError } from '../../src/errors/unauthorized-error.js'
import { createJwtLogout, type JwtLogout } from '../../src/jwt-logout.js'
import { PGliteDialect } from '../../src/store/pglite-dialect.js'
import type { CutoffDatabase } from '../../src/store/schema.js'
import { buildForTest, REPOSITORY_ROOT, type TestBuild } from '../support/build.js'
import { runProgram } from '../support/child-process.js'
import { expectOneLineError, parseJsonOutput, spawnCli } from './helpers.js'

// Spawned runs of the compiled bin: the bin itself, failures that need no
// database server, and every command on an embedded PGlite database.

const SECRET = 'jwt-logout-cli-test-secret-0123456789abcdefghij'

let build: TestBuild
const runCli = spawnCli(() => build)

beforeAll(async () => {
  build = await buildForTest()
})

afterAll(async () => {
  await build?.remove()
})

describe('bin', () => {
  it('prints the general help', async () => {
    const result = await runCli(['--help'])

    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^Usage: jwt-logout <command> \[arguments\] \[options\]\n/)
  })

  it('prints the version', async () => {
    const manifest = JSON.parse(await readFile(join(REPOSITORY_ROOT, 'package.json'), 'utf8')) as { version: string }
    const result = await runCli(['--version'])

    expect(result.code).toBe(0)
    expect(result.stdout).toBe(`${manifest.version}\n`)
  })

  it('exits 2 for an unknown command', async () => {
    const result = await runCli(['revoke', 'alice'])

    expectOneLineError(result, 2)
    expect(result.stderr).toMatch(/^Unknown command "revoke"\. Did you mean "revoke-user" or "revoke-session"\?\n\nUsage: /)
  })

  it('exits 2 without a database', async () => {
    const result = await runCli(['status', 'alice'])

    expectOneLineError(result, 2)
    expect(result.stderr).toMatch(/^No database given: .*\n\nUsage: jwt-logout status <user-id> \[options\]\n/)
  })
})

describe('unreachable database', () => {
  // Nothing listens on port 1 of the loopback address, so every connection is refused at once.
  const url = 'postgres://cli_user:hunter22-secret@127.0.0.1:1/none'
  const described = 'PostgreSQL at postgres://cli_user:***@127.0.0.1:1/none'
  const hint = 'connect ECONNREFUSED 127.0.0.1:1. Check that PostgreSQL runs at that address and that --database-url (or DATABASE_URL) names it.'

  it.each([
    [['migrate', 'up'], 'migrate up'],
    [['migrate', 'down'], 'migrate down'],
    [['migrate', 'status'], 'read the migration status'],
    [['revoke-user', 'alice'], 'record the logout of user "alice"'],
    [['revoke-session', 'alice', 'phone'], 'record the logout of session "phone" of user "alice"'],
    [['prune'], 'prune expired session cutoffs'],
    [['status', 'alice'], 'read the cutoffs of user "alice"'],
  ])('%j exits 1 at once', async (args, action) => {
    const started = Date.now()
    const result = await runCli([...args, '--database-url', url])

    expectOneLineError(result, 1)
    expect(result.stderr).toBe(`Failed to ${action} in ${described}: ${hint}\n`)
    expect(result.stderr).not.toContain('hunter22')
    // Node starts in about 0.3 s; a connection timeout would take 5 s.
    expect(Date.now() - started).toBeLessThan(4000)
  })
})

describe('failing server', () => {
  // A local server that closes every connection at once, so the run fails without a network timeout.
  let server: Server
  let url: string

  beforeAll(async () => {
    server = createServer((socket) => socket.destroy())
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const address = server.address()
    if (address === null || typeof address === 'string') throw new Error('the test server has no TCP address')
    url = `postgres://postgres@127.0.0.1:${address.port}/test`
  })

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve))
  })

  it('exits 1 with the error', async () => {
    const result = await runCli(['migrate', 'up', '--database-url', url])

    expectOneLineError(result, 1)
    expect(result.stderr).toMatch(/^Failed to migrate up in PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:\d+\/test: \S/)
  })
})

/** Opens the embedded database in this process, while no CLI run has it open, and closes it after `use`. */
async function withPGlite<T>(dataDir: string, use: (pglite: PGlite, auth: JwtLogout) => Promise<T>): Promise<T> {
  const pglite = await PGlite.create(dataDir)
  const db = new Kysely<CutoffDatabase>({ dialect: new PGliteDialect(pglite) })
  const auth = createJwtLogout({ db, secret: SECRET })
  try {
    return await use(pglite, auth)
  } finally {
    await auth.close()
    await db.destroy()
    await pglite.close()
  }
}

async function expectRevoked(auth: JwtLogout, token: string): Promise<void> {
  const error = await auth.authenticate(token).then(
    () => undefined,
    (rejection: unknown) => rejection,
  )
  expect(error).toBeInstanceOf(UnauthorizedError)
  expect((error as UnauthorizedError).code).toBe('token_revoked')
}

describe('commands on PGlite', () => {
  let dataDir: string
  const tokens: Record<string, string> = {}
  let revokedUser: Record<string, any>
  let revokedSession: Record<string, any>

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'jwt-logout-cli-'))
  })

  afterAll(async () => {
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true })
  })

  it('exits 1 when --data-dir is a file', async () => {
    const file = join(dataDir, 'not-a-folder')
    await writeFile(file, '')
    const result = await runCli(['migrate', 'up', '--data-dir', file])

    expectOneLineError(result, 1)
    expect(result.stderr).toMatch(new RegExp(`^Failed to open the embedded database in ${file}: `))
  })

  // The steps below share one database folder and run in order.
  it('status names the missing tables', async () => {
    // The first run creates the database, which takes several seconds.
    const result = await runCli(['status', 'alice', '--data-dir', dataDir])

    expectOneLineError(result, 1)
    expect(result.stderr).toBe(
      `Failed to read the cutoffs of user "alice" in embedded PGlite in ${dataDir}: relation "user_logouts" does not exist. ` +
        'The jwt-logout tables are missing from the schemas of the search_path. If your app keeps them in a schema of their own, ' +
        'pass it with --schema (or DATABASE_SCHEMA); otherwise run "jwt-logout migrate up" on this database first.\n',
    )
  })

  it('migrate status lists pending migrations', async () => {
    // --data-dir wins over DATABASE_URL, which names a port where nothing listens.
    const result = await runCli(['migrate', 'status', '--json', '--data-dir', dataDir], { DATABASE_URL: 'postgres://postgres@127.0.0.1:9/none' })

    expect(parseJsonOutput(result)).toEqual({
      migrations: [
        { name: '0001_create_user_logouts', appliedAt: null },
        { name: '0002_create_session_logouts', appliedAt: null },
      ],
      pending: ['0001_create_user_logouts', '0002_create_session_logouts'],
      createdOutsideMigrations: false,
    })
  })

  it('migrate up applies both migrations', async () => {
    // DATA_DIR is the fallback of --data-dir.
    const result = await runCli(['migrate', 'up'], { DATA_DIR: dataDir })

    expect(result.code).toBe(0)
    expect(result.stdout).toBe(
      `Migrated up: 0001_create_user_logouts in embedded PGlite in ${dataDir} (schema from the search_path)\n` +
        `Migrated up: 0002_create_session_logouts in embedded PGlite in ${dataDir} (schema from the search_path)\n`,
    )
  })

  it('ends quietly when the reader closes the pipe', async () => {
    // head exits after one byte while the CLI still writes lines, so later writes meet a closed pipe.
    // Whether a run hits that depends on timing, so several runs raise the odds.
    // The CLI's exit code goes to a file, because sh reports the exit code of the pipeline's last command.
    const codeFile = join(dataDir, '..', `cli-exit-code-${process.pid}`)
    const script = '{ "$0" "$1" status alice --data-dir "$2"; echo $? > "$3"; } | head -c 1 > /dev/null'
    try {
      for (let run = 0; run < 3; run++) {
        const result = await runProgram('sh', ['-c', script, process.execPath, build.cliPath, dataDir, codeFile])

        expect(result.stderr).toBe('')
        expect((await readFile(codeFile, 'utf8')).trim()).toBe('0')
      }
    } finally {
      await rm(codeFile, { force: true })
    }
  })

  it('tokens are valid before revoking', async () => {
    await withPGlite(dataDir, async (_pglite, auth) => {
      tokens.alice = (await auth.issueToken('alice', { sessionId: 'phone' })).token
      tokens.bobLaptop = (await auth.issueToken('bob', { sessionId: 'laptop' })).token
      tokens.bobTablet = (await auth.issueToken('bob', { sessionId: 'tablet' })).token
      for (const token of Object.values(tokens)) expect((await auth.authenticate(token)).claims.sub).toMatch(/^(alice|bob)$/)
    })
  })

  it('revoke-user writes the cutoff', async () => {
    const started = Date.now() * 1000
    revokedUser = parseJsonOutput(await runCli(['revoke-user', 'alice', '--json', '--data-dir', dataDir]))

    expect(revokedUser).toEqual({
      userId: 'alice',
      cutoff: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/),
      cutoffMicros: expect.any(Number),
      notifyChannel: 'jwt_logout_cutoffs',
    })
    expect(revokedUser.cutoffMicros).toBeGreaterThan(started)
    expect(revokedUser.cutoffMicros).toBeLessThan(Date.now() * 1000)
  })

  it('revoke-session writes the session cutoff', async () => {
    revokedSession = parseJsonOutput(await runCli(['revoke-session', 'bob', 'laptop', '--expires-in', '120', '--json', '--data-dir', dataDir]))

    expect(revokedSession).toMatchObject({ userId: 'bob', sessionId: 'laptop', expiresInSeconds: 120, clockToleranceSeconds: 60 })
    expect(revokedSession.keptUntilMicros).toBe(revokedSession.cutoffMicros + 180_000_000)
  })

  it('status shows the session cutoff', async () => {
    const status = parseJsonOutput(await runCli(['status', 'bob', '--json', '--data-dir', dataDir]))

    expect(status).toEqual({
      userId: 'bob',
      userCutoff: null,
      userCutoffMicros: null,
      sessions: [
        {
          sessionId: 'laptop',
          cutoff: revokedSession.cutoff,
          cutoffMicros: revokedSession.cutoffMicros,
          keptUntil: revokedSession.keptUntil,
          keptUntilMicros: revokedSession.keptUntilMicros,
        },
      ],
    })
  })

  it('tables contain the printed cutoffs', async () => {
    await withPGlite(dataDir, async (pglite) => {
      const users = await pglite.query<{ user_id: string; cutoff: number }>(
        'select user_id, (extract(epoch from logged_out_at) * 1000000)::bigint as cutoff from user_logouts',
      )
      const sessions = await pglite.query<{ user_id: string; session_id: string; cutoff: number; kept_until: number }>(
        `select user_id, session_id, (extract(epoch from logged_out_at) * 1000000)::bigint as cutoff,
           (extract(epoch from expires_at) * 1000000)::bigint as kept_until from session_logouts`,
      )

      expect(users.rows.map((row) => [row.user_id, Number(row.cutoff)])).toEqual([['alice', revokedUser.cutoffMicros]])
      expect(sessions.rows.map((row) => [row.user_id, row.session_id, Number(row.cutoff), Number(row.kept_until)])).toEqual([
        ['bob', 'laptop', revokedSession.cutoffMicros, revokedSession.keptUntilMicros],
      ])
    })
  })

  it('revoked tokens are rejected', async () => {
    await withPGlite(dataDir, async (_pglite, auth) => {
      await expectRevoked(auth, tokens.alice!)
      await expectRevoked(auth, tokens.bobLaptop!)
      expect((await auth.authenticate(tokens.bobTablet!)).claims.sid).toBe('tablet')
    })
  })
})
