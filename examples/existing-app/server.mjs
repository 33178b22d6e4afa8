// Starts the example: DATABASE_URL=postgres://... JWT_SECRET=... node server.mjs
import pg from 'pg'

import { createApp } from './app.mjs'
import { migrate } from './migrate.mjs'

const { DATABASE_URL, JWT_SECRET, PORT = '3001' } = process.env
if (!DATABASE_URL || !JWT_SECRET) {
  console.error('Set DATABASE_URL to a PostgreSQL database and JWT_SECRET to a secret of at least 32 bytes.')
  process.exit(2)
}

// Timeouts turn a database outage into prompt 503 answers instead of hanging requests.
const pool = new pg.Pool({ connectionString: DATABASE_URL, connectionTimeoutMillis: 2000, query_timeout: 2000 })
const applied = await migrate(pool)
console.log(applied.length === 0 ? 'No pending migrations.' : `Applied ${applied.join(', ')}.`)

const { app, auth } = createApp(pool, { secret: JWT_SECRET })
const server = app.listen(Number(PORT), '127.0.0.1', () => console.log(`Listening on http://127.0.0.1:${PORT}`))

process.once('SIGTERM', () => {
  server.close(async () => {
    await auth.close() // the listener's connection; the pool is the app's to end
    await pool.end()
  })
})
