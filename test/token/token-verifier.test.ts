import { describe, expect, it } from 'vitest'

import { UnauthorizedError } from '../../src/errors/unauthorized-error.js'
import { resolveTokenOptions, type TokenOptions } from '../../src/token/token-options.js'
import { TokenVerifier } from '../../src/token/token-verifier.js'
import { nowSeconds, signRawToken, signToken, TEST_SECRET } from '../support/test-app.js'

function createVerifier(options: Partial<TokenOptions> = {}): TokenVerifier {
  return new TokenVerifier(resolveTokenOptions({ secret: TEST_SECRET, ...options }))
}

function validClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const iat = nowSeconds()
  return { sub: 'alice', sid: 'session-1', iat, exp: iat + 600, ...overrides }
}

async function rejection(promise: Promise<unknown>): Promise<UnauthorizedError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  )
  expect(error).toBeInstanceOf(UnauthorizedError)
  return error as UnauthorizedError
}

describe('TokenVerifier', () => {
  it('accepts a valid token', async () => {
    const claims = validClaims()
    const verified = await createVerifier().verify(await signToken(claims))

    expect(verified.userId).toBe('alice')
    expect(verified.sessionId).toBe('session-1')
    expect(verified.issuedAtMicros).toBe((claims.iat as number) * 1_000_000)
    expect(verified.expiresAtMicros).toBe((claims.exp as number) * 1_000_000)
    expect(verified.claims.sub).toBe('alice')
  })

  it('uses iat_us for the issue time', async () => {
    const iat = nowSeconds()
    const token = await signToken(validClaims({ iat, iat_us: iat * 1_000_000 + 123_456 }))

    const verified = await createVerifier().verify(token)

    expect(verified.issuedAtMicros).toBe(iat * 1_000_000 + 123_456)
  })

  it('floors a fractional iat to its second', async () => {
    const iat = nowSeconds() - 1
    const verified = await createVerifier().verify(await signToken(validClaims({ iat: iat + 0.75 })))

    expect(verified.issuedAtMicros).toBe(iat * 1_000_000)
  })

  const rejected: Array<[string, () => Promise<string>, string, RegExp]> = [
    ['missing sub', () => signToken(validClaims({ sub: undefined })), 'invalid_token', /"sub" claim/],
    ['numeric sub', () => signToken(validClaims({ sub: 42 })), 'invalid_token', /"sub" claim must be a non-empty string/],
    ['empty sub', () => signToken(validClaims({ sub: '' })), 'invalid_token', /non-empty string/],
    ['NUL in sub', () => signToken(validClaims({ sub: 'al\u0000ice' })), 'invalid_token', /NUL character/],
    ['lone surrogate in sub', () => signToken(validClaims({ sub: 'al\ud800ice' })), 'invalid_token', /invalid UTF-16/],
    ['overlong sub', () => signToken(validClaims({ sub: 'a'.repeat(256) })), 'invalid_token', /256 characters long; the maximum is 255/],
    ['numeric sid', () => signToken(validClaims({ sid: 7 })), 'invalid_token', /"sid" claim must be a non-empty string/],
    ['missing iat', () => signToken(validClaims({ iat: undefined })), 'invalid_token', /no "iat" claim/],
    ['string iat', () => signToken(validClaims({ iat: '1700000000' })), 'invalid_token', /"iat" claim is invalid/],
    ['future iat', () => signToken(validClaims({ iat: nowSeconds() + 120 })), 'invalid_token', /"iat" claim is in the future/],
    ['missing exp', () => signToken(validClaims({ exp: undefined })), 'invalid_token', /no "exp" claim/],
    ['expired', () => signToken(validClaims({ iat: nowSeconds() - 100, exp: nowSeconds() - 10 })), 'token_expired', /has expired/],
    ['future nbf', () => signToken(validClaims({ nbf: nowSeconds() + 60 })), 'invalid_token', /not valid yet/],
    ['iat_us outside iat second', () => signToken(validClaims({ iat_us: (nowSeconds() - 5) * 1_000_000 })), 'invalid_token', /"iat_us" claim/],
    ['fractional iat_us', () => signToken(validClaims({ iat_us: nowSeconds() * 1_000_000 + 0.5 })), 'invalid_token', /"iat_us" claim/],
    ['wrong secret', () => signToken(validClaims(), { secret: 'another-secret-that-is-long-enough-0123456789' }), 'invalid_token', /signature is invalid/],
    ['HS512 when HS256 is pinned', () => signToken(validClaims(), { header: { alg: 'HS512' } }), 'invalid_token', /algorithm that is not allowed/],
    ['unknown crit header', async () => signRawToken({ alg: 'HS256', crit: ['x-custom'], 'x-custom': 1 }, validClaims()), 'invalid_token', /not supported/],
  ]

  it.each(rejected)('rejects %s', async (_name, makeToken, code, message) => {
    const error = await rejection(createVerifier().verify(await makeToken()))

    expect(error.code).toBe(code)
    expect(error.message).toMatch(message)
  })

  it('rejects alg none', async () => {
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')
    const token = `${encode({ alg: 'none', typ: 'JWT' })}.${encode(validClaims())}.`

    const error = await rejection(createVerifier().verify(token))

    expect(error.code).toBe('invalid_token')
    expect(error.message).not.toContain(token)
  })

  it.each([
    ['garbage', 'not-a-token'],
    ['two parts', 'abc.def'],
    ['bad base64 header', '!!!.e30.sig'],
    ['JWE with five parts', 'a.b.c.d.e'],
  ])('rejects malformed %s', async (_name, token) => {
    const error = await rejection(createVerifier().verify(token))

    expect(error.code).toBe('invalid_token')
  })

  it('rejects a token over maxTokenLength', async () => {
    const error = await rejection(createVerifier({ maxTokenLength: 100 }).verify('a'.repeat(101)))

    expect(error.code).toBe('invalid_token')
    expect(error.message).toBe('The token is 101 characters long; the maximum is 100.')
  })

  it('checks issuer and audience', async () => {
    const verifier = createVerifier({ issuer: 'https://issuer.example', audience: 'api' })
    const good = await signToken(validClaims({ iss: 'https://issuer.example', aud: 'api' }))
    const wrongAudience = await signToken(validClaims({ iss: 'https://issuer.example', aud: 'other' }))
    const missingIssuer = await signToken(validClaims({ aud: 'api' }))

    await expect(verifier.verify(good)).resolves.toMatchObject({ userId: 'alice' })
    expect((await rejection(verifier.verify(wrongAudience))).message).toMatch(/"aud" claim does not match/)
    expect((await rejection(verifier.verify(missingIssuer))).message).toMatch(/no "iss" claim/)
  })

  it('accepts each configured algorithm', async () => {
    const secret = 'k'.repeat(64)
    const verifier = createVerifier({ secret, algorithms: ['HS512', 'HS256'] })

    for (const alg of ['HS256', 'HS512']) {
      const token = await signToken(validClaims(), { header: { alg }, secret })
      await expect(verifier.verify(token), alg).resolves.toMatchObject({ userId: 'alice' })
    }
    const hs384 = await signToken(validClaims(), { header: { alg: 'HS384' }, secret })
    expect((await rejection(verifier.verify(hs384))).message).toMatch(/algorithm that is not allowed/)
  })

  it('rejects tokens older than maxTokenAge', async () => {
    const verifier = createVerifier({ maxTokenAgeSeconds: 60 })
    const token = await signToken(validClaims({ iat: nowSeconds() - 120 }))

    const error = await rejection(verifier.verify(token))

    expect(error.code).toBe('token_expired')
    expect(error.message).toMatch(/older than the maximum token age/)
  })

  it('honours clock tolerance on exp', async () => {
    const token = await signToken(validClaims({ iat: nowSeconds() - 100, exp: nowSeconds() - 5 }))

    await expect(createVerifier({ clockToleranceSeconds: 30 }).verify(token)).resolves.toMatchObject({ userId: 'alice' })
  })

  it('reads time from a custom clock', async () => {
    const claims = validClaims()
    const token = await signToken(claims)
    const later = ((claims.exp as number) + 1) * 1000
    const verifier = new TokenVerifier(resolveTokenOptions({ secret: TEST_SECRET }), () => later)

    const error = await rejection(verifier.verify(token))

    expect(error.code).toBe('token_expired')
  })
})

