// Heap bytes per cached user: loads 100,000 users' cutoffs into jwt-logout's
// cache on PGlite and divides the growth of heapUsed by the number of users.
// Run with --expose-gc; it prints one JSON line for the harness.
import { SignJWT } from 'jose'

import { createJwtLogout, migrateToLatest, openDatabase } from '../dist/src/index.js'
import { HS256_SECRET } from './common.mjs'

const USERS = 100_000
const CONCURRENCY = 1000

if (typeof globalThis.gc !== 'function') {
  console.error('gc() is missing: run this script with node --expose-gc')
  process.exit(2)
}

const database = await openDatabase()
await migrateToLatest(database.db)
const options = { db: database.db, secret: HS256_SECRET, cacheMaxUsers: USERS, cacheTtlMs: 3_600_000 }

const secretBytes = new TextEncoder().encode(HS256_SECRET)
const tokens = []
for (let i = 0; i < USERS; i++) {
  const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(`heap-user-${i}`).setIssuedAt().setExpirationTime('1h').sign(secretBytes)
  // jose returns a concatenated (cons) string, which V8 flattens in place on first read and so would shrink the
  // heap during the measurement. A copy through a Buffer is already flat.
  tokens.push(Buffer.from(token, 'latin1').toString('latin1'))
}
// A separate instance warms the code paths on one user outside the measured set, so compiled code is not counted.
await createJwtLogout(options).authenticate(await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('warm-up').setIssuedAt().setExpirationTime('1h').sign(secretBytes))

/** Returns heapUsed after collections spread over a few event-loop turns, so that weak callbacks and finalizers have run. */
async function heapAfterGc() {
  for (let round = 0; round < 5; round++) {
    globalThis.gc()
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return process.memoryUsage().heapUsed
}

const before = await heapAfterGc()
// Created after the baseline, so the cache's arrays that lru-cache allocates up front for cacheMaxUsers count too.
const auth = createJwtLogout(options)
for (let start = 0; start < USERS; start += CONCURRENCY) {
  await Promise.all(tokens.slice(start, start + CONCURRENCY).map((token) => auth.authenticate(token)))
}
const after = await heapAfterGc()

console.log(JSON.stringify({ users: USERS, heapBefore: before, heapAfter: after, bytesPerUser: (after - before) / USERS }))
await database.close()
