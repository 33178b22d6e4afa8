import { readdirSync, readFileSync } from 'node:fs'
import { join, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

import { defineConfig } from 'vitest/config'

/** Matches the source of a test file that builds an app with test/support/express.ts, directly or through createTestApp. */
const BUILDS_TEST_APP = /\bcreateTestApp\(|\/support\/express\.js'/

/**
 * Finds the test files that build apps with test/support/express.ts, so that
 * each of them runs on Express 4 as well as 5, new files included.
 * test/server/ is left out because the runnable server always uses Express 5.
 */
function findHttpTestFiles(): string[] {
  const testDirectory = fileURLToPath(new URL('./test/', import.meta.url))
  return readdirSync(testDirectory, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.test.ts') && !file.startsWith(`server${sep}`))
    .filter((file) => BUILDS_TEST_APP.test(readFileSync(join(testDirectory, file), 'utf8')))
    .map((file) => `test/${file.split(sep).join('/')}`)
}

export default defineConfig({
  resolve: {
    // The examples import the package by name, as an application would; in tests the name maps to the source.
    alias: { 'jwt-logout': fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
  },
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    // PGlite takes a few seconds to start on a 2-core machine.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each project inherits the options above. The root sets no `include`, because vitest would append each project's list to it.
    projects: [
      { extends: true, test: { name: 'express5', include: ['test/**/*.test.ts'], provide: { expressMajor: 5 } } },
      { extends: true, test: { name: 'express4', include: findHttpTestFiles(), provide: { expressMajor: 4 } } },
    ],
  },
})
