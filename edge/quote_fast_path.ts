/**
 * The quote fast path: `GET` and `HEAD /api/v1/quotes/{symbol}`, the
 * edge's hottest request, answered in front of Hono, synchronously, with
 * the status, headers and bytes the Hono app would send, counted in the
 * same metrics and taking from the same rate limit buckets.
 *
 * # Why
 *
 * Profiled under wrk (`deno run --cpu-prof`, and `perf` for the native
 * side), the Hono app spent its time on work that does not depend on the
 * request: six middleware and the handler, each an async step, the
 * response's headers appended one by one after it was made (each `append`
 * is validated again, and makes Deno drop the native header list it built
 * with the response), and a fresh entity tag and body string per request.
 * Here each snapshot's body, entity tag and header set are made once, and
 * a request costs a few lookups and one synchronous `new Response` with
 * every header given at construction (as an object: Deno takes one faster
 * than an array of pairs; and the body as a string, which it sends faster
 * than a `Uint8Array`).
 *
 * What remains is Deno's own cost of a response header (its validation in
 * JavaScript, then its conversion for hyper), about 1 µs each on the bench
 * machine, which no code in a handler avoids: a bare `Deno.serve` sending
 * the same 13 headers is about three times slower than one sending only
 * `content-type` (`deno task bench` measures both beside the edge).
 *
 * # What it answers, and what it leaves to Hono
 *
 * Only the 200 and the 304 of a symbol with a snapshot, for a request
 * within the size limits, with a valid `Host`, whose client has a token
 * left. For anything else (another method or path, a percent-encoded or
 * malformed path, the cache not loaded yet, an unknown or invalid symbol,
 * an oversized request, an invalid `Host`, an empty bucket) it returns
 * undefined and the Hono app answers the request from the start.
 *
 * # Invariants
 *
 * - It answers only what the Hono app would answer 200 or 304, and then
 *   exactly as the app would: status, header names, values and order, and
 *   body. `quote_fast_path_test.ts` runs the same requests through both
 *   and compares them.
 * - It returns undefined before it takes a token or counts an answer, so a
 *   request it leaves is seen once, by the app. (A refused `tryTake` takes
 *   nothing.)
 * - Each snapshot's answer is made once, on its first request, and dies
 *   with the snapshot (a `WeakMap`), as `ticker.ts` does for the JSON.
 *
 * @module
 */

import type { QuoteSnapshot } from "../schemas/quotes.ts";
import { ifNoneMatch } from "./etag.ts";
import { isValidHost } from "./host_header.ts";
import type { RouteMetrics } from "./metrics.ts";
import { QUOTE_CACHE_CONTROL, quoteEntity } from "./quotes_api.ts";
import type { RateLimitPolicy } from "./rate_limit.ts";
import { headerBytes, type RequestLimitOptions } from "./request_limits.ts";
import { API_CSP } from "./security_headers.ts";
import type { SnapshotCache } from "./snapshot_cache.ts";

/** The path prefix of the quote route, `/api/v1/quotes/:symbol`. */
const PREFIX = "/api/v1/quotes/";

/** Header names and values, in the order they are sent. */
export type HeaderEntries = readonly (readonly [string, string])[];

/** Options of {@linkcode quoteFastPath}: the same parts the Hono app is made of. */
export interface QuoteFastPathOptions {
  /** The snapshots. */
  readonly cache: SnapshotCache;
  /** The quote route's counters (the app counts under the same route). */
  readonly metrics: RouteMetrics;
  /** The request size limits (a request over one is left to the app's 414 or 431). */
  readonly limits: Required<RequestLimitOptions>;
  /** The CORS headers of an answer (`cors.ts`). */
  readonly cors: HeaderEntries;
  /** The security headers but the CSP (`security_headers.ts`). */
  readonly security: HeaderEntries;
  /** The rate limit shared with the app, or undefined for none. */
  readonly rateLimit: RateLimitPolicy | undefined;
}

/**
 * A fast path: the response, or undefined to let the app answer.
 *
 * @param request The request.
 * @param env What `Deno.serve` passes its handler second (its `remoteAddr`
 *   is the client), as Hono's `fetch` takes it.
 */
export type FastPath = (request: Request, env?: unknown) => Response | undefined;

/** One snapshot's answers, made once. */
interface Prepared {
  readonly body: string;
  readonly etag: string;
  /** The 200's headers; `ratelimit` (when limited) is a placeholder set per request. */
  readonly ok: Readonly<Record<string, string>>;
  /** The 304's headers, likewise. */
  readonly notModified: Readonly<Record<string, string>>;
}

/**
 * Makes the quote fast path.
 *
 * @param options The app's parts it shares.
 * @returns The fast path.
 *
 * @example
 * ```ts
 * import { quoteFastPath } from "./quote_fast_path.ts";
 * import { HttpMetrics } from "./metrics.ts";
 * import { resolveRequestLimits } from "./request_limits.ts";
 * import { SnapshotCache } from "./snapshot_cache.ts";
 * import { seedSnapshots } from "./_testing/kv.ts";
 * const kv = await Deno.openKv(":memory:");
 * await seedSnapshots(kv, ["AAPL"]);
 * const cache = new SnapshotCache({ kv });
 * await cache.refresh();
 * const fast = quoteFastPath({
 *   cache,
 *   metrics: new HttpMetrics().route("/api/v1/quotes/:symbol"),
 *   limits: resolveRequestLimits(),
 *   cors: [],
 *   security: [],
 *   rateLimit: undefined,
 * });
 * const res = fast(new Request("http://localhost/api/v1/quotes/AAPL"));
 * if (res?.status !== 200) throw new Error("not answered");
 * if (fast(new Request("http://localhost/api/v1/quotes/NOPE")) !== undefined) {
 *   throw new Error("an unknown symbol is the app's to answer");
 * }
 * await cache.close();
 * kv.close();
 * ```
 */
