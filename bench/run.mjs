// Benchmark harness: throughput of jwt-logout against bare Express and other
// JWT middleware, heap bytes per cached user, and cross-instance revocation
// latency. Writes docs/benchmarks.md. Run it with `npm run bench`, which
// builds dist/ first; set DATABASE_URL to include the PostgreSQL scenarios.
//
// Environment: DATABASE_URL (optional), BENCH_DURATION_S (measured seconds
// per run, default 10), BENCH_WARMUP_S (default 3), BENCH_ROUNDS (default 3),
// BENCH_REVOCATIONS (default 200).
import { fork } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import os from 'node:os'
import { fileURLToPath } from 'node:url'

import autocannon from 'autocannon'
import { exportSPKI, generateKeyPair, SignJWT } from 'jose'

import { HS256_SECRET } from './common.mjs'

const DATABASE_URL = process.env.DATABASE_URL || undefined
const DURATION_S = readPositiveInteger('BENCH_DURATION_S', 10)
const WARMUP_S = readPositiveInteger('BENCH_WARMUP_S', 3)
const ROUNDS = readPositiveInteger('BENCH_ROUNDS', 3)
const REVOCATIONS = readPositiveInteger('BENCH_REVOCATIONS', 200)
const CONNECTIONS = 50
const HOT_USERS = 1000
const COLD_USERS = 100_000
/** Upper bound on one revocation measurement: polling stops after this long and the sample counts as timed out. */
const REVOCATION_TIMEOUT_MS = 2000
/** cacheTtlMs of the all-cached contenders: longer than a run, so that no entry expires and reloads mid-run. */
const CACHED_TTL_MS = String(3_600_000)

const CONTENDERS_DIR = new URL('./contenders/', import.meta.url)
const DOC_PATH = fileURLToPath(new URL('../docs/benchmarks.md', import.meta.url))

function readPositiveInteger(name, fallback) {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isSafeInteger(value) || value < 1) throw new TypeError(`${name} must be a positive integer, got ${raw}`)
  return value
}

// ---------------------------------------------------------------- tokens

async function signTokens(prefix, count, key, alg) {
  const tokens = new Array(count)
  for (let i = 0; i < count; i++) {
    tokens[i] = await new SignJWT({}).setProtectedHeader({ alg }).setSubject(`${prefix}-${i}`).setIssuedAt().setExpirationTime('2h').sign(key)
  }
  return tokens
}

// ---------------------------------------------------------------- child processes

/** Forks a contender and resolves with its port once it listens; rejects if it exits or takes over 60 s. */
function startContender(file, env) {
  const child = fork(fileURLToPath(new URL(file, CONTENDERS_DIR)), [], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${file} did not report its port within 60 s`))
    }, 60_000)
    child.once('message', (message) => {
      clearTimeout(timer)
      resolve({ child, port: message.port })
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`${file} exited before it was ready (code ${code}, signal ${signal})`))
    })
  })
}

/** Stops a contender with SIGTERM, then SIGKILL after 5 s, and resolves when it has exited. */
function stopContender({ child }) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
    child.kill('SIGTERM')
  })
}

// ---------------------------------------------------------------- load

/** Runs autocannon against GET /me, rotating the Authorization header over `tokens` (none when empty). */
function drive(port, tokens, seconds) {
  let next = 0
  const request = { method: 'GET', path: '/me' }
  if (tokens.length > 0) {
    request.setupRequest = (req) => {
      const token = tokens[next]
      next = (next + 1) % tokens.length
      return { ...req, headers: { ...req.headers, authorization: `Bearer ${token}` } }
    }
  }
  return autocannon({ url: `http://127.0.0.1:${port}`, connections: CONNECTIONS, duration: seconds, requests: [request] })
}

async function runOnce(contender) {
  const server = await startContender(contender.file, contender.env ?? {})
  try {
    await drive(server.port, contender.tokens, WARMUP_S)
    const result = await drive(server.port, contender.tokens, DURATION_S)
    return {
      requestsPerSecond: result.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      non2xx: result.non2xx,
      errors: result.errors + result.timeouts,
    }
  } finally {
    await stopContender(server)
  }
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

function percentile(sortedValues, fraction) {
  const index = Math.min(sortedValues.length - 1, Math.ceil(fraction * sortedValues.length) - 1)
  return sortedValues[Math.max(0, index)]
}

/** Runs every contender ROUNDS times, round-robin, and returns the median figures per contender id. */
async function runRounds(contenders) {
  const runs = new Map(contenders.map((contender) => [contender.id, []]))
  for (let round = 1; round <= ROUNDS; round++) {
    for (const contender of contenders) {
      const result = await runOnce(contender)
      runs.get(contender.id).push(result)
      console.log(
        `round ${round}/${ROUNDS} ${contender.id}: ${Math.round(result.requestsPerSecond)} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms` +
          (result.non2xx + result.errors > 0 ? `, ${result.non2xx} non-2xx, ${result.errors} errors` : ''),
      )
    }
  }
  const medians = new Map()
  for (const [id, results] of runs) {
    medians.set(id, {
      requestsPerSecond: median(results.map((r) => r.requestsPerSecond)),
      p50: median(results.map((r) => r.p50)),
      p99: median(results.map((r) => r.p99)),
      non2xx: results.reduce((sum, r) => sum + r.non2xx, 0),
      errors: results.reduce((sum, r) => sum + r.errors, 0),
      runs: results.map((r) => Math.round(r.requestsPerSecond)),
    })
  }
  return medians
}

// ---------------------------------------------------------------- heap per user

function measureHeapPerUser() {
  const child = fork(fileURLToPath(new URL('./heap-per-user.mjs', import.meta.url)), [], {
    execArgv: ['--expose-gc'],
    env: { ...process.env, DATABASE_URL: '' },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  })
  let output = ''
  child.stdout.on('data', (chunk) => {
    output += chunk
  })
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`heap-per-user.mjs exited with code ${code}`))
      resolve(JSON.parse(output.trim().split('\n').at(-1)))
    })
  })
}

