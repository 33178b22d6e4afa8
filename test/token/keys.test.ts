import { generateKeyPairSync } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

import type { Express } from 'express'
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK } from 'jose'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { createJwtLogout, type JwtLogout } from '../../src/jwt-logout.js'
import type { JwtLogoutOptions } from '../../src/options.js'
import { resolveTokenOptions, type TokenOptions } from '../../src/token/token-options.js'
import { createTestDatabase, type TestDatabase } from '../support/databases.js'
import { express } from '../support/express.js'
import { nowSeconds } from '../support/test-app.js'

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>

function createApp(database: TestDatabase, options: Partial<JwtLogoutOptions>) {
  const jwtLogout = createJwtLogout({ db: database.db, ...options } as JwtLogoutOptions)
  const app = express()
  app.get('/me', jwtLogout.requireAuth, (req, res) => {
    res.json(req.auth)
  })
  app.post('/logout-all', jwtLogout.logoutAll)
  app.use(jwtLogout.errorHandler)
  return { app, jwtLogout }
}

/** Each token gets a user of its own: a logout-all fails closed for another user's token of the same second. */
let userCount = 0

async function sign(keys: KeyPair, alg: string, claims: Record<string, unknown> = {}, kid?: string): Promise<string> {
  const iat = nowSeconds()
  return new SignJWT({ sid: 's1', ...claims })
    .setProtectedHeader({ alg, ...(kid === undefined ? {} : { kid }) })
    .setSubject(`key-user-${++userCount}`)
    .setIssuedAt(iat)
    .setExpirationTime(iat + 600)
    .sign(keys.privateKey)
}

describe('asymmetric keys', () => {
  let database: TestDatabase

  beforeAll(async () => {
    database = await createTestDatabase('pglite')
  })
  afterAll(async () => {
    await database.close()
  })

  it.each(['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'])('verifies %s end to end', async (alg) => {
    const keys = await generateKeyPair(alg, { extractable: true })
    const { app } = createApp(database, { publicKey: await exportSPKI(keys.publicKey), algorithms: [alg as never] })
    const token = await sign(keys, alg, {}, undefined)

    const accepted = await request(app).get('/me').set('Authorization', `Bearer ${token}`)
    const logout = await request(app).post('/logout-all').set('Authorization', `Bearer ${token}`)
    const revoked = await request(app).get('/me').set('Authorization', `Bearer ${token}`)

    expect(accepted.status).toBe(200)
    expect(accepted.body.sub).toMatch(/^key-user-/)
    expect(logout.status).toBe(204)
    expect(revoked.body.error).toBe('token_revoked')
  })

  it('defaults to the key algorithm', async () => {
    const keys = await generateKeyPair('ES256', { extractable: true })
    const { app } = createApp(database, { publicKey: await exportJWK(keys.publicKey) })

    const response = await request(app).get('/me').set('Authorization', `Bearer ${await sign(keys, 'ES256')}`)

    expect(response.status).toBe(200)
  })

  it('rejects the algorithm confusion attack', async () => {
    const keys = await generateKeyPair('RS256', { extractable: true })
    const pem = await exportSPKI(keys.publicKey)
    const { app } = createApp(database, { publicKey: pem, algorithms: ['RS256'] })
    // HS256 with the public key's PEM text as the HMAC secret: accepted by verifiers that let the token pick the algorithm.
    const iat = nowSeconds()
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('attacker')
      .setIssuedAt(iat)
      .setExpirationTime(iat + 600)
      .sign(new TextEncoder().encode(pem))

    const response = await request(app).get('/me').set('Authorization', `Bearer ${forged}`)

    expect(response.status).toBe(401)
    expect(response.body.error).toBe('invalid_token')
    expect(response.body.message).toBe('The token is signed with an algorithm that is not allowed.')
  })

  it('issues tokens with a private key', async () => {
    const keys = await generateKeyPair('ES256', { extractable: true })
    const { app, jwtLogout } = createApp(database, {
      publicKey: await exportJWK(keys.publicKey),
      privateKey: await exportJWK(keys.privateKey),
    })

    const issued = await jwtLogout.issueToken('signed-user')
    const response = await request(app).get('/me').set('Authorization', `Bearer ${issued.token}`)

    expect(response.status).toBe(200)
    expect(response.body.sub).toBe('signed-user')
  })

  it('needs a private key to issue', async () => {
    const keys = await generateKeyPair('ES256', { extractable: true })
    const { jwtLogout } = createApp(database, { publicKey: await exportJWK(keys.publicKey) })

    await expect(jwtLogout.issueToken('nobody')).rejects.toThrow('issueToken needs a signing key: pass privateKey for ES256')
  })
})

