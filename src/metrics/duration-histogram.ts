/** A histogram as Prometheus exposes it, with cumulative bucket counts. */
export interface HistogramSnapshot {
  /**
   * Buckets in ascending order of upper bound. Each count includes every
   * observation at or below its bound, so the counts never decrease. There is
   * no bucket for Infinity: its count is `count`.
   */
  buckets: { upperBoundSeconds: number; count: number }[]
  /** Sum of every observed duration, in seconds. */
  sumSeconds: number
  /** Number of observations. */
  count: number
}

/**
 * Durations in fixed buckets. Observing costs a scan of the bounds and two
 * additions, with no allocation. The cumulative counts are computed only when
 * a snapshot is taken.
 */
export class DurationHistogram {
  readonly #upperBounds: readonly number[]
  /** Observations per bucket, not cumulative. The last slot counts those above every bound. */
  readonly #counts: Float64Array
  #sumSeconds = 0
  #count = 0

  /** @param upperBoundsSeconds Bucket bounds in seconds, ascending. */
  constructor(upperBoundsSeconds: readonly number[]) {
    for (let i = 1; i < upperBoundsSeconds.length; i++) {
      if (!(upperBoundsSeconds[i]! > upperBoundsSeconds[i - 1]!)) {
        throw new TypeError(`Histogram bounds must be ascending, got ${upperBoundsSeconds.join(', ')}`)
      }
    }
    this.#upperBounds = [...upperBoundsSeconds]
    // Float64Array rather than Uint32Array, so that counts stay exact past 2^32 (up to 2^53).
    this.#counts = new Float64Array(upperBoundsSeconds.length + 1)
  }

  /** Records one duration, in seconds. */
  observe(seconds: number): void {
    let bucket = 0
    while (bucket < this.#upperBounds.length && seconds > this.#upperBounds[bucket]!) bucket++
    this.#counts[bucket]!++
    this.#sumSeconds += seconds
    this.#count++
  }

  /** Returns a copy of the current counts, cumulative per bucket. */
  snapshot(): HistogramSnapshot {
    let cumulative = 0
    const buckets = this.#upperBounds.map((upperBoundSeconds, bucket) => {
      cumulative += this.#counts[bucket]!
      return { upperBoundSeconds, count: cumulative }
    })
    return { buckets, sumSeconds: this.#sumSeconds, count: this.#count }
  }
}
