import { UnauthorizedError } from '../errors/unauthorized-error.js'

/**
 * Reads the token from an `Authorization: Bearer <token>` header value
 * (RFC 6750, section 2.1). The scheme matches case-insensitively and
 * whitespace around the token is ignored.
 * @throws UnauthorizedError `missing_token` without a Bearer header, `invalid_token` for a malformed one.
 */
export function readBearerToken(header: string | undefined): string {
  const value = header?.trim()
  if (value === undefined || value === '') {
    throw new UnauthorizedError('missing_token', 'The request has no Authorization header; send "Authorization: Bearer <token>".')
  }

  const match = /^(\S+)(?:\s+(.*))?$/s.exec(value)
  const scheme = match?.[1] ?? ''
  const credentials = match?.[2] ?? ''
  if (scheme.toLowerCase() !== 'bearer') {
    throw new UnauthorizedError('missing_token', 'The Authorization header does not use the Bearer scheme; send "Authorization: Bearer <token>".')
  }
  if (credentials === '') {
    throw new UnauthorizedError('missing_token', 'The Authorization header has no token after "Bearer".')
  }
  if (/\s/.test(credentials)) {
    throw new UnauthorizedError('invalid_token', 'The Authorization header must contain exactly one token.')
  }
  return credentials
}
