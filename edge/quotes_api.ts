/**
 * The handlers of the public API under `/api/v1`, answering from the
 * {@linkcode SnapshotCache} only. The shapes are documented in `mod.ts`.
 *
 * Conditional requests are decided first: the entity tag comes from the
 * snapshots' versions (`etag.ts`), so a matching `If-None-Match` is answered
 * 304 before any JSON is made. The JSON of each snapshot is made once, on
 * its first request (`ticker.ts`).
 *
 * @module
 */

import type { Context, Handler } from "hono";
import type { QuoteSnapshot } from "../schemas/quotes.ts";
import { SYMBOL_PATTERN, SYMBOL_RULE_TEXT } from "../schemas/vocabulary/names.ts";
import { ifNoneMatch, snapshotsEtag } from "./etag.ts";
import { type EventStreams, UNKNOWN_ADDRESS } from "./event_stream.ts";
import { problem } from "./problem.ts";
import { parseSymbolsParam, parseVersion, parseVersionParam } from "./query_params.ts";
import type { SnapshotCache } from "./snapshot_cache.ts";
import { tickerJson } from "./ticker.ts";

/** `Cache-Control` of quotes: shared caches may keep them 1 s, and serve them 5 s stale while revalidating. */
export const QUOTE_CACHE_CONTROL = "public, max-age=0, s-maxage=1, stale-while-revalidate=5";

/** `Cache-Control` of the instrument list, which changes rarely. */
export const SYMBOLS_CACHE_CONTROL = "public, max-age=60, stale-while-revalidate=300";

/** The representation tag of the quote JSON in entity tags; bump it when the shape changes. */
const QUOTE_TAG = "q1";

/** The detail of the 503 answered before the cache's first read. */
export const NOT_LOADED_DETAIL = "Cannot answer yet: the snapshots have not been read";

/**
 * The 503 answered before the cache's first read.
 *
 * @returns The response.
 */
export function notLoaded(): Response {
  return problem("not_ready", NOT_LOADED_DETAIL, { headers: { "retry-after": "1" } });
}

/**
 * A 304 with the validators and caching headers of the 200 it stands for.
 *
 * @param etag The entity tag.
 * @param cacheControl The `Cache-Control` of the 200.
 * @returns The response.
 */
export function notModified(etag: string, cacheControl: string): Response {
  return new Response(null, { status: 304, headers: { etag, "cache-control": cacheControl } });
}

/** Why a path's symbol has no snapshot: a reason and what to say. */
export interface SymbolMiss {
  readonly reason: "bad_symbol" | "unknown_symbol";
  readonly detail: string;
}

/**
 * Checks a path's symbol and finds its snapshot.
 *
 * @param cache The cache.
 * @param symbol The path parameter.
 * @returns The snapshot, or why there is none.
 *
 * @example
 * ```ts
 * import { lookUpSymbol } from "./quotes_api.ts";
 * import { SnapshotCache } from "./snapshot_cache.ts";
 * const kv = await Deno.openKv(":memory:");
 * const cache = new SnapshotCache({ kv });
 * const miss = lookUpSymbol(cache, "aapl");
 * if ("symbol" in miss || miss.reason !== "bad_symbol") throw new Error("found");
 * kv.close();
 * ```
 */
export function lookUpSymbol(cache: SnapshotCache, symbol: string): QuoteSnapshot | SymbolMiss {
  if (!SYMBOL_PATTERN.test(symbol)) {
    return {
      reason: "bad_symbol",
      detail: `Cannot find symbol: ${
        JSON.stringify(symbol.slice(0, 24))
      } is not ${SYMBOL_RULE_TEXT}`,
    };
  }
  return cache.get(symbol) ??
    { reason: "unknown_symbol", detail: `Cannot find symbol: there is no quote for ${symbol}` };
}

/**
 * Checks a path's symbol and finds its snapshot.
 *
 * @param cache The cache.
 * @param symbol The path parameter.
 * @returns The snapshot, or the 400 or 404 to answer.
 */
export function findSymbol(cache: SnapshotCache, symbol: string): QuoteSnapshot | Response {
  const found = lookUpSymbol(cache, symbol);
  return "symbol" in found ? found : problem(found.reason, found.detail);
}

