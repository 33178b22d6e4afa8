import { readFile } from 'node:fs/promises'
import { join } from 'node:path'

import { describe, expect, it } from 'vitest'

import { COMMANDS } from '../../src/cli/commands/index.js'
import { editDistance, suggestionFor } from '../../src/suggest.js'
import { schemaSql } from '../../src/store/schema-sql.js'
import { REPOSITORY_ROOT } from '../support/build.js'
import { expectOneLineError, runInProcess } from './helpers.js'

// These runs stop before any database is opened, so they run in-process; the
// spawned bin is covered in pglite.test.ts and postgres.test.ts.

const GENERAL_USAGE = 'Usage: jwt-logout <command> [arguments] [options]'
const COMMAND_NAMES = ['migrate', 'print-sql', 'revoke-user', 'revoke-session', 'prune', 'status']
const GLOBAL_OPTIONS = ['--database-url URL', '--data-dir DIR', '--schema NAME', '--notify-channel NAME', '-h, --help', '--version']

/** A valid database option, for runs that must fail on something else; nothing is opened. */
const DATABASE = ['--database-url', 'postgres://postgres@127.0.0.1:1/none']

function usageLine(name: string): string {
  const command = COMMANDS.find((candidate) => candidate.name === name)!
  return `Usage: jwt-logout ${command.synopsis} [options]`
}

describe('general help', () => {
  it.each([['--help'], ['-h'], ['help']])('prints it for %s', async (flag) => {
    const result = await runInProcess([flag])

    expect(result.code).toBe(0)
    expect(result.stderr).toBe('')
    expect(result.stdout.startsWith(`${GENERAL_USAGE}\n`)).toBe(true)
  })

  it('lists every command and global option', async () => {
    const { stdout } = await runInProcess(['--help'])

    expect(COMMANDS.map((command) => command.name)).toEqual(COMMAND_NAMES)
    for (const command of COMMANDS) expect(stdout).toMatch(new RegExp(`^  ${escape(command.synopsis)}  +${escape(command.summary)}$`, 'm'))
    expect(stdout).toMatch(/^ {2}help \[command\] +print the usage of a command$/m)
    for (const option of GLOBAL_OPTIONS) expect(stdout).toContain(`  ${option}  `)
    expect(stdout).toContain('Exit codes: 0 success, 1 the operation or the database failed, 2 invalid usage.')
  })

  it('keeps lines within 100 characters', async () => {
    const texts = [(await runInProcess(['--help'])).stdout]
    for (const name of COMMAND_NAMES) texts.push((await runInProcess([name, '--help'])).stdout)

    const longLines = texts.flatMap((text) => text.split('\n')).filter((line) => line.length > 100)
    expect(longLines).toEqual([])
  })
})

describe('command help', () => {
  it.each(COMMAND_NAMES)('prints the usage of %s', async (name) => {
    const command = COMMANDS.find((candidate) => candidate.name === name)!
    const result = await runInProcess([name, '--help'])

    expect(result.code).toBe(0)
    expect(result.stderr).toBe('')
    expect(result.stdout.startsWith(`${usageLine(name)}\n`)).toBe(true)
    for (const [option, spec] of Object.entries(command.options)) {
      const optionText = spec.valueName === undefined ? `--${option}` : `--${option} ${spec.valueName}`
      expect(result.stdout).toContain(`  ${optionText}  `)
    }
    for (const option of GLOBAL_OPTIONS) expect(result.stdout).toContain(`  ${option}  `)
  })

  it.each(COMMAND_NAMES)('prints the same for help %s', async (name) => {
    const viaFlag = await runInProcess([name, '-h'])
    const viaCommand = await runInProcess(['help', name])

    expect(viaCommand.code).toBe(0)
    expect(viaCommand.stdout).toBe(viaFlag.stdout)
  })

  it('prints it despite invalid arguments', async () => {
    // --help wins over everything else on the line, so a user can always read the usage.
    const result = await runInProcess(['revoke-session', '--expires-in', 'soon', '--help'], { DATABASE_URL: 'not a url' })

    expect(result.code).toBe(0)
    expect(result.stdout.startsWith(usageLine('revoke-session'))).toBe(true)
  })

  it('documents the exit code of migrate status', async () => {
    const { stdout } = await runInProcess(['migrate', '--help'])

    expect(stdout.replace(/\s+/g, ' ')).toContain('migrate status exits with code 0 whether or not a migration is pending')
  })

  it('rejects help for an unknown command', async () => {
    const result = await runInProcess(['help', 'revoke'])

    expectOneLineError(result, 2)
    expect(result.stderr).toMatch(/^Unknown command "revoke"\. Did you mean "revoke-user" or "revoke-session"\?\n/)
  })
})

