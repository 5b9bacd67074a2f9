import fc from "fast-check";
import { priceDecimals, roundTo, toDecimal } from "./decimal.ts";
import assert from "node:assert";

function check(units: number, scale: number, expected: number): void {
  const actual = toDecimal(units, scale, priceDecimals(scale));
  assert(
    Object.is(actual, expected),
    `toDecimal(${units}, ${scale}) = ${actual}, expected ${expected}`,
  );
}

Deno.test("priceDecimals() gives the fewest places that show every unit exactly", () => {
  assert.deepStrictEqual(
    [1, 10, 100, 1000, 10_000, 2, 4, 8, 16, 20, 25, 3, 7, 1_000_000_000_000].map(priceDecimals),
    [0, 1, 2, 3, 4, 1, 2, 3, 4, 2, 2, 3, 3, 12],
  );
  for (const bad of [0, -100, 1.5, NaN]) {
    assert.throws(() => priceDecimals(bad), {
      name: "RangeError",
      message: /must be a positive integer/,
    });
  }
});

Deno.test("toDecimal() prints quarter-point ticks and cents exactly", () => {
  check(560_025, 100, 5600.25); // ES-FUT: tick 25 units
  check(560_050, 100, 5600.5);
  check(559_975, 100, 5599.75);
  check(45_001, 100, 450.01); // BRK.B
  check(-25, 100, -0.25); // a change
  check(0, 100, 0);
  check(-0, 100, 0); // never -0: it would print "-0.00"
  check(1, 8, 0.125); // eighths
  check(1, 3, 0.333); // thirds: no exact decimal, two places past the unit
});

Deno.test("toDecimal() rounds a mean such as a VWAP half away from zero", () => {
  check(560_007.5, 100, 5600.08);
  check(560_007.49, 100, 5600.07);
  check(-12.5, 100, -0.13);
  check(-0.4, 100, 0);
});

Deno.test("toDecimal() of integer units equals the decimal written out by integer arithmetic", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
      fc.constantFrom(1, 10, 100, 1000, 10_000),
      (units, scale) => {
        const d = priceDecimals(scale);
        const abs = Math.abs(units);
        const text = `${units < 0 ? "-" : ""}${Math.floor(abs / scale)}.${
          String(abs % scale).padStart(d, "0")
        }`;
        return Object.is(toDecimal(units, scale, d), units === 0 ? 0 : Number(text));
      },
    ),
  );
});

Deno.test("roundTo() rounds to the given places, symmetrically, without -0", () => {
  assert.deepStrictEqual(
    [roundTo(0.00446428, 4), roundTo(-0.00222, 4), roundTo(2.5, 0), roundTo(-2.5, 0)],
    [0.0045, -0.0022, 3, -3],
  );
  assert(Object.is(roundTo(-0.00001, 4), 0), "-0 leaked");
});