// ---------------------------------------------------------------- revocation latency

/**
 * Starts two jwt-logout instances A and B on DATABASE_URL, each listening for
 * the other's logouts, and measures per user the time from A's 204 to
 * logout-all until B first rejects the token, polling B every millisecond.
 */
async function measureRevocationLatency() {
  const a = await startContender('jwt-logout-listen.mjs', { DATABASE_URL })
  const b = await startContender('jwt-logout-listen.mjs', { DATABASE_URL })
  const samples = []
  let timeouts = 0
  try {
    const secret = new TextEncoder().encode(HS256_SECRET)
    const runId = Date.now().toString(36)
    for (let i = 0; i < REVOCATIONS; i++) {
      const [token] = await signTokens(`revocation-${runId}-${i}`, 1, secret, 'HS256')
      const headers = { authorization: `Bearer ${token}` }

      // B accepts the token first, so its cache contains the user's (empty) cutoff when the logout happens.
      const accepted = await fetch(`http://127.0.0.1:${b.port}/me`, { headers })
      await accepted.arrayBuffer()
      if (accepted.status !== 200) throw new Error(`instance B rejected a fresh token with ${accepted.status}`)

      const logout = await fetch(`http://127.0.0.1:${a.port}/logout-all`, { method: 'POST', headers })
      await logout.arrayBuffer()
      if (logout.status !== 204) throw new Error(`logout-all on instance A returned ${logout.status}, expected 204`)
      const loggedOutAt = performance.now()

      let rejectedAt
      while (performance.now() - loggedOutAt < REVOCATION_TIMEOUT_MS) {
        const probe = await fetch(`http://127.0.0.1:${b.port}/me`, { headers })
        await probe.arrayBuffer()
        if (probe.status === 401) {
          rejectedAt = performance.now()
          break
        }
        await new Promise((resolve) => setTimeout(resolve, 1))
      }
      if (rejectedAt === undefined) timeouts++
      else samples.push(rejectedAt - loggedOutAt)
    }
  } finally {
    await Promise.all([stopContender(a), stopContender(b)])
  }
  samples.sort((x, y) => x - y)
  return { count: samples.length, timeouts, p50: percentile(samples, 0.5), p99: percentile(samples, 0.99), max: samples.at(-1) }
}

// ---------------------------------------------------------------- report

function describeDatabase(url) {
  const parsed = new URL(url)
  parsed.password = ''
  return parsed.toString()
}

const fmt = {
  rps: (value) => Math.round(value).toLocaleString('en-US'),
  // autocannon's latencies are whole milliseconds, so they print without decimals.
  ms: (value) => (value === undefined ? 'n/a' : Number.isInteger(value) ? String(value) : value.toFixed(value < 10 ? 2 : 1)),
  ratio: (value) => value.toFixed(2),
}

