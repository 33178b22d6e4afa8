#!/usr/bin/env node
// The `jwt-logout` bin. The CLI itself is in run-cli.ts, which tests import without running it.
import { runCli } from './run-cli.js'

// A reader that stops early, such as `| head -1`, closes the pipe; it has read all it wanted, so end quietly.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error
  process.exit(process.exitCode ?? 0)
})

process.exitCode = await runCli(process.argv.slice(2))
