import fc from "fast-check";
import { CHANGE_PERCENT_DECIMALS, DAY_MS, QuoteBook } from "./quote_book.ts";
import { marketDataTop, type TopOfBook } from "./top_of_book.ts";
import { roundTo } from "./decimal.ts";
import { MarketData } from "../marketdata/mod.ts";
import { type EngineEvent, EventKind, loadInstruments, ReferenceMatcher } from "../matching/mod.ts";
import { randomCommandStream } from "../matching/matcher_suite.ts";
import { parseQuoteSnapshot, type QuoteSnapshot } from "../../schemas/quotes.ts";
import assert from "node:assert";

const instruments = loadInstruments();
const AAPL = 0;
const BRK_B = instruments.findIndex((i) => i.symbol === "BRK.B");
const ES = instruments.findIndex((i) => i.symbol === "ES-FUT");

/** 2025-11-24T16:00:00Z, and its engine time in ns. */
const T0 = Date.UTC(2025, 10, 24, 16);
const ns = (ms: number) => BigInt(ms) * 1_000_000n;

const EMPTY: TopOfBook = { bidPrice: 0, bidSize: 0, askPrice: 0, askSize: 0, sequence: 0 };

/** A quote book whose top of book is whatever `tops` holds (empty by default). */
function book(tops: TopOfBook[] = []) {
  return new QuoteBook({ instruments, top: (i) => tops[i] ?? EMPTY });
}

let nextId = 1;
const trade = (instrument: number, price: number, qty: number): EngineEvent => ({
  kind: EventKind.OrderTraded,
  instrument,
  taker: nextId++,
  maker: nextId++,
  price,
  qty,
});

/** Every snapshot passes the contract's validator; returns them by symbol. */
function checked(snapshots: QuoteSnapshot[]): Map<string, QuoteSnapshot> {
  for (const s of snapshots) {
    const parsed = parseQuoteSnapshot(s);
    assert(parsed.ok, `${s.symbol}: ${parsed.ok ? "" : parsed.problem}`);
  }
  return new Map(snapshots.map((s) => [s.symbol, s]));
}

Deno.test("collect() makes ES-FUT's day from quarter-point trades as computed by hand", () => {
  const quotes = book();
  quotes.apply([trade(ES, 560_000, 2), trade(ES, 560_050, 1)], ns(T0));
  quotes.apply([trade(ES, 559_975, 3)], ns(T0 + 1000));
  quotes.apply([trade(ES, 560_025, 4)], ns(T0 + 2000));
  const es = checked(quotes.collect(5, T0 + 2100)).get("ES-FUT");
  assert.deepStrictEqual(es, {
    format: 1,
    symbol: "ES-FUT",
    name: "E-mini S&P 500 Future",
    priceDecimals: 2,
    lastTrade: { price: 5600.25, size: 4, time: T0 + 2000 },
    bid: null,
    ask: null,
    // Σ price × qty = 1,120,000 + 560,050 + 1,679,925 + 2,240,100 = 5,600,075 units × lots
    // over 10 lots: 560,007.5 units = 5600.075, half away from zero to 5600.08.
    day: {
      open: 5600,
      high: 5600.5,
      low: 5599.75,
      close: 5600.25,
      volume: 10,
      vwap: 5600.08,
      trades: 4,
    },
    prevClose: 5600, // the table's referencePrice, 560,000 units
    change: 0.25,
    changePercent: 0.0045, // 25 / 560,000 × 100 = 0.004464…
    week52: null,
    sequence: 0,
    updated: T0 + 2100,
    version: 5,
  });
});

Deno.test("collect() gives BRK.B a negative change below its previous close", () => {
  const quotes = book();
  quotes.apply([trade(BRK_B, 45_001, 5), trade(BRK_B, 44_999, 5)], ns(T0));
  const brk = checked(quotes.collect(1, T0)).get("BRK.B")!;
  assert.deepStrictEqual(brk.lastTrade, { price: 449.99, size: 5, time: T0 });
  assert.deepStrictEqual(brk.day, {
    open: 450.01,
    high: 450.01,
    low: 449.99,
    close: 449.99,
    volume: 10,
    vwap: 450,
    trades: 2,
  });
  assert.deepStrictEqual([brk.prevClose, brk.change, brk.changePercent], [450, -0.01, -0.0022]);
});

