import { collectDefaultMetrics, Registry } from 'prom-client'

import type { JwtLogout } from '../jwt-logout.js'
import { registerPrometheusMetrics } from '../prometheus/register-metrics.js'

/** Creates the registry of GET /metrics: jwt-logout's metrics and prom-client's default process metrics. */
export function createMetricsRegistry(jwtLogout: JwtLogout): Registry {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  registerPrometheusMetrics(registry, jwtLogout)
  return registry
}
