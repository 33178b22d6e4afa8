// jwt-logout's requireAuth, configured from the environment that the harness sets:
// DATABASE_URL (PGlite in memory when unset), CACHE_MAX_USERS, CACHE_TTL_MS,
// TOKEN_CACHE_MAX_TOKENS, and ALGORITHM with PUBLIC_KEY for asymmetric keys.
import { createJwtLogout, migrateToLatest, openDatabase } from '../../dist/src/index.js'
import { createApp, HS256_SECRET, listenAndReport } from '../common.mjs'

const database = await openDatabase({ databaseUrl: process.env.DATABASE_URL })
await migrateToLatest(database.db)

const algorithm = process.env.ALGORITHM ?? 'HS256'
const keyOptions = algorithm === 'HS256' ? { secret: HS256_SECRET } : { publicKey: process.env.PUBLIC_KEY, algorithms: [algorithm] }
const auth = createJwtLogout({
  db: database.db,
  ...keyOptions,
  cacheMaxUsers: Number(process.env.CACHE_MAX_USERS ?? 10_000),
  cacheTtlMs: Number(process.env.CACHE_TTL_MS ?? 10_000),
  tokenCacheMaxTokens: Number(process.env.TOKEN_CACHE_MAX_TOKENS ?? 0),
})

const app = createApp(auth.requireAuth)
app.use(auth.errorHandler)
listenAndReport(app)
