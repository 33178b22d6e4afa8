import { parseArgs, type ParseArgsConfig } from 'node:util'

import { openDatabase, type OpenDatabase } from '../store/open-database.js'
import {
  GLOBAL_OPTIONS,
  resolveDatabaseTarget,
  resolveNotifyChannel,
  resolveSchema,
  UsageError,
  type DatabaseTarget,
  type OptionSpec,
  type OptionValues,
} from './args.js'
import type { Command, CommandAction } from './command.js'
import { COMMANDS, findCommand, HELP_COMMAND } from './commands/index.js'
import { CommandFailedError, describeError, passwordRedactor } from './failure.js'
import { commandUsage, generalUsage } from './help.js'
import { Output, processIo, type CliIo } from './output.js'
import { suggestionFor } from '../suggest.js'
import { readPackageVersion } from './version.js'

/**
 * Settings of the database pool of one CLI run, in milliseconds. The query
 * timeout is longer than the library's 2 s because migrations and prune run
 * once, by an operator, and may wait for locks held by running apps.
 */
const POOL_SETTINGS = { connectTimeoutMs: 5000, queryTimeoutMs: 30_000, poolSize: 2 }

/**
 * Runs the CLI with `args` (without node and the script) and returns the exit
 * code: 0 on success, 1 when the operation or the database failed, 2 for
 * invalid usage. Output goes to `io`, which tests replace to run it in-process.
 */
export async function runCli(args: readonly string[], io: CliIo = processIo()): Promise<number> {
  // Until a database URL is known there is no password to hide.
  const secrets = { redact: (text: string) => text }
  try {
    await dispatch(args, io, secrets)
    return 0
  } catch (error) {
    if (error instanceof UsageError) {
      const command = error.command === undefined ? undefined : findCommand(error.command)
      const usage = command === undefined ? generalUsage() : commandUsage(command)
      io.stderr(`${secrets.redact(error.message)}\n\n${usage}\n`)
      return 2
    }
    const message = error instanceof CommandFailedError ? error.message : `Failed: ${describeError(error)}`
    io.stderr(`${secrets.redact(message)}\n`)
    return 1
  }
}

async function dispatch(args: readonly string[], io: CliIo, secrets: { redact: (text: string) => string }): Promise<void> {
  const output = new Output(io)
  const scan = scanArgs(args)

  if (scan.values.version === true) {
    output.line(await readPackageVersion())
    return
  }
  if (scan.commandName === HELP_COMMAND) {
    output.line(helpFor(scan.positionals.slice(1)))
    return
  }
  if (scan.commandName === undefined) {
    if (scan.values.help === true) {
      output.line(generalUsage())
      return
    }
    throw new UsageError('Missing command: name one of the commands below.')
  }

  const command = findCommand(scan.commandName)
  if (command === undefined) throw unknownCommand(scan.commandName)
  if (scan.values.help === true) {
    output.line(commandUsage(command))
    return
  }

  const { values, commandArguments } = parseCommandLine(command, args)
  checkArgumentCount(command, commandArguments)
  const action = command.prepare({ arguments: commandArguments, values, env: io.env })
  const schema = resolveSchema(values, io.env, command.name)
  const notifyChannel = resolveNotifyChannel(values, command.name)

  if (!command.needsDatabase) {
    await action({ database: undefined, schema, notifyChannel, output })
    return
  }
  const target = resolveDatabaseTarget(values, io.env, command.name)
  secrets.redact = passwordRedactor(target.databaseUrl)
  await runOnDatabase(action, target, { schema, notifyChannel, output })
}

/** Opens the database, runs `action` on it and closes it, also after a failure. */
async function runOnDatabase(
  action: CommandAction,
  target: DatabaseTarget,
  context: { schema: string | undefined; notifyChannel: string; output: Output },
): Promise<void> {
  let database: OpenDatabase
  try {
    database = await openDatabase({ ...target, ...POOL_SETTINGS })
  } catch (error) {
    const where = target.dataDir === undefined ? 'the database' : `the embedded database in ${target.dataDir}`
    throw new CommandFailedError(`Failed to open ${where}: ${describeError(error)}`, { cause: error })
  }

  let failed = true
  try {
    await action({ ...context, database })
    failed = false
  } finally {
    // A failure to close after a failed action must not hide the action's error.
    await database.close().catch((error: unknown) => {
      if (!failed) throw new CommandFailedError(`Failed to close ${database.description}: ${describeError(error)}`, { cause: error })
    })
  }
}

