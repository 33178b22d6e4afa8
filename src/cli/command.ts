import type { OpenDatabase } from '../store/open-database.js'
import type { Environment, OptionSpec, OptionValues } from './args.js'
import type { Output } from './output.js'

/** A positional argument of a command, as the usage line shows it. */
export interface ArgumentSpec {
  name: string
  /** Whether the argument may be left out; required by default. */
  optional?: boolean
}

/** Input of a command, once the command line has been parsed. */
export interface CommandInput {
  /** Positional arguments after the command name; their count already matches `arguments`. */
  arguments: readonly string[]
  values: OptionValues
  env: Environment
}

/** Database, settings and output of a running command. */
export interface CommandContext {
  /** The open database; undefined for commands whose `needsDatabase` is false. */
  database: OpenDatabase | undefined
  /** Schema of the jwt-logout tables; undefined selects the search_path. */
  schema: string | undefined
  notifyChannel: string
  output: Output
}

/** Runs a prepared command. @throws CommandFailedError, or any error of the store, for exit code 1. */
export type CommandAction = (context: CommandContext) => Promise<void>

/** One subcommand of `jwt-logout`. */
export interface Command {
  name: string
  arguments: readonly ArgumentSpec[]
  /** The command with its arguments, as the usage line and the command list show it, such as `status <user-id>`. */
  synopsis: string
  /** One line for the command list of `jwt-logout --help`. */
  summary: string
  /** Paragraphs of the command's own help, each without a trailing newline. */
  description: readonly string[]
  /** Options besides the global ones. */
  options: Readonly<Record<string, OptionSpec>>
  /** False for commands that work without a database; their database options are ignored. */
  needsDatabase: boolean
  /**
   * Checks the arguments and option values, before any database is opened,
   * and returns the action to run.
   * @throws UsageError naming the invalid value.
   */
  prepare(input: CommandInput): CommandAction
}

/** Returns the open database of a command that declared `needsDatabase`. */
export function requireDatabase(context: CommandContext): OpenDatabase {
  if (context.database === undefined) throw new Error('This command needs a database, but none was opened for it')
  return context.database
}

/**
 * Returns where the command works, for its output: the database without
 * credentials, and the schema named by --schema or else the search_path.
 */
export function describeTarget(context: CommandContext): string {
  const schema = context.schema === undefined ? 'schema from the search_path' : `schema ${JSON.stringify(context.schema)}`
  return `${requireDatabase(context).description} (${schema})`
}
