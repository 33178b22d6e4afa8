// Bare Express 5: one JSON route, no authentication. The baseline of every ratio.
import { createApp, listenAndReport } from '../common.mjs'

listenAndReport(createApp())