function scenarioTable(rows, medians, baseline) {
  const lines = ['| contender | req/s | p50 ms | p99 ms | ratio to bare Express | req/s per run |', '| --- | ---: | ---: | ---: | ---: | --- |']
  for (const row of rows) {
    const m = medians.get(row.id)
    const flag = m.non2xx + m.errors > 0 ? ` (${m.non2xx} non-2xx, ${m.errors} errors)` : ''
    lines.push(`| ${row.label}${flag} | ${fmt.rps(m.requestsPerSecond)} | ${fmt.ms(m.p50)} | ${fmt.ms(m.p99)} | ${fmt.ratio(m.requestsPerSecond / baseline)} | ${m.runs.join(', ')} |`)
  }
  return lines.join('\n')
}

function ratioChart(contenders, medians, baseline) {
  const labels = contenders.map((c) => JSON.stringify(c.short)).join(', ')
  const ratios = contenders.map((c) => (medians.get(c.id).requestsPerSecond / baseline).toFixed(2))
  const top = Math.max(1.1, ...ratios.map(Number)) * 1.05
  return [
    '```mermaid',
    'xychart-beta',
    '    title "Median req/s as a ratio to bare Express (same run)"',
    `    x-axis [${labels}]`,
    `    y-axis "ratio to bare Express" 0 --> ${top.toFixed(2)}`,
    `    bar [${ratios.join(', ')}]`,
    '```',
  ].join('\n')
}

function verdict(met) {
  return met ? 'met' : '**missed**'
}

// ---------------------------------------------------------------- main

const startedAt = new Date()
const hs256Key = new TextEncoder().encode(HS256_SECRET)
console.log(`Signing tokens for ${HOT_USERS.toLocaleString('en-US')} users${DATABASE_URL ? ` and ${COLD_USERS.toLocaleString('en-US')} users` : ''}...`)
const hotTokens = await signTokens('user', HOT_USERS, hs256Key, 'HS256')
const coldTokens = DATABASE_URL ? await signTokens('cold-user', COLD_USERS, hs256Key, 'HS256') : []

const es256 = await generateKeyPair('ES256', { extractable: true })
const rs256 = await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 })
const es256Tokens = await signTokens('user', HOT_USERS, es256.privateKey, 'ES256')
const rs256Tokens = await signTokens('user', HOT_USERS, rs256.privateKey, 'RS256')

const cached = { CACHE_TTL_MS: CACHED_TTL_MS, CACHE_MAX_USERS: String(10_000) }
const throughputContenders = [
  { id: 'express', label: 'bare Express 5', short: 'Express', file: 'express.mjs', tokens: [] },
  { id: 'jose', label: 'jose jwtVerify (CryptoKey imported once)', short: 'jose', file: 'jose.mjs', tokens: hotTokens },
  { id: 'express-jwt', label: 'express-jwt, string secret', short: 'express-jwt', file: 'express-jwt.mjs', tokens: hotTokens },
  { id: 'fast-jwt', label: 'fast-jwt verifier with its cache', short: 'fast-jwt', file: 'fast-jwt.mjs', tokens: hotTokens },
  { id: 'jwt-logout', label: 'jwt-logout HS256, all cutoffs cached', short: 'jwt-logout', file: 'jwt-logout.mjs', tokens: hotTokens, env: { ...cached } },
  {
    id: 'jwt-logout-token-cache',
    label: 'jwt-logout HS256, tokenCacheMaxTokens 10000',
    short: 'jwt-logout+tc',
    file: 'jwt-logout.mjs',
    tokens: hotTokens,
    env: { ...cached, TOKEN_CACHE_MAX_TOKENS: '10000' },
  },
]
const algorithmContenders = [
  {
    id: 'jwt-logout-es256',
    label: 'jwt-logout ES256 (publicKey), all cutoffs cached',
    short: 'ES256',
    file: 'jwt-logout.mjs',
    tokens: es256Tokens,
    env: { ...cached, ALGORITHM: 'ES256', PUBLIC_KEY: await exportSPKI(es256.publicKey) },
  },
  {
    id: 'jwt-logout-rs256',
    label: 'jwt-logout RS256 (publicKey, 2048 bits), all cutoffs cached',
    short: 'RS256',
    file: 'jwt-logout.mjs',
    tokens: rs256Tokens,
    env: { ...cached, ALGORITHM: 'RS256', PUBLIC_KEY: await exportSPKI(rs256.publicKey) },
  },
]
const missContenders = DATABASE_URL
  ? [
      { id: 'naive-pg', label: 'jose + one pg query per request (pool of 10)', short: 'naive pg', file: 'naive-pg.mjs', tokens: coldTokens },
      {
        id: 'jwt-logout-cold',
        label: 'jwt-logout HS256, cold cache (cacheMaxUsers 1000, 100,000 users)',
        short: 'jwt-logout cold',
        file: 'jwt-logout.mjs',
        tokens: coldTokens,
        env: { CACHE_MAX_USERS: '1000' },
      },
    ]
  : []
