// Profiles jwt-logout's request path: starts the all-cached jwt-logout contender
// under `node --cpu-prof`, warms its cache, drives it with autocannon, and prints
// the share of CPU samples per package, so that work added to the hot path shows.
// Run it after `npm run build`: node bench/profile.mjs
// Environment: DATABASE_URL (optional; PGlite in memory when unset), PROFILE_DURATION_S (default 8).
import { fork } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import autocannon from 'autocannon'
import { SignJWT } from 'jose'

import { HS256_SECRET } from './common.mjs'

const DURATION_S = Number(process.env.PROFILE_DURATION_S ?? 8)
const USERS = 1000

const profileDir = mkdtempSync(join(tmpdir(), 'jwt-logout-profile-'))
const child = fork(fileURLToPath(new URL('./contenders/jwt-logout.mjs', import.meta.url)), [], {
  execArgv: ['--cpu-prof', '--cpu-prof-dir', profileDir],
  env: { ...process.env, CACHE_TTL_MS: '3600000' },
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
})
const port = await new Promise((resolve, reject) => {
  child.once('message', (message) => resolve(message.port))
  child.once('exit', (code) => reject(new Error(`the contender exited before it was ready (code ${code})`)))
})

const key = new TextEncoder().encode(HS256_SECRET)
const tokens = []
for (let i = 0; i < USERS; i++) {
  tokens.push(await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(`profile-user-${i}`).setIssuedAt().setExpirationTime('2h').sign(key))
}

/** Drives the contender for `seconds`, rotating over the tokens. */
async function load(seconds) {
  let next = 0
  return autocannon({
    url: `http://127.0.0.1:${port}/me`,
    connections: 50,
    duration: seconds,
    requests: [{ setupRequest: (request) => ({ ...request, headers: { authorization: `Bearer ${tokens[next++ % USERS]}` } }) }],
  })
}

await load(2) // loads every user's cutoff into the cache
const result = await load(DURATION_S)
console.log(`measured: ${Math.round(result.requests.average)} req/s, ${result.non2xx} non-2xx responses`)

// The contender exits on disconnect, which makes Node write the profile.
const exited = new Promise((resolve) => child.once('exit', resolve))
child.disconnect()
await exited

const profile = JSON.parse(readFileSync(join(profileDir, readdirSync(profileDir)[0]), 'utf8'))
const timeById = new Map()
profile.samples.forEach((id, index) => timeById.set(id, (timeById.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)))

const timeByPart = new Map()
let total = 0
for (const node of profile.nodes) {
  const time = timeById.get(node.id) ?? 0
  total += time
  const part = describePart(node.callFrame)
  timeByPart.set(part, (timeByPart.get(part) ?? 0) + time)
}

console.log('share of CPU samples over the whole process life, start-up included:')
for (const [part, time] of [...timeByPart].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
  console.log(`${((time / total) * 100).toFixed(1).padStart(5)}%  ${part}`)
}

/** Groups a call frame by what it belongs to: jwt-logout's own files, a package, Node itself or V8. */
function describePart({ url, functionName }) {
  if (url.includes('/dist/src/')) return 'jwt-logout (dist/src)'
  const packageMatch = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (packageMatch !== null) return `package ${packageMatch[1]}`
  if (url.startsWith('node:')) return 'Node.js core'
  if (url.startsWith('wasm://')) return 'WebAssembly (PGlite)'
  return functionName || '(other)'
}
