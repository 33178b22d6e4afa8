import type { Request } from 'express'

import { UnauthorizedError } from '../errors/unauthorized-error.js'
import { readBearerToken } from './bearer-token.js'
import { readCookie, type ResolvedCookieOptions } from './cookie.js'

/**
 * Returns the request's token: from `Authorization: Bearer`, or, in cookie
 * mode and when the request has no Authorization header, from the cookie.
 * @throws UnauthorizedError `missing_token` when neither carries one, `invalid_token` for a malformed header.
 */
export function readRequestToken(req: Request, cookie: ResolvedCookieOptions | undefined): string {
  const header = req.headers.authorization
  if (cookie !== undefined && (header === undefined || header.trim() === '')) {
    const value = readCookie(req.headers.cookie, cookie.name)
    if (value !== undefined && value !== '') return value
    throw new UnauthorizedError(
      'missing_token',
      `The request has neither an Authorization header nor the ${cookie.name} cookie; log in first.`,
    )
  }
  return readBearerToken(header)
}