describe('key options', () => {
  let rsa1024: string
  let rsa2048: string
  let ec256: JWK

  beforeAll(async () => {
    // jose refuses to generate short RSA keys, so node:crypto makes this one.
    rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }) as string
    rsa2048 = await exportSPKI((await generateKeyPair('RS256', { extractable: true })).publicKey)
    ec256 = await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey)
  })

  it.each<[string, () => Partial<TokenOptions>, RegExp]>([
    ['no key', () => ({}), /secret is missing: pass secret \(HMAC\), publicKey \(PEM or JWK\) or jwksUrl/],
    ['two keys', () => ({ secret: 'x'.repeat(40), publicKey: rsa2048 }), /pass only one of secret, publicKey and jwksUrl, not secret and publicKey/],
    ['a 1024-bit RSA key', () => ({ publicKey: rsa1024 }), /publicKey is a 1024-bit RSA key; RS\* and PS\* need at least 2048 bits/],
    ['HS256 with an RSA key', () => ({ publicKey: rsa2048, algorithms: ['HS256'] }), /algorithms contains HS256, which does not fit publicKey \(a rsa key\)/],
    ['ES384 with a P-256 key', () => ({ publicKey: ec256, algorithms: ['ES384'] }), /algorithms contains ES384, which does not fit publicKey \(a ec prime256v1 key\); use ES256/],
    ['garbage PEM', () => ({ publicKey: 'not a key' }), /publicKey is not a valid public key in PEM or JWK form/],
    ['JWKS without algorithms', () => ({ jwksUrl: 'https://issuer.test/jwks' }), /algorithms is required with jwksUrl/],
    ['JWKS over plain http', () => ({ jwksUrl: 'http://issuer.test/jwks', algorithms: ['RS256'] }), /jwksUrl must use https \(http only on localhost\), got http:\/\/issuer.test/],
    ['JWKS with HS256', () => ({ jwksUrl: 'https://issuer.test/jwks', algorithms: ['HS256'] }), /algorithms contains HS256, which a public key set cannot verify/],
    ['relative JWKS URL', () => ({ jwksUrl: '/jwks', algorithms: ['RS256'] }), /jwksUrl must be an absolute URL/],
    ['no exp without max age', () => ({ secret: 'x'.repeat(40), requireExpiration: false }), /requireExpiration: false needs maxTokenAgeSeconds/],
    ['zero JWKS timeout', () => ({ jwksUrl: 'https://issuer.test/jwks', algorithms: ['RS256'], jwks: { timeoutMs: 0 } }), /jwks.timeoutMs must be a positive integer, got 0/],
  ])('rejects %s', (_name, makeOptions, message) => {
    expect(() => resolveTokenOptions(makeOptions() as TokenOptions)).toThrow(TypeError)
    expect(() => resolveTokenOptions(makeOptions() as TokenOptions)).toThrow(message)
  })
})

/** A JSON Web Key Set served on 127.0.0.1, whose keys the test replaces to simulate a rotation. */
class JwksServer {
  keys: JWK[] = []
  requests = 0
  available = true
  readonly #server: Server = createServer((_req, res) => {
    this.requests++
    if (!this.available) {
      res.writeHead(500).end()
      return
    }
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ keys: this.keys }))
  })

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve))
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/jwks.json`
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections()
    await new Promise((resolve) => this.#server.close(resolve))
  }
}

async function namedKey(kid: string): Promise<{ keys: KeyPair; jwk: JWK }> {
  const keys = await generateKeyPair('RS256', { extractable: true })
  return { keys, jwk: { ...(await exportJWK(keys.publicKey)), kid, alg: 'RS256', use: 'sig' } }
}

describe('remote key set', () => {
  let database: TestDatabase
  let jwks: JwksServer
  let url: string
  let app: Express
  let jwtLogout: JwtLogout

  beforeAll(async () => {
    database = await createTestDatabase('pglite')
    jwks = new JwksServer()
    url = await jwks.start()
    ;({ app, jwtLogout } = createApp(database, { jwksUrl: url, algorithms: ['RS256'], jwks: { cooldownMs: 1, timeoutMs: 2000 } }))
  })
  afterAll(async () => {
    await jwtLogout?.close()
    await jwks?.close()
    await database?.close()
  })

  it('follows a key rotation', async () => {
    const first = await namedKey('key-1')
    const second = await namedKey('key-2')
    jwks.keys = [first.jwk]
    const before = await request(app).get('/me').set('Authorization', `Bearer ${await sign(first.keys, 'RS256', {}, 'key-1')}`)
    const requestsBefore = jwks.requests

    // The provider rotates: key-1 is gone and key-2 signs.
    jwks.keys = [second.jwk]
    await new Promise((resolve) => setTimeout(resolve, 5)) // past the 1 ms cooldown
    const after = await request(app).get('/me').set('Authorization', `Bearer ${await sign(second.keys, 'RS256', {}, 'key-2')}`)

    expect(before.status).toBe(200)
    expect(after.status).toBe(200)
    expect(jwks.requests).toBe(requestsBefore + 1)
  })

  it('rejects an unknown kid', async () => {
    const stranger = await namedKey('key-unknown')

    const response = await request(app).get('/me').set('Authorization', `Bearer ${await sign(stranger.keys, 'RS256', {}, 'key-unknown')}`)

    expect(response.status).toBe(401)
    expect(response.body.error).toBe('invalid_token')
    expect(response.body.message).toBe('No key in the key set matches the token\'s "kid" and "alg".')
  })

  it('answers 503 when the key set fails', async () => {
    const fresh = await namedKey('key-3')
    jwks.available = false

    const response = await request(app).get('/me').set('Authorization', `Bearer ${await sign(fresh.keys, 'RS256', {}, 'key-3')}`)
    jwks.available = true

    expect(response.status).toBe(503)
    expect(response.body.error).toBe('key_set_unavailable')
    expect(response.headers['retry-after']).toBe('5')
  })
})
