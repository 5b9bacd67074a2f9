/**
 * The watchlist's sparkline: a symbol's last prices since the page opened,
 * kept in bounded memory ({@linkcode PriceTrail}), and drawn as an SVG
 * polyline ({@linkcode sparklinePoints}).
 *
 * @module
 */

/** How many points a trail keeps at most. */
export const TRAIL_POINTS = 64;

/**
 * Last prices since the page opened, at most `capacity` points however long
 * it stays open: every `stride`-th trade is kept, and when the trail is full
 * every other point is dropped and the stride doubles. The newest trade is
 * always the last point, so the line ends at the last price.
 *
 * @example
 * ```ts
 * import { PriceTrail } from "./sparkline.ts";
 * const trail = new PriceTrail(4);
 * for (const p of [1, 2, 3, 4, 5, 6, 7, 8, 9]) trail.add(p);
 * const points = trail.points();
 * if (points.length > 4 || points[0] !== 1 || points.at(-1) !== 9) throw new Error(String(points));
 * ```
 */
export class PriceTrail {
  readonly #capacity: number;
  #kept: number[] = [];
  #stride = 1;
  #seen = 0;
  #latest: number | undefined;

  /**
   * @param capacity The most points kept (at least 2; default {@linkcode TRAIL_POINTS}).
   * @throws {RangeError} When the capacity is below 2.
   */
  constructor(capacity: number = TRAIL_POINTS) {
    if (!(capacity >= 2)) {
      throw new RangeError(
        `Cannot keep a price trail: the capacity must be at least 2, got ${capacity}`,
      );
    }
    this.#capacity = capacity;
  }

  /**
   * Adds a trade's price.
   *
   * @param price The price (units).
   */
  add(price: number): void {
    // Keep every stride-th trade; the newest rides along as #latest.
    if (this.#seen % this.#stride === 0) {
      this.#kept.push(price);
      this.#latest = undefined;
      // One slot stays free for the newest.
      if (this.#kept.length >= this.#capacity) {
        const dropsNewest = (this.#kept.length - 1) % 2 === 1;
        this.#kept = this.#kept.filter((_, i) => i % 2 === 0);
        this.#stride *= 2;
        if (dropsNewest) this.#latest = price;
      }
    } else this.#latest = price;
    this.#seen++;
  }

  /**
   * The points, oldest first: the kept ones, then the newest.
   *
   * @returns The prices.
   */
  points(): number[] {
    return this.#latest === undefined ? this.#kept.slice() : [...this.#kept, this.#latest];
  }
}

/**
 * An SVG polyline's `points` for prices in a box: x evenly spaced, y from
 * the lowest (bottom) to the highest (top); a flat line across the middle
 * when they are all equal.
 *
 * @param prices The prices, oldest first.
 * @param width The box's width.
 * @param height The box's height.
 * @returns The `points` attribute (empty for fewer than two prices).
 *
 * @example
 * ```ts
 * import { sparklinePoints } from "./sparkline.ts";
 * if (sparklinePoints([1, 3, 2], 10, 4) !== "0,4 5,0 10,2") throw new Error();
 * ```
 */
export function sparklinePoints(prices: readonly number[], width: number, height: number): string {
  if (prices.length < 2) return "";
  let low = Infinity;
  let high = -Infinity;
  for (const p of prices) {
    if (p < low) low = p;
    if (p > high) high = p;
  }
  const r = (n: number) => Math.round(n * 10) / 10;
  const step = width / (prices.length - 1);
  return prices.map((p, i) =>
    `${r(i * step)},${r(high === low ? height / 2 : height - ((p - low) / (high - low)) * height)}`
  ).join(" ");
}
