import { describe, expect, it } from 'vitest'

import {
  checkChannel,
  decodeInvalidation,
  DEFAULT_CHANNEL,
  encodeInvalidation,
  INVALIDATE_ALL,
} from '../../src/invalidation/notification.js'

/** PostgreSQL rejects a NOTIFY payload of 8000 bytes or more. */
const MAX_PAYLOAD_BYTES = 7999
/** Length of the `user:` prefix that encodeInvalidation puts before the user id. */
const PREFIX_BYTES = 'user:'.length

describe('notification payload', () => {
  it.each([
    ['ASCII id', 'alice'],
    ['id with colons', 'user:tenant:42'],
    ['id with a star', '*'],
    ['non-ASCII id', 'zoë-测试-🔑'],
  ])('round-trips %s', (_name, userId) => {
    const payload = encodeInvalidation(userId)

    expect(payload).not.toBe(INVALIDATE_ALL)
    expect(decodeInvalidation(payload)).toEqual({ userId })
  })

  it('keeps id at byte limit', () => {
    // '€' is 3 bytes in UTF-8, so 2664 of them and 'ab' make 7994 bytes, and the payload exactly 7999 bytes.
    const userId = '€'.repeat(2664) + 'ab'
    const payload = encodeInvalidation(userId)

    expect(Buffer.byteLength(userId)).toBe(MAX_PAYLOAD_BYTES - PREFIX_BYTES)
    expect(Buffer.byteLength(payload)).toBe(MAX_PAYLOAD_BYTES)
    expect(decodeInvalidation(payload)).toEqual({ userId })
  })

  it('replaces id one byte over limit', () => {
    // 2665 characters, far below 7999, but 7995 bytes, so the limit must be counted in bytes.
    const userId = '€'.repeat(2665)
    const payload = encodeInvalidation(userId)

    expect(Buffer.byteLength(userId)).toBe(MAX_PAYLOAD_BYTES - PREFIX_BYTES + 1)
    expect(payload).toBe(INVALIDATE_ALL)
    expect(decodeInvalidation(payload)).toBe('all')
  })

  it('replaces long emoji id', () => {
    // Each emoji is 2 UTF-16 code units and 4 UTF-8 bytes.
    const payload = encodeInvalidation('🔑'.repeat(2000))

    expect(payload).toBe(INVALIDATE_ALL)
  })

  it.each([
    ['no payload', undefined],
    ['empty payload', ''],
    ['prefix without id', 'user:'],
    ['unknown prefix', 'session:alice'],
    ['uppercase prefix', 'USER:alice'],
    ['bare id', 'alice'],
    ['star', '*'],
  ])('decodes %s as all', (_name, payload) => {
    expect(decodeInvalidation(payload)).toBe('all')
  })
})

describe('checkChannel', () => {
  it.each([
    ['default channel', DEFAULT_CHANNEL],
    ['leading underscore', '_cutoffs'],
    ['digits after first', 'cutoffs_2'],
    ['63 characters', 'a'.repeat(63)],
  ])('accepts %s', (_name, channel) => {
    expect(checkChannel(channel)).toBe(channel)
  })

  it.each([
    ['empty string', ''],
    ['uppercase letter', 'Cutoffs'],
    ['leading digit', '1cutoffs'],
    ['hyphen', 'jwt-logout'],
    ['double quote', 'a"b'],
    ['space', 'a b'],
    ['64 characters', 'a'.repeat(64)],
    ['number', 42],
    ['undefined', undefined],
    ['null', null],
  ])('rejects %s', (_name, channel) => {
    expect(() => checkChannel(channel)).toThrow(TypeError)
    expect(() => checkChannel(channel)).toThrow(/^notifyChannel must be a lowercase identifier/)
  })
})
