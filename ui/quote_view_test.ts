import { deepStrictEqual, strictEqual } from "node:assert/strict";
// Test only: the edge imports ui/, never the reverse. This is where the two
// readings of the ticker JSON (the edge's writer, the page's reader) meet.
import { tickerJson } from "../edge/ticker.ts";
import { parseTickerEvent, toQuoteView } from "./quote_view.ts";
import { esFutSnapshot, makeSnapshot } from "./_testing/fixtures.ts";

Deno.test("parseTickerEvent() reads back what the edge's tickerJson() writes, nulls included", () => {
  const snapshots = [
    makeSnapshot("AAPL"),
    esFutSnapshot({ week52: { high: 5600.5, low: 4800.25 } }),
    makeSnapshot("EMPTY", {
      lastTrade: null,
      bid: null,
      ask: null,
      day: null,
      prevClose: null,
      change: null,
      changePercent: null,
    }),
    makeSnapshot("ONESIDE", { bid: null }),
  ];
  for (const s of snapshots) {
    deepStrictEqual(parseTickerEvent(tickerJson(s)), toQuoteView(s), s.symbol);
  }
});

Deno.test("parseTickerEvent() refuses malformed data whole", () => {
  const good = JSON.parse(tickerJson(makeSnapshot("AAPL")));
  const broken: unknown[] = [
    "not json",
    null,
    [],
    { ...good, ticker: 1 },
    { ...good, lastTrade: { p: "1", s: 1, t: 1 } },
    { ...good, lastQuote: null },
    { ...good, lastQuote: { p: 1, s: "1", P: null, S: null } },
    { ...good, day: { o: 1 } },
    { ...good, prevDay: {} },
    { ...good, todaysChange: "1" },
    { ...good, version: undefined },
  ];
  for (const b of broken) {
    const text = typeof b === "string" ? b : JSON.stringify(b);
    strictEqual(parseTickerEvent(text), undefined, text.slice(0, 80));
  }
});

Deno.test("toQuoteView() keeps only what the pages show", () => {
  deepStrictEqual(
    Object.keys(toQuoteView(makeSnapshot("AAPL"))).sort(),
    [
      "ask",
      "bid",
      "change",
      "changePercent",
      "day",
      "lastTrade",
      "name",
      "prevClose",
      "priceDecimals",
      "symbol",
      "updated",
      "version",
      "week52",
    ],
  );
});
