import { inspect } from 'node:util'

import { StoreUnavailableError } from '../errors/store-unavailable-error.js'
import type { CommandContext } from './command.js'

/** An operation of a command failed; the CLI prints the message and exits with code 1. */
export class CommandFailedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'CommandFailedError'
  }
}

/** SQLSTATE of "relation does not exist": the migrations have not run in this schema. */
const UNDEFINED_TABLE = '42P01'

/** Error codes of Node and pg that mean the server could not be reached. */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EAI_AGAIN'])

/**
 * Runs one database operation of a command. A failure becomes a
 * CommandFailedError whose one-line message names the action, the database
 * (without its password), the driver's message and, where it helps, the fix.
 * @param action What the command was doing, after "Failed to", such as `record the logout of user "alice"`.
 */
export async function attempt<T>(context: CommandContext, action: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation()
  } catch (error) {
    const cause = error instanceof StoreUnavailableError && error.cause !== undefined ? error.cause : error
    throw new CommandFailedError(failureMessage(context, action, cause), { cause: error })
  }
}

/** Builds the message of a failed operation; see `attempt`. */
export function failureMessage(context: CommandContext, action: string, cause: unknown): string {
  const where = context.database === undefined ? '' : ` in ${context.database.description}`
  const hint = hintFor(cause, context)
  const description = describeError(cause)
  // The hint is a sentence of its own, so the cause before it needs a full stop.
  const separator = hint === '' || /[.!?]$/.test(description) ? '' : '.'
  return `Failed to ${action}${where}: ${description}${separator}${hint}`
}

/** Returns a sentence, with a leading space, on how to fix `cause`, or ''. */
function hintFor(cause: unknown, context: CommandContext): string {
  const code = errorCode(cause)
  if (code === UNDEFINED_TABLE) {
    if (context.schema === undefined) {
      // Running migrate up here would create a second, unused set of tables when the app keeps its own in a schema.
      return (
        ' The jwt-logout tables are missing from the schemas of the search_path. If your app keeps them in a ' +
        'schema of their own, pass it with --schema (or DATABASE_SCHEMA); otherwise run "jwt-logout migrate up" ' +
        'on this database first.'
      )
    }
    return ` The jwt-logout tables are missing in schema ${JSON.stringify(context.schema)}: run "${migrateUpCommand(context.schema)}" on this database first.`
  }
  if (context.database?.kind === 'postgres' && code !== undefined && CONNECTION_CODES.has(code)) {
    return ' Check that PostgreSQL runs at that address and that --database-url (or DATABASE_URL) names it.'
  }
  return ''
}

/** Returns the migrate command line for `schema`, quoted for a POSIX shell. */
export function migrateUpCommand(schema: string | undefined): string {
  return schema === undefined ? 'jwt-logout migrate up' : `jwt-logout migrate up --schema ${shellQuote(schema)}`
}

/** Returns `value` quoted for a POSIX shell when it contains anything besides safe characters. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_.\/:@=+-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`
}

/**
 * Returns the message of an error on one line. An AggregateError, which Node
 * raises when every address of a host refuses the connection, has an empty
 * message of its own, so the messages of its errors are joined instead.
 */
export function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.message === '' && error.errors.length > 0) {
    return [...new Set(error.errors.map((inner) => describeError(inner)))].join('; ')
  }
  if (error instanceof Error && error.message !== '') return oneLine(error.message)
  // PGlite's file system errors may have no message; inspect shows their fields.
  return oneLine(inspect(error, { breakLength: Infinity }))
}

/** Returns the SQLSTATE or Node error code of `error` or of its first inner error. */
function errorCode(error: unknown): string | undefined {
  if (error instanceof AggregateError && error.errors.length > 0) return errorCode(error.errors[0])
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim()
}

/**
 * Returns a function that replaces the password of `database`'s connection
 * string in a text with ***, in both its URL-encoded and decoded forms, in
 * case a driver message ever contains it.
 */
export function passwordRedactor(databaseUrl: string | undefined): (text: string) => string {
  const secrets = new Set<string>()
  if (databaseUrl !== undefined) {
    try {
      const password = new URL(databaseUrl).password
      if (password !== '') {
        secrets.add(password)
        secrets.add(safeDecode(password))
      }
    } catch {
      // The URL was checked before; an unparsable one has no password to find.
    }
  }
  return (text) => {
    let redacted = text
    for (const secret of secrets) redacted = redacted.replaceAll(secret, '***')
    return redacted
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

