/**
 * The edge: public quotes, quote pages, a live stream, health and metrics,
 * answered from an in-memory copy of the snapshots the core writes to Deno
 * KV (`schemas/quotes.ts`). Hono on `Deno.serve`; it imports nothing from
 * `core/` or `native/`, uses no FFI and writes no file, so it runs
 * unchanged as an edge function.
 *
 * ```ts
 * import { createEdge } from "./mod.ts";
 * const kv = await Deno.openKv(":memory:");
 * const stop = new AbortController();
 * const app = createEdge({ kv, signal: stop.signal }); // polls KV every 50 ms
 * // Deno.serve({ signal: stop.signal }, app.fetch);
 * const res = await app.request("/livez");
 * if (res.status !== 200) throw new Error("not alive");
 * stop.abort();
 * await new Promise((resolve) => setTimeout(resolve, 50)); // let a poll in flight end
 * kv.close();
 * ```
 *
 * # Routes
 *
 * | method and path | answer |
 * | --- | --- |
 * | `GET /api/v1/quotes/{symbol}` | `{"status":"OK","ticker":Ticker}` |
 * | `GET /api/v1/quotes?symbols=A,B` | `{"status":"OK","count":2,"tickers":[Ticker…]}`, in the order asked; all symbols without `symbols` |
 * | `GET /api/v1/symbols` | `{"status":"OK","count":n,"symbols":[{"symbol","name","priceDecimals","tickSize","lotSize","maxOrderQty"}…]}` |
 * | `GET /api/v1/stream?symbols=A,B&since=V` | Server-Sent Events, `event: quote`, `data: Ticker` (see `event_stream.ts`) |
 * | `GET /` | the market overview page (HTML) |
 * | `GET /q/{symbol}` | one symbol's page (HTML); the symbol in another case (`/q/aapl`) is answered `301` to its page (`/q/AAPL`, the query kept, `Cache-Control: public, max-age=300`) when that symbol is listed, 404 `unknown_symbol` naming it otherwise |
 * | `GET /assets/{file}` | the pages' static files, from the renderer's `asset` hook (404 without one) |
 * | `GET /livez` | `{"status":"ok"}` |
 * | `GET /readyz` | `{"status":"ready","version","symbols","newestAgeSeconds","aliveAgeSeconds"}`, or 503 (see `health.ts`) |
 * | `GET /metrics` | Prometheus text (see `metrics.ts`); with a metrics token set, only for `Authorization: Bearer <token>` (401 otherwise) |
 *
 * `HEAD` works wherever `GET` does; `OPTIONS` under `/api/` is a CORS
 * preflight (204).
 *
 * A `Ticker` (`ticker.ts`), after Polygon's ticker snapshot:
 *
 * ```json
 * {
 *   "ticker": "AAPL", "name": "Apple Inc.", "priceDecimals": 2,
 *   "todaysChange": 1.25, "todaysChangePerc": 1.25, "updated": 1764000000000,
 *   "day": { "o": 100, "h": 102, "l": 99.5, "c": 101.25, "v": 1200, "vw": 100.9, "n": 88 },
 *   "prevDay": { "c": 100 },
 *   "lastTrade": { "p": 101.25, "s": 3, "t": 1763999999900 },
 *   "lastQuote": { "p": 101.2, "s": 10, "P": 101.3, "S": 7 },
 *   "week52": null,
 *   "version": 93
 * }
 * ```
 *
 * `day`, `prevDay`, `lastTrade` and `week52` are null when they do not
 * exist yet; so are `todaysChange`, `todaysChangePerc` and each side of
 * `lastQuote` (`p`/`s` the best bid and its size, `P`/`S` the best ask).
 * Prices are decimal numbers, sizes lots, times ms since the epoch.
 *
 * # Caching
 *
 * Quotes carry a strong `ETag` made from the snapshots' versions and
 * `Cache-Control: public, max-age=0, s-maxage=1, stale-while-revalidate=5`;
 * `If-None-Match` is answered 304 before any JSON is made. The instrument
 * list: `public, max-age=60, stale-while-revalidate=300`. Pages: `private,
 * no-cache` with an `ETag` (each page has its own CSP nonce, so no shared
 * cache may hand one page to many). Errors: `no-store`.
 *
 * # Errors
 *
 * Every error is `application/problem+json` (RFC 9457):
 * `{"type":"urn:tradecaptain:problem:<reason>","title","status","detail","reason"}`,
 * plus `"parameter"` for a bad query parameter. The one exception: on a
 * page's URL (`/`, `/q/…`, any path outside `/api/` that no route knows), a
 * browser, whose `Accept` prefers `text/html` to JSON (`accept.ts`), gets
 * the renderer's HTML error page with the same status (`Pages.error`,
 * `Cache-Control: no-store`); those answers carry `Vary: Accept`.
 *
 * | status | reason | when |
 * | --- | --- | --- |
 * | 400 | `bad_host` | a `Host` header that is not a host name or address with an optional port (`host_header.ts`) |
 * | 400 | `bad_symbol` | a path symbol that is not 1–12 of `[A-Z0-9.-]` |
 * | 400 | `bad_parameter` | `symbols`: empty, an empty or malformed entry, over 100 entries, given twice; `since`: not a version |
 * | 404 | `unknown_symbol` | a well-formed symbol with no snapshot |
 * | 404 | `no_route` | no such path |
 * | 405 | `method_not_allowed` | another method than GET/HEAD (and OPTIONS under `/api/`), with `Allow` |
 * | 414 | `uri_too_long` | a URL over 8,192 characters |
 * | 429 | `rate_limited` | the client's token bucket is empty, with `Retry-After` |
 * | 429 | `too_many_streams_per_address` | the client's address holds as many event streams as one may (default 16), with `Retry-After` |
 * | 431 | `headers_too_large` | header fields over 16,384 bytes |
 * | 500 | `internal` | a bug |
 * | 503 | `not_ready` | before the first KV read (and `/readyz` while stale), with `Retry-After` |
 * | 503 | `too_many_streams` | the event stream limit is reached |
 *
 * Requests with a head over ~64 KiB or over 128 header fields never reach
 * the app: `Deno.serve` answers them a bare 400 and closes the connection
 * (`request_limits.ts`).
 *
 * # Other headers
 *
 * Every answer: `Content-Security-Policy` (pages: with their nonce),
 * `Strict-Transport-Security`, `X-Content-Type-Options: nosniff`,
 * `X-Frame-Options: DENY`, `Referrer-Policy: no-referrer`, no
 * `X-Powered-By`. Under `/api/`: `Access-Control-Allow-Origin: *`.
 * Rate-limited routes (all but health and metrics): `RateLimit-Policy:
 * "edge";q=120;w=60` and `RateLimit: "edge";r=…;t=…`. Every request to
 * them takes a token whatever it is answered: a CORS preflight, a 404, a
 * 414 or a 431 too.
 *
 * @module
 */

