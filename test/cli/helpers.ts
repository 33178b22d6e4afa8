import { spawn } from 'node:child_process'

import { expect } from 'vitest'

import { runCli } from '../../src/cli/run-cli.js'
import type { TestBuild } from '../support/build.js'
import { runNode, type ProcessResult } from '../support/child-process.js'

/** Output and exit code of one CLI run, in-process or spawned. */
export type CliResult = ProcessResult

/**
 * Runs the CLI in this process with `env` as its only environment, for
 * usage checks that open no database and so need no child process.
 */
export async function runInProcess(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  let stdout = ''
  let stderr = ''
  const code = await runCli(args, {
    stdout: (text) => {
      stdout += text
    },
    stderr: (text) => {
      stderr += text
    },
    env,
  })
  return { code, stdout, stderr }
}

/** Returns a function that runs the compiled bin of `build` in a child process. */
export function spawnCli(build: () => TestBuild): (args: readonly string[], env?: Record<string, string>) => Promise<CliResult> {
  return (args, env = {}) => runNode(build().cliPath, args, env)
}

/** Parses the one JSON line that a --json run prints, after checking that it succeeded. */
export function parseJsonOutput<T = Record<string, any>>(result: CliResult): T {
  expect(result.stderr).toBe('')
  expect(result.code).toBe(0)
  expect(result.stdout.endsWith('\n')).toBe(true)
  expect(result.stdout.trimEnd().split('\n')).toHaveLength(1)
  return JSON.parse(result.stdout) as T
}

/** Checks that a failed run printed a one-line error and no stack trace. */
export function expectOneLineError(result: CliResult, code: 1 | 2): void {
  expect(result.code).toBe(code)
  expect(result.stdout).toBe('')
  expect(result.stderr).not.toMatch(/\n\s+at /)
  // A usage error is followed by a blank line and the usage.
  const message = code === 1 ? result.stderr.trimEnd() : result.stderr.split('\n\n')[0]!
  expect(message).not.toContain('\n')
}

/** Exit code and output of psql. */
export interface PsqlResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs /usr/bin/psql on `url` with `script` as its input, stopping at the first error. */
export function runPsql(url: string, script: string): Promise<PsqlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/psql', ['-v', 'ON_ERROR_STOP=1', '-X', '-q', '-d', url, '-f', '-'], {
      env: { PATH: process.env.PATH ?? '' },
      timeout: 30_000,
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
    })
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(script)
  })
}
