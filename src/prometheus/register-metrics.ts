import { Counter, type Metric, type Registry } from 'prom-client'

import type { JwtLogout } from '../jwt-logout.js'
import type { HistogramSnapshot } from '../metrics/duration-histogram.js'
import type { MetricsSnapshot } from '../metrics/metrics-recorder.js'

/** A counter copied from one number of the snapshot. */
interface CounterDefinition {
  name: string
  help: string
  select(snapshot: MetricsSnapshot): number
}

/** A counter with one label, one series per key of a record of the snapshot. */
interface LabeledCounterDefinition {
  name: string
  help: string
  label: string
  select(snapshot: MetricsSnapshot): Record<string, number>
}

const COUNTERS: CounterDefinition[] = [
  {
    name: 'jwt_logout_requests_accepted_total',
    help: 'Requests whose token was valid and not revoked.',
    select: (snapshot) => snapshot.requestsAccepted,
  },
  {
    name: 'jwt_logout_cache_hits_total',
    help: 'Cutoff lookups served from the cutoff cache.',
    select: (snapshot) => snapshot.cutoffCacheHits,
  },
  {
    name: 'jwt_logout_cache_misses_total',
    help: 'Cutoff lookups that waited for a load from the store.',
    select: (snapshot) => snapshot.cutoffCacheMisses,
  },
  {
    name: 'jwt_logout_store_errors_total',
    help: 'Cutoff loads and cutoff writes that failed.',
    select: (snapshot) => snapshot.storeErrors,
  },
  {
    name: 'jwt_logout_token_verifications_total',
    help: 'Tokens whose signature and claims were checked.',
    select: (snapshot) => snapshot.tokenVerifications,
  },
  {
    name: 'jwt_logout_token_cache_hits_total',
    help: 'Requests whose token came from the verified-token cache.',
    select: (snapshot) => snapshot.tokenCacheHits,
  },
]

const LABELED_COUNTERS: LabeledCounterDefinition[] = [
  {
    name: 'jwt_logout_requests_rejected_total',
    help: 'Requests rejected by jwt-logout, by error code. A logout with an already revoked token counts as token_revoked.',
    label: 'code',
    select: (snapshot) => snapshot.requestsRejected,
  },
  {
    name: 'jwt_logout_revocations_total',
    help: 'Cutoffs written, by kind: user for logout-all and revokeUser, session for logout and revokeSession.',
    label: 'kind',
    select: (snapshot) => snapshot.revocations,
  },
]

const LOOKUP_DURATION = {
  name: 'jwt_logout_cutoff_lookup_duration_seconds',
  help: 'Duration of cutoff loads from the store, failed ones included, in seconds.',
}

/**
 * Registers jwt-logout's metrics in a prom-client registry, such as the
 * application's `register`. Every collector reads `jwtLogout.metrics()` when
 * the registry is scraped, so requests do no prom-client work. The metric
 * names are fixed, so a registry takes the metrics of one jwt-logout instance.
 * @throws Error from prom-client when the registry already has a metric of the same name.
 */
export function registerPrometheusMetrics(registry: Registry, jwtLogout: Pick<JwtLogout, 'metrics'>): void {
  if (typeof jwtLogout?.metrics !== 'function') {
    throw new TypeError('registerPrometheusMetrics needs the object that createJwtLogout returned')
  }
  const read = () => jwtLogout.metrics()

  for (const definition of COUNTERS) registerCounter(registry, read, definition)
  for (const definition of LABELED_COUNTERS) registerLabeledCounter(registry, read, definition)
  // prom-client 15 types registerMetric() for its own metric classes, but the registry only calls get() and reset().
  const histogram = new SnapshotHistogram(LOOKUP_DURATION.name, LOOKUP_DURATION.help, () => read().cutoffLookupDuration)
  registry.registerMetric(histogram as unknown as Metric)
}

/**
 * Registers a counter whose value is copied from the snapshot at each scrape.
 * prom-client counters only add, so collect() resets the counter, then adds the total.
 */
function registerCounter(registry: Registry, read: () => MetricsSnapshot, { name, help, select }: CounterDefinition): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset()
      this.inc(select(read()))
    },
  })
}

/** Registers a counter with one label, copied from the snapshot at each scrape. Every key gets a series, zeros included. */
function registerLabeledCounter(
  registry: Registry,
  read: () => MetricsSnapshot,
  { name, help, label, select }: LabeledCounterDefinition,
): void {
  new Counter({
    name,
    help,
    labelNames: [label],
    registers: [registry],
    collect() {
      this.reset()
      for (const [value, count] of Object.entries(select(read()))) this.inc({ [label]: value }, count)
    },
  })
}

/**
 * A Prometheus histogram whose buckets come from a HistogramSnapshot.
 * prom-client's Histogram only takes single observations, so it cannot take
 * counts that were gathered elsewhere.
 */
class SnapshotHistogram {
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  readonly name: string
  readonly help: string
  readonly #read: () => HistogramSnapshot

  constructor(name: string, help: string, read: () => HistogramSnapshot) {
    this.name = name
    this.help = help
    this.#read = read
  }

  /** Returns the series in the form prom-client's registry formats: `_bucket` per bound and `+Inf`, `_sum`, `_count`. */
  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: HistogramValue[] }> {
    const { buckets, sumSeconds, count } = this.#read()
    const values: HistogramValue[] = buckets.map(({ upperBoundSeconds, count: bucketCount }) => ({
      metricName: `${this.name}_bucket`,
      labels: { le: upperBoundSeconds },
      value: bucketCount,
    }))
    values.push(
      { metricName: `${this.name}_bucket`, labels: { le: '+Inf' }, value: count },
      { metricName: `${this.name}_sum`, labels: {}, value: sumSeconds },
      { metricName: `${this.name}_count`, labels: {}, value: count },
    )
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values }
  }

  /** Does nothing: the counts belong to jwt-logout, and the registry cannot reset them. */
  reset(): void {}
}

interface HistogramValue {
  metricName: string
  labels: Record<string, string | number>
  value: number
}
