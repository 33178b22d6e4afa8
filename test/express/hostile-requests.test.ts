import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWTPayload } from 'jose'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import type { ErrorCode } from '../../src/errors/jwt-logout-error.js'
import { BASE64URL_ALPHABET, encodeJson, encodeText, replaceCharacter, signSegments } from '../support/compact-jws.js'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases.js'
import { countCutoffLookups, createTestApp, nowSeconds, signRawToken, type TestApp } from '../support/test-app.js'

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>

/** The apps a row can target. All of them share the test database and mount /me, /logout and /logout-all. */
type AppName = 'hmac' | 'tolerant' | 'claims' | 'rsa' | 'cookie'

const ISSUER = 'https://issuer.test'
const AUDIENCE = 'api'
const TOLERANCE_SECONDS = 30
const COOKIE_NAME = 'token'
/** Secret of the attacker's tokens: long enough for HS256, but not the apps' secret. */
const ATTACKER_SECRET = 'attacker-secret-that-is-long-enough-0123456789'
/** The default maxTokenLength. */
const MAX_TOKEN_LENGTH = 8192

/** Values that a row's request builders use. Each row gets a user of its own, so no other row's logout reaches its tokens. */
interface RowContext {
  user: string
  /** The current time as a NumericDate, read when the row starts. */
  now: number
  /** The row's target app. */
  target: TestApp
  rsaKeys: KeyPair
  attackerRsaKeys: KeyPair
  rsaPublicKeyPem: string
  /** Base URL of a local server that counts requests, for headers that name a key URL. */
  keyServerUrl: string
}

interface Row {
  name: string
  /** @default 'hmac' */
  app?: AppName
  /** @default 'GET /me' */
  route?: 'GET /me' | 'POST /logout' | 'POST /logout-all'
  /** Value of the Authorization header, or undefined to send none. */
  authorization?: (context: RowContext) => string | Promise<string>
  /** Value of the Cookie header, or undefined to send none. */
  cookie?: (context: RowContext) => string | Promise<string>
  status: number
  /** Expected `error` of the body, or undefined for a success. */
  error?: ErrorCode
}

/** Returns the claims of a valid token for the row's user with `overrides` applied. An undefined override removes the claim. */
function claims(context: RowContext, overrides: Record<string, unknown> = {}): JWTPayload {
  const merged: Record<string, unknown> = { sub: context.user, sid: 'session-1', iat: context.now - 1, exp: context.now + 600, ...overrides }
  for (const [name, value] of Object.entries(merged)) if (value === undefined) delete merged[name]
  return merged
}

/** Signs `claims(context, overrides)` with HS256 and the test secret. Any JSON value is allowed as a claim. */
function hs256(context: RowContext, overrides: Record<string, unknown> = {}, header: object = { alg: 'HS256' }): string {
  return signRawToken(header, claims(context, overrides))
}

function bearer(token: string): string {
  return `Bearer ${token}`
}

/** Returns a valid token of the row's app for the row's user. */
async function issue(context: RowContext): Promise<string> {
  return (await context.target.jwtLogout.issueToken(context.user)).token
}

/** Builds an unsigned token with `alg` in its header and `signature` as the third segment. */
function unsigned(context: RowContext, alg: unknown, signature = ''): string {
  return `${encodeJson({ alg, typ: 'JWT' })}.${encodeJson(claims(context))}.${signature}`
}

/**
 * Signs a valid HS256 token whose length is exactly `length`, by padding an
 * extra claim. A payload of n bytes encodes to ceil(4n / 3) characters, so the
 * search tries pad lengths until it hits `length`.
 */
function tokenOfLength(context: RowContext, length: number): string {
  const fixed = encodeJson({ alg: 'HS256' }).length + 2 + 43
  const start = Math.max(0, Math.floor(((length - fixed) * 3) / 4) - 200)
  for (let pad = start; pad < start + 400; pad++) {
    const token = hs256(context, { pad: 'x'.repeat(pad) })
    if (token.length === length) return token
  }
  throw new Error(`no pad length gives a token of exactly ${length} characters`)
}

/**
 * Returns `token` with the last character of its signature replaced by one
 * that differs only in the bits that base64url discards: an HS256 signature
 * is 32 bytes in 43 characters, and the last character's 2 low bits are unused.
 */