/**
 * Finds the snapshots of a `symbols` parameter (all when absent).
 *
 * @param cache The cache.
 * @param c The request's context.
 * @param maxSymbols The most symbols one request may name.
 * @returns The snapshots, or the 400 or 404 to answer.
 */
export function findSymbols(
  cache: SnapshotCache,
  c: Context,
  maxSymbols: number,
): readonly QuoteSnapshot[] | Response {
  const parsed = parseSymbolsParam(c.req.queries("symbols"), maxSymbols);
  if (!parsed.ok) return problem("bad_parameter", parsed.detail, { parameter: "symbols" });
  if (parsed.value === undefined) return cache.all();
  const found: QuoteSnapshot[] = [];
  const unknown: string[] = [];
  for (const symbol of parsed.value) {
    const s = cache.get(symbol);
    if (s === undefined) unknown.push(symbol);
    else found.push(s);
  }
  if (unknown.length > 0) {
    const named = unknown.slice(0, 5).join(", ") + (unknown.length > 5 ? ", …" : "");
    return problem("unknown_symbol", `Cannot find symbols: there is no quote for ${named}`);
  }
  return found;
}

/** The answer to `GET /api/v1/quotes/:symbol` for one snapshot. */
export interface QuoteEntity {
  /** The entity tag, quotes included. */
  readonly etag: string;
  /** `{"status":"OK","ticker":Ticker}`. */
  readonly body: string;
}

// Snapshots are immutable and replaced whole: each one's answer is made at
// most once, on its first request, and dies with it.
const entities = new WeakMap<QuoteSnapshot, QuoteEntity>();

/**
 * The entity tag and JSON of one symbol's quote, made once per snapshot.
 *
 * @param s The snapshot.
 * @returns Its tag and body (the same object every call).
 *
 * @example
 * ```ts
 * import { quoteEntity } from "./quotes_api.ts";
 * import { makeSnapshot } from "./_testing/kv.ts";
 * const e = quoteEntity(makeSnapshot("AAPL", { version: 7, updated: 36 }));
 * if (e.etag !== '"q1-7-10-1"' || JSON.parse(e.body).ticker.ticker !== "AAPL") throw new Error();
 * ```
 */
export function quoteEntity(s: QuoteSnapshot): QuoteEntity {
  let entity = entities.get(s);
  if (entity === undefined) {
    entity = {
      etag: snapshotsEtag(QUOTE_TAG, [s]),
      body: `{"status":"OK","ticker":${tickerJson(s)}}`,
    };
    entities.set(s, entity);
  }
  return entity;
}

/**
 * `GET /api/v1/quotes/:symbol`. (Its 200s and 304s are usually answered by
 * the quote fast path in front of Hono, `quote_fast_path.ts`, with the same
 * bytes; this handler answers the rest, and everything when the fast path
 * is off.)
 *
 * @param cache The cache.
 * @returns The handler.
 */
export function getQuote(cache: SnapshotCache): Handler {
  return function getQuote(c) {
    if (!cache.loaded) return notLoaded();
    const found = findSymbol(cache, c.req.param("symbol") ?? "");
    if (found instanceof Response) return found;
    const { etag, body } = quoteEntity(found);
    if (ifNoneMatch(c.req.header("if-none-match"), etag)) {
      return notModified(etag, QUOTE_CACHE_CONTROL);
    }
    return new Response(body, {
      headers: { "content-type": "application/json", etag, "cache-control": QUOTE_CACHE_CONTROL },
    });
  };
}

/**
 * `GET /api/v1/quotes?symbols=A,B`.
 *
 * @param cache The cache.
 * @param maxSymbols The most symbols one request may name.
 * @returns The handler.
 */
