import { randomUUID } from 'node:crypto'

import { SignJWT, type JWTPayload } from 'jose'

import { toNumericDate, type MicrosecondClock } from '../clock.js'
import { isStorableText } from '../store/storable-text.js'
import { ISSUED_AT_MICROS_CLAIM } from './claims.js'
import type { ResolvedTokenOptions } from './token-options.js'
import type { TokenVerifier } from './token-verifier.js'

/** Options of `issueToken` besides the user id. */
export interface IssueTokenOptions {
  /** Session id to put in `sid`. Omit it at login to start a new session with a random id. */
  sessionId?: string
  /**
   * Extra claims to include. They cannot replace the registered claims that
   * jwt-logout sets: `sub`, `sid`, `iat`, `iat_us`, `exp`, `jti`, `iss` and `aud`.
   */
  claims?: Record<string, unknown>
}

/** A freshly signed token and the values a login response needs. */
export interface IssuedToken {
  /** The compact JWS. */
  token: string
  /** The `jti` claim: a random id for this token. */
  tokenId: string
  /** The `sid` claim. */
  sessionId: string
  /** `iat`, seconds since the epoch. */
  issuedAt: number
  /** `exp`, seconds since the epoch. */
  expiresAt: number
  /** Lifetime in seconds, for an OAuth-style `expires_in`. */
  expiresIn: number
}

const RESERVED_CLAIMS = new Set(['sub', 'sid', 'iat', ISSUED_AT_MICROS_CLAIM, 'exp', 'jti', 'iss', 'aud', 'nbf'])

/** Signs tokens whose issue time orders exactly against this process's logouts. */
export class TokenIssuer {
  readonly #options: ResolvedTokenOptions
  readonly #clock: MicrosecondClock
  readonly #verifier: TokenVerifier

  constructor(options: ResolvedTokenOptions, clock: MicrosecondClock, verifier: TokenVerifier) {
    this.#options = options
    this.#clock = clock
    this.#verifier = verifier
  }

  /**
   * Signs a token for `userId` with `sub`, `sid`, `iat`, `iat_us`, `exp` and a
   * random `jti`. Its issue time comes from the same clock as this process's
   * logouts, so a token issued right after a logout, in the same second, is
   * accepted, and one issued right before it is rejected.
   */
  async issueToken(userId: string, options: IssueTokenOptions = {}): Promise<IssuedToken> {
    checkIdentifier('userId', userId, this.#options.maxClaimLength)
    const sessionId = options.sessionId ?? randomUUID()
    checkIdentifier('sessionId', sessionId, this.#options.maxClaimLength)
    const extraClaims = checkExtraClaims(options.claims)

    const algorithm = this.#options.algorithms[0]!
    const key = await this.#verifier.signingKey()

    // Read the clock after the key is ready, so that the await above cannot reorder it with a logout.
    const issuedAtMicros = this.#clock.next()
    const issuedAt = toNumericDate(issuedAtMicros)
    const expiresAt = issuedAt + Math.ceil(this.#options.tokenLifetimeSeconds)
    const tokenId = randomUUID()

    const payload: JWTPayload = { ...extraClaims, sid: sessionId, [ISSUED_AT_MICROS_CLAIM]: issuedAtMicros }
    const jwt = new SignJWT(payload)
      .setProtectedHeader({ alg: algorithm, typ: 'JWT' })
      .setSubject(userId)
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAt)
      .setJti(tokenId)
    if (this.#options.issuer !== undefined) jwt.setIssuer(this.#options.issuer[0]!)
    if (this.#options.audience !== undefined) jwt.setAudience(this.#options.audience)

    const token = await jwt.sign(key)
    return { token, tokenId, sessionId, issuedAt, expiresAt, expiresIn: expiresAt - issuedAt }
  }
}

function checkIdentifier(name: string, value: unknown, maxLength: number): void {
  if (typeof value !== 'string' || value === '' || value.length > maxLength) {
    throw new TypeError(`${name} must be a non-empty string of at most ${maxLength} characters`)
  }
  if (!isStorableText(value)) {
    throw new TypeError(`${name} must not contain NUL characters or unpaired UTF-16 surrogates`)
  }
}

function checkExtraClaims(claims: unknown): Record<string, unknown> {
  if (claims === undefined) return {}

  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
    throw new TypeError('claims must be a plain object of extra claims')
  }
  for (const name of Object.keys(claims)) {
    if (RESERVED_CLAIMS.has(name)) {
      throw new TypeError(`claims must not set "${name}": jwt-logout sets it itself`)
    }
  }
  return claims as Record<string, unknown>
}