const contenders = [...throughputContenders, ...algorithmContenders, ...missContenders]
if (!DATABASE_URL) console.log('DATABASE_URL is not set: skipping the naive-query and cold-cache pair and the revocation latency; jwt-logout runs on PGlite')

const medians = await runRounds(contenders)

console.log('Measuring heap bytes per cached user...')
const heap = await measureHeapPerUser()
console.log(`heap per cached user: ${heap.bytesPerUser.toFixed(1)} bytes`)

let revocation
if (DATABASE_URL) {
  console.log(`Measuring revocation latency over ${REVOCATIONS} logouts...`)
  revocation = await measureRevocationLatency()
  console.log(`revocation latency: p50 ${fmt.ms(revocation.p50)} ms, p99 ${fmt.ms(revocation.p99)} ms, ${revocation.timeouts} timed out`)
}

// Targets, from the medians of this run.
const rps = (id) => medians.get(id)?.requestsPerSecond
const baseline = rps('express')
const targets = []
const cachedVsJose = rps('jwt-logout') / rps('jose')
targets.push(['jwt-logout with all cutoffs cached ≥ 0.97 × jose alone', `${cachedVsJose.toFixed(3)} × jose`, cachedVsJose >= 0.97])
const tokenCacheVsExpress = rps('jwt-logout-token-cache') / baseline
targets.push(['jwt-logout with the verified-token cache ≥ 0.85 × bare Express', `${tokenCacheVsExpress.toFixed(3)} × bare Express`, tokenCacheVsExpress >= 0.85])
const fastestVerifier = ['jose', 'express-jwt', 'fast-jwt'].reduce((best, id) => (rps(id) > rps(best) ? id : best))
targets.push([
  'jwt-logout with the verified-token cache faster than every verification-only contender',
  `${fmt.rps(rps('jwt-logout-token-cache'))} req/s against ${fmt.rps(rps(fastestVerifier))} for ${fastestVerifier}, the fastest of them`,
  rps('jwt-logout-token-cache') > rps(fastestVerifier),
])
if (DATABASE_URL) {
  const coldVsNaive = rps('jwt-logout-cold') / rps('naive-pg')
  targets.push(['jwt-logout with a cold cache ≥ 3 × the naive per-request query', `${coldVsNaive.toFixed(3)} × naive`, coldVsNaive >= 3])
  targets.push(['revocation latency p99 < 20 ms', `p99 ${fmt.ms(revocation.p99)} ms`, revocation.p99 < 20 && revocation.timeouts === 0])
} else {
  targets.push(['jwt-logout with a cold cache ≥ 3 × the naive per-request query', 'not measured: DATABASE_URL unset', undefined])
  targets.push(['revocation latency p99 < 20 ms', 'not measured: DATABASE_URL unset', undefined])
}
targets.push(['≤ 200 heap bytes per cached user', `${heap.bytesPerUser.toFixed(1)} bytes`, heap.bytesPerUser <= 200])

const command = [
  DATABASE_URL ? `DATABASE_URL=${describeDatabase(DATABASE_URL)}` : '',
  ...['BENCH_DURATION_S', 'BENCH_WARMUP_S', 'BENCH_ROUNDS', 'BENCH_REVOCATIONS'].filter((name) => process.env[name]).map((name) => `${name}=${process.env[name]}`),
  'npm run bench',
]
  .filter(Boolean)
  .join(' ')
const cpus = os.cpus()
const allRows = [...throughputContenders, ...algorithmContenders, ...missContenders]
const anyFailures = allRows.some((row) => medians.get(row.id).non2xx + medians.get(row.id).errors > 0)

