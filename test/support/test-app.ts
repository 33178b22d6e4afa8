import { createHmac } from 'node:crypto'

import type { Express } from 'express'
import { SignJWT, type JWTHeaderParameters, type JWTPayload } from 'jose'

import { createJwtLogout, type JwtLogout } from '../../src/jwt-logout.js'
import type { JwtLogoutOptions } from '../../src/options.js'
import type { TestDatabase } from './databases.js'
import { express } from './express.js'

/** HS256 secret of the test apps: 48 bytes, above the 32-byte minimum. */
export const TEST_SECRET = 'jwt-logout-test-secret-0123456789abcdefghijklmno'

/** An Express app that mounts jwt-logout the way the README shows. */
export interface TestApp {
  app: Express
  jwtLogout: JwtLogout
}

/** Builds an app with /me (protected), /logout, /logout-all and the error handler over `database`. */
export function createTestApp(database: TestDatabase, options: Partial<JwtLogoutOptions> = {}): TestApp {
  const jwtLogout = createJwtLogout({ db: database.db, secret: TEST_SECRET, ...options })

  const app = express()
  app.get('/me', jwtLogout.requireAuth, (req, res) => {
    res.json(req.auth)
  })
  app.post('/logout', jwtLogout.logout)
  app.post('/logout-all', jwtLogout.logoutAll)
  app.use(jwtLogout.errorHandler)
  return { app, jwtLogout }
}

/**
 * Signs arbitrary claims with the test secret, for tokens that jwt-logout's
 * issuer would never produce: missing claims, foreign issuers, odd headers.
 */
export async function signToken(
  payload: JWTPayload,
  { header = { alg: 'HS256' }, secret = TEST_SECRET }: { header?: JWTHeaderParameters; secret?: string } = {},
): Promise<string> {
  return new SignJWT(payload).setProtectedHeader(header).sign(new TextEncoder().encode(secret))
}

/** Returns the current time as a JWT NumericDate (whole seconds). */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000)
}

/** Returns the number of cutoff lookups among `queries`. */
export function countCutoffLookups(queries: readonly string[]): number {
  return queries.filter((query) => /^select/i.test(query) && query.includes('user_logouts')).length
}

/**
 * Builds an HS256-signed compact JWS from raw header and payload objects, for
 * headers that jose refuses to produce, such as an unknown `crit` extension.
 */
export function signRawToken(header: object, payload: object, secret = TEST_SECRET): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const signingInput = `${encode(header)}.${encode(payload)}`
  return `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`
}