/** parseArgs settings of every option of every command, so that the command name can be found wherever it is. */
function allOptions(): ParseArgsConfig['options'] {
  const specs: Record<string, OptionSpec> = { ...GLOBAL_OPTIONS }
  for (const command of COMMANDS) Object.assign(specs, command.options)
  return toParseArgsOptions(specs)
}

function toParseArgsOptions(specs: Readonly<Record<string, OptionSpec>>): NonNullable<ParseArgsConfig['options']> {
  const options: NonNullable<ParseArgsConfig['options']> = {}
  for (const [name, spec] of Object.entries(specs)) {
    options[name] = spec.short === undefined ? { type: spec.type } : { type: spec.type, short: spec.short }
  }
  return options
}

/**
 * Finds the command name (the first positional argument) and the --help and
 * --version flags without rejecting anything, so that `<command> --help`
 * prints the usage even when the rest of the line is invalid.
 */
function scanArgs(args: readonly string[]): { commandName: string | undefined; positionals: string[]; values: OptionValues } {
  const scan = parseArgs({ args: [...args], options: allOptions(), strict: false, allowPositionals: true })
  return { commandName: scan.positionals[0], positionals: scan.positionals, values: scan.values as OptionValues }
}

/** Parses the command line strictly, with the global options and those of `command`. */
function parseCommandLine(command: Command, args: readonly string[]): { values: OptionValues; commandArguments: string[] } {
  let parsed
  try {
    parsed = parseArgs({
      args: [...args],
      options: toParseArgsOptions({ ...GLOBAL_OPTIONS, ...command.options }),
      strict: true,
      allowPositionals: true,
    })
  } catch (error) {
    const unknown = /^Unknown option '([^']+)'/.exec((error as Error).message)?.[1]
    if ((error as { code?: unknown }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown !== undefined) {
      const names = Object.keys({ ...GLOBAL_OPTIONS, ...command.options }).map((name) => `--${name}`)
      throw new UsageError(`Unknown option ${JSON.stringify(unknown)}.${suggestionFor(unknown, names)}`, command.name)
    }
    // Other parseArgs messages name the option too; some of them span several lines.
    throw new UsageError((error as Error).message.replace(/\s*\n\s*/g, ' '), command.name)
  }
  // The first positional is the command name, found by scanArgs with the same option types.
  return { values: parsed.values as OptionValues, commandArguments: parsed.positionals.slice(1) }
}

function checkArgumentCount(command: Command, commandArguments: readonly string[]): void {
  const required = command.arguments.filter((argument) => argument.optional !== true)
  if (commandArguments.length < required.length) {
    const missing = required.slice(commandArguments.length).map((argument) => `<${argument.name}>`)
    throw new UsageError(`Missing ${missing.join(' and ')}.`, command.name)
  }
  if (commandArguments.length > command.arguments.length) {
    const extra = commandArguments.slice(command.arguments.length).map((argument) => JSON.stringify(argument))
    throw new UsageError(`Unexpected argument ${extra.join(' ')} after "jwt-logout ${command.synopsis}".`, command.name)
  }
}

/** Returns the usage that `jwt-logout help [command]` prints. */
function helpFor(helpArguments: readonly string[]): string {
  const [name, ...extra] = helpArguments
  if (extra.length > 0) throw new UsageError(`Unexpected argument ${JSON.stringify(extra[0])} after "jwt-logout help ${name}".`)
  if (name === undefined) return generalUsage()
  const command = findCommand(name)
  if (command === undefined) throw unknownCommand(name)
  return commandUsage(command)
}

function unknownCommand(name: string): UsageError {
  const names = COMMANDS.map((command) => command.name)
  const suggestion = suggestionFor(name, names) || ` The commands are ${names.join(', ')}.`
  return new UsageError(`Unknown command ${JSON.stringify(name)}.${suggestion}`)
}
