/**
 * What the quote pages show of a symbol: {@linkcode QuoteView}, the fields
 * of a {@linkcode QuoteSnapshot} that reach the screen. The server makes
 * one from the cached snapshot ({@linkcode toQuoteView}); the browser makes
 * one from each event of the edge's stream, whose data is the public quote
 * JSON (`edge/ticker.ts`, after Polygon's ticker snapshot), with
 * {@linkcode parseTickerEvent}.
 *
 * `ui/` does not import `edge/` (the edge imports `ui/`), so the ticker's
 * shape is read here by name; `quote_view_test.ts` checks that the edge's
 * own `toTicker` and {@linkcode parseTickerEvent} agree.
 *
 * @module
 */

import type { QuoteSnapshot } from "../schemas/quotes.ts";

/** The fields of a snapshot that the pages show. */
export type QuoteView = Pick<
  QuoteSnapshot,
  | "symbol"
  | "name"
  | "priceDecimals"
  | "lastTrade"
  | "bid"
  | "ask"
  | "day"
  | "prevClose"
  | "change"
  | "changePercent"
  | "week52"
  | "updated"
  | "version"
>;

/**
 * The view of a snapshot: the fields the pages show, and nothing else (the
 * page embeds the views as JSON, so what is not shown is not sent).
 *
 * @param s The snapshot.
 * @returns Its view.
 *
 * @example
 * ```ts
 * import { toQuoteView } from "./quote_view.ts";
 * import { makeSnapshot } from "./_testing/fixtures.ts";
 * const view = toQuoteView(makeSnapshot("AAPL"));
 * if ("sequence" in view || view.symbol !== "AAPL") throw new Error("wrong view");
 * ```
 */
export function toQuoteView(s: QuoteView): QuoteView {
  return {
    symbol: s.symbol,
    name: s.name,
    priceDecimals: s.priceDecimals,
    lastTrade: s.lastTrade,
    bid: s.bid,
    ask: s.ask,
    day: s.day,
    prevClose: s.prevClose,
    change: s.change,
    changePercent: s.changePercent,
    week52: s.week52,
    updated: s.updated,
    version: s.version,
  };
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isNullableNumber = (v: unknown): v is number | null => v === null || isNumber(v);

function side(price: unknown, size: unknown): { price: number; size: number } | null | undefined {
  if (price === null || size === null) return null;
  return isNumber(price) && isNumber(size) ? { price, size } : undefined;
}

/**
 * Reads one `quote` event's data (the edge's ticker JSON) as a view.
 * Anything malformed is refused whole rather than shown half.
 *
 * @param data The event's `data` text.
 * @returns The view, or undefined when the data is not a ticker.
 *
 * @example
 * ```ts
 * import { parseTickerEvent } from "./quote_view.ts";
 * const view = parseTickerEvent(JSON.stringify({
 *   ticker: "AAPL", name: "Apple Inc.", priceDecimals: 2, todaysChange: 1.25,
 *   todaysChangePerc: 1.25, updated: 1764000000000, day: null, prevDay: { c: 100 },
 *   lastTrade: { p: 101.25, s: 3, t: 1763999999900 },
 *   lastQuote: { p: 101.2, s: 10, P: null, S: null }, week52: null, version: 93,
 * }));
 * if (view?.lastTrade?.price !== 101.25 || view.ask !== null) throw new Error("misread");
 * if (parseTickerEvent("{") !== undefined) throw new Error("accepted junk");
 * ```
 */
export function parseTickerEvent(data: string): QuoteView | undefined {
  let t: unknown;
  try {
    t = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (!isObject(t) || typeof t.ticker !== "string" || typeof t.name !== "string") return undefined;
  if (!isNumber(t.priceDecimals) || !isNumber(t.updated) || !isNumber(t.version)) return undefined;
  if (!isNullableNumber(t.todaysChange) || !isNullableNumber(t.todaysChangePerc)) return undefined;

  const q = t.lastQuote;
  if (!isObject(q)) return undefined;
  const bid = side(q.p, q.s);
  const ask = side(q.P, q.S);
  if (bid === undefined || ask === undefined) return undefined;

  const lt = t.lastTrade;
  let lastTrade: QuoteView["lastTrade"] = null;
  if (lt !== null) {
    if (!isObject(lt) || !isNumber(lt.p) || !isNumber(lt.s) || !isNumber(lt.t)) return undefined;
    lastTrade = { price: lt.p, size: lt.s, time: lt.t };
  }

  const d = t.day;
  let day: QuoteView["day"] = null;
  if (d !== null) {
    if (!isObject(d) || !["o", "h", "l", "c", "v", "vw", "n"].every((k) => isNumber(d[k]))) {
      return undefined;
    }
    const n = d as Record<"o" | "h" | "l" | "c" | "v" | "vw" | "n", number>;
    day = {
      open: n.o,
      high: n.h,
      low: n.l,
      close: n.c,
      volume: n.v,
      vwap: n.vw,
      trades: n.n,
    };
  }

  const prev = t.prevDay;
  if (prev !== null && !(isObject(prev) && isNumber(prev.c))) return undefined;
  const w = t.week52;
  if (w !== null && !(isObject(w) && isNumber(w.h) && isNumber(w.l))) return undefined;

  return {
    symbol: t.ticker,
    name: t.name,
    priceDecimals: t.priceDecimals,
    lastTrade,
    bid,
    ask,
    day,
    prevClose: prev === null ? null : prev.c as number,
    change: t.todaysChange,
    changePercent: t.todaysChangePerc,
    week52: w === null ? null : { high: w.h as number, low: w.l as number },
    updated: t.updated,
    version: t.version,
  };
}
