// express-jwt 8 as its README sets it up: the secret as a string, algorithms ['HS256'].
import { expressjwt } from 'express-jwt'

import { createApp, HS256_SECRET, listenAndReport, unauthorizedHandler } from '../common.mjs'

const app = createApp(expressjwt({ secret: HS256_SECRET, algorithms: ['HS256'] }))
app.use(unauthorizedHandler)
listenAndReport(app)