export function getQuotes(cache: SnapshotCache, maxSymbols: number): Handler {
  return function getQuotes(c) {
    if (!cache.loaded) return notLoaded();
    const found = findSymbols(cache, c, maxSymbols);
    if (found instanceof Response) return found;
    const etag = snapshotsEtag(QUOTE_TAG, found);
    if (ifNoneMatch(c.req.header("if-none-match"), etag)) {
      return notModified(etag, QUOTE_CACHE_CONTROL);
    }
    let body = `{"status":"OK","count":${found.length},"tickers":[`;
    for (const [i, s] of found.entries()) body += (i === 0 ? "" : ",") + tickerJson(s);
    return new Response(body + "]}", {
      headers: { "content-type": "application/json", etag, "cache-control": QUOTE_CACHE_CONTROL },
    });
  };
}

/**
 * `GET /api/v1/symbols`.
 *
 * @param cache The cache.
 * @returns The handler.
 */
export function getSymbols(cache: SnapshotCache): Handler {
  let memo: { stamp: string | null; json: string } | undefined;
  return function getSymbols(c) {
    if (!cache.loaded) return notLoaded();
    const stamp = cache.symbolsStamp;
    const etag = `"s1-${stamp ?? "none"}"`;
    if (ifNoneMatch(c.req.header("if-none-match"), etag)) {
      return notModified(etag, SYMBOLS_CACHE_CONTROL);
    }
    if (memo?.stamp !== stamp) {
      const symbols = cache.symbols.map((
        { symbol, name, priceDecimals, tickSize, lotSize, maxOrderQty },
      ) => ({
        symbol,
        name,
        priceDecimals,
        tickSize,
        lotSize,
        // Lists written before the field have none; the field is left out then.
        ...(maxOrderQty === undefined ? {} : { maxOrderQty }),
      }));
      memo = { stamp, json: JSON.stringify({ status: "OK", count: symbols.length, symbols }) };
    }
    return new Response(memo.json, {
      headers: {
        "content-type": "application/json",
        etag,
        "cache-control": SYMBOLS_CACHE_CONTROL,
      },
    });
  };
}

/**
 * `GET /api/v1/stream?symbols=A,B&since=V`: Server-Sent Events (see
 * `event_stream.ts`). `Last-Event-ID`, when it is a version, wins over
 * `since` (a reconnecting `EventSource` sends it with the original URL).
 * A `HEAD` gets the headers and opens nothing. A stream over the edge's
 * limit is refused 503 `too_many_streams`; one over the limit per client
 * address 429 `too_many_streams_per_address`.
 *
 * @param cache The cache.
 * @param streams The open streams.
 * @param maxSymbols The most symbols one request may name.
 * @param clientAddress The client's address, the per-address limit's key
 *   (undefined: all such clients share one quota).
 * @returns The handler.
 */
export function getStream(
  cache: SnapshotCache,
  streams: EventStreams,
  maxSymbols: number,
  clientAddress: (c: Context) => string | undefined = () => undefined,
): Handler {
  const headers = {
    "content-type": "text/event-stream; charset=utf-8",
    // no-transform: proxies (and compressing servers) must not buffer the events.
    "cache-control": "no-cache, no-transform",
    "x-accel-buffering": "no",
  };
  return function getStream(c) {
    if (!cache.loaded) return notLoaded();
    const found = findSymbols(cache, c, maxSymbols);
    if (found instanceof Response) return found;
    const since = parseVersionParam("since", c.req.queries("since"));
    if (!since.ok) return problem("bad_parameter", since.detail, { parameter: "since" });
    if (c.req.method === "HEAD") return new Response(null, { headers });
    const wanted = c.req.queries("symbols") === undefined
      ? undefined
      : new Set(found.map((s) => s.symbol));
    const address = clientAddress(c) ?? UNKNOWN_ADDRESS;
    const body = streams.open(
      wanted,
      parseVersion(c.req.header("last-event-id")) ?? since.value,
      address,
    );
    if (body === "address_full") {
      return problem(
        "too_many_streams_per_address",
        `Cannot open a stream: this address has ${streams.connectionsOf(address)} open, ` +
          "as many as one address may; close one first",
        { headers: { "retry-after": "5" } },
      );
    }
    if (typeof body === "string") {
      return problem("too_many_streams", "Cannot open a stream: the edge has as many as it takes", {
        headers: { "retry-after": "5" },
      });
    }
    return new Response(body, { headers });
  };
}
