#!/usr/bin/env node
// The `jwt-logout` bin. The CLI itself is in run-cli.ts, which tests import without running it.
import { runCli } from './run-cli.js'

process.exitCode = await runCli(process.argv.slice(2))