Deno.test("collect() shows the top of book as read from the source, null for an empty side", () => {
  const tops: TopOfBook[] = [];
  tops[ES] = { bidPrice: 559_975, bidSize: 12, askPrice: 0, askSize: 0, sequence: 17 };
  const quotes = book(tops);
  quotes.apply([{ kind: EventKind.OrderAccepted, id: 1, instrument: ES }], ns(T0));
  const es = checked(quotes.collect(1, T0)).get("ES-FUT")!;
  assert.deepStrictEqual([es.bid, es.ask, es.sequence], [{ price: 5599.75, size: 12 }, null, 17]);
  // No trade yet: no last trade, no day, no change; the previous close is known.
  assert.deepStrictEqual([es.lastTrade, es.day, es.prevClose, es.change, es.changePercent], [
    null,
    null,
    5600,
    null,
    null,
  ]);
});

Deno.test("collect() returns only the symbols whose snapshot changed since the last one", () => {
  const tops: TopOfBook[] = instruments.map(() => ({ ...EMPTY }));
  const quotes = book(tops);
  assert.deepStrictEqual(quotes.collect(1, T0, true).length, instruments.length);
  assert.deepStrictEqual(quotes.collect(2, T0), [], "nothing happened");
  // A reject changes nothing; an event on no instrument is ignored.
  quotes.apply(
    [{ kind: EventKind.OrderRejected, id: 9, instrument: AAPL, reason: "invalid_qty" }],
    0n,
  );
  quotes.apply([{ kind: EventKind.OrderAccepted, id: 9, instrument: 0xffff_ffff }], 0n);
  assert.deepStrictEqual(quotes.collect(2, T0), []);
  // An accepted IOC that expired untraded touched the book but changed nothing visible.
  quotes.apply([
    { kind: EventKind.OrderAccepted, id: 10, instrument: AAPL },
    { kind: EventKind.OrderExpired, id: 10, instrument: AAPL, leaves: 1 },
  ], 0n);
  assert.deepStrictEqual(quotes.collect(2, T0), []);
  // A deeper level changed: the market data sequence moved, so the snapshot did.
  quotes.apply([{ kind: EventKind.OrderAccepted, id: 11, instrument: AAPL }], 0n);
  tops[AAPL] = { ...EMPTY, sequence: 1 };
  quotes.apply([trade(ES, 560_000, 1)], ns(T0));
  assert.deepStrictEqual(quotes.collect(3, T0).map((s) => [s.symbol, s.sequence, s.version]), [
    ["AAPL", 1, 3],
    ["ES-FUT", 0, 3],
  ]);
  assert.deepStrictEqual(quotes.collect(4, T0), []);
});

Deno.test("requeue() makes collect() return symbols again whose snapshots were not written", () => {
  const quotes = book();
  quotes.apply([trade(AAPL, 19_000, 1)], ns(T0));
  assert.deepStrictEqual(quotes.collect(1, T0).map((s) => s.symbol), ["AAPL"]);
  quotes.requeue(["AAPL", "NOPE"]);
  assert.deepStrictEqual(quotes.collect(2, T0).map((s) => [s.symbol, s.version]), [["AAPL", 2]]);
});