describe('resolveTokenOptions', () => {
  it.each<[string, Partial<TokenOptions>, RegExp]>([
    ['missing secret', { secret: undefined }, /secret is missing/],
    ['short secret', { secret: 'too-short' }, /secret is 9 bytes long, but HS256 needs at least 32/],
    ['short secret for HS512', { secret: 'x'.repeat(48), algorithms: ['HS512'] }, /needs at least 64/],
    ['empty algorithms', { algorithms: [] }, /algorithms must be a non-empty array/],
    ['alg none', { algorithms: ['none' as never] }, /algorithms contains "none"/],
    ['RS256 with a secret', { algorithms: ['RS256'] }, /algorithms contains RS256, which a shared secret cannot verify/],
    ['empty issuer', { issuer: '' }, /issuer must be/],
    ['negative tolerance', { clockToleranceSeconds: -1 }, /clockToleranceSeconds must be a non-negative number/],
    ['zero lifetime', { tokenLifetimeSeconds: 0 }, /tokenLifetimeSeconds must be a positive number/],
    ['NaN max age', { maxTokenAgeSeconds: Number.NaN }, /maxTokenAgeSeconds must be a positive number/],
    ['fractional claim length', { maxClaimLength: 1.5 }, /maxClaimLength must be a positive integer/],
  ])('rejects %s', (_name, overrides, message) => {
    expect(() => resolveTokenOptions({ secret: TEST_SECRET, ...overrides } as TokenOptions)).toThrow(TypeError)
    expect(() => resolveTokenOptions({ secret: TEST_SECRET, ...overrides } as TokenOptions)).toThrow(message)
  })

  it('fills in defaults', () => {
    const resolved = resolveTokenOptions({ secret: TEST_SECRET })

    expect(resolved.algorithms).toEqual(['HS256'])
    expect(resolved.clockToleranceSeconds).toBe(0)
    expect(resolved.tokenLifetimeSeconds).toBe(900)
    expect(resolved.maxClaimLength).toBe(255)
    expect(resolved.maxTokenLength).toBe(8192)
    expect(resolved.maxTokenAgeSeconds).toBeUndefined()
  })
})
