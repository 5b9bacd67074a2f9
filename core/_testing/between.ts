/**
 * The one assertion the tests need that `node:assert` has no form for: a
 * number within a range, with the quantity named in the failure.
 *
 * @module
 */

import assert from "node:assert";

/**
 * Fails unless `lo <= actual <= hi`.
 *
 * @param actual The number seen.
 * @param lo Smallest acceptable value.
 * @param hi Largest acceptable value.
 * @param what Names the quantity in the failure message.
 * @throws {assert.AssertionError} If `actual` is outside the range.
 *
 * @example
 * ```ts
 * import { assertBetween } from "./between.ts";
 * assertBetween(0.55, 0.53, 0.57, "limit share");
 * ```
 */
export function assertBetween(actual: number, lo: number, hi: number, what: string): void {
  assert.ok(actual >= lo && actual <= hi, `${what} = ${actual}, expected within [${lo}, ${hi}]`);
}
