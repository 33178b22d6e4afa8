import type { Command } from '../command.js'
import { migrateCommand } from './migrate.js'
import { printSqlCommand } from './print-sql.js'
import { pruneCommand } from './prune.js'
import { revokeSessionCommand } from './revoke-session.js'
import { revokeUserCommand } from './revoke-user.js'
import { statusCommand } from './status.js'

/** Every command of `jwt-logout`, in the order of the help text. */
export const COMMANDS: readonly Command[] = [
  migrateCommand,
  printSqlCommand,
  revokeUserCommand,
  revokeSessionCommand,
  pruneCommand,
  statusCommand,
]

/** Name of the command that prints another command's usage; runCli handles it, because it needs the list above. */
export const HELP_COMMAND = 'help'

/** Returns the command called `name`, or undefined. */
export function findCommand(name: string): Command | undefined {
  return COMMANDS.find((command) => command.name === name)
}