describe('version', () => {
  it('prints the version of package.json', async () => {
    const manifest = JSON.parse(await readFile(join(REPOSITORY_ROOT, 'package.json'), 'utf8')) as { version: string }
    const result = await runInProcess(['--version'])

    expect(result.code).toBe(0)
    expect(result.stdout).toBe(`${manifest.version}\n`)
  })
})

describe('unknown commands', () => {
  it.each([
    ['stauts', 'Unknown command "stauts". Did you mean "status"?'],
    ['migrat', 'Unknown command "migrat". Did you mean "migrate"?'],
    ['revoke', 'Unknown command "revoke". Did you mean "revoke-user" or "revoke-session"?'],
    ['revokeuser', 'Unknown command "revokeuser". Did you mean "revoke-user"?'],
    ['print', 'Unknown command "print". Did you mean "print-sql"?'],
    ['logout', 'Unknown command "logout". The commands are migrate, print-sql, revoke-user, revoke-session, prune, status.'],
  ])('names %s and suggests a command', async (name, message) => {
    const result = await runInProcess([name, 'alice'])

    expectOneLineError(result, 2)
    expect(result.stderr.startsWith(`${message}\n\n${GENERAL_USAGE}\n`)).toBe(true)
  })

  it('rejects a missing command', async () => {
    const result = await runInProcess([])

    expectOneLineError(result, 2)
    expect(result.stderr.startsWith(`Missing command: name one of the commands below.\n\n${GENERAL_USAGE}`)).toBe(true)
  })

  it('finds the command after global options', async () => {
    const result = await runInProcess(['--schema', 'auth', 'print-sql'])

    expect(result.code).toBe(0)
    expect(result.stdout).toBe(await schemaSql({ schema: 'auth' }))
  })
})

describe('suggestions', () => {
  it('measures the edit distance', () => {
    expect(editDistance('status', 'status')).toBe(0)
    expect(editDistance('stauts', 'status')).toBe(2)
    expect(editDistance('', 'prune')).toBe(5)
    expect(editDistance('prune', 'prunes')).toBe(1)
  })

  it('suggests nothing for an empty input', () => {
    expect(suggestionFor('', ['up', 'down'])).toBe('')
  })
})

