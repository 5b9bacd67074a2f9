/**
 * Engine prices (integer price units) as the decimal numbers the quote
 * snapshots carry (`schemas/quotes.ts`): units / price scale, rounded to the
 * instrument's decimal places, so that a reader prints them without the
 * instrument table.
 *
 * @module
 */

/** The most decimal places a snapshot carries (`parseQuoteSnapshot` refuses more). */
export const MAX_PRICE_DECIMALS = 12;

/**
 * The decimal places an instrument's prices need: the fewest that show
 * every price unit exactly (2 for a price scale of 100, 3 for 1000, 3 for
 * 8: eighths are 0.125). A scale with no exact decimal (3: thirds) gets two
 * places beyond its resolution, so that neighbouring units stay apart, and
 * at most {@linkcode MAX_PRICE_DECIMALS}.
 *
 * @param priceScale Price units per unit of the quote currency (a positive integer).
 * @returns The decimal places, 0 to 12.
 * @throws {RangeError} If `priceScale` is not a positive safe integer.
 *
 * @example
 * ```ts
 * import { priceDecimals } from "./decimal.ts";
 * import assert from "node:assert";
 *
 * assert.deepStrictEqual([100, 1, 10_000, 8, 3].map(priceDecimals), [2, 0, 4, 3, 3]);
 * ```
 */
export function priceDecimals(priceScale: number): number {
  if (!Number.isSafeInteger(priceScale) || priceScale < 1) {
    throw new RangeError(
      `Cannot find price decimals: the price scale must be a positive integer, got ${priceScale}`,
    );
  }
  for (let d = 0, p = 1; d <= MAX_PRICE_DECIMALS; d++, p *= 10) {
    if (p % priceScale === 0) return d;
  }
  return Math.min(MAX_PRICE_DECIMALS, Math.ceil(Math.log10(priceScale)) + 2);
}

/**
 * Rounds half away from zero to `decimals` places, and never returns `-0`
 * (it would print as "-0.00").
 *
 * @param x The number.
 * @param decimals Decimal places, 0 to 12.
 * @returns The nearest double to the rounded decimal.
 *
 * @example
 * ```ts
 * import { roundTo } from "./decimal.ts";
 * import assert from "node:assert";
 *
 * assert.deepStrictEqual([roundTo(0.502232, 4), roundTo(-1.005, 1), roundTo(-0.0001, 2)], [0.5022, -1, 0]);
 * ```
 */
export function roundTo(x: number, decimals: number): number {
  const p = 10 ** decimals;
  const scaled = Math.round(Math.abs(x) * p);
  return scaled === 0 ? 0 : (x < 0 ? -scaled : scaled) / p;
}

/**
 * A price in units as a decimal number of the quote currency.
 *
 * Exact for integer units below 2^53 / 10^decimals: `units × 10^d / scale`
 * is then an exact integer whenever the scale divides 10^d, and one division
 * gives the nearest double to the decimal (the same double its literal
 * parses to). Non-integer units (a VWAP) are rounded half away from zero.
 *
 * @param units Price units (an integer, or a mean such as a VWAP).
 * @param priceScale Units per unit of the quote currency.
 * @param decimals Decimal places ({@linkcode priceDecimals} of the scale).
 * @returns The price as a decimal number.
 *
 * @example
 * ```ts
 * import { toDecimal } from "./decimal.ts";
 * import assert from "node:assert";
 *
 * assert.deepStrictEqual(toDecimal(560_025, 100, 2), 5600.25); // ES-FUT, a quarter-point tick
 * assert.deepStrictEqual(toDecimal(45_001.5, 100, 2), 450.02); // a VWAP, half away from zero
 * ```
 */
export function toDecimal(units: number, priceScale: number, decimals: number): number {
  const p = 10 ** decimals;
  const scaled = Math.round(Math.abs(units * p) / priceScale);
  return scaled === 0 ? 0 : (units < 0 ? -scaled : scaled) / p;
}
