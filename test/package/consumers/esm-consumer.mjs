// Imports the installed package by name, runs the logout flow and prints a JSON report.
import { fileURLToPath } from 'node:url'

import express from 'express'
import { createJwtLogout, JwtLogoutError, migrateToLatest, openDatabase, UnauthorizedError } from 'jwt-logout'

import { runLogoutFlow } from './logout-flow.cjs'

const flow = await runLogoutFlow({ createJwtLogout, openDatabase, migrateToLatest, UnauthorizedError, JwtLogoutError }, express)
const report = {
  resolvedPath: fileURLToPath(import.meta.resolve('jwt-logout')),
  ...flow,
}
console.log(JSON.stringify(report))
