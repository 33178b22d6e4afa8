import type { webcrypto } from 'node:crypto'

import { errors, jwtVerify, type JWTPayload, type JWTVerifyOptions } from 'jose'

import type { Clock } from '../clock.js'
import { UnauthorizedError } from '../errors/unauthorized-error.js'
import { isStorableText } from '../store/storable-text.js'
import { ISSUED_AT_MICROS_CLAIM, type VerifiedClaims, type VerifiedToken } from './claims.js'
import { importTokenKeys, type TokenKeys } from './token-keys.js'
import type { ResolvedTokenOptions } from './token-options.js'

type CryptoKey = webcrypto.CryptoKey

/** Three non-empty base64url segments: the only form of a signed JWT that is accepted. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/

/**
 * Verifies compact JWS tokens: signature, pinned algorithm, `exp`, `nbf`,
 * optional `iss`, `aud` and maximum age, then the claims that the cutoff check
 * relies on. It never touches the database, so unsigned input stops here.
 */
export class TokenVerifier {
  readonly #options: ResolvedTokenOptions
  readonly #clock: Clock | undefined
  readonly #joseOptions: JWTVerifyOptions
  readonly #keysReady: Promise<TokenKeys>
  #keys: TokenKeys | undefined
  /** Number of tokens checked with jose, for stats. */
  verifications = 0

