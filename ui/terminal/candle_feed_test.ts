import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { CandleFeed, type CandleView } from "./candle_feed.ts";
import { type Candle, type CandleHistory, CandleSeries, NO_HISTORY } from "./candles.ts";
import type { Instrument } from "./ticket.ts";

const S = 1_000_000_000n;
const instrument = (symbol: string): Instrument => ({
  symbol,
  name: symbol,
  priceDecimals: 2,
  tick: 1,
  lotSize: 1,
  maxOrderQty: undefined,
});

/** A chart that writes down what it was asked to draw. */
function recorder() {
  const calls: string[] = [];
  const mount = ({ instrument, theme }: { instrument: Instrument; theme: string }): CandleView => {
    calls.push(`mount ${instrument.symbol} ${theme}`);
    return {
      show: (c: readonly Candle[]) => calls.push(`show ${c.map((x) => x.close).join(",")}`),
      update: (c: Candle) => calls.push(`update ${c.time} ${c.close}`),
      dispose: () => calls.push("dispose"),
    };
  };
  return { calls, mount };
}

Deno.test("CandleFeed draws all at first, then only the last candle, at most every refresh interval", () => {
  const { calls, mount } = recorder();
  const feed = new CandleFeed(mount, NO_HISTORY, 100);
  const series = new CandleSeries(5);
  const aapl = instrument("AAPL");
  series.add({ price: 100, quantity: 1, time: 0n });
  strictEqual(feed.step({ instrument: aapl, theme: "dark", series, now: 0 }), 0);
  series.add({ price: 101, quantity: 1, time: 1n * S });
  // 40 ms later: too soon; call again in 60 ms.
  strictEqual(feed.step({ instrument: aapl, theme: "dark", series, now: 40 }), 60);
  strictEqual(feed.step({ instrument: aapl, theme: "dark", series, now: 100 }), 0);
  // Nothing changed since: nothing drawn.
  strictEqual(feed.step({ instrument: aapl, theme: "dark", series, now: 250 }), 0);
  series.add({ price: 99, quantity: 1, time: 6n * S });
  feed.step({ instrument: aapl, theme: "dark", series, now: 400 });
  deepStrictEqual(calls, ["mount AAPL dark", "show 100", "update 0 101", "update 5 99"]);
});

Deno.test("CandleFeed draws everything again when an older candle changed, and for a new symbol or theme at once", () => {
  const { calls, mount } = recorder();
  const feed = new CandleFeed(mount, NO_HISTORY, 100);
  const a = new CandleSeries(5);
  const b = new CandleSeries(5);
  a.add({ price: 100, quantity: 1, time: 0n });
  a.add({ price: 110, quantity: 1, time: 10n * S });
  b.add({ price: 7, quantity: 1, time: 0n });
  feed.step({ instrument: instrument("AAPL"), theme: "dark", series: a, now: 0 });
  a.add({ price: 90, quantity: 1, time: 6n * S }); // a late print between the two
  feed.step({ instrument: instrument("AAPL"), theme: "dark", series: a, now: 200 });
  feed.step({ instrument: instrument("MSFT"), theme: "dark", series: b, now: 210 }); // not held back
  feed.step({ instrument: instrument("MSFT"), theme: "light", series: b, now: 220 });
  feed.dispose();
  deepStrictEqual(calls, [
    "mount AAPL dark",
    "show 100,110",
    "show 100,90,110",
    "dispose",
    "mount MSFT dark",
    "show 7",
    "dispose",
    "mount MSFT light",
    "show 7",
    "dispose",
  ]);
});

Deno.test("CandleFeed lays a symbol's history under its candles once it arrives, the page's own winning", async () => {
  const { calls, mount } = recorder();
  const older = [
    { time: 0, open: 1, high: 1, low: 1, close: 50, volume: 1 },
    { time: 5, open: 1, high: 1, low: 1, close: 60, volume: 1 },
  ];
  const history: CandleHistory = { candles: () => Promise.resolve(older) };
  const feed = new CandleFeed(mount, history, 100);
  const series = new CandleSeries(5);
  series.add({ price: 100, quantity: 1, time: 5n * S });
  feed.step({ instrument: instrument("AAPL"), theme: "dark", series, now: 0 });
  await Promise.resolve();
  await Promise.resolve();
  deepStrictEqual(calls, ["mount AAPL dark", "show 100", "show 50,100"]);
});