/** [arguments, environment, first line of stderr]: each run must exit with 2 and print the command's usage. */
const USAGE_ERRORS: Array<[string[], Record<string, string>, string]> = [
  [['migrate'], {}, 'Missing <up|down|status>.'],
  [['migrate', 'sideways'], {}, 'Unknown migrate action "sideways": use up, down or status.'],
  [['migrate', 'stat'], {}, 'Unknown migrate action "stat": use up, down or status. Did you mean "status"?'],
  [['migrate', 'up', 'now'], {}, 'Unexpected argument "now" after "jwt-logout migrate up|down|status".'],
  [['migrate', 'up', '--json', ...DATABASE], {}, '--json is only available with migrate status.'],
  [['migrate', 'up', '--force'], {}, 'Unknown option "--force".\n'],
  [['status', 'alice', '--shcema', 'auth'], {}, 'Unknown option "--shcema". Did you mean "--schema"?\n'],
  [['migrate', 'up'], {}, 'No database given: set DATABASE_URL (or pass --database-url), or pass --data-dir for an embedded database.'],
  [['migrate', 'up', ...DATABASE, '--data-dir', '/tmp/unused'], {}, 'Pass either --database-url or --data-dir, not both.'],
  [['print-sql', 'now'], {}, 'Unexpected argument "now" after "jwt-logout print-sql [--down] [--after MIGRATION]".'],
  [['print-sql', '--after', '0002'], {}, '--after must name one of the migrations 0001_create_user_logouts, 0002_create_session_logouts, got "0002". Did you mean "0002_create_session_logouts"?'],
  [['print-sql', '--after'], {}, "Option '--after <value>' argument missing"],
  [['print-sql', '--schema', ''], {}, '--schema must be a schema name of 1 to 63 bytes without NUL characters, got "".'],
  [['print-sql', '--schema', 'x'.repeat(64)], {}, '--schema must be a schema name of 1 to 63 bytes'],
  [['print-sql'], { DATABASE_SCHEMA: 'a\u0000b' }, 'DATABASE_SCHEMA must be a schema name of 1 to 63 bytes'],
  [['revoke-user'], {}, 'Missing <user-id>.'],
  [['revoke-user', 'alice', 'bob'], {}, 'Unexpected argument "bob" after "jwt-logout revoke-user <user-id>".'],
  [['revoke-user', ''], {}, '<user-id> must be a non-empty string without NUL characters, got "".'],
  [['revoke-user', 'al\u0000ice'], {}, '<user-id> must be a non-empty string without NUL characters, got "al\\u0000ice".'],
  [['revoke-user', 'alice', '--schema'], {}, "Option '--schema <value>' argument missing"],
  [['revoke-user', 'alice', '--notify-channel', 'Cutoffs', ...DATABASE], {}, '--notify-channel must be a lowercase identifier of at most 63 characters (a-z, 0-9 and _, not starting with a digit), got "Cutoffs".'],
  [['revoke-user', 'alice', '--notify-channel', '1st', ...DATABASE], {}, '--notify-channel must be a lowercase identifier'],
  [['revoke-user', 'alice', '--json=yes'], {}, "Option '--json' does not take an argument"],
  [['revoke-user', 'alice', '--database-url', 'mysql://root:hunter22@127.0.0.1/app'], {}, '--database-url must be a connection string such as postgres://user@host:5432/database; the value given is not one (not shown, as it may contain a password).'],
  [['revoke-user', 'alice'], { DATABASE_URL: 'hunter22' }, 'DATABASE_URL must be a connection string such as postgres://user@host:5432/database'],
  [['revoke-user', 'alice', '--data-dir', ''], {}, '--data-dir must be a folder path, got an empty string.'],
  [['revoke-session', 'alice'], {}, 'Missing <session-id>.'],
  [['revoke-session'], {}, 'Missing <user-id> and <session-id>.'],
  [['revoke-session', 'alice', ''], {}, '<session-id> must be a non-empty string without NUL characters, got "".'],
  [['revoke-session', 'alice', 's1', 's2'], {}, 'Unexpected argument "s2" after "jwt-logout revoke-session <user-id> <session-id>".'],
  [['revoke-session', 'alice', 's1', '--expires-in', '0'], {}, '--expires-in must be a whole number of seconds from 1 to 3153600000, got "0".'],
  [['revoke-session', 'alice', 's1', '--expires-in', '1.5'], {}, '--expires-in must be a whole number of seconds from 1 to 3153600000, got "1.5".'],
  [['revoke-session', 'alice', 's1', '--expires-in', '-5'], {}, "Option '--expires-in' argument is ambiguous. Did you forget to specify the option argument for '--expires-in'? To specify an option argument starting with a dash use '--expires-in=-XYZ'."],
  [['revoke-session', 'alice', 's1', '--expires-in=-5'], {}, '--expires-in must be a whole number of seconds from 1 to 3153600000, got "-5".'],
  [['revoke-session', 'alice', 's1', '--expires-in', '3153600001'], {}, '--expires-in must be a whole number of seconds from 1 to 3153600000, got "3153600001".'],
  [['revoke-session', 'alice', 's1', '--expires-in', '1e3'], {}, '--expires-in must be a whole number of seconds from 1 to 3153600000, got "1e3".'],
  [['revoke-session', 'alice', 's1', '--clock-tolerance', 'ten'], {}, '--clock-tolerance must be a whole number of seconds from 0 to 3153600000, got "ten".'],
  [['revoke-session', 'alice', 's1'], { TOKEN_LIFETIME_SECONDS: '15m' }, 'TOKEN_LIFETIME_SECONDS (the default of --expires-in) must be a whole number of seconds from 1 to 31536000, got "15m".'],
  [['revoke-session', 'alice', 's1'], { TOKEN_LIFETIME_SECONDS: '0' }, 'TOKEN_LIFETIME_SECONDS (the default of --expires-in) must be a whole number of seconds from 1 to 31536000, got "0".'],
  [['prune', 'now'], {}, 'Unexpected argument "now" after "jwt-logout prune".'],
  [['prune', '--margin-ms=-1'], {}, '--margin-ms must be a whole number of milliseconds of at least 0, got "-1".'],
  [['prune', '--json'], {}, 'Unknown option "--json".\n'],
  [['status'], {}, 'Missing <user-id>.'],
  [['status', 'alice', 'phone'], {}, 'Unexpected argument "phone" after "jwt-logout status <user-id>".'],
]

