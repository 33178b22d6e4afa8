import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { rm, rmdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const execFileAsync = promisify(execFile)

/** Repository root: the folder of package.json and node_modules. */
export const REPOSITORY_ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** A compiled copy of src/ and migrations/ that child processes can run with plain `node`. */
export interface TestBuild {
  /** Path of the compiled migrate CLI. */
  cliPath: string
  /** Path of the compiled demo server. */
  serverPath: string
  /** Deletes the compiled copy. */
  remove(): Promise<void>
}

/**
 * Compiles the project with tsconfig.build.json into a private folder under
 * dist/, so that test files running in parallel never overwrite files that
 * another one is executing. The folder sits inside the repository because Node
 * finds node_modules and the `"type": "module"` package.json by walking up
 * from the compiled files.
 */
export async function buildForTest(): Promise<TestBuild> {
  const outDir = join(REPOSITORY_ROOT, 'dist', 'test-builds', randomBytes(6).toString('hex'))
  const tsc = join(REPOSITORY_ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
  const args = [
    tsc, '-p', 'tsconfig.build.json', '--outDir', outDir,
    '--declaration', 'false', '--sourceMap', 'false', '--inlineSources', 'false',
  ]
  try {
    await execFileAsync(process.execPath, args, { cwd: REPOSITORY_ROOT, timeout: 120_000 })
  } catch (error) {
    // tsc may have written part of the output before it failed.
    await rm(outDir, { recursive: true, force: true })
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string }
    throw new Error(`Compiling the project for the test failed:\n${stdout}${stderr}`, { cause: error })
  }

  return {
    cliPath: join(outDir, 'src', 'cli', 'main.js'),
    serverPath: join(outDir, 'src', 'server', 'main.js'),
    remove: async () => {
      await rm(outDir, { recursive: true, force: true })
      // Removes dist/test-builds only when empty: another test file's build may still be in it.
      await rmdir(dirname(outDir)).catch(() => {})
    },
  }
}
