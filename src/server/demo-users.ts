import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto'
import { promisify } from 'node:util'

import { ConfigError } from './config.js'

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keyLength: number) => Promise<Buffer>

const KEY_BYTES = 32

interface StoredPassword {
  salt: Buffer
  hash: Buffer
}

/**
 * The demo server's users, with scrypt-hashed passwords. Plain passwords live
 * only in the configuration; memory keeps salts and hashes.
 */
export class DemoUsers {
  readonly #users: Map<string, StoredPassword>
  /** Compared against when the user name is unknown, so that both cases take the same time. */
  readonly #decoy: StoredPassword

  private constructor(users: Map<string, StoredPassword>) {
    this.#users = users
    this.#decoy = hashPassword(randomBytes(16).toString('hex'))
  }

  /**
   * Parses comma-separated `name:password` pairs; a password may contain `:`.
   * @throws ConfigError naming DEMO_USERS.
   */
  static parse(text: string): DemoUsers {
    const users = new Map<string, StoredPassword>()
    for (const [index, pair] of text.split(',').entries()) {
      const entry = pair.trim()
      const separator = entry.indexOf(':')
      const name = entry.slice(0, separator)
      const password = entry.slice(separator + 1)
      // The entry is not echoed: it may hold a password.
      if (separator < 1 || password === '') {
        throw new ConfigError('DEMO_USERS', `expected comma-separated name:password pairs, but entry ${index + 1} is not one`)
      }
      if (users.has(name)) throw new ConfigError('DEMO_USERS', `user ${JSON.stringify(name)} is listed twice`)
      users.set(name, hashPassword(password))
    }
    return new DemoUsers(users)
  }

  /** User names, for the start-up log. */
  get names(): string[] {
    return [...this.#users.keys()]
  }

  /** Resolves true when `password` is the user's password, comparing in constant time. */
  async verify(name: string, password: string): Promise<boolean> {
    const stored = this.#users.get(name)
    const target = stored ?? this.#decoy
    const hash = await scryptAsync(password, target.salt, KEY_BYTES)
    return timingSafeEqual(hash, target.hash) && stored !== undefined
  }
}

function hashPassword(password: string): StoredPassword {
  const salt = randomBytes(16)
  return { salt, hash: scryptSync(password, salt, KEY_BYTES) }
}
