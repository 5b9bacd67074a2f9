/**
 * The snapshotter: quote snapshots (top of book, last trade, day
 * statistics) from the engine's events to Deno KV, under the versioned keys
 * of `schemas/quotes.ts`, for the edge to serve to the public.
 *
 * - {@linkcode QuoteBook}: per symbol, the last trade and the day's
 *   statistics, aggregated from every command's events in engine order (fed
 *   by the dispatcher), and the top of book and market data sequence read
 *   from the market data publisher ({@linkcode marketDataTop}) when a
 *   snapshot is made.
 * - {@linkcode Snapshotter}: every `cadenceMs`, one atomic, version-checked
 *   KV write of the symbols that changed; one write in flight at most.
 * - {@linkcode priceDecimals}, {@linkcode toDecimal}: engine price units as
 *   the decimal prices the snapshots carry.
 *
 * Invariants: the core is the only writer of the quote keys (a failed
 * version check stops this writer); aggregation is synchronous and never
 * waits for KV; every value written passes `parseQuoteSnapshot`. This folder
 * reaches the engine only through what the dispatcher hands its listeners,
 * and never imports `core/native/`.
 *
 * @example
 * ```ts
 * import { marketDataTop, QuoteBook, Snapshotter } from "./mod.ts";
 * import { MarketData } from "../marketdata/mod.ts";
 * import { loadInstruments, ReferenceMatcher } from "../matching/mod.ts";
 * import { randomCommandStream } from "../matching/matcher_suite.ts";
 * import { parseQuoteSnapshot, QUOTE_KEYS } from "../../schemas/quotes.ts";
 *
 * const instruments = loadInstruments();
 * const matcher = new ReferenceMatcher(instruments);
 * const market = new MarketData({ instruments });
 * const quotes = new QuoteBook({ instruments, top: marketDataTop(market, instruments) });
 * const kv = await Deno.openKv(":memory:");
 * const snapshotter = new Snapshotter({ kv, quotes });
 * await snapshotter.start();
 * const now = BigInt(Date.now()) * 1_000_000n;
 * for (const command of randomCommandStream(7, 2_000, instruments)) {
 *   const events = matcher.apply(command);
 *   market.apply(command, events, now); // as the dispatcher's listeners would
 *   quotes.apply(events, now);
 * }
 * await snapshotter.close();
 * const es = await kv.get(QUOTE_KEYS.symbol("ES-FUT"));
 * const parsed = parseQuoteSnapshot(es.value);
 * if (!parsed.ok) throw new Error(parsed.problem);
 * console.log(`ES-FUT at version ${parsed.snapshot.version}:`, parsed.snapshot.day);
 * kv.close();
 * ```
 *
 * @module
 */

export * from "./decimal.ts";
export * from "./quote_book.ts";
export * from "./snapshotter.ts";
export * from "./top_of_book.ts";
