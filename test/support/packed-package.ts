import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm, rmdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'

import { REPOSITORY_ROOT } from './build.js'

const execFileAsync = promisify(execFile)

/** The tarball that `npm pack` built from the repository. */
export interface PackedPackage {
  /** Path of the .tgz file. */
  tarballPath: string
  /** Paths inside the tarball, each starting with `package/`. */
  entries: string[]
  /** Deletes the tarball and its folder. */
  remove(): Promise<void>
}

/** A project folder with the tarball extracted as its node_modules/jwt-logout. */
export interface ConsumerProject {
  /** Folder of the project, where consumer files go. */
  root: string
  /** Folder of the installed package. */
  packageRoot: string
  /** Deletes the project folder. */
  remove(): Promise<void>
}

/**
 * Runs `npm pack` in the repository, which builds dist/ through the prepack
 * script, and writes the tarball to a new temporary folder.
 */
export async function packRepository(timeoutMs = 150_000): Promise<PackedPackage> {
  const destination = await mkdtemp(join(tmpdir(), 'jwt-logout-pack-'))
  const remove = () => rm(destination, { recursive: true, force: true })

  let stdout: string
  try {
    const args = ['pack', '--json', '--pack-destination', destination]
    ;({ stdout } = await execFileAsync('npm', args, { cwd: REPOSITORY_ROOT, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }))
  } catch (error) {
    await remove()
    const { stdout: output = '', stderr = '' } = error as { stdout?: string; stderr?: string }
    throw new Error(`npm pack failed:\n${output}${stderr}`, { cause: error })
  }

  // npm pack --json writes an array with one object per packed package. The prepack build logs to stderr.
  const [packed] = JSON.parse(stdout) as Array<{ filename: string }>
  if (packed === undefined) throw new Error(`npm pack reported no tarball:\n${stdout}`)
  const tarballPath = join(destination, packed.filename)

  const { stdout: listing } = await execFileAsync('tar', ['-tzf', tarballPath], { timeout: 30_000 })
  const entries = listing.split('\n').filter((entry) => entry !== '')
  return { tarballPath, entries, remove }
}

/**
 * Extracts `tarballPath` into `<repository>/.tmp/consumers-<random>/node_modules/jwt-logout`.
 * The folder sits inside the repository so that Node and TypeScript find the
 * package's dependencies, and express, in the repository's node_modules by
 * walking up, without a network install.
 *
 * The project gets its own package.json because Node and TypeScript resolve a
 * package's own name from files inside it (self-reference). Without it, the
 * nearest package.json would be the repository's, and `jwt-logout` would
 * resolve to the repository's dist/ instead of the extracted tarball.
 */
export async function createConsumerProject(tarballPath: string): Promise<ConsumerProject> {
  const root = join(REPOSITORY_ROOT, '.tmp', `consumers-${randomBytes(6).toString('hex')}`)
  const packageRoot = join(root, 'node_modules', 'jwt-logout')
  const remove = async () => {
    await rm(root, { recursive: true, force: true })
    // Removes .tmp only when empty, because other work may keep files there.
    await rmdir(dirname(root)).catch(() => {})
  }

  try {
    await mkdir(packageRoot, { recursive: true })
    await writeFile(join(root, 'package.json'), `${JSON.stringify({ name: 'jwt-logout-consumers', private: true }, null, 2)}\n`)
    // npm tarballs keep every file under a top folder named package/.
    await execFileAsync('tar', ['-xzf', tarballPath, '-C', packageRoot, '--strip-components=1'], { timeout: 30_000 })
  } catch (error) {
    await remove()
    throw error
  }
  return { root, packageRoot, remove }
}
