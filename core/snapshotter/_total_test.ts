import fc from "fast-check";
import { Total } from "./_total.ts";
import assert from "node:assert";

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

Deno.test("Total adds safe integers and products exactly across 2^53", () => {
  const check = (steps: ([number] | [number, number])[], expected: bigint) => {
    const total = new Total();
    for (const step of steps) {
      if (step.length === 1) total.add(step[0]);
      else total.addProduct(step[0], step[1]);
    }
    assert.deepStrictEqual(total.exact, expected);
    assert.deepStrictEqual(total.value, Number(expected));
    assert.deepStrictEqual(
      total.saturated,
      expected > BigInt(MAX_SAFE) ? MAX_SAFE : Number(expected),
    );
  };
  check([], 0n);
  check([[MAX_SAFE - 1], [1]], BigInt(MAX_SAFE));
  // 2^53 - 1 + 2 rounds to 2^53 + 2 as a double, + 1 to 2^53: neither is a safe total.
  check([[MAX_SAFE], [1]], 2n ** 53n);
  check([[MAX_SAFE], [2]], 2n ** 53n + 1n);
  check([[MAX_SAFE], [MAX_SAFE], [3]], 2n * BigInt(MAX_SAFE) + 3n);
  // (2^27 + 1)^2 = 2^54 + 2^28 + 1: its double drops the final 1.
  check([[2 ** 27 + 1, 2 ** 27 + 1]], (2n ** 27n + 1n) ** 2n);
  check([[MAX_SAFE, MAX_SAFE], [5]], BigInt(MAX_SAFE) ** 2n + 5n);
  check([[94_906_265, 94_906_265]], 94_906_265n ** 2n); // just below 2^53
});

Deno.test("Total equals a bigint sum over any additions", () => {
  const amount = fc.oneof(
    fc.integer({ min: 0, max: 1000 }),
    fc.integer({ min: MAX_SAFE - 1000, max: MAX_SAFE }),
    fc.integer({ min: 0, max: MAX_SAFE }),
  );
  fc.assert(
    fc.property(fc.array(fc.tuple(amount, fc.option(amount)), { maxLength: 40 }), (steps) => {
      const total = new Total();
      let expected = 0n;
      for (const [a, b] of steps) {
        if (b === null) {
          total.add(a);
          expected += BigInt(a);
        } else {
          total.addProduct(a, b);
          expected += BigInt(a) * BigInt(b);
        }
      }
      assert.deepStrictEqual(total.exact, expected);
    }),
  );
});

Deno.test("Total.set() starts from a rounded number, Total.reset() from zero", () => {
  const total = new Total();
  total.set(1234.5);
  assert.deepStrictEqual(total.exact, 1235n);
  total.set(2 ** 60);
  assert.deepStrictEqual([total.exact, total.saturated], [2n ** 60n, MAX_SAFE]);
  total.add(1);
  assert.deepStrictEqual(total.exact, 2n ** 60n + 1n);
  total.reset();
  assert.deepStrictEqual([total.exact, total.value, total.saturated], [0n, 0, 0]);
});
