import { randomBytes } from 'node:crypto'

import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { UnauthorizedError } from '../../src/errors/unauthorized-error.js'
import { createJwtLogout, type JwtLogout } from '../../src/jwt-logout.js'
import { buildForTest, type TestBuild } from '../support/build.js'
import { createTestDatabase, postgresUrl, withSearchPath, type TestDatabase } from '../support/databases.js'
import { expectOneLineError, parseJsonOutput, runPsql, spawnCli } from './helpers.js'

// Spawned runs of the compiled bin against the PostgreSQL server of
// DATABASE_URL. Every describe works in schemas of its own, dropped at the end.

const SECRET = 'jwt-logout-cli-test-secret-0123456789abcdefghij'
const ISO_MICROS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/

let build: TestBuild
const runCli = spawnCli(() => build)

/** Returns a schema name that no other test uses. */
function uniqueSchema(purpose: string): string {
  return `jwt_logout_cli_${purpose}_${randomBytes(4).toString('hex')}`
}

/** Runs a query that selects a `micros` column and returns its values as numbers. */
async function readMicros(database: TestDatabase, sqlText: string, parameters: unknown[]): Promise<number[]> {
  const rows = await database.execute(sqlText, parameters)
  return rows.map((row) => Number(row.micros))
}

describe.skipIf(postgresUrl() === null)('CLI on PostgreSQL', () => {
  let url: string
  /** Connection for setup and inspection; its own schema is empty and unused by the CLI. */
  let admin: TestDatabase
  const createdSchemas: string[] = []

  beforeAll(async () => {
    url = postgresUrl()!
    ;[build, admin] = await Promise.all([buildForTest(), createTestDatabase('postgres', { migrate: false })])
  })

  afterAll(async () => {
    for (const schema of createdSchemas) await admin?.execute(`drop schema if exists "${schema}" cascade`)
    await admin?.close()
    await build?.remove()
  })

  async function listTables(schema: string): Promise<string[]> {
    const rows = await admin.execute(
      'select table_name from information_schema.tables where table_schema = $1 order by table_name',
      [schema],
    )
    return rows.map((row) => row.table_name as string)
  }

  describe('migrate', () => {
    let schema: string
    let args: string[]

    beforeAll(() => {
      // A schema that does not exist yet: migrate up creates it.
      schema = uniqueSchema('migrate')
      createdSchemas.push(schema)
      args = ['--database-url', url, '--schema', schema]
    })

    // The steps share one schema and run in order.
    it('status lists both as pending', async () => {
      const result = await runCli(['migrate', 'status', ...args])

      expect(result.code).toBe(0)
      expect(result.stderr).toBe('')
      expect(result.stdout).toBe(
        `Migrations in PostgreSQL at ${url} (schema "${schema}"):\n` +
          '  0001_create_user_logouts     pending\n' +
          '  0002_create_session_logouts  pending\n' +
          `2 of 2 migrations pending: run "jwt-logout migrate up --schema ${schema}" to apply them.\n`,
      )
    })

    it('up creates the schema and the tables', async () => {
      const result = await runCli(['migrate', 'up', ...args])

      expect(result.code).toBe(0)
      expect(result.stdout).toBe(
        `Migrated up: 0001_create_user_logouts in PostgreSQL at ${url} (schema "${schema}")\n` +
          `Migrated up: 0002_create_session_logouts in PostgreSQL at ${url} (schema "${schema}")\n`,
      )
      expect(await listTables(schema)).toEqual(['jwt_logout_migration', 'jwt_logout_migration_lock', 'session_logouts', 'user_logouts'])
    })

    it('second up has nothing to do', async () => {
      // DATABASE_URL and DATABASE_SCHEMA are the fallbacks of the options.
      const result = await runCli(['migrate', 'up'], { DATABASE_URL: url, DATABASE_SCHEMA: schema })

      expect(result.code).toBe(0)
      expect(result.stdout).toBe(`Nothing to migrate up in PostgreSQL at ${url} (schema "${schema}").\n`)
    })

    it('status shows when each was applied', async () => {
      const [text, json] = await Promise.all([runCli(['migrate', 'status', ...args]), runCli(['migrate', 'status', '--json', ...args])])
      const status = parseJsonOutput(json)

      expect(status.pending).toEqual([])
      expect(status.migrations.map((migration: { name: string }) => migration.name)).toEqual([
        '0001_create_user_logouts',
        '0002_create_session_logouts',
      ])
      for (const migration of status.migrations) {
        expect(migration.appliedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
        expect(Date.now() - Date.parse(migration.appliedAt)).toBeLessThan(60_000)
      }
      expect(text.code).toBe(0)
      expect(text.stdout).toContain(`  0001_create_user_logouts     applied ${status.migrations[0].appliedAt}\n`)
      expect(text.stdout).toContain(`  0002_create_session_logouts  applied ${status.migrations[1].appliedAt}\n`)
      expect(text.stdout.endsWith('All 2 migrations are applied.\n')).toBe(true)
    })

    it('down reverts one migration at a time', async () => {
      const first = await runCli(['migrate', 'down', ...args])
      expect(first.code).toBe(0)
      expect(first.stdout).toBe(`Migrated down: 0002_create_session_logouts in PostgreSQL at ${url} (schema "${schema}")\n`)
      expect(await listTables(schema)).not.toContain('session_logouts')

      const second = await runCli(['migrate', 'down', ...args])
      expect(second.code).toBe(0)
      expect(second.stdout).toBe(`Migrated down: 0001_create_user_logouts in PostgreSQL at ${url} (schema "${schema}")\n`)
      expect(await listTables(schema)).toEqual(['jwt_logout_migration', 'jwt_logout_migration_lock'])

      const third = await runCli(['migrate', 'down', ...args])
      expect(third.code).toBe(0)
      expect(third.stdout).toBe(`Nothing to migrate down in PostgreSQL at ${url} (schema "${schema}").\n`)
    })

    it('status after down lists both as pending', async () => {
      // --database-url wins over DATABASE_URL, which names a port where nothing listens.
      const status = parseJsonOutput(await runCli(['migrate', 'status', '--json', ...args], { DATABASE_URL: 'postgres://postgres@127.0.0.1:9/none' }))

      expect(status.pending).toEqual(['0001_create_user_logouts', '0002_create_session_logouts'])
    })

    it('uses the search_path without --schema', async () => {
      const searchPathUrl = withSearchPath(url, admin.schema!)
      const up = await runCli(['migrate', 'up', '--database-url', searchPathUrl])
      expect(up.code).toBe(0)
      expect(await listTables(admin.schema!)).toContain('user_logouts')

      for (let step = 0; step < 2; step++) expect((await runCli(['migrate', 'down', '--database-url', searchPathUrl])).code).toBe(0)
      expect(await listTables(admin.schema!)).not.toContain('user_logouts')
    })
  })

  describe('revocations', () => {
    let database: TestDatabase
    let args: string[]

    beforeAll(async () => {
      database = await createTestDatabase('postgres')
      args = ['--database-url', url, '--schema', database.schema!]
    })

    afterAll(async () => {
      await database?.close()
    })

    const userCutoff = (userId: string) =>
      readMicros(database, 'select (extract(epoch from logged_out_at) * 1000000)::bigint as micros from user_logouts where user_id = $1', [userId])

    let firstCutoff: number

    // The steps share one schema and run in order.
    it('revoke-user prints what it did', async () => {
      const result = await runCli(['revoke-user', 'alice', ...args])

      expect(result.code).toBe(0)
      expect(result.stderr).toBe('')
      const lines = result.stdout.split('\n')
      expect(lines[0]).toBe(`Logged out user "alice" everywhere in PostgreSQL at ${url} (schema "${database.schema}").`)
      const cutoff = /^Every token of this user issued at or before (\S+) is now rejected\.$/.exec(lines[1]!)?.[1]
      expect(cutoff).toMatch(ISO_MICROS)
      expect(lines[2]).toBe(
        'Instances that LISTEN on channel "jwt_logout_cutoffs" drop their cached cutoffs at once; ' +
          'others reject these tokens once their cached entry expires (cacheTtlMs, 10 s by default).',
      )
      expect(lines.slice(3)).toEqual([''])

      const [stored] = await userCutoff('alice')
      firstCutoff = stored!
      expect(new Date(firstCutoff / 1000).toISOString().slice(0, 23)).toBe(cutoff!.slice(0, 23))
    })

    it('status shows the cutoff', async () => {
      const [text, json] = await Promise.all([runCli(['status', 'alice', ...args]), runCli(['status', 'alice', '--json', ...args])])
      const status = parseJsonOutput(json)

      expect(status).toEqual({ userId: 'alice', userCutoff: expect.stringMatching(ISO_MICROS), userCutoffMicros: firstCutoff, sessions: [] })
      expect(text.code).toBe(0)
      expect(text.stdout).toBe(
        `User "alice" in PostgreSQL at ${url} (schema "${database.schema}"):\n` +
          `  Logged out everywhere at ${status.userCutoff}: every token issued at or before it is rejected.\n` +
          '  No ended sessions whose tokens may still be live.\n',
      )
    })

    it('status of an unknown user shows no cutoff', async () => {
      const [text, json] = await Promise.all([runCli(['status', 'nobody', ...args]), runCli(['status', 'nobody', '--json', ...args])])

      expect(parseJsonOutput(json)).toEqual({ userId: 'nobody', userCutoff: null, userCutoffMicros: null, sessions: [] })
      expect(text.stdout).toBe(
        `User "nobody" in PostgreSQL at ${url} (schema "${database.schema}"):\n  Never logged out everywhere.\n  No ended sessions whose tokens may still be live.\n`,
      )
    })

    it('second revoke-user moves the cutoff later', async () => {
      const output = parseJsonOutput(await runCli(['revoke-user', 'alice', '--json', ...args]))

      expect(output.cutoffMicros).toBeGreaterThan(firstCutoff)
      expect(await userCutoff('alice')).toEqual([output.cutoffMicros])
    })

    it('revoke-user keeps a later stored cutoff', async () => {
      // A cutoff far in the future, as a host with a fast clock could write; GREATEST keeps it.
      await database.execute("insert into user_logouts (user_id, logged_out_at) values ('carol', '2999-01-01T00:00:00Z')")
      const result = await runCli(['revoke-user', 'carol', ...args])

      expect(result.code).toBe(0)
      expect(await userCutoff('carol')).toEqual([Date.UTC(2999, 0, 1) * 1000])
    })

    it('revoke-session keeps the row for --expires-in and --clock-tolerance', async () => {
      const output = parseJsonOutput(
        await runCli(['revoke-session', 'alice', 'phone', '--expires-in', '120', '--clock-tolerance', '5', '--json', ...args]),
      )
      const rows = await database.execute(
        `select (extract(epoch from logged_out_at) * 1000000)::bigint as cutoff, (extract(epoch from expires_at) * 1000000)::bigint as kept_until
         from session_logouts where user_id = 'alice' and session_id = 'phone'`,
      )

      expect(output).toEqual({
        userId: 'alice',
        sessionId: 'phone',
        cutoff: expect.stringMatching(ISO_MICROS),
        cutoffMicros: expect.any(Number),
        keptUntil: expect.stringMatching(ISO_MICROS),
        keptUntilMicros: output.cutoffMicros + 125_000_000,
        expiresInSeconds: 120,
        clockToleranceSeconds: 5,
        notifyChannel: 'jwt_logout_cutoffs',
      })
      expect(rows.map((row) => [Number(row.cutoff), Number(row.kept_until)])).toEqual([[output.cutoffMicros, output.keptUntilMicros]])
    })

    it('revoke-session defaults to the token lifetime', async () => {
      const [fromEnvironment, fromDefault] = await Promise.all([
        runCli(['revoke-session', 'alice', 'laptop', '--json', ...args], { TOKEN_LIFETIME_SECONDS: '300' }),
        runCli(['revoke-session', 'alice', 'tablet', ...args]),
      ])
      const output = parseJsonOutput(fromEnvironment)

      expect(output.keptUntilMicros).toBe(output.cutoffMicros + 360_000_000)
      expect(fromDefault.code).toBe(0)
      const lines = fromDefault.stdout.split('\n')
      expect(lines[0]).toBe(`Logged out session "tablet" of user "alice" in PostgreSQL at ${url} (schema "${database.schema}").`)
      const cutoff = /^Every token of this session issued at or before (\S+) is now rejected\.$/.exec(lines[1]!)?.[1]
      const keptUntil = /^The session cutoff is kept until at least (\S+): its tokens expire within 900 s, plus 60 s of clock tolerance\. "jwt-logout prune" deletes it after that\.$/.exec(lines[2]!)?.[1]
      expect(Date.parse(keptUntil!) - Date.parse(cutoff!)).toBe(960_000)
      expect(lines[3]).toMatch(/^Instances that LISTEN on channel "jwt_logout_cutoffs" /)
    })

    it('status lists the live session cutoffs', async () => {
      const status = parseJsonOutput(await runCli(['status', 'alice', '--json', ...args]))
      const text = await runCli(['status', 'alice', ...args])

      // laptop and tablet were revoked at the same time, in either order; the list is sorted by cutoff.
      const cutoffs = status.sessions.map((session: { cutoffMicros: number }) => session.cutoffMicros)
      expect(status.sessions.map((session: { sessionId: string }) => session.sessionId).sort()).toEqual(['laptop', 'phone', 'tablet'])
      expect(status.sessions[0].sessionId).toBe('phone')
      expect(cutoffs).toEqual([...cutoffs].sort((a: number, b: number) => a - b))
      for (const session of status.sessions) {
        expect(session.keptUntilMicros).toBeGreaterThan(session.cutoffMicros)
        expect(text.stdout).toContain(
          `    "${session.sessionId}": tokens issued at or before ${session.cutoff} are rejected; kept until ${session.keptUntil}\n`,
        )
      }
      expect(text.stdout).toContain('  Ended sessions whose tokens may still be live: 3\n')
    })

    it('status leaves out expired session cutoffs', async () => {
      await database.execute(
        "insert into session_logouts values ('alice', 'old', now() - interval '2 hours', now() - interval '1 hour')",
      )
      const status = parseJsonOutput(await runCli(['status', 'alice', '--json', ...args]))

      expect(status.sessions.map((session: { sessionId: string }) => session.sessionId)).not.toContain('old')
    })

    it('revocations send a NOTIFY on the channel', async () => {
      const channel = `cli_test_${randomBytes(4).toString('hex')}`
      const listener = new pg.Client({ connectionString: url })
      const payloads: string[] = []
      await listener.connect()
      try {
        listener.on('notification', (message) => payloads.push(message.payload ?? ''))
        await listener.query(`listen ${channel}`)

        const results = [
          await runCli(['revoke-user', 'dave', '--notify-channel', channel, ...args]),
          await runCli(['revoke-session', 'dave', 'phone', '--notify-channel', channel, ...args]),
        ]
        expect(results.map((result) => result.code)).toEqual([0, 0])
        expect(results[0]!.stdout).toContain(`Instances that LISTEN on channel "${channel}" drop their cached cutoffs at once`)

        // A notification arrives on commit, before the CLI exits, but the client may read it a little later.
        for (let waited = 0; payloads.length < 2 && waited < 5000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50))
        expect(payloads).toEqual(['user:dave', 'user:dave'])
      } finally {
        await listener.end()
      }
    })

    describe('tokens of the library', () => {
      let auth: JwtLogout

      beforeAll(() => {
        // A 1 ms cache, so that each authenticate reads the cutoffs that the CLI wrote.
        auth = createJwtLogout({ db: url, schema: database.schema, secret: SECRET, cacheTtlMs: 1 })
      })

      afterAll(async () => {
        await auth?.close()
      })

      async function rejection(token: string): Promise<unknown> {
        return auth.authenticate(token).then(
          () => undefined,
          (error: unknown) => error,
        )
      }

      it('are rejected after revoke-session and revoke-user', async () => {
        const phone = await auth.issueToken('erin', { sessionId: 'phone' })
        const laptop = await auth.issueToken('erin', { sessionId: 'laptop' })
        expect((await auth.authenticate(phone.token)).claims.sub).toBe('erin')
        expect((await auth.authenticate(laptop.token)).claims.sub).toBe('erin')

        expect((await runCli(['revoke-session', 'erin', 'phone', ...args])).code).toBe(0)
        const phoneError = await rejection(phone.token)
        expect(phoneError).toBeInstanceOf(UnauthorizedError)
        expect((phoneError as UnauthorizedError).code).toBe('token_revoked')
        expect((await auth.authenticate(laptop.token)).claims.sid).toBe('laptop')

        expect((await runCli(['revoke-user', 'erin', ...args])).code).toBe(0)
        const laptopError = await rejection(laptop.token)
        expect(laptopError).toBeInstanceOf(UnauthorizedError)
        expect((laptopError as UnauthorizedError).code).toBe('token_revoked')

        // A token issued after the logout is valid.
        const fresh = await auth.issueToken('erin')
        expect((await auth.authenticate(fresh.token)).claims.sub).toBe('erin')
      })
    })
  })

  describe('missing tables', () => {
    it.each([
      [['status', 'alice'], 'read the cutoffs of user "alice"', 'user_logouts'],
      [['revoke-user', 'alice'], 'record the logout of user "alice"', 'user_logouts'],
      [['revoke-session', 'alice', 'phone'], 'record the logout of session "phone" of user "alice"', 'session_logouts'],
      [['prune'], 'prune expired session cutoffs', 'session_logouts'],
    ])('%j exits 1 with the migrate hint', async (commandArgs, action, table) => {
      const schema = uniqueSchema('missing')
      const result = await runCli([...commandArgs, '--database-url', url, '--schema', schema])

      expectOneLineError(result, 1)
      expect(result.stderr).toBe(
        `Failed to ${action} in PostgreSQL at ${url}: relation "${schema}.${table}" does not exist. ` +
          `The jwt-logout tables are missing in schema "${schema}": run "jwt-logout migrate up --schema ${schema}" on this database first.\n`,
      )
    })

    it('quotes a schema name for the shell', async () => {
      const result = await runCli(['status', 'alice', '--database-url', url, '--schema', "tenant's auth"])

      expectOneLineError(result, 1)
      expect(result.stderr).toContain(`run "jwt-logout migrate up --schema 'tenant'\\''s auth'" on this database first.`)
    })

    it('leaves --schema out of the hint without it', async () => {
      // The search_path names a schema that does not exist, so no table is found.
      const result = await runCli(['status', 'alice', '--database-url', withSearchPath(url, uniqueSchema('missing'))])

      expectOneLineError(result, 1)
      expect(result.stderr).toMatch(/The jwt-logout tables are missing from the schemas of the search_path\. If your app keeps them in a schema of their own, pass it with --schema \(or DATABASE_SCHEMA\); otherwise run "jwt-logout migrate up" on this database first\.\n$/)
    })
  })

  describe('prune', () => {
    let database: TestDatabase
    let searchPathUrl: string

    beforeAll(async () => {
      database = await createTestDatabase('postgres')
      searchPathUrl = withSearchPath(url, database.schema!)
      // Three rows expired a day ago, one 10 s ago (inside the default margin of 60 s) and one is live for an hour.
      const rows: Array<[string, string]> = [
        ['expired-1', "now() - interval '1 day'"],
        ['expired-2', "now() - interval '1 day'"],
        ['expired-3', "now() - interval '1 day'"],
        ['inside-margin', "now() - interval '10 seconds'"],
        ['live', "now() + interval '1 hour'"],
      ]
      for (const [sessionId, expiresAt] of rows) {
        await database.execute(
          `insert into session_logouts (user_id, session_id, logged_out_at, expires_at) values ('cli-user', $1, now() - interval '2 days', ${expiresAt})`,
          [sessionId],
        )
      }
      await database.execute("insert into user_logouts values ('cli-user', now() - interval '2 days')")
    })

    afterAll(async () => {
      await database?.close()
    })

    async function listSessions(): Promise<string[]> {
      const rows = await database.execute('select session_id from session_logouts order by session_id')
      return rows.map((row) => row.session_id as string)
    }

    // The steps share one schema and run in order.
    it('deletes the expired rows', async () => {
      // A batch size below the number of expired rows also checks that --batch-size reaches the store.
      const result = await runCli(['prune', '--batch-size', '2', '--schema', database.schema!, '--database-url', url])

      expect(result.code).toBe(0)
      expect(result.stdout).toBe(`Pruned 3 expired session cutoffs from PostgreSQL at ${url} (schema "${database.schema}").\n`)
      expect(await listSessions()).toEqual(['inside-margin', 'live'])
    })

    it('deletes rows inside the margin with --margin-ms 0', async () => {
      const result = await runCli(['prune', '--margin-ms', '0'], { DATABASE_URL: searchPathUrl })

      expect(result.code).toBe(0)
      expect(result.stdout).toBe(`Pruned 1 expired session cutoffs from PostgreSQL at ${searchPathUrl} (schema from the search_path).\n`)
      expect(await listSessions()).toEqual(['live'])
    })

    it('deletes nothing on a second run', async () => {
      const result = await runCli(['prune', '--margin-ms', '0', '--database-url', searchPathUrl])

      expect(result.code).toBe(0)
      expect(result.stdout).toBe(`Pruned 0 expired session cutoffs from PostgreSQL at ${searchPathUrl} (schema from the search_path).\n`)
    })

    it('keeps the cutoffs of logout-all', async () => {
      expect(await database.execute('select user_id from user_logouts')).toEqual([{ user_id: 'cli-user' }])
    })
  })

  describe('print-sql', () => {
    /**
     * Describes the tables, columns, constraints and indexes of `schema` from
     * the catalog, with the schema name replaced by <schema>, leaving out the
     * bookkeeping tables of the migrations.
     */
    async function describeTables(schema: string): Promise<string[]> {
      const columns = await admin.execute(
        `select format('column %s.%s %s %s default %s', table_name, column_name, data_type,
           case is_nullable when 'YES' then 'null' else 'not null' end, coalesce(column_default, 'none')) as line
         from information_schema.columns where table_schema = $1 order by table_name, ordinal_position`,
        [schema],
      )
      const constraints = await admin.execute(
        `select format('constraint %s on %s: %s', con.conname, tab.relname, pg_get_constraintdef(con.oid)) as line
         from pg_constraint con join pg_class tab on tab.oid = con.conrelid
         where tab.relnamespace = $1::regnamespace order by con.conname`,
        [schema],
      )
      const indexes = await admin.execute(
        `select format('index %s: %s', ind.relname, pg_get_indexdef(ix.indexrelid)) as line
         from pg_index ix join pg_class ind on ind.oid = ix.indexrelid
         where ind.relnamespace = $1::regnamespace order by ind.relname`,
        [schema],
      )
      const quoted = (await admin.execute('select quote_ident($1) as name', [schema]))[0]!.name as string
      return [...columns, ...constraints, ...indexes]
        .map((row) => (row.line as string).replaceAll(`${quoted}.`, '<schema>.'))
        .filter((line) => !line.includes('jwt_logout_migration'))
    }

    it('creates the same tables as migrate up', async () => {
      const printed = uniqueSchema('printed')
      const migrated = uniqueSchema('migrated')
      createdSchemas.push(printed, migrated)

      const [sqlRun, migrateRun] = await Promise.all([
        runCli(['print-sql', '--schema', printed]),
        runCli(['migrate', 'up', '--database-url', url, '--schema', migrated]),
      ])
      expect(sqlRun.code).toBe(0)
      expect(migrateRun.code).toBe(0)
      const psql = await runPsql(url, sqlRun.stdout)
      expect(psql.stderr).toBe('')
      expect(psql.code).toBe(0)

      const expected = await describeTables(migrated)
      expect(expected.length).toBeGreaterThanOrEqual(10)
      expect(expected).toContain('index session_logouts_expires_at_idx: CREATE INDEX session_logouts_expires_at_idx ON <schema>.session_logouts USING btree (expires_at)')
      expect(await describeTables(printed)).toEqual(expected)

      // The migrate commands see that these tables came from elsewhere and leave them alone.
      const status = await runCli(['migrate', 'status', '--database-url', url, '--schema', printed])
      expect(status.code).toBe(0)
      expect(status.stdout).toContain('The jwt-logout tables exist, but were created outside these migrations')
      const up = await runCli(['migrate', 'up', '--database-url', url, '--schema', printed])
      expect(up.code).toBe(1)
      expect(up.stderr).toContain("but jwt-logout's migrations never ran there")
      expect(await listTables(printed)).toEqual(['session_logouts', 'user_logouts'])

      // --down drops the tables again and leaves the schema.
      const down = await runCli(['print-sql', '--down', '--schema', printed])
      const psqlDown = await runPsql(url, down.stdout)
      expect(psqlDown.code).toBe(0)
      expect(await listTables(printed)).toEqual([])
      expect(await admin.execute('select 1 from information_schema.schemata where schema_name = $1', [printed])).toHaveLength(1)
    })
  })
})