describe('usage errors', () => {
  it.each(USAGE_ERRORS)('rejects %j with %j', async (args, env, message) => {
    const result = await runInProcess(args, env)

    expectOneLineError(result, 2)
    expect(result.stderr.startsWith(message)).toBe(true)
    expect(result.stderr).toContain(`\n\n${usageLine(args[0]!)}\n`)
    expect(result.stderr).not.toContain('hunter22')
  })

  it.each(['0', '-1', '1.5', 'ten', '', ' 5', '9007199254740993'])('rejects --batch-size=%j', async (value) => {
    const result = await runInProcess(['prune', `--batch-size=${value}`])

    expectOneLineError(result, 2)
    expect(result.stderr.startsWith(`--batch-size must be a whole number of at least 1, got ${JSON.stringify(value)}.\n`)).toBe(true)
  })

  it('accepts an id that starts with a dash after --', async () => {
    // The run fails later, on the unreachable database, so the id passed the checks.
    const result = await runInProcess(['status', ...DATABASE, '--', '-alice'])

    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^Failed to read the cutoffs of user "-alice" in PostgreSQL at /)
  })
})

describe('print-sql', () => {
  it('prints the SQL of the migrations', async () => {
    const result = await runInProcess(['print-sql'])

    expect(result.code).toBe(0)
    expect(result.stderr).toBe('')
    expect(result.stdout).toBe(await schemaSql())
  })

  it('prints the down SQL for --down', async () => {
    const result = await runInProcess(['print-sql', '--down', '--schema', 'auth'])

    expect(result.code).toBe(0)
    expect(result.stdout).toBe(await schemaSql({ schema: 'auth', direction: 'down' }))
  })

  it('prints only later migrations for --after', async () => {
    const result = await runInProcess(['print-sql', '--after', '0001_create_user_logouts'])

    expect(result.code).toBe(0)
    expect(result.stdout).toBe(await schemaSql({ after: '0001_create_user_logouts' }))
    expect(result.stdout).toContain('-- 0002_create_session_logouts (up)')
    expect(result.stdout).not.toContain('user_logouts"')
  })

  it('takes the schema from DATABASE_SCHEMA', async () => {
    const result = await runInProcess(['print-sql'], { DATABASE_SCHEMA: 'tenant_a' })

    expect(result.code).toBe(0)
    expect(result.stdout).toBe(await schemaSql({ schema: 'tenant_a' }))
  })

  it('needs no database', async () => {
    // A database option that could not be opened is ignored, not used.
    const result = await runInProcess(['print-sql', '--data-dir', '/nonexistent/jwt-logout'], { DATABASE_URL: 'postgres://127.0.0.1:1/none' })

    expect(result.code).toBe(0)
    expect(result.stdout).toContain('create table "user_logouts"')
  })
})

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