function withNonCanonicalSignatureEnd(token: string): string {
  const last = token.at(-1)!
  const sibling = BASE64URL_ALPHABET[BASE64URL_ALPHABET.indexOf(last) ^ 1]!
  return replaceCharacter(token, token.length - 1, sibling)
}

/** Returns `token` with `insert` placed in the middle of its signature. */
function withInsideSignature(token: string, insert: string): string {
  const index = token.lastIndexOf('.') + 10
  return token.slice(0, index) + insert + token.slice(index)
}

async function rs256(keys: KeyPair, payload: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', ...header }).sign(keys.privateKey)
}

const rows: Row[] = [
  // The Authorization header.
  { name: 'no header', status: 401, error: 'missing_token' },
  { name: 'empty header', authorization: () => '', status: 401, error: 'missing_token' },
  { name: 'spaces-only header', authorization: () => '   ', status: 401, error: 'missing_token' },
  { name: 'Bearer without token', authorization: () => 'Bearer', status: 401, error: 'missing_token' },
  { name: 'Bearer and a space', authorization: () => 'Bearer ', status: 401, error: 'missing_token' },
  { name: 'Basic scheme', authorization: () => 'Basic YWxpY2U6cGFzcw==', status: 401, error: 'missing_token' },
  { name: 'Token scheme', authorization: async (c) => `Token ${await issue(c)}`, status: 401, error: 'missing_token' },
  { name: 'DPoP scheme', authorization: async (c) => `DPoP ${await issue(c)}`, status: 401, error: 'missing_token' },
  { name: 'Bearer: with colon', authorization: async (c) => `Bearer:${await issue(c)}`, status: 401, error: 'missing_token' },
  { name: 'token without scheme', authorization: async (c) => issue(c), status: 401, error: 'missing_token' },
  { name: 'lowercase bearer', authorization: async (c) => `bearer ${await issue(c)}`, status: 200 },
  { name: 'uppercase BEARER', authorization: async (c) => `BEARER ${await issue(c)}`, status: 200 },
  { name: 'tab after scheme', authorization: async (c) => `Bearer\t${await issue(c)}`, status: 200 },
  { name: 'extra spaces', authorization: async (c) => `   Bearer    ${await issue(c)}   `, status: 200 },
  { name: 'two tokens', authorization: async (c) => `Bearer ${await issue(c)} ${await issue(c)}`, status: 401, error: 'invalid_token' },
  { name: 'two tokens, tab', authorization: async (c) => `Bearer ${await issue(c)}\t${await issue(c)}`, status: 401, error: 'invalid_token' },
  { name: 'two tokens, comma', authorization: async (c) => `Bearer ${await issue(c)},${await issue(c)}`, status: 401, error: 'invalid_token' },
  { name: 'Bearer twice', authorization: async (c) => `Bearer Bearer ${await issue(c)}`, status: 401, error: 'invalid_token' },

  // The compact form.
  { name: 'junk token', authorization: () => bearer('not-a-jwt'), status: 401, error: 'invalid_token' },
  { name: 'two segments', authorization: async (c) => bearer((await issue(c)).split('.').slice(0, 2).join('.')), status: 401, error: 'invalid_token' },
  { name: 'four segments', authorization: async (c) => bearer(`${await issue(c)}.`), status: 401, error: 'invalid_token' },
  {
    name: 'JWE, five segments',
    authorization: () => bearer(`${encodeJson({ alg: 'dir', enc: 'A256GCM' })}..${encodeText('iv-of-12-byte')}.${encodeText('ciphertext')}.${encodeText('tag')}`),
    status: 401,
    error: 'invalid_token',
  },
  { name: 'empty segments', authorization: () => bearer('..'), status: 401, error: 'invalid_token' },
  { name: 'token of maxTokenLength', authorization: (c) => bearer(tokenOfLength(c, MAX_TOKEN_LENGTH)), status: 200 },
  { name: 'token over maxTokenLength', authorization: (c) => bearer(tokenOfLength(c, MAX_TOKEN_LENGTH + 1)), status: 401, error: 'invalid_token' },
  { name: 'header not base64url', authorization: (c) => bearer(`!!!.${encodeJson(claims(c))}.sig`), status: 401, error: 'invalid_token' },
  { name: 'header not JSON', authorization: (c) => bearer(signSegments(encodeText('not json'), encodeJson(claims(c)))), status: 401, error: 'invalid_token' },
  { name: 'header a JSON array', authorization: (c) => bearer(signSegments(encodeJson(['HS256']), encodeJson(claims(c)))), status: 401, error: 'invalid_token' },
  {
    name: 'header nested 3000 deep',
    authorization: (c) => bearer(signSegments(encodeText(`${'['.repeat(3000)}${']'.repeat(3000)}`), encodeJson(claims(c)))),
    status: 401,
    error: 'invalid_token',
  },
  { name: 'payload a JSON array', authorization: (c) => bearer(signSegments(encodeJson({ alg: 'HS256' }), encodeJson([claims(c)]))), status: 401, error: 'invalid_token' },
  { name: 'payload a JSON string', authorization: (c) => bearer(signSegments(encodeJson({ alg: 'HS256' }), encodeJson(c.user))), status: 401, error: 'invalid_token' },
  { name: 'payload not JSON', authorization: () => bearer(signSegments(encodeJson({ alg: 'HS256' }), encodeText('sub=alice'))), status: 401, error: 'invalid_token' },
  {
    name: 'payload invalid UTF-8',
    authorization: () => bearer(signSegments(encodeJson({ alg: 'HS256' }), Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url'))),
    status: 401,
    error: 'invalid_token',
  },
  { name: 'signature truncated', authorization: async (c) => bearer((await issue(c)).slice(0, -10)), status: 401, error: 'invalid_token' },
  { name: 'signature doubled', authorization: async (c) => bearer(`${await issue(c)}${(await issue(c)).split('.')[2]}`), status: 401, error: 'invalid_token' },
  { name: 'signature empty', authorization: async (c) => bearer((await issue(c)).replace(/[^.]+$/, '')), status: 401, error: 'invalid_token' },
  { name: 'another secret', authorization: (c) => bearer(signSegments(encodeJson({ alg: 'HS256' }), encodeJson(claims(c)), { secret: ATTACKER_SECRET })), status: 401, error: 'invalid_token' },
  { name: 'space inside token', authorization: async (c) => bearer(withInsideSignature(await issue(c), ' ')), status: 401, error: 'invalid_token' },
  { name: 'NBSP inside token', authorization: async (c) => bearer(withInsideSignature(await issue(c), '\u00a0')), status: 401, error: 'invalid_token' },
  { name: 'Latin-1 letter in token', authorization: async (c) => bearer(withInsideSignature(await issue(c), '\u00e9')), status: 401, error: 'invalid_token' },
  { name: 'percent-encoded dots', authorization: async (c) => bearer((await issue(c)).replaceAll('.', '%2E')), status: 401, error: 'invalid_token' },
  { name: 'token in quotes', authorization: async (c) => bearer(`"${await issue(c)}"`), status: 401, error: 'invalid_token' },
  // These two rows send a valid token in a non-canonical encoding, which must not count as the same token.
  { name: 'padded signature', authorization: async (c) => bearer(`${await issue(c)}=`), status: 401, error: 'invalid_token' },
  {
    name: 'non-canonical signature end',
    authorization: async (c) => bearer(withNonCanonicalSignatureEnd(await issue(c))),
    status: 401,
    error: 'invalid_token',
  },

  // The protected header.
  { name: 'alg none, no signature', authorization: (c) => bearer(unsigned(c, 'none')), status: 401, error: 'invalid_token' },
  { name: 'alg none with signature', authorization: (c) => bearer(signSegments(encodeJson({ alg: 'none' }), encodeJson(claims(c)))), status: 401, error: 'invalid_token' },
  { name: 'alg NONE', authorization: (c) => bearer(unsigned(c, 'NONE')), status: 401, error: 'invalid_token' },
  { name: 'alg missing', authorization: (c) => bearer(hs256(c, {}, { typ: 'JWT' })), status: 401, error: 'invalid_token' },
  { name: 'alg a number', authorization: (c) => bearer(hs256(c, {}, { alg: 256 })), status: 401, error: 'invalid_token' },
  { name: 'alg lowercase hs256', authorization: (c) => bearer(hs256(c, {}, { alg: 'hs256' })), status: 401, error: 'invalid_token' },
  {
    name: 'HS512 when HS256 pinned',
    authorization: (c) => bearer(signSegments(encodeJson({ alg: 'HS512' }), encodeJson(claims(c)), { hash: 'sha512' })),
    status: 401,
    error: 'invalid_token',
  },
  // JSON.parse keeps the last of duplicate names, which RFC 7515 section 4 allows a parser to do.
  { name: 'duplicate alg, none last', authorization: (c) => bearer(signSegments(encodeText('{"alg":"HS256","alg":"none"}'), encodeJson(claims(c)))), status: 401, error: 'invalid_token' },
  { name: 'unknown crit', authorization: (c) => bearer(hs256(c, {}, { alg: 'HS256', crit: ['x-custom'], 'x-custom': 1 })), status: 401, error: 'invalid_token' },
  { name: 'crit b64 false', authorization: (c) => bearer(hs256(c, {}, { alg: 'HS256', b64: false, crit: ['b64'] })), status: 401, error: 'invalid_token' },
  { name: 'crit not an array', authorization: (c) => bearer(hs256(c, {}, { alg: 'HS256', crit: 'exp' })), status: 401, error: 'invalid_token' },
  {
    name: 'embedded jwk, attacker key',
    authorization: (c) =>
      bearer(signSegments(encodeJson({ alg: 'HS256', jwk: { kty: 'oct', k: encodeText(ATTACKER_SECRET) } }), encodeJson(claims(c)), { secret: ATTACKER_SECRET })),
    status: 401,
    error: 'invalid_token',
  },
  {
    name: 'jku and x5u, attacker key',
    authorization: (c) =>
      bearer(signSegments(encodeJson({ alg: 'HS256', jku: `${c.keyServerUrl}/jwks`, x5u: `${c.keyServerUrl}/cert` }), encodeJson(claims(c)), { secret: ATTACKER_SECRET })),
    status: 401,
    error: 'invalid_token',
  },
  { name: 'kid is ignored', authorization: (c) => bearer(hs256(c, {}, { alg: 'HS256', kid: "../../../dev/null' or 1=1 --" })), status: 200 },

  // An app that verifies with an RSA public key.
  { name: 'RS256 accepted', app: 'rsa', authorization: async (c) => bearer(await rs256(c.rsaKeys, claims(c))), status: 200 },
  {
    name: 'HS256 keyed with public PEM',
    app: 'rsa',
    authorization: (c) => bearer(signSegments(encodeJson({ alg: 'HS256', typ: 'JWT' }), encodeJson(claims(c)), { secret: c.rsaPublicKeyPem })),
    status: 401,
    error: 'invalid_token',
  },
  { name: 'alg none, RSA app', app: 'rsa', authorization: (c) => bearer(unsigned(c, 'none')), status: 401, error: 'invalid_token' },
  { name: 'RS256, another key', app: 'rsa', authorization: async (c) => bearer(await rs256(c.attackerRsaKeys, claims(c))), status: 401, error: 'invalid_token' },
  {
    name: 'RS256, embedded attacker jwk',
    app: 'rsa',
    authorization: async (c) => bearer(await rs256(c.attackerRsaKeys, claims(c), { jwk: await exportJWK(c.attackerRsaKeys.publicKey) })),
    status: 401,
    error: 'invalid_token',
  },

  // sub and sid.
  { name: 'sub a number', authorization: (c) => bearer(hs256(c, { sub: 42 })), status: 401, error: 'invalid_token' },
  { name: 'sub an object', authorization: (c) => bearer(hs256(c, { sub: { id: c.user } })), status: 401, error: 'invalid_token' },
  { name: 'sub an array', authorization: (c) => bearer(hs256(c, { sub: [c.user] })), status: 401, error: 'invalid_token' },
  { name: 'sub null', authorization: (c) => bearer(hs256(c, { sub: null })), status: 401, error: 'invalid_token' },
  { name: 'sub a boolean', authorization: (c) => bearer(hs256(c, { sub: true })), status: 401, error: 'invalid_token' },
  { name: 'sub missing', authorization: (c) => bearer(hs256(c, { sub: undefined })), status: 401, error: 'invalid_token' },
  { name: 'sub empty', authorization: (c) => bearer(hs256(c, { sub: '' })), status: 401, error: 'invalid_token' },
  { name: 'sub with NUL', authorization: (c) => bearer(hs256(c, { sub: `${c.user}\u0000admin` })), status: 401, error: 'invalid_token' },
  { name: 'sub with lone surrogate', authorization: (c) => bearer(hs256(c, { sub: `${c.user}\ud800` })), status: 401, error: 'invalid_token' },
  { name: 'sub of 256 characters', authorization: (c) => bearer(hs256(c, { sub: c.user.padEnd(256, 'x') })), status: 401, error: 'invalid_token' },
  { name: 'sub of 255 characters', authorization: (c) => bearer(hs256(c, { sub: c.user.padEnd(255, 'x') })), status: 200 },
  { name: 'sub with emoji', authorization: (c) => bearer(hs256(c, { sub: `${c.user}-\u{1f600}` })), status: 200 },
  { name: 'sub in __proto__', authorization: (c) => bearer(signSegments(encodeJson({ alg: 'HS256' }), encodeText(`{"__proto__":{"sub":"admin"},"iat":${c.now},"exp":${c.now + 60}}`))), status: 401, error: 'invalid_token' },
  { name: 'sid a number', authorization: (c) => bearer(hs256(c, { sid: 7 })), status: 401, error: 'invalid_token' },
  { name: 'sid empty', authorization: (c) => bearer(hs256(c, { sid: '' })), status: 401, error: 'invalid_token' },
  { name: 'sid with NUL', authorization: (c) => bearer(hs256(c, { sid: 'session\u0000' })), status: 401, error: 'invalid_token' },
  { name: 'sid null', authorization: (c) => bearer(hs256(c, { sid: null })), status: 401, error: 'invalid_token' },
  { name: 'sid of 256 characters', authorization: (c) => bearer(hs256(c, { sid: 's'.repeat(256) })), status: 401, error: 'invalid_token' },

  // iat, iat_us, nbf and exp.
  { name: 'fractional iat', authorization: (c) => bearer(hs256(c, { iat: c.now - 1.25 })), status: 200 },
  { name: 'iat a string', authorization: (c) => bearer(hs256(c, { iat: String(c.now) })), status: 401, error: 'invalid_token' },
  { name: 'iat missing', authorization: (c) => bearer(hs256(c, { iat: undefined })), status: 401, error: 'invalid_token' },
  // A token dated at or before 1970 is at or before the cutoff 0 of a user who never logged out, so it fails closed.
  { name: 'iat negative', authorization: (c) => bearer(hs256(c, { iat: -5 })), status: 401, error: 'token_revoked' },
  { name: 'iat 1e300', authorization: (c) => bearer(hs256(c, { iat: 1e300 })), status: 401, error: 'invalid_token' },
  { name: 'iat 5 s ahead', authorization: (c) => bearer(hs256(c, { iat: c.now + 5 })), status: 401, error: 'invalid_token' },
  { name: 'iat ahead within tolerance', app: 'tolerant', authorization: (c) => bearer(hs256(c, { iat: c.now + 10 })), status: 200 },
  { name: 'iat ahead beyond tolerance', app: 'tolerant', authorization: (c) => bearer(hs256(c, { iat: c.now + 120 })), status: 401, error: 'invalid_token' },
  { name: 'iat_us outside iat second', authorization: (c) => bearer(hs256(c, { iat_us: (c.now - 5) * 1_000_000 })), status: 401, error: 'invalid_token' },
  { name: 'iat_us a string', authorization: (c) => bearer(hs256(c, { iat_us: String((c.now - 1) * 1_000_000) })), status: 401, error: 'invalid_token' },
  { name: 'nbf in the future', authorization: (c) => bearer(hs256(c, { nbf: c.now + 60 })), status: 401, error: 'invalid_token' },
  { name: 'expired', authorization: (c) => bearer(hs256(c, { iat: c.now - 100, exp: c.now - 10 })), status: 401, error: 'token_expired' },
  { name: 'exp equal to now', authorization: (c) => bearer(hs256(c, { exp: c.now })), status: 401, error: 'token_expired' },
  { name: 'exp a string', authorization: (c) => bearer(hs256(c, { exp: String(c.now + 600) })), status: 401, error: 'invalid_token' },
  { name: 'exp null', authorization: (c) => bearer(hs256(c, { exp: null })), status: 401, error: 'invalid_token' },
  { name: 'exp missing', authorization: (c) => bearer(hs256(c, { exp: undefined })), status: 401, error: 'invalid_token' },
  { name: 'exp after year 9999', authorization: (c) => bearer(hs256(c, { exp: 1e300 })), status: 200 },

  // An app that requires iss and aud.
  { name: 'iss and aud right', app: 'claims', authorization: (c) => bearer(hs256(c, { iss: ISSUER, aud: AUDIENCE })), status: 200 },
  { name: 'wrong aud', app: 'claims', authorization: (c) => bearer(hs256(c, { iss: ISSUER, aud: 'other' })), status: 401, error: 'invalid_token' },
  { name: 'wrong iss', app: 'claims', authorization: (c) => bearer(hs256(c, { iss: 'https://evil.test', aud: AUDIENCE })), status: 401, error: 'invalid_token' },
  { name: 'aud missing', app: 'claims', authorization: (c) => bearer(hs256(c, { iss: ISSUER })), status: 401, error: 'invalid_token' },
  { name: 'aud array with right one', app: 'claims', authorization: (c) => bearer(hs256(c, { iss: ISSUER, aud: ['other', AUDIENCE] })), status: 200 },
  { name: 'aud array without it', app: 'claims', authorization: (c) => bearer(hs256(c, { iss: ISSUER, aud: ['other', 'API'] })), status: 401, error: 'invalid_token' },
  { name: 'iss an array', app: 'claims', authorization: (c) => bearer(hs256(c, { iss: [ISSUER], aud: AUDIENCE })), status: 401, error: 'invalid_token' },

  // Revocation and the logout routes.
  {
    name: 'revoked token',
    authorization: async (c) => {
      const token = await issue(c)
      await c.target.jwtLogout.revokeUser(c.user)
      return bearer(token)
    },
    status: 401,
    error: 'token_revoked',
  },
  { name: 'logout without sid', route: 'POST /logout', authorization: (c) => bearer(hs256(c, { sid: undefined })), status: 400, error: 'missing_session_id' },
  { name: 'logout without header', route: 'POST /logout', status: 401, error: 'missing_token' },
  { name: 'logout with alg none', route: 'POST /logout', authorization: (c) => bearer(unsigned(c, 'none')), status: 401, error: 'invalid_token' },
  { name: 'logout-all with alg none', route: 'POST /logout-all', authorization: (c) => bearer(unsigned(c, 'none')), status: 401, error: 'invalid_token' },
  { name: 'logout when expired', route: 'POST /logout', authorization: (c) => bearer(hs256(c, { iat: c.now - 100, exp: c.now - 10 })), status: 401, error: 'token_expired' },
  {
    name: 'logout with revoked token',
    route: 'POST /logout',
    authorization: async (c) => {
      const token = await issue(c)
      await c.target.jwtLogout.revokeUser(c.user)
      return bearer(token)
    },
    status: 204,
  },
  { name: 'logout-all, sub of 255', route: 'POST /logout-all', authorization: (c) => bearer(hs256(c, { sub: c.user.padEnd(255, 'x') })), status: 204 },
  { name: 'logout, exp in year 9999', route: 'POST /logout', authorization: (c) => bearer(hs256(c, { exp: Date.UTC(9999, 11, 31) / 1000 })), status: 204 },
  {
    name: 'logout, exp in year 10000',
    route: 'POST /logout',
    authorization: (c) => bearer(hs256(c, { exp: Date.UTC(10000, 0, 1) / 1000 })),
    status: 204,
  },
  { name: 'logout, exp 1e300', route: 'POST /logout', authorization: (c) => bearer(hs256(c, { exp: 1e300 })), status: 204 },
  { name: 'logout-all, exp 1e300', route: 'POST /logout-all', authorization: (c) => bearer(hs256(c, { exp: 1e300 })), status: 204 },

  // Cookie mode: the cookie is read only when there is no Authorization header.
  { name: 'cookie accepted', app: 'cookie', cookie: async (c) => `${COOKIE_NAME}=${await issue(c)}`, status: 200 },
  { name: 'forged cookie', app: 'cookie', cookie: () => `${COOKIE_NAME}=a.b.c`, status: 401, error: 'invalid_token' },
  { name: 'empty cookie', app: 'cookie', cookie: () => `${COOKIE_NAME}=`, status: 401, error: 'missing_token' },
  { name: 'cookie with alg none', app: 'cookie', cookie: (c) => `${COOKIE_NAME}=${unsigned(c, 'none')}`, status: 401, error: 'invalid_token' },
  {
    name: 'junk header beats cookie',
    app: 'cookie',
    authorization: () => 'Bearer junk',
    cookie: async (c) => `${COOKIE_NAME}=${await issue(c)}`,
    status: 401,
    error: 'invalid_token',
  },
  {
    name: 'cookie, space in signature',
    app: 'cookie',
    cookie: async (c) => `${COOKIE_NAME}=${withInsideSignature(await issue(c), ' ')}`,
    status: 401,
    error: 'invalid_token',
  },
]

/** Codes that verification returns before any cutoff lookup, so these rows must not query the database. */
const REJECTED_BEFORE_STORE = new Set<ErrorCode | undefined>(['missing_token', 'invalid_token', 'token_expired'])

describe.each(databaseKinds())('hostile requests on %s', (kind) => {
  let database: TestDatabase
  let apps: Record<AppName, TestApp>
  let rsaKeys: KeyPair
  let attackerRsaKeys: KeyPair
  let rsaPublicKeyPem: string
  let keyServer: Server
  let keyServerUrl: string
  let keyServerRequests = 0

  beforeAll(async () => {
    database = await createTestDatabase(kind)
    ;[rsaKeys, attackerRsaKeys] = await Promise.all([
      generateKeyPair('RS256', { extractable: true }),
      generateKeyPair('RS256', { extractable: true }),
    ])
    rsaPublicKeyPem = await exportSPKI(rsaKeys.publicKey)
    apps = {
      hmac: createTestApp(database),
      tolerant: createTestApp(database, { clockToleranceSeconds: TOLERANCE_SECONDS }),
      claims: createTestApp(database, { issuer: ISSUER, audience: AUDIENCE }),
      rsa: createTestApp(database, { secret: undefined, publicKey: rsaPublicKeyPem, algorithms: ['RS256'] }),
      cookie: createTestApp(database, { cookie: { name: COOKIE_NAME } }),
    }

    keyServer = createServer((_req, res) => {
      keyServerRequests++
      res.writeHead(404).end()
    })
    await new Promise<void>((resolve) => keyServer.listen(0, '127.0.0.1', resolve))
    keyServerUrl = `http://127.0.0.1:${(keyServer.address() as AddressInfo).port}`
  })

  afterAll(async () => {
    keyServer?.closeAllConnections()
    await new Promise((resolve) => keyServer?.close(resolve))
    await database?.close()
  })

  rows.forEach((row, index) => {
    it(row.name, async () => {
      const target = apps[row.app ?? 'hmac']
      const context: RowContext = {
        user: `hostile-${index}`,
        now: nowSeconds(),
        target,
        rsaKeys,
        attackerRsaKeys,
        rsaPublicKeyPem,
        keyServerUrl,
      }
      const authorization = await row.authorization?.(context)
      const cookie = await row.cookie?.(context)

      const [method, path] = (row.route ?? 'GET /me').split(' ') as ['GET' | 'POST', string]
      const call = method === 'GET' ? request(target.app).get(path) : request(target.app).post(path)
      if (authorization !== undefined) call.set('Authorization', authorization)
      if (cookie !== undefined) call.set('Cookie', cookie)
      database.queries.length = 0
      const response = await call

      expect(response.status).toBe(row.status)
      expect(response.body.error).toBe(row.error)
      if (row.error !== undefined) expect(typeof response.body.message).toBe('string')
      if (REJECTED_BEFORE_STORE.has(row.error)) expect(countCutoffLookups(database.queries)).toBe(0)
    })
  })

  it('fetches no key URL from a header', () => {
    expect(keyServerRequests).toBe(0)
  })
})
