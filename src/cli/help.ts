import { GLOBAL_OPTIONS, type OptionSpec } from './args.js'
import type { Command } from './command.js'
import { COMMANDS, HELP_COMMAND } from './commands/index.js'

/** Width that help paragraphs are wrapped to, in characters. */
const LINE_WIDTH = 100

const EXIT_CODES = 'Exit codes: 0 success, 1 the operation or the database failed, 2 invalid usage.'

/** Returns the help of `jwt-logout` itself: the commands and the global options. */
export function generalUsage(): string {
  const commands: Array<[string, string]> = COMMANDS.map((command) => [command.synopsis, command.summary])
  commands.push([`${HELP_COMMAND} [command]`, 'print the usage of a command'])
  return [
    'Usage: jwt-logout <command> [arguments] [options]',
    '',
    wrap('Server-side logout for JWTs: manages the jwt-logout tables and the logout cutoffs in them.', ''),
    '',
    'Commands:',
    ...table(commands),
    '',
    'Global options:',
    ...optionTable(GLOBAL_OPTIONS),
    '',
    'Run "jwt-logout <command> --help" for the arguments and options of a command.',
    EXIT_CODES,
  ].join('\n')
}

/** Returns the help of one command. */
export function commandUsage(command: Command): string {
  const lines = [`Usage: jwt-logout ${command.synopsis} [options]`, '']
  for (const paragraph of command.description) lines.push(wrap(paragraph, ''), '')
  if (Object.keys(command.options).length > 0) lines.push('Options:', ...optionTable(command.options), '')
  lines.push('Global options:', ...optionTable(GLOBAL_OPTIONS), '', EXIT_CODES)
  return lines.join('\n')
}

function optionTable(options: Readonly<Record<string, OptionSpec>>): string[] {
  return table(
    Object.entries(options).map(([name, spec]) => {
      const short = spec.short === undefined ? '' : `-${spec.short}, `
      const value = spec.valueName === undefined ? '' : ` ${spec.valueName}`
      return [`${short}--${name}${value}`, spec.help]
    }),
  )
}

/** Formats two columns; a long second column wraps under itself. */
function table(rows: Array<[string, string]>): string[] {
  const width = Math.max(...rows.map(([left]) => left.length))
  const indent = ' '.repeat(width + 4)
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${wrap(right, indent).trimStart()}`)
}

/** Wraps `text` at word boundaries to LINE_WIDTH, starting every line with `indent`. */
function wrap(text: string, indent: string): string {
  const lines: string[] = []
  let line = indent
  for (const word of text.split(/\s+/)) {
    if (line.length > indent.length && line.length + 1 + word.length > LINE_WIDTH) {
      lines.push(line)
      line = indent
    }
    line += line.length > indent.length ? ` ${word}` : word
  }
  lines.push(line)
  return lines.join('\n')
}