export function quoteFastPath(options: QuoteFastPathOptions): FastPath {
  const { cache, metrics, limits, rateLimit } = options;
  const { maxUrlLength, maxHeaderBytes } = limits;
  // The order the app's middleware leaves them in: the handler's, then the
  // rate limit's, CORS's and the security headers (the CSP last).
  const limited: HeaderEntries = rateLimit === undefined
    ? []
    : [["ratelimit-policy", rateLimit.policyField], ["ratelimit", ""]];
  const after = [...limited, ...options.cors, ...options.security];
  const prepared = new WeakMap<QuoteSnapshot, Prepared>();
  const prepare = (s: QuoteSnapshot): Prepared => {
    const { etag, body } = quoteEntity(s);
    const cached: HeaderEntries = [["etag", etag], ["cache-control", QUOTE_CACHE_CONTROL]];
    const p: Prepared = {
      body,
      etag,
      ok: Object.fromEntries([
        ["content-type", "application/json"],
        ...cached,
        ...after,
        ["content-security-policy", API_CSP],
      ]),
      notModified: Object.fromEntries([...cached, ...after]),
    };
    prepared.set(s, p);
    return p;
  };

  return function quoteFastPath(request, env) {
    const method = request.method;
    if (method !== "GET" && method !== "HEAD") return undefined;
    const url = request.url;
    if (url.length > maxUrlLength) return undefined;
    const symbol = quotePathSymbol(url);
    if (symbol === undefined || !cache.loaded) return undefined;
    // The cache keeps only symbols that pass SYMBOL_PATTERN, so a snapshot
    // found means a valid symbol.
    const snapshot = cache.get(symbol);
    if (snapshot === undefined) return undefined;
    const started = performance.now();
    const headers = request.headers;
    if (headerBytes(headers) > maxHeaderBytes) return undefined;
    // A Host that is not one moves the path the URL shows: the app says 400.
    if (!isValidHost(headers.get("host"))) return undefined;
    let field: string | undefined;
    if (rateLimit !== undefined) {
      const left = rateLimit.buckets.tryTake(peerHostname(env) ?? "unknown");
      if (left < 0) return undefined;
      field = rateLimit.stateField(left);
    }
    const p = prepared.get(snapshot) ?? prepare(snapshot);
    let response: Response;
    if (ifNoneMatch(headers.get("if-none-match"), p.etag)) {
      response = new Response(null, {
        status: 304,
        headers: field === undefined ? p.notModified : { ...p.notModified, ratelimit: field },
      });
    } else {
      response = new Response(method === "HEAD" ? null : p.body, {
        headers: field === undefined ? p.ok : { ...p.ok, ratelimit: field },
      });
    }
    metrics.observe(response.status, (performance.now() - started) / 1000);
    return response;
  };
}

/**
 * The symbol of a quote URL, read as Hono reads the path (from the first
 * `/` after the scheme to `?` or `#`); undefined for any other URL, and for
 * one whose symbol is empty, holds a `/` (no route matches it) or a `%`
 * (Hono decodes it: the app answers those).
 *
 * @param url The request's absolute URL.
 * @returns The symbol as written, not yet checked against `SYMBOL_PATTERN`.
 *
 * @example
 * ```ts
 * import { quotePathSymbol } from "./quote_fast_path.ts";
 * if (quotePathSymbol("http://h:1/api/v1/quotes/BRK.B?x=1") !== "BRK.B") throw new Error();
 * if (quotePathSymbol("http://h/api/v1/quotes/A%41") !== undefined) throw new Error();
 * ```
 */
export function quotePathSymbol(url: string): string | undefined {
  const start = url.indexOf("/", url.indexOf(":") + 4);
  if (start < 0 || !url.startsWith(PREFIX, start)) return undefined;
  const from = start + PREFIX.length;
  let end = from;
  for (; end < url.length; end++) {
    const ch = url.charCodeAt(end);
    if (ch === 63 || ch === 35) break; // "?", "#"
    if (ch === 47 || ch === 37) return undefined; // "/", "%"
  }
  return end === from ? undefined : url.slice(from, end);
}

/**
 * The client's address from what `Deno.serve` passes a handler second (its
 * `remoteAddr.hostname`): the socket's peer. The app's default
 * `clientAddress` (`peerAddress`) reads it too.
 *
 * @param env `Deno.serve`'s handler info, as Hono's `fetch` takes it.
 * @returns The address, or undefined when there is none.
 *
 * @example
 * ```ts
 * import { peerHostname } from "./quote_fast_path.ts";
 * const info = { remoteAddr: { transport: "tcp", hostname: "192.0.2.1", port: 4000 } };
 * if (peerHostname(info) !== "192.0.2.1" || peerHostname(undefined) !== undefined) throw new Error();
 * ```
 */
export function peerHostname(env: unknown): string | undefined {
  const hostname = (env as { remoteAddr?: { hostname?: unknown } } | undefined)?.remoteAddr
    ?.hostname;
  return typeof hostname === "string" ? hostname : undefined;
}
