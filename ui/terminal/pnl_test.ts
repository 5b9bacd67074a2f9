import { deepStrictEqual, strictEqual } from "node:assert/strict";
import fc from "fast-check";
import {
  add,
  applyFill,
  type Fill,
  FLAT,
  formatAmount,
  fraction,
  fromTotals,
  type PositionPnl,
  unrealised,
} from "./pnl.ts";

const run = (fills: Fill[]): PositionPnl => fills.reduce(applyFill, FLAT);
const buy = (price: number, quantity: number): Fill => ({ side: "buy", price, quantity });
const sell = (price: number, quantity: number): Fill => ({ side: "sell", price, quantity });

function check(fills: Fill[], mark: number, expected: {
  net: number;
  average: string | undefined;
  realised: string;
  unrealised: string;
}) {
  const p = run(fills);
  deepStrictEqual({
    net: p.net,
    average: p.average === undefined ? undefined : formatAmount(p.average, 2, 2),
    realised: formatAmount(p.realised, 2),
    unrealised: formatAmount(unrealised(p, mark)!, 2),
  }, expected);
}

Deno.test("P&L: average cost, realised on reducing, unrealised marked to the last trade", () => {
  // Two buys average 100.33⅓; selling 2 at 102 realises 2 × 1.66⅔ = 3.33⅓.
  check([buy(10000, 2), buy(10100, 1), sell(10200, 2)], 10300, {
    net: 1,
    average: "100.3333",
    realised: "3.33",
    unrealised: "2.67",
  });
  // A short: sells average 100.50; buying back 1 at 99 realises 1.50.
  check([sell(10000, 1), sell(10100, 1), buy(9900, 1)], 10000, {
    net: -1,
    average: "100.5000",
    realised: "1.50",
    unrealised: "0.50",
  });
  // Through zero: long 2 at 100, sell 5 at 101: realise 2.00, short 3 at 101.
  check([buy(10000, 2), sell(10100, 5)], 10200, {
    net: -3,
    average: "101.0000",
    realised: "2.00",
    unrealised: "-3.00",
  });
  // Flat: nothing unrealised, whatever the mark.
  check([buy(10000, 1), sell(9950, 1)], 1, {
    net: 0,
    average: undefined,
    realised: "-0.50",
    unrealised: "0.00",
  });
});

Deno.test("P&L: realised + unrealised is exactly sold − bought + net × last, for any fills", () => {
  const fill = fc.record({
    side: fc.constantFrom("buy" as const, "sell" as const),
    price: fc.integer({ min: 1, max: 1_000_000 }),
    quantity: fc.integer({ min: 1, max: 1_000 }),
  });
  fc.assert(
    fc.property(fc.array(fill, { maxLength: 40 }), fc.integer({ min: 1, max: 1_000_000 }), (
      fills,
      mark,
    ) => {
      const p = run(fills);
      strictEqual(p.net, p.bought - p.sold);
      const total = add(p.realised, unrealised(p, mark)!);
      const expected = fraction(p.soldNotional - p.boughtNotional + BigInt(p.net) * BigInt(mark));
      deepStrictEqual(total, expected);
    }),
    { numRuns: 300 },
  );
});

Deno.test("P&L: no float creeps in at sizes a double would round", () => {
  // 2^53 units × lots is beyond a double's integers; bigint keeps it exact.
  const p = run([buy(9_007_199_254_740, 1_000), sell(9_007_199_254_741, 1_000)]);
  strictEqual(p.realised.num, 1000n);
  strictEqual(p.boughtNotional, 9_007_199_254_740_000n);
});

Deno.test("P&L: from the core's totals, exact when the position never went through zero", () => {
  const fills = [buy(10000, 2), buy(10100, 1), sell(10200, 1)];
  const p = run(fills);
  const t = fromTotals(p);
  deepStrictEqual([t.net, t.realised, t.boughtNotional, t.soldNotional], [
    p.net,
    p.realised,
    p.boughtNotional,
    p.soldNotional,
  ]);
  deepStrictEqual(t.average, p.average);
});

Deno.test("applyFill refuses prices and quantities that are not positive integers", () => {
  for (const bad of [buy(0, 1), buy(1, 0), buy(1.5, 1), sell(1, Number.NaN)]) {
    let threw = false;
    try {
      applyFill(FLAT, bad);
    } catch (e) {
      threw = e instanceof RangeError && /Cannot apply fill/.test(e.message);
    }
    strictEqual(threw, true, JSON.stringify(bad));
  }
});

Deno.test("formatAmount rounds half away from zero, exactly", () => {
  deepStrictEqual(
    [
      formatAmount(fraction(1n, 2n), 0),
      formatAmount(fraction(-1n, 2n), 0),
      formatAmount(fraction(-1n, 3n), 0),
      formatAmount(fraction(12345n), 2),
      formatAmount(fraction(5n), 2),
      formatAmount(fraction(-5n), 2),
    ],
    ["1", "-1", "0", "123.45", "0.05", "-0.05"],
  );
});
