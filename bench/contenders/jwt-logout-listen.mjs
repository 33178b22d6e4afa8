// One of the two jwt-logout instances of the revocation-latency step: PostgreSQL
// from DATABASE_URL, LISTEN for other instances' logouts, GET /me and POST /logout-all.
import { createJwtLogout, migrateToLatest, openDatabase } from '../../dist/src/index.js'
import { createApp, HS256_SECRET, listenAndReport, requireEnv } from '../common.mjs'

const database = await openDatabase({ databaseUrl: requireEnv('DATABASE_URL') })
await migrateToLatest(database.db)

const auth = createJwtLogout({ db: database.db, secret: HS256_SECRET, listen: database.listen })
// Wait for the listener, so that the first logout is not missed while LISTEN is still being set up.
for (let attempt = 0; (await auth.health()).listener !== 'listening' && attempt < 500; attempt++) {
  await new Promise((resolve) => setTimeout(resolve, 10))
}

const app = createApp(auth.requireAuth)
app.post('/logout-all', auth.logoutAll)
app.use(auth.errorHandler)
listenAndReport(app)
