import type { JWTPayload } from 'jose'

/**
 * Private claim with the token's issue time in microseconds since the epoch.
 *
 * `iat` is a whole-second NumericDate, which cannot order a login and a logout
 * in the same second. Tokens issued by jwt-logout carry this claim next to a
 * standard integer `iat` (its value floored to seconds), so other verifiers,
 * including jose's `maxTokenAge`, read them as usual.
 */
export const ISSUED_AT_MICROS_CLAIM = 'iat_us'

/** Claims of a token that passed verification, as set on `req.auth`. */
export interface VerifiedClaims extends JWTPayload {
  /** The user id: a non-empty string. */
  sub: string
  /** Issue time, seconds since the epoch. */
  iat: number
  /** Expiry time, seconds since the epoch. */
  exp: number
  /** Session id, shared by every token of one login. */
  sid?: string
}

/** A verified token with the values that the cutoff check and the logout handlers need. */
export interface VerifiedToken {
  claims: VerifiedClaims
  /** The value of `sub`. */
  userId: string
  /** The value of `sid`, when the token has one. */
  sessionId: string | undefined
  /**
   * Issue time in microseconds, from `iat_us` where present. Otherwise it is the
   * start of the `iat` second, so a foreign token issued in the same second as a
   * cutoff counts as issued before it and is rejected (fails closed).
   */
  issuedAtMicros: number
  /** Expiry time in microseconds, from `exp`. */
  expiresAtMicros: number
  /** End of the token's validity in microseconds: `exp`, or `iat` plus the maximum age when that comes first. */
  validUntilMicros: number
}
