import type { Response } from 'express'

import type { JwtLogoutError } from '../errors/jwt-logout-error.js'
import { KeySetUnavailableError } from '../errors/key-set-unavailable-error.js'
import { StoreUnavailableError } from '../errors/store-unavailable-error.js'

/**
 * Sends the response to a rejected request: the status, a JSON body
 * `{ "error": code, "message": text }`, a `WWW-Authenticate` challenge in the
 * form of RFC 6750 section 3 for 400 and 401, and `Retry-After` for 503.
 */
export function renderError(res: Response, error: JwtLogoutError, realm: string | undefined): void {
  const challenge = bearerChallenge(error, realm)
  if (challenge !== undefined) res.set('WWW-Authenticate', challenge)
  if (error instanceof StoreUnavailableError || error instanceof KeySetUnavailableError) {
    res.set('Retry-After', String(error.retryAfterSeconds))
  }

  res.status(error.status).json({ error: error.code, message: error.message })
}

function bearerChallenge(error: JwtLogoutError, realm: string | undefined): string | undefined {
  const parameters: string[] = []
  if (realm !== undefined) parameters.push(`realm="${quotable(realm)}"`)

  if (error.status === 401) {
    // RFC 6750 3.1: a request with no credentials gets a challenge without an error code.
    if (error.code !== 'missing_token') parameters.push('error="invalid_token"', `error_description="${quotable(error.message)}"`)
  } else if (error.status === 400) {
    parameters.push('error="invalid_request"', `error_description="${quotable(error.message)}"`)
  } else {
    return undefined
  }
  return parameters.length === 0 ? 'Bearer' : `Bearer ${parameters.join(', ')}`
}

/** Keeps the characters RFC 6750 allows in a quoted parameter: printable ASCII except `"` and `\`. */
function quotable(text: string): string {
  return text.replace(/"/g, "'").replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '?')
}