Deno.test("a new UTC day starts the day afresh, with yesterday's close as the previous close", () => {
  const quotes = book();
  const midnight = Math.ceil(T0 / DAY_MS) * DAY_MS;
  quotes.apply([trade(AAPL, 19_100, 2), trade(AAPL, 19_200, 1)], ns(midnight - 60_000));
  quotes.collect(1, midnight - 1);
  // Past midnight, before a trade: no day, the last trade is yesterday's, change 0.
  let aapl = checked(quotes.collect(2, midnight + 5)).get("AAPL")!;
  assert.deepStrictEqual([aapl.day, aapl.prevClose, aapl.change, aapl.changePercent], [
    null,
    192,
    0,
    0,
  ]);
  assert.deepStrictEqual(aapl.lastTrade, { price: 192, size: 1, time: midnight - 60_000 });
  assert.deepStrictEqual(quotes.collect(3, midnight + 10), [], "the day closes once");
  quotes.apply([trade(AAPL, 19_296, 4)], ns(midnight + 1000));
  aapl = checked(quotes.collect(4, midnight + 1100)).get("AAPL")!;
  assert.deepStrictEqual(aapl.day, {
    open: 192.96,
    high: 192.96,
    low: 192.96,
    close: 192.96,
    volume: 4,
    vwap: 192.96,
    trades: 1,
  });
  assert.deepStrictEqual([aapl.prevClose, aapl.change, aapl.changePercent], [192, 0.96, 0.5]);

  // A trade on the next day closes the day by itself, without a collect in between.
  quotes.apply([trade(AAPL, 19_000, 1)], ns(midnight + DAY_MS + 1));
  aapl = checked(quotes.collect(5, midnight + DAY_MS + 2)).get("AAPL")!;
  assert.deepStrictEqual([aapl.prevClose, aapl.day?.open, aapl.day?.volume], [192.96, 190, 1]);
});

Deno.test("resume() restores today's statistics from a stored snapshot, and later trades add to them", () => {
  const quotes = book();
  const stored: QuoteSnapshot = {
    format: 1,
    symbol: "ES-FUT",
    name: "E-mini",
    priceDecimals: 2,
    lastTrade: { price: 5601.5, size: 2, time: T0 - 60_000 },
    bid: { price: 5601.25, size: 3 },
    ask: null,
    day: {
      open: 5598,
      high: 5602,
      low: 5597.5,
      close: 5601.5,
      volume: 100,
      vwap: 5600,
      trades: 30,
    },
    prevClose: 5599,
    change: 2.5,
    changePercent: 0.0447,
    week52: null,
    sequence: 812,
    updated: T0 - 59_900,
    version: 77,
  };
  assert.deepStrictEqual(quotes.resume(stored, T0), true);
  quotes.apply([trade(ES, 561_000, 100)], ns(T0));
  const es = checked(quotes.collect(78, T0)).get("ES-FUT")!;
  assert.deepStrictEqual(es.day, {
    open: 5598,
    high: 5610,
    low: 5597.5,
    close: 5610,
    volume: 200,
    vwap: 5605, // (5600 × 100 + 5610 × 100) / 200
    trades: 31,
  });
  assert.deepStrictEqual([es.prevClose, es.change, es.changePercent], [5599, 11, 0.1965]);
  assert.deepStrictEqual(quotes.resume(stored, T0), false, "it traded here: nothing to restore");
});

Deno.test("resume() takes yesterday's last trade as the previous close, and ignores another precision", () => {
  const quotes = book();
  const stored: QuoteSnapshot = {
    format: 1,
    symbol: "AAPL",
    name: "Apple Inc.",
    priceDecimals: 2,
    lastTrade: { price: 191.23, size: 2, time: T0 - DAY_MS },
    bid: null,
    ask: null,
    day: { open: 190, high: 192, low: 189, close: 191.23, volume: 9, vwap: 190.5, trades: 3 },
    prevClose: 190,
    change: 1.23,
    changePercent: 0.6474,
    week52: null,
    sequence: 3,
    updated: T0 - DAY_MS,
    version: 9,
  };
  assert.deepStrictEqual(quotes.resume(stored, T0), true);
  assert.deepStrictEqual(quotes.resume({ ...stored, symbol: "MSFT", priceDecimals: 4 }, T0), false);
  assert.deepStrictEqual(quotes.resume({ ...stored, symbol: "GOOGL", lastTrade: null }, T0), false);
  assert.deepStrictEqual(quotes.resume({ ...stored, symbol: "NOPE" }, T0), false);
  const aapl = checked(quotes.collect(10, T0)).get("AAPL")!;
  assert.deepStrictEqual([aapl.day, aapl.prevClose, aapl.change, aapl.lastTrade?.price], [
    null,
    191.23,
    0,
    191.23,
  ]);
});

