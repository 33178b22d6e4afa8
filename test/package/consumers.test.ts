import { existsSync } from 'node:fs'
import { copyFile, readFile, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { REPOSITORY_ROOT } from '../support/build.js'
import { runNode, type ProcessResult } from '../support/child-process.js'
import { createConsumerProject, packRepository, type ConsumerProject, type PackedPackage } from '../support/packed-package.js'

// These tests install the tarball that `npm pack` builds, the way an app would
// get it, and use it from plain Node and TypeScript processes.

const CONSUMER_SOURCES = join(REPOSITORY_ROOT, 'test', 'package', 'consumers')
const CONSUMER_FILES = ['logout-flow.cjs', 'esm-consumer.mjs', 'cjs-consumer.cjs']
const TSC = join(REPOSITORY_ROOT, 'node_modules', 'typescript', 'bin', 'tsc')

// The handler of both type consumers. It compiles only when the package's
// global Express augmentation types `req.auth` as VerifiedClaims.
const TYPED_HANDLER = `
app.get('/me', jwtLogout.requireAuth, (req, res) => {
  const sub: string | undefined = req.auth?.sub
  // @ts-expect-error sub is a string. If req.auth were untyped (any), this line would compile and tsc would fail.
  const wrongType: number | undefined = req.auth?.sub
  res.json({ sub, wrongType })
})
`

const ESM_TYPES_CONSUMER = `import express from 'express'
import { UnauthorizedError, type JwtLogout, type UnauthorizedCode } from 'jwt-logout'

declare const jwtLogout: JwtLogout
const code: UnauthorizedCode = 'token_revoked'
export const error = new UnauthorizedError(code, 'revoked')
const app = express()
${TYPED_HANDLER}`

const CJS_TYPES_CONSUMER = `import express = require('express')
import jwtLogoutModule = require('jwt-logout')

declare const jwtLogout: jwtLogoutModule.JwtLogout
const code: jwtLogoutModule.UnauthorizedCode = 'token_revoked'
export const error = new jwtLogoutModule.UnauthorizedError(code, 'revoked')
const app = express()
${TYPED_HANDLER}`

const TYPES_TSCONFIG = {
  compilerOptions: {
    module: 'nodenext',
    moduleResolution: 'nodenext',
    target: 'es2022',
    strict: true,
    noEmit: true,
    // TypeScript 6 and later load no @types package unless `types` lists it, so the
    // package must bring every global type its declarations need.
    types: ['node'],
    // Every declaration file is checked, the package's dependencies included.
    skipLibCheck: false,
  },
  files: ['types-consumer.mts', 'types-consumer.cts'],
}

describe('packed package', () => {
  let packed: PackedPackage
  let consumer: ConsumerProject

  beforeAll(async () => {
    packed = await packRepository()
    consumer = await createConsumerProject(packed.tarballPath)
    for (const file of CONSUMER_FILES) {
      await copyFile(join(CONSUMER_SOURCES, file), join(consumer.root, file))
    }
  }, 180_000)

  afterAll(async () => {
    await consumer?.remove()
    await packed?.remove()
  })

  /** Runs a consumer script and parses the JSON report that it prints last. */
  async function runConsumer(file: string): Promise<{ result: ProcessResult; report: Record<string, any> }> {
    const result = await runNode(join(consumer.root, file), [], {}, 60_000)
    expect(result.code, `${file} failed:\n${result.stdout}${result.stderr}`).toBe(0)
    const lastLine = result.stdout.trim().split('\n').at(-1) ?? ''
    return { result, report: JSON.parse(lastLine) as Record<string, any> }
  }

  /** Checks the steps of logout-flow.cjs: 200 before logout, 204 for it, 401 token_revoked after. */
  function expectLogoutFlow(report: Record<string, any>): void {
    expect(report.resolvedPath).toBe(join(consumer.packageRoot, 'dist', 'src', 'index.js'))
    expect(report.migrations).toEqual(['0001_create_user_logouts Success', '0002_create_session_logouts Success'])

    expect(report.beforeLogout.status).toBe(200)
    expect(report.beforeLogout.body).toEqual({ sub: 'alice' })
    expect(report.logout.status).toBe(204)

    expect(report.afterLogout.status).toBe(401)
    expect(report.afterLogout.body.error).toBe('token_revoked')
    expect(report.afterLogout.challenge).toMatch(/^Bearer error="invalid_token"/)

    expect(report.rejection).toEqual({
      name: 'UnauthorizedError',
      code: 'token_revoked',
      status: 401,
      isUnauthorizedError: true,
      isJwtLogoutError: true,
    })
  }

  describe('tarball', () => {
    it('contains build, CLI, README and LICENSE', async () => {
      const packageJson = JSON.parse(await readFile(join(consumer.packageRoot, 'package.json'), 'utf8')) as {
        bin: Record<string, string>
      }
      const binPath = `package/${packageJson.bin['jwt-logout']!.replace(/^\.\//, '')}`
      const expected = [
        'package/package.json',
        'package/README.md',
        'package/LICENSE',
        'package/dist/src/index.js',
        'package/dist/src/index.d.ts',
        'package/dist/src/express/request-auth.d.ts',
        'package/dist/migrations/index.js',
        'package/dist/migrations/0001_create_user_logouts.js',
        'package/dist/migrations/0002_create_session_logouts.js',
        binPath,
      ]

      for (const entry of expected) {
        expect(packed.entries, `missing ${entry}`).toContain(entry)
      }
      expect(binPath).toBe('package/dist/src/cli/main.js')
    })

    it('types JWKs without node:crypto JsonWebKey', async () => {
      // Some @types/node versions do not export JsonWebKey, so declarations that import it fail to compile there.
      const declarations = await readFile(join(consumer.packageRoot, 'dist', 'src', 'token', 'key-options.d.ts'), 'utf8')

      expect(declarations).toContain("import type { JWK } from 'jose'")
      expect(declarations).not.toContain('JsonWebKey')
    })

    it('leaves out tests and TypeScript sources', () => {
      const tests = packed.entries.filter((entry) => entry.startsWith('package/test/'))
      const sources = packed.entries.filter((entry) => entry.startsWith('package/src/') || entry.startsWith('package/migrations/'))
      const typeScript = packed.entries.filter((entry) => /\.[cm]?ts$/.test(entry) && !/\.d\.[cm]?ts$/.test(entry))

      expect(tests).toEqual([])
      expect(sources).toEqual([])
      expect(typeScript).toEqual([])
    })

    it('ships no stale build output', () => {
      // `npm run build` does not empty dist/ first, so a deleted source file
      // would still ship as the JavaScript of an earlier build.
      const compiled = packed.entries.filter((entry) => entry.startsWith('package/dist/') && entry.endsWith('.js'))
      const stale = compiled.filter((entry) => {
        const source = entry.replace(/^package\/dist\//, '').replace(/\.js$/, '.ts')
        return !existsSync(join(REPOSITORY_ROOT, source))
      })

      expect(compiled.length).toBeGreaterThan(0)
      expect(stale).toEqual([])
    })

    it('runs the CLI from the package', async () => {
      const result = await runNode(join(consumer.packageRoot, 'dist', 'src', 'cli', 'main.js'), ['--help'], {}, 30_000)

      expect(result.code, result.stderr).toBe(0)
      expect(result.stdout).toMatch(/^Usage: jwt-logout /)
    })
  })

  describe('ESM consumer', () => {
    it('runs the logout flow', async () => {
      const { result, report } = await runConsumer('esm-consumer.mjs')

      expectLogoutFlow(report)
      expect(result.stderr).toBe('')
    }, 90_000)

    it('imports the prometheus entry', async () => {
      const { report } = await runConsumer('esm-consumer.mjs')

      expect(report.prometheusPath).toBe(join(consumer.packageRoot, 'dist', 'src', 'prometheus', 'index.js'))
      expect(report.prometheusExport).toBe('function')
    }, 90_000)
  })

  describe('CommonJS consumer', () => {
    // Both tests check the output of one run.
    let cjsRun: ReturnType<typeof runConsumer> | undefined
    const runCjsConsumer = () => (cjsRun ??= runConsumer('cjs-consumer.cjs'))

    it('runs the logout flow', async () => {
      const { result, report } = await runCjsConsumer()

      expectLogoutFlow(report)
      // NOTE: Node 20.19+ prints the require(esm) ExperimentalWarning only under
      // --trace-require-module. According to the Node 22.12.0 changelog, that
      // release prints it for a require() outside node_modules, so this check fails there.
      expect(result.stderr).toBe('')
    }, 90_000)

    it('shares one module instance with import', async () => {
      const { report } = await runCjsConsumer()

      // require() returned the ES module namespace itself, not a CommonJS build.
      expect(report.namespaceTag).toBe('Module')
      expect(report.sameNamespace).toBe(true)
      expect(report.sameAsImport).toEqual({
        createJwtLogout: true,
        JwtLogoutError: true,
        UnauthorizedError: true,
        InvalidRequestError: true,
        StoreUnavailableError: true,
      })
    }, 90_000)
  })

  describe('TypeScript consumers', () => {
    it('typecheck req.auth with package types', async () => {
      await writeFile(join(consumer.root, 'types-consumer.mts'), ESM_TYPES_CONSUMER)
      await writeFile(join(consumer.root, 'types-consumer.cts'), CJS_TYPES_CONSUMER)
      await writeFile(join(consumer.root, 'tsconfig.json'), JSON.stringify(TYPES_TSCONFIG, null, 2))

      const result = await runNode(TSC, ['-p', join(consumer.root, 'tsconfig.json'), '--explainFiles'], {}, 90_000)
      const errors = result.stdout.split('\n').filter((line) => line.includes('error TS'))
      expect(errors).toEqual([])
      expect(result.code, result.stderr).toBe(0)

      const reasons = explainedFiles(result.stdout)
      const entryReasons = reasons.get(join(consumer.packageRoot, 'dist', 'src', 'index.d.ts')) ?? []
      const importers = importersOf(entryReasons, 'jwt-logout')
      expect(importers).toContain(join(consumer.root, 'types-consumer.mts'))
      expect(importers).toContain(join(consumer.root, 'types-consumer.cts'))
      expect(reasons.has(join(consumer.packageRoot, 'dist', 'src', 'express', 'request-auth.d.ts'))).toBe(true)

      const repositoryCopies = [...reasons.keys()].filter(
        (file) => file.startsWith(join(REPOSITORY_ROOT, 'dist')) || file.startsWith(join(REPOSITORY_ROOT, 'src')),
      )
      expect(repositoryCopies).toEqual([])
    }, 120_000)
  })
})

/**
 * Parses `tsc --explainFiles` output into absolute file paths, each with the
 * reasons it was included. tsc prints each path relative to its working
 * directory, which it inherits from this process.
 */
function explainedFiles(output: string): Map<string, string[]> {
  const files = new Map<string, string[]>()
  let current: string[] | undefined
  for (const line of output.split('\n')) {
    if (line.trim() === '') continue
    if (line.startsWith(' ')) {
      current?.push(line.trim())
      continue
    }
    current = []
    files.set(resolve(line), current)
  }
  return files
}

/** Returns the absolute paths of the files whose import of `specifier` led tsc to a file, from its reasons. */
function importersOf(reasons: readonly string[], specifier: string): string[] {
  const prefix = `Imported via '${specifier}' from file '`
  return reasons
    .filter((reason) => reason.startsWith(prefix))
    .map((reason) => resolve(reason.slice(prefix.length, reason.indexOf("'", prefix.length))))
}
