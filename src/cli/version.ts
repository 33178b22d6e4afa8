import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const PACKAGE_NAME = 'jwt-logout'

/**
 * Returns the version in jwt-logout's package.json, found by walking up from
 * this file. The walk works from the TypeScript source, from dist/ in this
 * repository and from an installed package, where the number of folders
 * between this file and package.json differs.
 * @throws Error when no package.json of jwt-logout is found above this file.
 */
export async function readPackageVersion(start: string = import.meta.url): Promise<string> {
  const first = dirname(fileURLToPath(start))
  for (let folder = first; ; folder = dirname(folder)) {
    const manifest = await readManifest(join(folder, 'package.json'))
    if (manifest?.name === PACKAGE_NAME && typeof manifest.version === 'string') return manifest.version
    if (dirname(folder) === folder) break
  }
  throw new Error(`no package.json of ${PACKAGE_NAME} found in ${first} or any folder above it`)
}

async function readManifest(path: string): Promise<{ name?: unknown; version?: unknown } | undefined> {
  let text
  try {
    text = await readFile(path, 'utf8')
  } catch {
    return undefined
  }
  try {
    return JSON.parse(text) as { name?: unknown; version?: unknown }
  } catch {
    // A broken package.json of another package on the way up is skipped like a missing one.
    return undefined
  }
}
