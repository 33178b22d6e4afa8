import type { Response } from 'express'

/** Attributes of the cookie that carries the token in cookie mode. */
export interface CookieOptions {
  /** Cookie name: an RFC 6265 token (letters, digits and !#$%&'*+-.^_`|~). */
  name: string
  /** @default '/' */
  path?: string
  /** Omitted by default, so the cookie is sent to the exact host only. */
  domain?: string
  /** @default 'lax' */
  sameSite?: 'strict' | 'lax' | 'none'
  /** Sent over HTTPS only. Browsers treat http://localhost as secure. @default true */
  secure?: boolean
  /** Hidden from page scripts, so an XSS bug cannot read the token. @default true */
  httpOnly?: boolean
}

/** CookieOptions after validation, with every default filled in. */
export type ResolvedCookieOptions = Required<Omit<CookieOptions, 'domain'>> & { domain: string | undefined }

const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
/** Characters RFC 6265 allows in Path and Domain values: printable ASCII except ';'. */
const ATTRIBUTE_VALUE = /^[\x20-\x3a\x3c-\x7e]+$/

/** Validates the cookie option at start-up. @throws TypeError naming the attribute. */
export function resolveCookieOptions(cookie: unknown): ResolvedCookieOptions | undefined {
  if (cookie === undefined) return undefined
  if (typeof cookie !== 'object' || cookie === null) throw new TypeError('cookie must be an object such as { name: "access_token" }')

  const { name, path = '/', domain, sameSite = 'lax', secure = true, httpOnly = true } = cookie as CookieOptions
  if (typeof name !== 'string' || !COOKIE_NAME.test(name)) {
    throw new TypeError(`cookie.name must be a cookie name of letters, digits and !#$%&'*+-.^_\`|~, got ${JSON.stringify(name)}`)
  }
  if (typeof path !== 'string' || !path.startsWith('/') || !ATTRIBUTE_VALUE.test(path)) {
    throw new TypeError(`cookie.path must start with / and contain no ';' or control characters, got ${JSON.stringify(path)}`)
  }
  if (domain !== undefined && (typeof domain !== 'string' || !ATTRIBUTE_VALUE.test(domain))) {
    throw new TypeError(`cookie.domain must be a host name, got ${JSON.stringify(domain)}`)
  }
  if (!['strict', 'lax', 'none'].includes(sameSite)) {
    throw new TypeError(`cookie.sameSite must be 'strict', 'lax' or 'none', got ${JSON.stringify(sameSite)}`)
  }
  if (typeof secure !== 'boolean' || typeof httpOnly !== 'boolean') {
    throw new TypeError('cookie.secure and cookie.httpOnly must be true or false')
  }
  if (sameSite === 'none' && !secure) {
    throw new TypeError("cookie.sameSite 'none' needs cookie.secure: browsers reject such a cookie otherwise")
  }
  return { name, path, domain, sameSite, secure, httpOnly }
}

/**
 * Returns the value of the first cookie named `name` in a Cookie header, or
 * undefined. Browsers list the cookie with the most specific path first.
 */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined
  for (const pair of header.split(';')) {
    const separator = pair.indexOf('=')
    if (separator < 0 || pair.slice(0, separator).trim() !== name) continue
    let value = pair.slice(separator + 1).trim()
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1)
    return value
  }
  return undefined
}

/** Sets the token cookie, expiring with the token. */
export function setTokenCookie(res: Response, cookie: ResolvedCookieOptions, token: string, maxAgeSeconds: number): void {
  const expires = new Date(Date.now() + maxAgeSeconds * 1000).toUTCString()
  res.append('Set-Cookie', serializeCookie(cookie, token, [`Max-Age=${Math.floor(maxAgeSeconds)}`, `Expires=${expires}`]))
}

/**
 * Removes the token cookie. A browser replaces a cookie only when name, path
 * and domain match, so it is cleared with the attributes it was set with,
 * an empty value and an expiry in the past.
 */
export function clearTokenCookie(res: Response, cookie: ResolvedCookieOptions): void {
  res.append('Set-Cookie', serializeCookie(cookie, '', ['Max-Age=0', 'Expires=Thu, 01 Jan 1970 00:00:00 GMT']))
}

function serializeCookie(cookie: ResolvedCookieOptions, value: string, lifetime: string[]): string {
  const parts = [`${cookie.name}=${value}`, `Path=${cookie.path}`]
  if (cookie.domain !== undefined) parts.push(`Domain=${cookie.domain}`)
  parts.push(...lifetime)
  if (cookie.httpOnly) parts.push('HttpOnly')
  if (cookie.secure) parts.push('Secure')
  parts.push(`SameSite=${cookie.sameSite[0]!.toUpperCase()}${cookie.sameSite.slice(1)}`)
  return parts.join('; ')
}
