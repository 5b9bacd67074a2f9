/**
 * How the quote pages print numbers and times. Shared by server rendering
 * and the browser, so both must produce the same text for the same value:
 * nothing here depends on the locale or the time zone (a hydrated page whose
 * text differed from the server's would flicker, or worse, keep both).
 *
 * Prices arrive as decimal numbers already rounded to the instrument's
 * `priceDecimals` (`schemas/quotes.ts`), so `toFixed(priceDecimals)` prints
 * them exactly: 5432.25 with 2 decimals is "5,432.25", never "5,432.3".
 *
 * @module
 */

/** What is printed for a value that does not exist yet (no trade, an empty side). */
export const MISSING = "–";

/** The direction of a change: the class that colours it. */
export type Direction = "up" | "down" | "flat";

function group(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

// The sign comes from the printed digits, not the number: -0.001 at two
// decimals prints "0.00", and "-0.00" would claim a fall that did not happen.
function fixed(value: number, decimals: number, plus: boolean): string {
  const digits = Math.abs(value).toFixed(decimals);
  const [whole = "0", fraction] = digits.split(".");
  const body = fraction === undefined ? group(whole) : `${group(whole)}.${fraction}`;
  if (/^[0.]*$/.test(digits)) return body;
  return value < 0 ? `-${body}` : plus ? `+${body}` : body;
}

/**
 * Prints a price with the instrument's decimals and thousands separators.
 *
 * @param value The price, or null/undefined when there is none.
 * @param decimals The instrument's `priceDecimals` (0 to 12).
 * @returns The text, or {@linkcode MISSING}.
 *
 * @example
 * ```ts
 * import { formatPrice } from "./format.ts";
 * if (formatPrice(5432.25, 2) !== "5,432.25") throw new Error("wrong price");
 * if (formatPrice(null, 2) !== "–") throw new Error("wrong placeholder");
 * ```
 */
export function formatPrice(value: number | null | undefined, decimals: number): string {
  return value === null || value === undefined ? MISSING : fixed(value, decimals, false);
}

/**
 * Prints a change with its sign ("+1.25", "-0.75", "0.00").
 *
 * @param value The change, or null when unknown.
 * @param decimals Decimal places: the instrument's `priceDecimals`.
 * @returns The text, or {@linkcode MISSING}.
 *
 * @example
 * ```ts
 * import { formatChange } from "./format.ts";
 * if (formatChange(-0.75, 2) !== "-0.75") throw new Error("wrong change");
 * ```
 */
export function formatChange(value: number | null | undefined, decimals: number): string {
  return value === null || value === undefined ? MISSING : fixed(value, decimals, true);
}

/**
 * Prints a percentage change with its sign and two decimals ("+1.25%").
 *
 * @param value The change in percent, or null when unknown.
 * @returns The text, or {@linkcode MISSING}.
 *
 * @example
 * ```ts
 * import { formatPercent } from "./format.ts";
 * if (formatPercent(0.5022) !== "+0.50%") throw new Error("wrong percent");
 * ```
 */
export function formatPercent(value: number | null | undefined): string {
  return value === null || value === undefined ? MISSING : `${fixed(value, 2, true)}%`;
}

/**
 * Prints a size or volume (whole lots) with thousands separators.
 *
 * @param value The count, or null/undefined when there is none.
 * @returns The text, or {@linkcode MISSING}.
 *
 * @example
 * ```ts
 * import { formatSize } from "./format.ts";
 * if (formatSize(1234567) !== "1,234,567") throw new Error("wrong size");
 * ```
 */
export function formatSize(value: number | null | undefined): string {
  return value === null || value === undefined ? MISSING : fixed(value, 0, false);
}

/**
 * Prints a time in UTC, to the second: the same text on the server and in
 * every browser, whatever their time zones.
 *
 * @param ms Milliseconds since the epoch.
 * @returns "YYYY-MM-DD HH:MM:SS UTC".
 *
 * @example
 * ```ts
 * import { formatTime } from "./format.ts";
 * if (formatTime(1_764_000_000_000) !== "2025-11-24 16:00:00 UTC") throw new Error("wrong time");
 * ```
 */
export function formatTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/**
 * The direction of a change, from the text it prints as, so that a change
 * printed "0.00" is never coloured.
 *
 * @param value The change, or null when unknown.
 * @param decimals The decimals it is printed with.
 * @returns "up", "down" or "flat".
 *
 * @example
 * ```ts
 * import { direction } from "./format.ts";
 * if (direction(-0.001, 2) !== "flat" || direction(0.25, 2) !== "up") throw new Error("wrong");
 * ```
 */
export function direction(value: number | null | undefined, decimals: number): Direction {
  if (value === null || value === undefined) return "flat";
  const text = fixed(value, decimals, true);
  return text.startsWith("+") ? "up" : text.startsWith("-") ? "down" : "flat";
}
