/**
 * The public JSON shape of one symbol's quote, after the familiar
 * market-data snapshot APIs (Polygon's ticker snapshot), made from a
 * {@linkcode QuoteSnapshot}.
 *
 * ```jsonc
 * {
 *   "ticker": "AAPL",              // the symbol
 *   "name": "Apple Inc.",
 *   "priceDecimals": 2,            // decimals to print prices with
 *   "todaysChange": 1.25,          // last − previous close, or null
 *   "todaysChangePerc": 1.25,      // that change in percent of the previous close, or null
 *   "updated": 1764000000000,      // when the core made the snapshot (ms since the epoch)
 *   "day": { "o": 100, "h": 102, "l": 99.5, "c": 101.25, "v": 1200, "vw": 100.9, "n": 88 },
 *                                  // or null before today's first trade
 *   "prevDay": { "c": 100 },       // or null when the previous close is unknown
 *   "lastTrade": { "p": 101.25, "s": 3, "t": 1763999999900 },  // or null before the first
 *   "lastQuote": { "p": 101.2, "s": 10, "P": 101.3, "S": 7 },
 *                                  // p/s: best bid and size, P/S: best ask and size; null when that side is empty
 *   "week52": { "h": 120, "l": 80 },  // or null until history exists
 *   "version": 93                  // the KV version this snapshot was written with
 * }
 * ```
 *
 * Prices are decimal numbers in the quote currency; sizes and volumes are
 * lots; times are milliseconds since the Unix epoch (Polygon uses
 * nanoseconds). A value that does not exist is `null`, never 0.
 *
 * @module
 */

import type { QuoteSnapshot } from "../schemas/quotes.ts";

/** One symbol's quote as the API answers it. */
export interface Ticker {
  readonly ticker: string;
  readonly name: string;
  readonly priceDecimals: number;
  readonly todaysChange: number | null;
  readonly todaysChangePerc: number | null;
  readonly updated: number;
  readonly day: {
    readonly o: number;
    readonly h: number;
    readonly l: number;
    readonly c: number;
    readonly v: number;
    readonly vw: number;
    readonly n: number;
  } | null;
  readonly prevDay: { readonly c: number } | null;
  readonly lastTrade: { readonly p: number; readonly s: number; readonly t: number } | null;
  readonly lastQuote: {
    readonly p: number | null;
    readonly s: number | null;
    readonly P: number | null;
    readonly S: number | null;
  };
  readonly week52: { readonly h: number; readonly l: number } | null;
  readonly version: number;
}

/**
 * Maps a snapshot to its public shape.
 *
 * @param s The snapshot.
 * @returns The ticker.
 *
 * @example
 * ```ts
 * import { toTicker } from "./ticker.ts";
 * import { makeSnapshot } from "./_testing/kv.ts";
 * const t = toTicker(makeSnapshot("AAPL", { ask: null }));
 * if (t.lastQuote.P !== null || t.lastQuote.p !== 101.2) throw new Error("wrong sides");
 * ```
 */
export function toTicker(s: QuoteSnapshot): Ticker {
  const d = s.day;
  return {
    ticker: s.symbol,
    name: s.name,
    priceDecimals: s.priceDecimals,
    todaysChange: s.change,
    todaysChangePerc: s.changePercent,
    updated: s.updated,
    day: d === null
      ? null
      : { o: d.open, h: d.high, l: d.low, c: d.close, v: d.volume, vw: d.vwap, n: d.trades },
    prevDay: s.prevClose === null ? null : { c: s.prevClose },
    lastTrade: s.lastTrade === null
      ? null
      : { p: s.lastTrade.price, s: s.lastTrade.size, t: s.lastTrade.time },
    lastQuote: {
      p: s.bid?.price ?? null,
      s: s.bid?.size ?? null,
      P: s.ask?.price ?? null,
      S: s.ask?.size ?? null,
    },
    week52: s.week52 === null ? null : { h: s.week52.high, l: s.week52.low },
    version: s.version,
  };
}

// Snapshots are immutable and replaced whole, so each is serialised at most
// once, on its first request, and its string dies with it.
const serialised = new WeakMap<QuoteSnapshot, string>();

/**
 * The ticker of a snapshot as JSON text, made once per snapshot.
 *
 * @param s The snapshot.
 * @returns `JSON.stringify(toTicker(s))`, from a memo after the first call.
 *
 * @example
 * ```ts
 * import { tickerJson } from "./ticker.ts";
 * import { makeSnapshot } from "./_testing/kv.ts";
 * const s = makeSnapshot("MSFT");
 * if (JSON.parse(tickerJson(s)).ticker !== "MSFT") throw new Error("wrong json");
 * if (tickerJson(s) !== tickerJson(s)) throw new Error("not memoised");
 * ```
 */
export function tickerJson(s: QuoteSnapshot): string {
  let json = serialised.get(s);
  if (json === undefined) {
    json = JSON.stringify(toTicker(s));
    serialised.set(s, json);
  }
  return json;
}
