import { describe, expect, it } from 'vitest'

import { DurationHistogram } from '../../src/metrics/duration-histogram.js'

describe('DurationHistogram', () => {
  it('starts empty', () => {
    const histogram = new DurationHistogram([0.01, 0.1, 1])

    expect(histogram.snapshot()).toEqual({
      buckets: [
        { upperBoundSeconds: 0.01, count: 0 },
        { upperBoundSeconds: 0.1, count: 0 },
        { upperBoundSeconds: 1, count: 0 },
      ],
      sumSeconds: 0,
      count: 0,
    })
  })

  it('counts cumulatively', () => {
    const histogram = new DurationHistogram([0.01, 0.1, 1])
    histogram.observe(0.005)
    histogram.observe(0.05)
    histogram.observe(0.5)

    expect(histogram.snapshot().buckets.map((bucket) => bucket.count)).toEqual([1, 2, 3])
  })

  it('puts a bound value in its bucket', () => {
    // Prometheus buckets are "less than or equal to" their bound.
    const histogram = new DurationHistogram([0.01, 0.1, 1])
    histogram.observe(0.1)

    expect(histogram.snapshot().buckets.map((bucket) => bucket.count)).toEqual([0, 1, 1])
  })

  it('counts overflow only in count', () => {
    const histogram = new DurationHistogram([0.01, 0.1, 1])
    histogram.observe(3)

    const snapshot = histogram.snapshot()
    expect(snapshot.buckets.map((bucket) => bucket.count)).toEqual([0, 0, 0])
    expect(snapshot.count).toBe(1)
  })

  it('sums the observations', () => {
    const histogram = new DurationHistogram([0.01, 0.1, 1])
    histogram.observe(0.25)
    histogram.observe(2)

    expect(histogram.snapshot().sumSeconds).toBe(2.25)
    expect(histogram.snapshot().count).toBe(2)
  })

  it('returns copies', () => {
    const histogram = new DurationHistogram([1])
    const before = histogram.snapshot()
    histogram.observe(0.5)

    expect(before.buckets[0]!.count).toBe(0)
    expect(before.count).toBe(0)
  })

  it.each([
    { case: 'descending', bounds: [1, 0.1] },
    { case: 'repeated', bounds: [0.1, 0.1] },
    { case: 'NaN', bounds: [0.1, Number.NaN] },
  ])('rejects $case bounds', ({ bounds }) => {
    expect(() => new DurationHistogram(bounds)).toThrow(new TypeError(`Histogram bounds must be ascending, got ${bounds.join(', ')}`))
  })
})