const QQQ = instruments.findIndex((i) => i.symbol === "QQQ");
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

Deno.test("trades of 2^53 - 1 lots keep the snapshot valid: the volume saturates, the VWAP stays exact", () => {
  const quotes = book();
  // Two trades of 2^53 - 1 lots once froze QQQ's public quote: the day's
  // volume passed 2^53 and the edge refused every snapshot until midnight.
  quotes.apply([trade(QQQ, 48_000, MAX_SAFE)], ns(T0));
  quotes.apply([trade(QQQ, 48_000, MAX_SAFE), trade(QQQ, 48_300, MAX_SAFE)], ns(T0 + 1));
  const qqq = checked(quotes.collect(1, T0 + 10)).get("QQQ")!;
  assert.deepStrictEqual(qqq.day, {
    open: 480,
    high: 483,
    low: 480,
    close: 483,
    volume: MAX_SAFE,
    vwap: 481, // (480 + 480 + 483) / 3, equal quantities
    trades: 3,
  });
  assert.deepStrictEqual(qqq.lastTrade?.size, MAX_SAFE);
  // The next day starts afresh, from exact numbers again.
  quotes.apply([trade(QQQ, 48_100, 7)], ns(T0 + DAY_MS));
  const next = checked(quotes.collect(2, T0 + DAY_MS)).get("QQQ")!;
  assert.deepStrictEqual([next.day?.volume, next.day?.vwap, next.prevClose], [7, 481, 483]);
});

Deno.test("the VWAP's numerator loses no trade however large it grows", () => {
  const quotes = book();
  // Σ price × lots at 2^80: a double's step there is 2^28 units × lots, so a
  // double numerator would drop each of the small trades that follow whole.
  const big = { price: 2 ** 52, qty: 2 ** 28 };
  const small = { price: 1_000_000, qty: 100 };
  quotes.apply([trade(AAPL, big.price, big.qty)], ns(T0));
  for (let i = 0; i < 1000; i++) quotes.apply([trade(AAPL, small.price, small.qty)], ns(T0));
  const aapl = checked(quotes.collect(1, T0)).get("AAPL")!;
  const notional = BigInt(big.price) * BigInt(big.qty) + 1000n * BigInt(small.price * small.qty);
  const volume = BigInt(big.qty + 1000 * small.qty);
  const exactUnits = Number(notional / volume); // to the unit below; a unit is 0.01 here
  assert.deepStrictEqual(aapl.day?.volume, big.qty + 1000 * small.qty);
  const vwap = aapl.day!.vwap;
  // A double numerator gives 3.72 less (1000 × 10^8 units × lots lost over 2.7 × 10^8 lots).
  assert(Math.abs(vwap - exactUnits / 100) <= 0.02, `${vwap} vs ${exactUnits / 100}`);
});

Deno.test("resume() takes a saturated volume back and the snapshots stay valid", () => {
  const quotes = book();
  const stored: QuoteSnapshot = {
    format: 1,
    symbol: "QQQ",
    name: "Invesco QQQ Trust",
    priceDecimals: 2,
    lastTrade: { price: 480, size: MAX_SAFE, time: T0 - 60_000 },
    bid: null,
    ask: null,
    day: { open: 480, high: 480, low: 480, close: 480, volume: MAX_SAFE, vwap: 480, trades: 2 },
    prevClose: 480,
    change: 0,
    changePercent: 0,
    week52: null,
    sequence: 3,
    updated: T0 - 59_900,
    version: 9,
  };
  assert.deepStrictEqual(quotes.resume(stored, T0), true);
  quotes.apply([trade(QQQ, 49_000, 5)], ns(T0));
  const qqq = checked(quotes.collect(10, T0)).get("QQQ")!;
  assert.deepStrictEqual([qqq.day?.volume, qqq.day?.vwap, qqq.day?.trades], [MAX_SAFE, 480, 3]);
});

