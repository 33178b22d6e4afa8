import type { Server } from 'node:http'

import type { Request, Response } from 'express'
import fc from 'fast-check'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { JwtLogoutError } from '../../src/errors/jwt-logout-error.js'
import { BASE64URL_ALPHABET, encodeJson, encodeText, replaceCharacter, signSegments } from '../support/compact-jws.js'
import { createTestDatabase, type TestDatabase } from '../support/databases.js'
import { createTestApp, nowSeconds, TEST_SECRET, type TestApp } from '../support/test-app.js'

/**
 * The app's clock, frozen at a whole second so that "iat <= now" and
 * "exp > now" mean the same to jose (which floors the time to seconds) and to
 * jwt-logout's own iat check (which does not).
 */
const NOW = nowSeconds() - 60
const NUM_RUNS = 250
const DAY_SECONDS = 86_400
const MAX_CLAIM_LENGTH = 255
/** Characters that Node's HTTP client sends in a header value: tab, printable ASCII and Latin-1. */
const SENDABLE_HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/
const REJECTION_CODES = ['missing_token', 'invalid_token', 'token_expired']

/** Status, `error` code and WWW-Authenticate header of one response. */
interface Outcome {
  status: number
  error: unknown
  challenge: string | undefined
}

describe('requireAuth properties', () => {
  let database: TestDatabase
  let target: TestApp
  let server: Server

  beforeAll(async () => {
    database = await createTestDatabase('pglite')
    target = createTestApp(database, { now: () => NOW * 1000 })
    server = target.app.listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
  })

  afterAll(async () => {
    server?.closeAllConnections()
    await new Promise((resolve) => server?.close(resolve))
    await database?.close()
  })

  async function getMe(authorization: string): Promise<Outcome> {
    const response = await request(server).get('/me').set('Authorization', authorization)
    return { status: response.status, error: response.body.error, challenge: response.headers['www-authenticate'] }
  }

  /**
   * Calls requireAuth directly, for header values that no HTTP client can
   * send, and renders its error with the error handler into a recording response.
   */
  function callRequireAuth(authorization: string): Promise<Outcome> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = {}
      const recorder = {
        headersSent: false,
        set(name: string, value: string) {
          headers[name.toLowerCase()] = value
          return recorder
        },
        status(code: number) {
          return {
            json: (body: { error?: unknown }) => resolve({ status: code, error: body.error, challenge: headers['www-authenticate'] }),
          }
        },
      }
      const req = { headers: { authorization } } as Request
      const res = recorder as unknown as Response
      target.jwtLogout.requireAuth(req, res, (error?: unknown) => {
        if (error === undefined) {
          resolve({ status: 200, error: undefined, challenge: undefined })
        } else if (error instanceof JwtLogoutError) {
          target.jwtLogout.errorHandler(error, req, res, reject)
        } else {
          reject(error)
        }
      })
    })
  }

  function expectRejected(outcome: Outcome, codes: string[]): void {
    expect(outcome.status).toBe(401)
    expect(codes).toContain(outcome.error)
    expect(outcome.challenge).toMatch(/^Bearer/)
  }

  it('rejects arbitrary Authorization headers', async () => {
    const segment = fc.oneof(
      fc.string({ unit: fc.constantFrom(...BASE64URL_ALPHABET), maxLength: 80 }),
      fc.jsonValue({ maxDepth: 2 }).map(encodeJson),
      fc.record({ alg: fc.constantFrom('HS256', 'none', 'RS256', 'HS512') }).map(encodeJson),
    )
    const structured = fc
      .tuple(fc.constantFrom('Bearer ', 'bearer ', 'BEARER\t', 'Bearer  '), fc.array(segment, { minLength: 1, maxLength: 6 }))
      .map(([scheme, segments]) => scheme + segments.join('.'))
    const header = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.string({ unit: 'binary', maxLength: 100 }),
      fc.string({ unit: 'binary-ascii', maxLength: 100 }),
      fc.string({ unit: 'grapheme', maxLength: 50 }),
      fc.string({ maxLength: 100 }).map((text) => `Bearer ${text}`),
      structured,
    )

    await fc.assert(
      fc.asyncProperty(header, async (value) => {
        const outcome = SENDABLE_HEADER_VALUE.test(value) ? await getMe(value) : await callRequireAuth(value)

        expectRejected(outcome, ['missing_token', 'invalid_token'])
      }),
      { numRuns: NUM_RUNS },
    )
  })

  it('rejects tokens signed with another key', async () => {
    const hashOf: Record<string, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }
    const alg = fc.option(fc.constantFrom('HS256', 'HS384', 'HS512', 'none', 'RS256', 'ES256', 'EdDSA', 'hs256', ''), { nil: undefined })
    const headerArbitrary = fc
      .tuple(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }), alg)
      .map(([extra, algorithm]) => (algorithm === undefined ? extra : { ...extra, alg: algorithm }))
    const validClaims = fc.record({ sub: fc.string({ minLength: 1, maxLength: 20 }), sid: fc.uuid() }).map((claims) => ({
      ...claims,
      iat: NOW - 1,
      exp: NOW + 600,
    }))
    const payloadArbitrary = fc.oneof(
      validClaims,
      fc.tuple(validClaims, fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 })).map(([claims, extra]) => ({ ...extra, ...claims })),
      fc.jsonValue({ maxDepth: 3 }),
    )
    const otherSecret = fc.uint8Array({ minLength: 32, maxLength: 64 }).filter((bytes) => Buffer.compare(Buffer.from(bytes), Buffer.from(TEST_SECRET)) !== 0)
    const signatureKind = fc.constantFrom('hmac', 'empty', 'random')

    await fc.assert(
      fc.asyncProperty(headerArbitrary, payloadArbitrary, otherSecret, signatureKind, fc.uint8Array({ minLength: 1, maxLength: 64 }), async (header, payload, secret, kind, randomBytes) => {
        const algorithm = (header as { alg?: unknown }).alg
        const hash = typeof algorithm === 'string' ? (hashOf[algorithm] ?? 'sha256') : 'sha256'
        const headerSegment = encodeJson(header)
        const payloadSegment = encodeJson(payload)
        const token =
          kind === 'hmac'
            ? signSegments(headerSegment, payloadSegment, { secret, hash })
            : `${headerSegment}.${payloadSegment}.${kind === 'empty' ? '' : Buffer.from(randomBytes).toString('base64url')}`

        expectRejected(await getMe(`Bearer ${token}`), ['invalid_token'])
      }),
      { numRuns: NUM_RUNS },
    )
  })

  it('rejects a token with one character changed', async () => {
    const issued = await Promise.all(['flip-0', 'flip-1', 'flip-2'].map((user) => target.jwtLogout.issueToken(user)))
    for (const { token } of issued) expect((await getMe(`Bearer ${token}`)).status).toBe(200)
    const replacements = [...BASE64URL_ALPHABET, '.', '=', '+', '/', ' ', '\t', '%', '"', ',', '~', '\u00e9', '\u00a0']
    const mutation = fc.integer({ min: 0, max: issued.length - 1 }).chain((which) => {
      const { token } = issued[which]!
      // Every fourth run changes the last character, where a base64url signature has unused bits.
      const position = fc.oneof({ arbitrary: fc.nat(token.length - 1), weight: 3 }, { arbitrary: fc.constant(token.length - 1), weight: 1 })
      return fc.tuple(fc.constant(which), position, fc.constantFrom(...replacements))
    })

    await fc.assert(
      fc.asyncProperty(mutation, async ([which, position, replacement]) => {
        const { token } = issued[which]!
        const mutated = replaceCharacter(token, position, replacement)

        const outcome = await getMe(`Bearer ${mutated}`)

        if (mutated === token) {
          expect(outcome.status).toBe(200)
        } else {
          expectRejected(outcome, ['invalid_token'])
        }
      }),
      { numRuns: NUM_RUNS },
    )
  })

  it('accepts exactly the valid claims', async () => {
    const iat = claimTime(NOW - 400 * DAY_SECONDS, NOW + 2 * DAY_SECONDS)
    const exp = claimTime(NOW - 2 * DAY_SECONDS, NOW + 400 * DAY_SECONDS)
    const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code))
    const subject = fc.oneof(
      { arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }), weight: 4 },
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.string({ unit: fc.oneof(loneSurrogate, fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 1 })), maxLength: 10 }),
      fc.integer({ min: 250, max: 260 }).map((length) => 'u'.repeat(length)),
      fc.integer({ min: 125, max: 130 }).map((count) => '\u{1f600}'.repeat(count)),
      fc.constantFrom('', '\u0000', ' '),
      fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(undefined)),
      fc.oneof(fc.array(fc.string(), { maxLength: 2 }), fc.object({ maxDepth: 1, maxKeys: 2 })),
    )
    const extraClaims = fc.dictionary(fc.string({ maxLength: 6 }).map((name) => `x_${name}`), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 })
    const claimSet = fc.record({ sub: subject, iat, exp, sid: fc.option(fc.uuid(), { nil: undefined }), extra: extraClaims })

    let accepted = 0
    await fc.assert(
      fc.asyncProperty(claimSet, async ({ extra, ...claims }) => {
        // The oracle reads the claims as the server parses them: JSON drops undefined and turns -0 into 0.
        const payloadText = JSON.stringify({ ...extra, ...claims })
        const parsed = JSON.parse(payloadText) as Record<string, unknown>
        const token = signSegments(encodeJson({ alg: 'HS256', typ: 'JWT' }), encodeText(payloadText))

        const outcome = await getMe(`Bearer ${token}`)

        if (isValidSubject(parsed.sub) && isNumberAtMost(parsed.iat, NOW) && isNumberAbove(parsed.exp, NOW)) {
          expect(outcome.status).toBe(200)
          accepted++
        } else {
          expectRejected(outcome, REJECTION_CODES)
        }
      }),
      { numRuns: NUM_RUNS },
    )

    // Both branches of the oracle must be exercised, or the property proves little.
    expect(accepted).toBeGreaterThan(NUM_RUNS / 10)
    expect(accepted).toBeLessThan(NUM_RUNS - NUM_RUNS / 10)
  })
})

