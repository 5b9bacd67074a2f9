/**
 * A token bucket: at most `burst` events at once, refilled at `perSecond`.
 * Private to `core/gateway/` (message rates and bad-frame budgets).
 *
 * @module
 */

/** Counts events against a rate; see the module documentation. */
export class TokenBucket {
  readonly #burst: number;
  readonly #perMs: number;
  #tokens: number;
  #at: number;

  /**
   * A full bucket.
   *
   * @param perSecond Refill rate, in events per second.
   * @param burst Capacity: how many events may come at once.
   * @param now The current time in milliseconds (default `performance.now()`).
   * @throws {RangeError} When a rate or capacity is not a positive number.
   */
  constructor(perSecond: number, burst: number, now = performance.now()) {
    if (!(perSecond > 0) || !(burst >= 1)) {
      throw new RangeError(
        `Cannot make a rate limit: the rate (${perSecond}/s) and burst (${burst}) must be positive`,
      );
    }
    this.#burst = burst;
    this.#perMs = perSecond / 1000;
    this.#tokens = burst;
    this.#at = now;
  }

  /**
   * Takes one token.
   *
   * @param now The current time in milliseconds (default `performance.now()`).
   * @returns False when the bucket is empty: the event is over the rate.
   */
  take(now = performance.now()): boolean {
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#at) * this.#perMs);
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