  /** @param clock A custom clock; without one, jose and the `iat` check read the system time. */
  constructor(options: ResolvedTokenOptions, clock?: Clock) {
    this.#options = options
    this.#clock = clock
    // Built once: jose reads these options on every call, and a fresh object per request is waste.
    this.#joseOptions = {
      algorithms: options.algorithms,
      issuer: options.issuer,
      audience: options.audience,
      clockTolerance: options.clockToleranceSeconds,
      maxTokenAge: options.maxTokenAgeSeconds,
      requiredClaims: options.requireExpiration ? ['sub', 'iat', 'exp'] : ['sub', 'iat'],
    }
    this.#keysReady = importTokenKeys(options).then((keys) => (this.#keys = keys))
    // A key that fails to import fails every verification with the same error; this only keeps it from being unhandled.
    this.#keysReady.catch(() => {})
  }

  /**
   * Returns the key that `issueToken` signs with, imported once.
   * @throws TypeError when no signing key is configured.
   */
  async signingKey(): Promise<CryptoKey> {
    const keys = this.#keys ?? (await this.#keysReady)
    if (keys.signingKey === undefined) {
      throw new TypeError(`issueToken needs a signing key: pass privateKey for ${this.#options.algorithms[0]}, or use a secret`)
    }
    return keys.signingKey
  }

  /**
   * Verifies `token` and returns its claims.
   * @throws UnauthorizedError with code `invalid_token` or `token_expired`.
   */
  async verify(token: string): Promise<VerifiedToken> {
    if (token.length > this.#options.maxTokenLength) {
      throw new UnauthorizedError(
        'invalid_token',
        `The token is ${token.length} characters long; the maximum is ${this.#options.maxTokenLength}.`,
      )
    }

    // jose's base64url decoder also takes padding, whitespace and unused trailing bits, so one signature
    // would have several spellings. Only the canonical one is accepted, because apps may key on the token string.
    const signature = token.slice(token.lastIndexOf('.') + 1)
    if (!COMPACT_JWS.test(token) || Buffer.from(signature, 'base64url').toString('base64url') !== signature) {
      throw new UnauthorizedError('invalid_token', 'The token is malformed: expected a signed JWT in compact form.')
    }

    const key = (this.#keys ?? (await this.#keysReady)).verificationKey
    const options = this.#clock === undefined ? this.#joseOptions : { ...this.#joseOptions, currentDate: new Date(this.#clock()) }

    this.verifications++
    let payload: JWTPayload
    try {
      const result = typeof key === 'function' ? await jwtVerify(token, key, options) : await jwtVerify(token, key, options)
      payload = result.payload
    } catch (error) {
      throw toUnauthorizedError(error)
    }

    return this.#checkClaims(payload)
  }

  #checkClaims(payload: JWTPayload): VerifiedToken {
    const userId = checkIdentifierClaim(payload, 'sub', this.#options.maxClaimLength)
    const sessionId = payload.sid === undefined ? undefined : checkIdentifierClaim(payload, 'sid', this.#options.maxClaimLength)

    // jose has checked that iat and exp are finite numbers; these are the checks it leaves out.
    const iat = payload.iat as number
    // Without exp (allowed only with a maximum age), the token dies when it becomes too old.
    const exp = payload.exp ?? iat + this.#options.maxTokenAgeSeconds!
    const nowSeconds = (this.#clock ?? Date.now)() / 1000
    if (iat > nowSeconds + this.#options.clockToleranceSeconds) {
      // A token dated in the future would count as issued after every logout.
      throw new UnauthorizedError('invalid_token', 'The token\'s "iat" claim is in the future; check the issuer\'s clock.')
    }

    return {
      claims: payload as VerifiedClaims,
      userId,
      sessionId,
      issuedAtMicros: issuedAtMicros(payload, iat),
      expiresAtMicros: Math.floor(exp * 1_000_000),
      validUntilMicros: Math.floor(Math.min(exp, iat + (this.#options.maxTokenAgeSeconds ?? Infinity)) * 1_000_000),
    }
  }
}

/** Checks a claim that identifies a user or session and is stored as PostgreSQL `text`. */
function checkIdentifierClaim(payload: JWTPayload, claim: 'sub' | 'sid', maxLength: number): string {
  const value = payload[claim]
  if (typeof value !== 'string' || value === '') {
    throw new UnauthorizedError('invalid_token', `The token's "${claim}" claim must be a non-empty string.`)
  }
  if (value.length > maxLength) {
    throw new UnauthorizedError(
      'invalid_token',
      `The token's "${claim}" claim is ${value.length} characters long; the maximum is ${maxLength}.`,
    )
  }
  if (!isStorableText(value)) {
    throw new UnauthorizedError(
      'invalid_token',
      `The token's "${claim}" claim contains a NUL character or invalid UTF-16, which no user id may contain.`,
    )
  }
  return value
}

/** Returns the issue time in microseconds; see VerifiedToken.issuedAtMicros. */
function issuedAtMicros(payload: JWTPayload, iat: number): number {
  const precise = payload[ISSUED_AT_MICROS_CLAIM]
  const wholeSeconds = Math.floor(iat)
  if (precise === undefined) return wholeSeconds * 1_000_000

  if (typeof precise !== 'number' || !Number.isSafeInteger(precise) || Math.floor(precise / 1_000_000) !== wholeSeconds) {
    throw new UnauthorizedError(
      'invalid_token',
      `The token's "${ISSUED_AT_MICROS_CLAIM}" claim must be an integer number of microseconds within the "iat" second.`,
    )
  }
  return precise
}

/** Maps a jose failure to the 401 that the client gets; anything else is a bug and is rethrown. */
function toUnauthorizedError(error: unknown): Error {
  if (!(error instanceof errors.JOSEError)) return error as Error
  if (error instanceof errors.JWKSNoMatchingKey) {
    return new UnauthorizedError('invalid_token', 'No key in the key set matches the token\'s "kid" and "alg".', { cause: error })
  }

  if (error instanceof errors.JWTExpired) {
    const message =
      error.claim === 'iat' ? 'The token is older than the maximum token age.' : 'The token has expired.'
    return new UnauthorizedError('token_expired', message, { cause: error })
  }

  return new UnauthorizedError('invalid_token', describeJoseError(error), { cause: error })
}

function describeJoseError(error: InstanceType<typeof errors.JOSEError>): string {
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === 'missing') return `The token has no "${error.claim}" claim, which is required.`
    if (error.claim === 'nbf') return 'The token is not valid yet: its "nbf" claim is in the future.'
    if (error.claim === 'iss' || error.claim === 'aud') {
      return `The token's "${error.claim}" claim does not match the expected value.`
    }
    return `The token's "${error.claim}" claim is invalid.`
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return 'The token is signed with an algorithm that is not allowed.'
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'The token\'s signature is invalid.'
  if (error instanceof errors.JOSENotSupported) return 'The token uses a header or algorithm that is not supported.'
  return 'The token is malformed: expected a signed JWT in compact form.'
}
