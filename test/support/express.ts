import { createRequire } from 'node:module'

import type express5 from 'express'
import { inject } from 'vitest'

declare module 'vitest' {
  export interface ProvidedContext {
    /** Major version of Express that the HTTP tests build their apps with, set per project in vitest.config.ts. */
    expressMajor: 4 | 5
  }
}

/** Package name of each Express major. `express4` is a devDependency alias of express@4. */
const PACKAGE_NAMES = { 4: 'express4', 5: 'express' } as const

/** Major version of Express under test: 4 in the express4 project, 5 in the express5 project. */
export const expressMajor = readExpressMajor()

const packageName = PACKAGE_NAMES[expressMajor]
checkInstalledMajor(packageName, expressMajor)

/**
 * The `express()` factory of the project's Express major. The library's
 * handlers are typed against Express 5, so the Express 4 factory gets the
 * Express 5 type as well, and the tests check at run time that the handlers work on it.
 */
export const express: typeof express5 = (await import(packageName)).default

function readExpressMajor(): 4 | 5 {
  const major: unknown = inject('expressMajor')
  if (major !== 4 && major !== 5) {
    throw new Error(`expressMajor must be 4 or 5, got ${String(major)}. Run the tests with vitest.config.ts, whose projects provide it.`)
  }
  return major
}

/** Throws unless the installed package has major version `major`, so a broken alias cannot run Express 5 twice. */
function checkInstalledMajor(name: string, major: 4 | 5): void {
  const { version } = createRequire(import.meta.url)(`${name}/package.json`) as { version: string }
  if (!version.startsWith(`${major}.`)) {
    throw new Error(`The ${name} package is Express ${version}, expected ${major}.x. Run npm install to restore the devDependencies.`)
  }
}
