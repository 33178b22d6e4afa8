import { createHmac } from 'node:crypto'

import { TEST_SECRET } from './test-app.js'

/** The 64 characters of base64url (RFC 4648 section 5), in the order of their 6-bit values. */
export const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/** Encodes UTF-8 text as one base64url segment without padding. */
export function encodeText(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url')
}

/** Encodes a value as the base64url segment of its JSON text, for headers and payloads of any JSON type. */
export function encodeJson(value: unknown): string {
  return encodeText(JSON.stringify(value))
}

/**
 * Joins two encoded segments and appends their HMAC signature, for tokens
 * whose header or payload segment no JWT library would produce, such as
 * text that is not JSON or a payload that is a JSON array.
 * @param hash Node's name of the HMAC hash: 'sha256' for HS256, 'sha384' for HS384, 'sha512' for HS512.
 */
export function signSegments(
  headerSegment: string,
  payloadSegment: string,
  { secret = TEST_SECRET, hash = 'sha256' }: { secret?: string | Uint8Array; hash?: string } = {},
): string {
  const signingInput = `${headerSegment}.${payloadSegment}`
  return `${signingInput}.${createHmac(hash, secret).update(signingInput).digest('base64url')}`
}

/** Returns `token` with the character at `index` replaced by `replacement`. */
export function replaceCharacter(token: string, index: number, replacement: string): string {
  return token.slice(0, index) + replacement + token.slice(index + 1)
}
