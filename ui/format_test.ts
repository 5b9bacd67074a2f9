import { deepStrictEqual } from "node:assert/strict";
import {
  direction,
  formatChange,
  formatPercent,
  formatPrice,
  formatSize,
  formatTime,
} from "./format.ts";

/** Runs `f` over each input and compares all results at once, so one failure shows them all. */
function check<I extends unknown[]>(
  f: (...args: I) => string,
  cases: readonly (readonly [...I, string])[],
): void {
  const actual = cases.map((c) => f(...(c.slice(0, -1) as I)));
  deepStrictEqual(actual, cases.map((c) => c[c.length - 1]));
}

Deno.test("formatPrice() prints every decimal of the instrument, grouped by thousands", () => {
  check(formatPrice, [
    [5432.25, 2, "5,432.25"], // ES-FUT ticks of 0.25
    [5432.5, 2, "5,432.50"],
    [5440, 2, "5,440.00"],
    [101.2, 2, "101.20"],
    [0.125, 3, "0.125"],
    [1234567.5, 1, "1,234,567.5"],
    [42, 0, "42"],
    [-3.5, 2, "-3.50"],
    [null, 2, "–"],
    [undefined, 2, "–"],
  ]);
});

Deno.test("formatChange() signs changes and never prints -0", () => {
  check(formatChange, [
    [1.25, 2, "+1.25"],
    [-1.75, 2, "-1.75"],
    [0, 2, "0.00"],
    [-0, 2, "0.00"],
    [-0.001, 2, "0.00"],
    [1250.5, 2, "+1,250.50"],
    [null, 2, "–"],
  ]);
});

Deno.test("formatPercent() prints two decimals with a sign and %", () => {
  check(formatPercent, [
    [1.25, "+1.25%"],
    [-0.0322, "-0.03%"],
    [-0.004, "0.00%"],
    [12.3456, "+12.35%"],
    [null, "–"],
  ]);
});

Deno.test("formatSize() groups whole lots", () => {
  check(formatSize, [[0, "0"], [999, "999"], [1000, "1,000"], [18250, "18,250"], [null, "–"]]);
});

Deno.test("formatTime() prints UTC whatever the local time zone", () => {
  check(formatTime, [[1_764_000_000_000, "2025-11-24 16:00:00 UTC"], [
    0,
    "1970-01-01 00:00:00 UTC",
  ]]);
});

Deno.test("direction() follows the printed change, so 0.00 is flat", () => {
  check(direction, [
    [0.25, 2, "up"],
    [-1.75, 2, "down"],
    [0, 2, "flat"],
    [0.004, 2, "flat"],
    [null, 2, "flat"],
  ]);
});