/**
 * Generates a value for `iat` or `exp`: mostly a number between `min` and
 * `max` or right at the frozen `NOW`, sometimes missing or of another JSON type.
 */
function claimTime(min: number, max: number): fc.Arbitrary<unknown> {
  const numeric = fc.oneof(
    { arbitrary: fc.integer({ min, max }), weight: 4 },
    { arbitrary: fc.constantFrom(NOW, NOW - 1, NOW + 1, NOW - 0.5, NOW + 0.5, NOW + 0.001), weight: 1 },
    { arbitrary: fc.double({ min: NOW - DAY_SECONDS, max: NOW + DAY_SECONDS, noNaN: true }), weight: 1 },
  )
  const other = fc.oneof(fc.constant(undefined), fc.constant(null), fc.string({ maxLength: 12 }), fc.boolean())
  return fc.oneof({ arbitrary: numeric, weight: 8 }, { arbitrary: other, weight: 1 })
}

/**
 * Tells whether `value` meets the README's rule for `sub`: a non-empty,
 * well-formed string of at most 255 characters without NUL.
 */
function isValidSubject(value: unknown): boolean {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= MAX_CLAIM_LENGTH &&
    !value.includes('\u0000') &&
    value.isWellFormed()
  )
}

function isNumberAtMost(value: unknown, limit: number): boolean {
  return typeof value === 'number' && value <= limit
}

function isNumberAbove(value: unknown, limit: number): boolean {
  return typeof value === 'number' && value > limit
}
