// Entry point of `jwt-logout/prometheus`: a separate entry, so that only
// applications that use prom-client load it.
export { registerPrometheusMetrics } from './register-metrics.js'
