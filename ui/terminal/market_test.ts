import { deepStrictEqual } from "node:assert/strict";
import { MarketStore } from "./market.ts";

const S = 1_000_000_000n;

Deno.test("MarketStore feeds each symbol's candles and sparkline from its trades, once each", () => {
  const market = new MarketStore([]);
  market.apply({
    type: "bookSnapshot",
    symbol: "AAPL",
    sequence: 1n,
    bids: [],
    asks: [],
    engineTime: 0n,
  });
  const trade = (sequence: bigint, price: number, quantity: number, time: bigint) =>
    market.apply({
      type: "trade",
      symbol: "AAPL",
      sequence,
      tradeId: sequence,
      price,
      quantity,
      aggressorSide: "buy",
      engineTime: time,
    });
  trade(2n, 10_000, 2, 100n * S);
  trade(3n, 10_020, 1, 101n * S);
  trade(3n, 10_020, 1, 101n * S); // the same again (old): not counted twice
  trade(4n, 9_990, 5, 106n * S);
  market.commit();
  deepStrictEqual(market.candles("AAPL").candles(), [
    { time: 100, open: 10_000, high: 10_020, low: 10_000, close: 10_020, volume: 3 },
    { time: 105, open: 9_990, high: 9_990, low: 9_990, close: 9_990, volume: 5 },
  ]);
  deepStrictEqual(market.trail("AAPL").points(), [10_000, 10_020, 9_990]);
  deepStrictEqual(market.candles("MSFT").candles(), []);
});
