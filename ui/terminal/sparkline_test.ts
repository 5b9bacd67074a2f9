import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import fc from "fast-check";
import { PriceTrail, sparklinePoints } from "./sparkline.ts";

Deno.test("PriceTrail keeps every price while it has room", () => {
  const trail = new PriceTrail(8);
  for (const p of [5, 6, 7]) trail.add(p);
  deepStrictEqual(trail.points(), [5, 6, 7]);
});

Deno.test("PriceTrail stays within its capacity, starts at the first price and ends at the last, in order", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 2, max: 20 }),
      fc.array(fc.integer({ min: 1, max: 1_000_000 }), { minLength: 1, maxLength: 500 }),
      (capacity, prices) => {
        const trail = new PriceTrail(capacity);
        prices.forEach((p, i) => trail.add(p * 1_000 + (i % 1_000)));
        const points = trail.points();
        strictEqual(points.length <= capacity, true, `${points.length} > ${capacity}`);
        strictEqual(points[0], prices[0]! * 1_000);
        strictEqual(points.at(-1), prices.at(-1)! * 1_000 + ((prices.length - 1) % 1_000));
        // Every point is one of the prices, in the order they came.
        const order = prices.map((p, i) => p * 1_000 + (i % 1_000));
        let at = -1;
        for (const q of points) {
          const next = order.indexOf(q, at + 1);
          strictEqual(next > at, true, `${q} out of order`);
          at = next;
        }
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("PriceTrail refuses a capacity below 2", () => {
  throws(() => new PriceTrail(1), /at least 2, got 1/);
});

Deno.test("sparklinePoints() puts the highest price at the top and the lowest at the bottom", () => {
  strictEqual(sparklinePoints([10, 30, 20, 10], 30, 20), "0,20 10,0 20,10 30,20");
  strictEqual(sparklinePoints([7, 7], 10, 20), "0,10 10,10");
  strictEqual(sparklinePoints([7], 10, 20), "");
});