const doc = `# Benchmarks

Figures from one run of \`bench/run.mjs\`. Rerun it on your own hardware before
relying on them: absolute numbers move from run to run, and only ratios from
the same run compare.

## Setup

- Command: \`${command}\` (in the repository root; \`npm run bench\` builds \`dist/\` first)
- Date: ${startedAt.toISOString()}
- Node.js ${process.version} on ${os.platform()} ${os.arch()}
- CPU: ${cpus[0]?.model ?? 'unknown'}, ${cpus.length} cores
- Database of the jwt-logout contenders: ${DATABASE_URL ? `PostgreSQL at \`${describeDatabase(DATABASE_URL)}\`` : 'PGlite in memory (DATABASE_URL unset)'}
- Load: autocannon, ${CONNECTIONS} connections, GET /me; each run is a ${WARMUP_S} s warm-up followed by a ${DURATION_S} s measured run on the same server process
- Latency is autocannon's, which records whole milliseconds and only for 2xx responses
- Each contender runs ${ROUNDS} times, round-robin over the contenders, each time in a fresh child process; the tables show the median of the runs (req/s, p50 and p99 separately) and every run's req/s
- Tokens: HS256 (ES256 and RS256 where named), signed by the harness with \`sub\`, \`iat\` and a 2-hour \`exp\`. Requests rotate over the tokens of ${HOT_USERS.toLocaleString('en-US')} users${DATABASE_URL ? `, or of ${COLD_USERS.toLocaleString('en-US')} users in the cold-cache pair` : ''}
- The all-cached jwt-logout contenders set \`cacheTtlMs\` to one hour, so that no cutoff expires and reloads during a run; the warm-up loads every user's cutoff. No contender uses \`listen\`.

The machine has ${cpus.length} cores, which autocannon and the server under test share, so
the figures are noisy and the load generator takes CPU from the server. Compare
ratios within this run, not absolute req/s across machines or runs.
${anyFailures ? '\nSome runs had non-2xx responses or errors; they are named in the tables, and the req/s of those rows does not measure successful requests alone.\n' : ''}
## Targets

| target | measured | result |
| --- | --- | --- |
${targets.map(([name, measured, met]) => `| ${name} | ${measured} | ${met === undefined ? 'not measured' : verdict(met)} |`).join('\n')}

## Throughput: verification with cached cutoffs

${scenarioTable(throughputContenders, medians, baseline)}

## Throughput: signature algorithms

Both rows verify with the public key only (\`publicKey\` option); compare them with the HS256 row above.

${scenarioTable([throughputContenders.find((c) => c.id === 'jwt-logout'), ...algorithmContenders], medians, baseline)}

## Throughput: every request a cache miss

${
  DATABASE_URL
    ? `Requests rotate over ${COLD_USERS.toLocaleString('en-US')} users. jwt-logout keeps at most 1,000 users (\`cacheMaxUsers\`), so
each user has been evicted by the time its token comes round again and every
request loads the cutoff from PostgreSQL. jwt-logout batches the misses that
arrive in one event-loop turn into one query; the naive middleware sends one
query per request. \`user_logouts\` is empty, so every query finds no row.

${scenarioTable(missContenders, medians, baseline)}`
    : 'Skipped: this scenario needs PostgreSQL, so it runs only with DATABASE_URL set.'
}

## Ratio to bare Express

${ratioChart(allRows, medians, baseline)}

## Heap bytes per cached user

\`bench/heap-per-user.mjs\` runs with \`--expose-gc\` on PGlite in memory. It creates
jwt-logout with \`cacheMaxUsers\` ${heap.users.toLocaleString('en-US')} and authenticates one token for each of
${heap.users.toLocaleString('en-US')} users, none of whom has a cutoff. It compares \`heapUsed\` after garbage
collection before the instance is created and after the last user is loaded.
The difference includes the cache's arrays that lru-cache allocates up front
and the user-id strings taken from the tokens, and excludes the tokens, which
are held throughout. The verified-token cache is off.

- heapUsed before: ${heap.heapBefore.toLocaleString('en-US')} bytes; after: ${heap.heapAfter.toLocaleString('en-US')} bytes
- **${heap.bytesPerUser.toFixed(1)} bytes per cached user**

## Cross-instance revocation latency

${
  DATABASE_URL
    ? `Two jwt-logout instances, A and B, run as separate processes on the same
PostgreSQL database, each with \`listen\` on its own connection. For each of ${REVOCATIONS}
users, B first accepts the user's token (so B has the user cached), then
logout-all is sent to A. The latency runs from the moment the harness receives
A's 204 until B first answers the token with 401; the harness polls B with a
1 ms pause between requests and gives up after ${REVOCATION_TIMEOUT_MS} ms. The figure includes one
HTTP round trip to B, so it cannot be below that round trip.

- logouts measured: ${revocation.count}; timed out: ${revocation.timeouts}
- **p50 ${fmt.ms(revocation.p50)} ms, p99 ${fmt.ms(revocation.p99)} ms**, max ${fmt.ms(revocation.max)} ms`
    : 'Skipped: this measurement needs PostgreSQL, so it runs only with DATABASE_URL set.'
}
`
await writeFile(DOC_PATH, doc)
console.log(`Wrote ${DOC_PATH}`)
for (const [name, measured, met] of targets) console.log(`${met === undefined ? 'not measured' : met ? 'met   ' : 'MISSED'}  ${name}: ${measured}`)
