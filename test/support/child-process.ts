import { execFile } from 'node:child_process'

/** Exit code and output of a finished child process. */
export interface ProcessResult {
  code: number | null
  stdout: string
  stderr: string
}

/**
 * Runs a compiled script with `node` and resolves when it exits, whatever
 * the exit code. The child's environment is PATH plus `env`, so variables of
 * the test run, such as DATABASE_URL, never reach it by accident.
 */
export function runNode(
  scriptPath: string,
  args: readonly string[],
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<ProcessResult> {
  return runProgram(process.execPath, [scriptPath, ...args], env, timeoutMs)
}

/** Runs `file` with `args` like runNode: with PATH plus `env`, resolving with any exit code. */
export function runProgram(
  file: string,
  args: readonly string[],
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const options = { env: { PATH: process.env.PATH ?? '', ...env }, timeout: timeoutMs }
    execFile(file, [...args], options, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== 'number') {
        // No exit code: the process could not start, or it was killed at the timeout.
        reject(new Error(`${file} ${args.join(' ')} failed: ${error.message}\n${stdout}${stderr}`, { cause: error }))
        return
      }
      resolve({ code: error === null ? 0 : (error.code as number), stdout, stderr })
    })
  })
}
