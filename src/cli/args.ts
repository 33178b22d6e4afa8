import { checkChannel, DEFAULT_CHANNEL } from '../invalidation/notification.js'
import { isPostgresUrl } from '../store/database-input.js'
import { checkSchemaName } from '../store/schema.js'
import { isStorableText } from '../store/storable-text.js'

/**
 * The command line is invalid: an unknown command or option, a missing or
 * extra argument, or an invalid value. The CLI prints the message and the
 * usage of `command` (or the general usage), and exits with code 2.
 */
export class UsageError extends Error {
  /** Name of the command whose usage to print; undefined for the general usage. */
  readonly command: string | undefined

  constructor(message: string, command?: string) {
    super(message)
    this.name = 'UsageError'
    this.command = command
  }
}

/** An option as parseArgs takes it, with what the help text shows for it. */
export interface OptionSpec {
  type: 'string' | 'boolean'
  short?: string
  /** Placeholder of the value in the help text, such as SECONDS. */
  valueName?: string
  /** Help text: the setting, its unit and its default. */
  help: string
}

/** Options that every command accepts. */
export const GLOBAL_OPTIONS = {
  'database-url': {
    type: 'string',
    valueName: 'URL',
    help: 'PostgreSQL connection string (default: the DATABASE_URL variable)',
  },
  'data-dir': {
    type: 'string',
    valueName: 'DIR',
    help:
      'folder of an embedded PGlite database, used when no URL is given and over DATABASE_URL ' +
      'when passed explicitly (default: the DATA_DIR variable); only one process can open it at a time',
  },
  schema: {
    type: 'string',
    valueName: 'NAME',
    help: 'schema of the jwt-logout tables (default: the DATABASE_SCHEMA variable, else the first schema of the search_path)',
  },
  'notify-channel': {
    type: 'string',
    valueName: 'NAME',
    help: `channel of the NOTIFY that each revocation sends (default: ${DEFAULT_CHANNEL})`,
  },
  help: { type: 'boolean', short: 'h', help: 'print the usage of the command' },
  version: { type: 'boolean', help: 'print the version of jwt-logout' },
} as const satisfies Record<string, OptionSpec>

/** Location of the command's database, with exactly one of the two fields set. */
export type DatabaseTarget = { databaseUrl: string; dataDir?: undefined } | { databaseUrl?: undefined; dataDir: string }

/** Option values as parseArgs returns them. */
export type OptionValues = Readonly<Record<string, string | boolean | undefined>>

/** Environment variables, as in `process.env`. */
export type Environment = Readonly<Record<string, string | undefined>>

/**
 * Picks the database from --database-url, --data-dir and their variables. An
 * explicit option wins over the environment, so --data-dir is not overridden
 * by an exported DATABASE_URL.
 * @throws UsageError when both options are given, none is found, or the URL is not a PostgreSQL one.
 */
export function resolveDatabaseTarget(values: OptionValues, env: Environment, command: string): DatabaseTarget {
  const explicitUrl = stringValue(values, 'database-url')
  const explicitDataDir = stringValue(values, 'data-dir')
  if (explicitUrl !== undefined && explicitDataDir !== undefined) {
    throw new UsageError('Pass either --database-url or --data-dir, not both.', command)
  }

  if (explicitUrl !== undefined) return { databaseUrl: checkDatabaseUrl(explicitUrl, '--database-url', command) }
  if (explicitDataDir !== undefined) return { dataDir: checkDataDir(explicitDataDir, '--data-dir', command) }
  if (env.DATABASE_URL) return { databaseUrl: checkDatabaseUrl(env.DATABASE_URL, 'DATABASE_URL', command) }
  if (env.DATA_DIR) return { dataDir: env.DATA_DIR }
  throw new UsageError(
    'No database given: set DATABASE_URL (or pass --database-url), or pass --data-dir for an embedded database.',
    command,
  )
}

/** Returns the schema from --schema or DATABASE_SCHEMA, or undefined to use the search_path. */
export function resolveSchema(values: OptionValues, env: Environment, command: string): string | undefined {
  const explicit = stringValue(values, 'schema')
  const [name, value] = explicit !== undefined ? ['--schema', explicit] : ['DATABASE_SCHEMA', env.DATABASE_SCHEMA || undefined]
  try {
    return checkSchemaName(value, name)
  } catch (error) {
    throw new UsageError(`${(error as Error).message}.`, command)
  }
}

/** Returns the channel from --notify-channel, or the default one. */
export function resolveNotifyChannel(values: OptionValues, command: string): string {
  const value = stringValue(values, 'notify-channel') ?? DEFAULT_CHANNEL
  try {
    return checkChannel(value)
  } catch {
    throw new UsageError(
      '--notify-channel must be a lowercase identifier of at most 63 characters (a-z, 0-9 and _, ' +
        `not starting with a digit), got ${JSON.stringify(value)}.`,
      command,
    )
  }
}

/** Limits of a whole-number option, and the unit that its error message names. */
export interface WholeNumberRule {
  min: number
  max?: number
  /** Plural unit for the message, such as "seconds"; omitted for plain counts. */
  unit?: string
}

/**
 * Parses a whole number written in decimal digits, such as the value of --batch-size.
 * @param name The option or variable that the value came from, for the message.
 * @throws UsageError naming `name`, the rule and the value.
 */
export function parseWholeNumber(name: string, text: string, rule: WholeNumberRule, command: string): number {
  const max = rule.max ?? Number.MAX_SAFE_INTEGER
  const value = Number(text)
  if (/^\d+$/.test(text) && Number.isSafeInteger(value) && value >= rule.min && value <= max) return value

  const kind = rule.unit === undefined ? 'a whole number' : `a whole number of ${rule.unit}`
  const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${rule.min}` : `from ${rule.min} to ${max}`
  throw new UsageError(`${name} must be ${kind} ${range}, got ${JSON.stringify(text)}.`, command)
}

/**
 * Checks a user or session id argument the way the library checks ids.
 * @throws UsageError for an empty id, or one with NUL or unpaired surrogate characters.
 */
export function checkId(name: string, value: string, command: string): string {
  if (value === '' || !isStorableText(value)) {
    throw new UsageError(`<${name}> must be a non-empty string without NUL characters, got ${JSON.stringify(value)}.`, command)
  }
  return value
}

/** Returns a string option's value, or undefined when it was not given. */
export function stringValue(values: OptionValues, name: string): string | undefined {
  const value = values[name]
  return typeof value === 'string' ? value : undefined
}

function checkDatabaseUrl(value: string, name: string, command: string): string {
  if (!isPostgresUrl(value)) {
    // The value is not shown, because a connection string may contain a password.
    throw new UsageError(
      `${name} must be a connection string such as postgres://user@host:5432/database; the value given is not one (not shown, as it may contain a password).`,
      command,
    )
  }
  return value
}

function checkDataDir(value: string, name: string, command: string): string {
  if (value === '') throw new UsageError(`${name} must be a folder path, got an empty string.`, command)
  return value
}
