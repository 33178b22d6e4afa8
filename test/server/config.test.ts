import { resolve } from 'node:path'

import { describe, expect, it } from 'vitest'

import { ConfigError, DEFAULT_DEMO_USERS, loadConfig } from '../../src/server/config.js'
import { DemoUsers } from '../../src/server/demo-users.js'

/** Runs `action` and returns what it threw, failing the test when it returns normally. */
function catchError(action: () => unknown): unknown {
  try {
    action()
  } catch (error) {
    return error
  }
  throw new Error('expected the call to throw, but it returned')
}

describe('loadConfig', () => {
  describe('defaults', () => {
    const config = loadConfig({})

    it('listens on port 3000', () => {
      expect(config.port).toBe(3000)
    })

    it('binds to 127.0.0.1', () => {
      expect(config.host).toBe('127.0.0.1')
    })

    it('selects the embedded database', () => {
      expect(config.databaseUrl).toBeUndefined()
    })

    it('resolves DATA_DIR to ./data', () => {
      expect(config.dataDir).toBe(resolve('data'))
    })

    it('uses the default demo users', () => {
      expect(config.demoUsers).toBe(DEFAULT_DEMO_USERS)
    })

    it('flags the generated JWT_SECRET', () => {
      expect(config.jwtSecretGenerated).toBe(true)
    })

    it('generates a 48-byte JWT_SECRET', () => {
      expect(Buffer.from(config.jwtSecret, 'base64')).toHaveLength(48)
    })

    it('generates a new secret per call', () => {
      expect(loadConfig({}).jwtSecret).not.toBe(config.jwtSecret)
    })

    it('sets the remaining defaults', () => {
      expect(config).toMatchObject({
        tokenLifetimeSeconds: 900,
        cacheMaxUsers: 10_000,
        cacheTtlMs: 10_000,
        databaseConnectTimeoutMs: 2000,
        databaseQueryTimeoutMs: 2000,
        migrateOnStart: true,
        logLevel: 'info',
      })
    })

    it('serves metrics', () => {
      expect(config.metricsEnabled).toBe(true)
    })
  })

  describe('valid values', () => {
    it('keeps a given JWT_SECRET', () => {
      const secret = 'a'.repeat(32)
      expect(loadConfig({ JWT_SECRET: secret }).jwtSecret).toBe(secret)
    })

    it('clears the flag for a given secret', () => {
      expect(loadConfig({ JWT_SECRET: 'a'.repeat(32) }).jwtSecretGenerated).toBe(false)
    })

    it('counts JWT_SECRET in UTF-8 bytes', () => {
      // 16 characters, 32 bytes.
      expect(loadConfig({ JWT_SECRET: 'é'.repeat(16) }).jwtSecretGenerated).toBe(false)
    })

    it('treats empty JWT_SECRET as unset', () => {
      expect(loadConfig({ JWT_SECRET: '' }).jwtSecretGenerated).toBe(true)
    })

    it('accepts PORT 0', () => {
      expect(loadConfig({ PORT: '0' }).port).toBe(0)
    })

    it('accepts PORT 65535', () => {
      expect(loadConfig({ PORT: '65535' }).port).toBe(65_535)
    })

    it.each([
      ['1', true],
      ['TRUE', true],
      ['yes', true],
      ['0', false],
      ['false', false],
      [' No ', false],
    ])('reads MIGRATE_ON_START %j', (text, expected) => {
      expect(loadConfig({ MIGRATE_ON_START: text }).migrateOnStart).toBe(expected)
    })

    it.each([
      ['false', false],
      ['0', false],
      ['true', true],
      ['', true],
    ])('reads METRICS_ENABLED %j', (text, expected) => {
      expect(loadConfig({ METRICS_ENABLED: text }).metricsEnabled).toBe(expected)
    })

    it('reads DATABASE_URL', () => {
      const url = 'postgres://app@127.0.0.1:5432/app'
      expect(loadConfig({ DATABASE_URL: url }).databaseUrl).toBe(url)
    })

    it('reads DATABASE_SCHEMA', () => {
      expect(loadConfig({ DATABASE_SCHEMA: 'auth' }).databaseSchema).toBe('auth')
    })

    it('treats empty DATABASE_SCHEMA as unset', () => {
      expect(loadConfig({ DATABASE_SCHEMA: '' }).databaseSchema).toBeUndefined()
    })

    it('reads LOG_LEVEL', () => {
      expect(loadConfig({ LOG_LEVEL: 'debug' }).logLevel).toBe('debug')
    })
  })

  describe.each([
    // 31 bytes: one below the 32-byte minimum for HS256.
    { variable: 'JWT_SECRET', value: 'a'.repeat(31) },
    { variable: 'PORT', value: '65536' },
    { variable: 'PORT', value: 'http' },
    { variable: 'PORT', value: '-1' },
    { variable: 'PORT', value: '3000.5' },
    { variable: 'PORT', value: '1e3' },
    { variable: 'MIGRATE_ON_START', value: 'maybe' },
    { variable: 'METRICS_ENABLED', value: 'off' },
    { variable: 'LOG_LEVEL', value: 'verbose' },
    { variable: 'LOG_LEVEL', value: 'INFO' },
    { variable: 'TOKEN_LIFETIME_SECONDS', value: '0' },
    { variable: 'TOKEN_LIFETIME_SECONDS', value: 'ten' },
    { variable: 'TOKEN_LIFETIME_SECONDS', value: '31536001' },
    { variable: 'CACHE_TTL_MS', value: '0' },
    { variable: 'DATABASE_QUERY_TIMEOUT_MS', value: '600001' },
    { variable: 'DATABASE_SCHEMA', value: 'a'.repeat(64) },
  ])('invalid $variable $value', ({ variable, value }) => {
    const error = catchError(() => loadConfig({ [variable]: value }))

    it('throws ConfigError', () => {
      expect(error).toBeInstanceOf(ConfigError)
    })

    it('names the variable', () => {
      expect((error as ConfigError).variable).toBe(variable)
    })

    it('starts the message with it', () => {
      expect((error as ConfigError).message).toMatch(new RegExp(`^${variable}: `))
    })

    it('has code invalid_config', () => {
      expect((error as ConfigError).code).toBe('invalid_config')
    })
  })

  it('never echoes a short JWT_SECRET', () => {
    const secret = 'short-secret-value'
    const error = catchError(() => loadConfig({ JWT_SECRET: secret })) as ConfigError
    expect(error.message).not.toContain(secret)
  })

  it('explains an invalid DATABASE_SCHEMA', () => {
    const error = catchError(() => loadConfig({ DATABASE_SCHEMA: 'a'.repeat(64) })) as ConfigError
    expect(error.message).toMatch(/^DATABASE_SCHEMA: must be a schema name of 1 to 63 bytes without NUL characters, got "a{64}"$/)
  })

  it('quotes an invalid PORT', () => {
    const error = catchError(() => loadConfig({ PORT: '70000' })) as ConfigError
    expect(error.message).toBe('PORT: must be a whole number from 0 to 65535, got "70000"')
  })
})

