'use strict'

// Loads the installed package with require(), which Node 20.19+ and 22.12+
// resolve to the ESM build (require(esm)), runs the logout flow and prints a
// JSON report. It then imports the package too, to show that both return one
// module instance.

const express = require('express')
const required = require('jwt-logout')

const { runLogoutFlow } = require('./logout-flow.cjs')

/** Exports whose identity the report compares between require() and import(). */
const SHARED_EXPORTS = ['createJwtLogout', 'JwtLogoutError', 'UnauthorizedError', 'InvalidRequestError', 'StoreUnavailableError']

async function main() {
  const { createJwtLogout, openDatabase, migrateToLatest, UnauthorizedError, JwtLogoutError } = required
  const flow = await runLogoutFlow({ createJwtLogout, openDatabase, migrateToLatest, UnauthorizedError, JwtLogoutError }, express)

  const imported = await import('jwt-logout')
  const sameAsImport = Object.fromEntries(SHARED_EXPORTS.map((name) => [name, required[name] === imported[name]]))

  const report = {
    resolvedPath: require.resolve('jwt-logout'),
    // require() of an ES module returns its namespace object, whose tag is 'Module'.
    namespaceTag: required[Symbol.toStringTag],
    sameNamespace: required === imported,
    sameAsImport,
    ...flow,
  }
  console.log(JSON.stringify(report))
}

main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
