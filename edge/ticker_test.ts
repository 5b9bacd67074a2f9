import { tickerJson, toTicker } from "./ticker.ts";
import assert from "node:assert";
import { makeSnapshot } from "./_testing/kv.ts";

Deno.test("toTicker maps every field, keeping nulls", () => {
  const s = makeSnapshot("ES-FUT", {
    priceDecimals: 4,
    bid: null,
    week52: { high: 5000.25, low: 4000.5 },
    version: 12,
  });
  assert.deepStrictEqual(toTicker(s), {
    ticker: "ES-FUT",
    name: "ES-FUT Inc.",
    priceDecimals: 4,
    todaysChange: 1.25,
    todaysChangePerc: 1.25,
    updated: s.updated,
    day: { o: 100, h: 102, l: 99.5, c: 101.25, v: 1200, vw: 100.9, n: 88 },
    prevDay: { c: 100 },
    lastTrade: { p: 101.25, s: 3, t: s.lastTrade!.time },
    lastQuote: { p: null, s: null, P: 101.3, S: 7 },
    week52: { h: 5000.25, l: 4000.5 },
    version: 12,
  });
  assert.deepStrictEqual(JSON.parse(tickerJson(s)), toTicker(s));
});