Deno.test("the day's statistics equal a plain computation over any trades", () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 1000 })), {
        minLength: 1,
        maxLength: 60,
      }),
      (ticks) => {
        const quotes = book();
        // ES-FUT around its reference price, on its 25-unit grid.
        const trades = ticks.map(([t, qty]) => ({ price: 559_500 + 25 * t, qty }));
        for (const { price, qty } of trades) quotes.apply([trade(ES, price, qty)], ns(T0));
        const es = checked(quotes.collect(1, T0)).get("ES-FUT")!;
        const prices = trades.map((t) => t.price);
        const volume = trades.reduce((v, t) => v + t.qty, 0);
        const notional = trades.reduce((v, t) => v + t.price * t.qty, 0);
        const last = prices.at(-1)!;
        assert.deepStrictEqual(es.day, {
          open: prices[0]! / 100,
          high: Math.max(...prices) / 100,
          low: Math.min(...prices) / 100,
          close: last / 100,
          volume,
          // Half up, in integers: prices have 2 places, so a unit is the last place.
          vwap: Math.floor((2 * notional + volume) / (2 * volume)) / 100,
          trades: trades.length,
        });
        assert.deepStrictEqual(es.change, (last - 560_000) / 100);
        assert.deepStrictEqual(
          es.changePercent,
          roundTo(((last - 560_000) / 560_000) * 100, CHANGE_PERCENT_DECIMALS),
        );
      },
    ),
  );
});

Deno.test("fed a random stream through the reference matcher, the snapshots show its best bid and ask and its trades", () => {
  for (const seed of [1, 2, 3]) {
    const matcher = new ReferenceMatcher(instruments);
    const market = new MarketData({ instruments });
    const quotes = new QuoteBook({ instruments, top: marketDataTop(market, instruments) });
    const last = new Map<number, { price: number; qty: number }>();
    const volume = new Map<number, number>();
    const commands = randomCommandStream(seed, 3000, instruments);
    let version = 0;
    for (const [n, command] of commands.entries()) {
      const events = matcher.apply(command);
      market.apply(command, events, ns(T0));
      quotes.apply(events, ns(T0));
      for (const e of events) {
        if (e.kind !== EventKind.OrderTraded) continue;
        last.set(e.instrument, { price: e.price, qty: e.qty });
        volume.set(e.instrument, (volume.get(e.instrument) ?? 0) + e.qty);
      }
      if (n % 97 !== 0 && n !== commands.length - 1) continue;
      const made = checked(quotes.collect(++version, T0, version === 1));
      for (const [i, { symbol }] of instruments.entries()) {
        const snapshot = made.get(symbol);
        if (snapshot === undefined) continue;
        const ref = matcher.snapshot(i, 1);
        const side = (levels: typeof ref.bids) => {
          const level = levels[0];
          return level === undefined ? null : {
            price: level.price / 100,
            size: level.orders.reduce((q, o) => q + o.leaves, 0),
          };
        };
        const why = `seed ${seed}, command ${n}, ${symbol}`;
        assert.deepStrictEqual([snapshot.bid, snapshot.ask], [side(ref.bids), side(ref.asks)], why);
        const trade = last.get(i);
        assert.deepStrictEqual(
          snapshot.lastTrade,
          trade === undefined ? null : { price: trade.price / 100, size: trade.qty, time: T0 },
          why,
        );
        assert.deepStrictEqual(snapshot.day?.volume ?? 0, volume.get(i) ?? 0, why);
        assert.deepStrictEqual(snapshot.sequence, Number(market.book(symbol)!.sequence), why);
      }
    }
    assert(volume.size >= 2, `seed ${seed}: the stream traded too little to test`);
  }
});
