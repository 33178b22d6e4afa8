import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // PGlite takes a few seconds to start on a 2-core machine.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
})
