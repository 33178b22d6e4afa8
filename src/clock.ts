/** Wall-clock time in milliseconds since the Unix epoch, with the contract of `Date.now()`. */
export type Clock = () => number

/**
 * Strictly increasing timestamps in microseconds since the Unix epoch.
 *
 * Wall-clock milliseconds are extended with a counter: when two readings fall
 * in the same microsecond, the second gets the next one. A logout and a login
 * handled by one process therefore always get distinct, ordered times, even
 * within one millisecond. Up to 1,000 readings per millisecond keep to the wall
 * clock; a faster burst runs ahead of it by a few microseconds.
 */
export class MicrosecondClock {
  readonly now: Clock
  #last = 0

  constructor(now: Clock = Date.now) {
    this.now = now
  }

  /** Returns the next timestamp in microseconds; never the same value twice. */
  next(): number {
    const wall = Math.floor(this.now() * 1000)
    this.#last = wall > this.#last ? wall : this.#last + 1
    return this.#last
  }
}

/** Converts microseconds since the epoch to the whole seconds of a JWT NumericDate. */
export function toNumericDate(micros: number): number {
  return Math.floor(micros / 1_000_000)
}
