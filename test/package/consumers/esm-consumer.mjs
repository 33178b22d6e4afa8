// Imports the installed package by name, runs the logout flow and prints a JSON report.
import { fileURLToPath } from 'node:url'

import express from 'express'
import { createJwtLogout, JwtLogoutError, migrateToLatest, openDatabase, UnauthorizedError } from 'jwt-logout'
import { registerPrometheusMetrics } from 'jwt-logout/prometheus'

import { runLogoutFlow } from './logout-flow.cjs'

const flow = await runLogoutFlow({ createJwtLogout, openDatabase, migrateToLatest, UnauthorizedError, JwtLogoutError }, express)
const report = {
  resolvedPath: fileURLToPath(import.meta.resolve('jwt-logout')),
  prometheusPath: fileURLToPath(import.meta.resolve('jwt-logout/prometheus')),
  prometheusExport: typeof registerPrometheusMetrics,
  ...flow,
}
console.log(JSON.stringify(report))