export {
  createEdge,
  type EdgeOptions,
  type EdgeSettings,
  isMetricsToken,
  MIN_METRICS_TOKEN,
  PAGE_CACHE_CONTROL,
  peerAddress,
  ROUTES,
} from "./create_edge.ts";
export {
  DEFAULT_POLL_INTERVAL_MS,
  SnapshotCache,
  type SnapshotCacheOptions,
  type SnapshotCacheStats,
  type SnapshotListener,
} from "./snapshot_cache.ts";
export { type Ticker, tickerJson, toTicker } from "./ticker.ts";
export {
  EVENT_STREAM_DEFAULTS,
  type EventStreamOptions,
  EventStreams,
  type StreamRefusal,
  UNKNOWN_ADDRESS,
} from "./event_stream.ts";
export {
  escapeHtml,
  makeNonce,
  type PageContext,
  pageCsp,
  type Pages,
  plainPages,
} from "./pages.ts";
export { type Problem, PROBLEM_TYPE_PREFIX, type ProblemReason, PROBLEMS } from "./problem.ts";
export { QUOTE_CACHE_CONTROL, SYMBOLS_CACHE_CONTROL } from "./quotes_api.ts";
export { RATE_LIMIT_DEFAULTS, type RateLimitOptions, TokenBuckets } from "./rate_limit.ts";
export { REQUEST_LIMIT_DEFAULTS, type RequestLimitOptions } from "./request_limits.ts";
export { DEFAULT_READY_MAX_AGE_MS } from "./health.ts";
export { DEFAULT_MAX_SYMBOLS } from "./query_params.ts";
