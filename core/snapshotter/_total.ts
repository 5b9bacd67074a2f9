/**
 * A running total of non-negative integers that never drops a unit: the
 * quote book's day volume and VWAP numerator (Σ price × lots), which grow
 * with the day's trades without bound.
 *
 * A double sums integers exactly only up to 2^53 − 1, and a product of two
 * safe integers can reach 2^106; a `bigint` is exact but allocates on every
 * operation, and the quote book's `apply` runs inside the dispatcher's
 * delivery loop. So the total is a number while it stays a safe integer (the
 * usual case: no allocation), and moves into a `bigint` part beyond.
 *
 * @module
 */

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/**
 * A non-negative integer total, exact at any size.
 *
 * @example
 * ```ts
 * import { Total } from "./_total.ts";
 * import assert from "node:assert";
 *
 * const volume = new Total();
 * volume.add(Number.MAX_SAFE_INTEGER);
 * volume.add(Number.MAX_SAFE_INTEGER);
 * assert.deepStrictEqual(volume.exact, 2n * BigInt(Number.MAX_SAFE_INTEGER));
 * assert.deepStrictEqual(volume.saturated, Number.MAX_SAFE_INTEGER);
 * ```
 */
export class Total {
  /** The part held as a number: always a safe integer. */
  #small = 0;
  /** The rest, once the total passed 2^53 − 1. */
  #big = 0n;

  /**
   * Adds a non-negative safe integer. Exact: the sum of two safe integers
   * is computed exactly whenever it is itself safe, and rounds to 2^53 or
   * more (never back below) when it is not.
   *
   * @param x The amount (a non-negative safe integer).
   */
  add(x: number): void {
    const sum = this.#small + x;
    if (sum <= MAX_SAFE) {
      this.#small = sum;
    } else {
      this.#big += BigInt(this.#small) + BigInt(x);
      this.#small = 0;
    }
  }

  /**
   * Adds `a × b` exactly (two non-negative safe integers: a price and a
   * quantity). A product is exact as a double whenever it is safe, and
   * rounds to 2^53 or more when it is not; then it is taken in `bigint`.
   *
   * @param a A non-negative safe integer.
   * @param b A non-negative safe integer.
   */
  addProduct(a: number, b: number): void {
    const product = a * b;
    if (product <= MAX_SAFE) {
      this.add(product);
    } else {
      this.#big += BigInt(a) * BigInt(b);
    }
  }

  /**
   * Starts again from `x`: a non-negative finite number, rounded to the
   * nearest integer (a total restored from a rounded mean).
   *
   * @param x The new total.
   */
  set(x: number): void {
    const whole = Math.round(x);
    if (whole <= MAX_SAFE) {
      this.#small = whole;
      this.#big = 0n;
    } else {
      this.#small = 0;
      this.#big = BigInt(whole);
    }
  }

  /** Back to zero. */
  reset(): void {
    this.#small = 0;
    this.#big = 0n;
  }

  /** The total, exactly. */
  get exact(): bigint {
    return this.#big + BigInt(this.#small);
  }

  /** The total as the nearest double (exact while below 2^53). */
  get value(): number {
    return this.#big === 0n ? this.#small : Number(this.#big + BigInt(this.#small));
  }

  /** The total, or 2^53 − 1 when it is larger: what a safe-integer field can carry. */
  get saturated(): number {
    return this.#big === 0n ? this.#small : MAX_SAFE;
  }
}