describe('DemoUsers.parse', () => {
  describe('valid pairs', () => {
    const users = DemoUsers.parse('alice:alice-password, bob:bob-password')

    it('lists the user names', () => {
      expect(users.names).toEqual(['alice', 'bob'])
    })

    it('verifies the right password', async () => {
      expect(await users.verify('alice', 'alice-password')).toBe(true)
    })

    it('verifies the second user', async () => {
      expect(await users.verify('bob', 'bob-password')).toBe(true)
    })

    it('rejects a wrong password', async () => {
      expect(await users.verify('alice', 'bob-password')).toBe(false)
    })

    it('rejects an empty password', async () => {
      expect(await users.verify('alice', '')).toBe(false)
    })

    it('rejects an unknown user', async () => {
      expect(await users.verify('carol', 'alice-password')).toBe(false)
    })

    it('matches names case-sensitively', async () => {
      expect(await users.verify('Alice', 'alice-password')).toBe(false)
    })
  })

  describe('password containing colons', () => {
    const users = DemoUsers.parse('alice:pa:ss:word')

    it('splits at the first colon', () => {
      expect(users.names).toEqual(['alice'])
    })

    it('verifies the whole password', async () => {
      expect(await users.verify('alice', 'pa:ss:word')).toBe(true)
    })

    it('rejects the part after the first colon', async () => {
      expect(await users.verify('alice', 'ss:word')).toBe(false)
    })
  })

  describe.each([
    { case: 'empty text', text: '' },
    { case: 'entry without colon', text: 'alice' },
    { case: 'empty name', text: ':alice-password' },
    { case: 'empty password', text: 'alice:' },
    { case: 'trailing comma', text: 'alice:alice-password,' },
    { case: 'empty middle entry', text: 'alice:a,,bob:b' },
  ])('malformed: $case', ({ text }) => {
    const error = catchError(() => DemoUsers.parse(text))

    it('throws ConfigError', () => {
      expect(error).toBeInstanceOf(ConfigError)
    })

    it('names DEMO_USERS', () => {
      expect((error as ConfigError).variable).toBe('DEMO_USERS')
    })

    it('explains the expected format', () => {
      expect((error as ConfigError).message).toContain('DEMO_USERS: expected comma-separated name:password pairs')
    })
  })

  describe('duplicate user', () => {
    const error = catchError(() => DemoUsers.parse('alice:first,bob:b,alice:second'))

    it('throws ConfigError', () => {
      expect(error).toBeInstanceOf(ConfigError)
    })

    it('names DEMO_USERS', () => {
      expect((error as ConfigError).variable).toBe('DEMO_USERS')
    })

    it('names the user', () => {
      expect((error as ConfigError).message).toBe('DEMO_USERS: user "alice" is listed twice')
    })
  })
})
