import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import fc from "fast-check";
import {
  buildCandles,
  type Candle,
  CandleSeries,
  type CandleTrade,
  mergeCandles,
} from "./candles.ts";

const S = 1_000_000_000n;

/** The reference: group by interval, then fold each group in order. */
function naive(trades: readonly CandleTrade[], intervalS: number): Candle[] {
  const groups = new Map<number, CandleTrade[]>();
  for (const t of trades) {
    const sec = Math.floor(Number(t.time) / 1e9);
    const key = Math.floor(sec / intervalS) * intervalS;
    groups.set(key, [...(groups.get(key) ?? []), t]);
  }
  return [...groups.entries()].sort((a, b) => a[0] - b[0]).map(([time, g]) => ({
    time,
    open: g[0]!.price,
    high: Math.max(...g.map((t) => t.price)),
    low: Math.min(...g.map((t) => t.price)),
    close: g[g.length - 1]!.price,
    volume: g.reduce((n, t) => n + t.quantity, 0),
  }));
}

Deno.test("buildCandles() gives each interval its first, highest, lowest and last price and its volume", () => {
  const candles = buildCandles([
    { price: 10_000, quantity: 5, time: 1_700_000_003n * S },
    { price: 10_050, quantity: 1, time: 1_700_000_004n * S + 999_999_999n },
    { price: 9_990, quantity: 2, time: 1_700_000_001n * S }, // late: same interval
    { price: 10_010, quantity: 3, time: 1_700_000_005n * S },
    { price: 10_020, quantity: 4, time: 1_700_000_017n * S },
  ], 5);
  deepStrictEqual(candles, [
    { time: 1_700_000_000, open: 10_000, high: 10_050, low: 9_990, close: 9_990, volume: 8 },
    { time: 1_700_000_005, open: 10_010, high: 10_010, low: 10_010, close: 10_010, volume: 3 },
    { time: 1_700_000_015, open: 10_020, high: 10_020, low: 10_020, close: 10_020, volume: 4 },
  ]);
});

Deno.test("buildCandles() agrees with grouping by interval, for trades in time order", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          price: fc.integer({ min: 1, max: 100_000 }),
          quantity: fc.integer({ min: 1, max: 1_000 }),
          time: fc.bigInt({ min: 0n, max: 600n * S }),
        }),
        { maxLength: 60 },
      ),
      fc.constantFrom(1, 5, 60),
      (trades, interval) => {
        const sorted = trades.slice().sort((
          a,
          b,
        ) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
        deepStrictEqual(buildCandles(sorted, interval), naive(sorted, interval));
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("CandleSeries.add() puts a late trade in its own interval, between candles, and says it is not the last", () => {
  const series = new CandleSeries(5);
  series.add({ price: 100, quantity: 1, time: 0n });
  series.add({ price: 101, quantity: 1, time: 20n * S });
  const before = series.version;
  const late = series.add({ price: 90, quantity: 2, time: 7n * S });
  strictEqual(late.isLast, false);
  deepStrictEqual(late.candle, { time: 5, open: 90, high: 90, low: 90, close: 90, volume: 2 });
  deepStrictEqual(series.candles().map((c) => c.time), [0, 5, 20]);
  strictEqual(series.version > before, true);
});

Deno.test("CandleSeries keeps at most its maximum, dropping the oldest", () => {
  const series = new CandleSeries(1, 3);
  for (let i = 0n; i < 5n; i++) series.add({ price: Number(i) + 1, quantity: 1, time: i * S });
  deepStrictEqual(series.candles().map((c) => c.time), [2, 3, 4]);
  strictEqual(series.length, 3);
  strictEqual(series.last()?.close, 5);
});

Deno.test("CandleSeries refuses an interval that is not a whole number of seconds", () => {
  throws(() => new CandleSeries(0.5), /whole number of seconds, got 0.5/);
  throws(() => new CandleSeries(0), RangeError);
});

Deno.test("mergeCandles() lets the page's own candle win over history's for the same interval", () => {
  const c = (time: number, close: number) => ({ time, open: 1, high: 9, low: 1, close, volume: 1 });
  deepStrictEqual(mergeCandles([c(10, 1), c(0, 0)], [c(10, 2), c(20, 3)]), [
    c(0, 0),
    c(10, 2),
    c(20, 3),
  ]);
});
