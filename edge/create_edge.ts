/**
 * The edge's app factory: routes, middleware and the snapshot cache wired
 * into one Hono app. The API is documented in `mod.ts`.
 *
 * Middleware, outermost first: route label → metrics → security headers →
 * CORS fields (`/api/*`) → rate limit (all but `/livez`, `/readyz`,
 * `/metrics`) → `Host` check (400) → request size limits (414, 431) → CORS
 * preflight (`/api/*`) → the route. So every answer but health and metrics takes a token,
 * preflights and 414s and 431s included, and every answer under `/api/`,
 * a 429 included, carries the CORS fields. In front of it all, the
 * quote fast path (`quote_fast_path.ts`) answers the quote route's 200s
 * and 304s itself, as the app would, and leaves every other request to it.
 *
 * @module
 */

import { type Context, type Handler, Hono } from "hono";
import { timingSafeEqual } from "hono/utils/buffer";
import type { EdgeEnv } from "./_env.ts";
import { corsFields, corsHeaderEntries, corsPreflight, DEFAULT_CORS_ORIGIN } from "./cors.ts";
import { type EventStreamOptions, EventStreams } from "./event_stream.ts";
import { ifNoneMatch } from "./etag.ts";
import { hostCheck } from "./host_header.ts";
import { DEFAULT_READY_MAX_AGE_MS, livez, readyz } from "./health.ts";
import { HttpMetrics, httpMetrics, marketMetrics } from "./metrics.ts";
import { prefersHtml } from "./accept.ts";
import {
  makeNonce,
  type PageContext,
  pageCsp,
  type Pages,
  plainPages,
  terminalCsp,
} from "./pages.ts";
import { problem, type ProblemReason, PROBLEMS } from "./problem.ts";
import { DEFAULT_MAX_SYMBOLS } from "./query_params.ts";
import {
  getQuote,
  getQuotes,
  getStream,
  getSymbols,
  lookUpSymbol,
  NOT_LOADED_DETAIL,
  notModified,
} from "./quotes_api.ts";
import { peerHostname, quoteFastPath } from "./quote_fast_path.ts";
import { rateLimit, type RateLimitOptions, RateLimitPolicy } from "./rate_limit.ts";
import { type RequestLimitOptions, requestLimits, resolveRequestLimits } from "./request_limits.ts";
import { securityHeaderEntries, securityHeaders } from "./security_headers.ts";
import { SnapshotCache } from "./snapshot_cache.ts";
// Symbols in any case, which a quote page's URL redirects from when upper-cased they are listed.
import { SYMBOL_PATTERN_ANY_CASE } from "../schemas/vocabulary/names.ts";

/** The route patterns, which are also the `route` label of the metrics. */
export const ROUTES = {
  overview: "/",
  quotePage: "/q/:symbol",
  trade: "/trade",
  quote: "/api/v1/quotes/:symbol",
  quotes: "/api/v1/quotes",
  symbols: "/api/v1/symbols",
  stream: "/api/v1/stream",
  livez: "/livez",
  readyz: "/readyz",
  metrics: "/metrics",
  assets: "/assets/*",
} as const;

/** Where the trader terminal finds the core when not told ({@linkcode EdgeSettings.coreUrl}). */
export const DEFAULT_CORE_URL = "http://127.0.0.1:8080";

/**
 * Checks a core URL: an `http:` or `https:` origin, nothing after it.
 *
 * @param url The candidate.
 * @returns The origin, or undefined when it is not one.
 *
 * @example
 * ```ts
 * import { coreOrigin } from "./create_edge.ts";
 * console.log(coreOrigin("http://127.0.0.1:8080/"), coreOrigin("ftp://x")); // http://127.0.0.1:8080 undefined
 * ```
 */
export function coreOrigin(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const bare = parsed.pathname === "/" && parsed.search === "" && parsed.hash === "" &&
    parsed.username === "" && parsed.password === "";
  return (parsed.protocol === "http:" || parsed.protocol === "https:") && bare
    ? parsed.origin
    : undefined;
}

/** `Cache-Control` of pages: each carries its own nonce, so only the browser keeps it, and revalidates. */
export const PAGE_CACHE_CONTROL = "private, no-cache";

/**
 * `Cache-Control` of the redirect from a quote page's URL with the symbol
 * in another case (`/q/aapl`) to its own (`/q/AAPL`): it holds while the
 * symbol is listed, so caches keep it a while, not forever.
 */
export const SYMBOL_REDIRECT_CACHE_CONTROL = "public, max-age=300";

/** Settings of {@linkcode createEdge} besides the snapshot source. */
export interface EdgeSettings {
  /** The clock (ms since the epoch; default `Date.now`): freshness, readiness, rate limits. */
  readonly now?: () => number;
  /** Ready only while the newest snapshot is younger than this (default 5,000 ms). */
  readonly readyMaxAgeMs?: number;
  /** The most symbols one request may name (default 100). */
  readonly maxSymbols?: number;
  /** Request size limits (414, 431). */
  readonly limits?: RequestLimitOptions;
  /** Rate limits per client address, or false for none. */
  readonly rateLimit?: RateLimitOptions | false;
  /**
   * The client's address, the rate limit's key. Default: the socket's peer
   * (`Deno.serve`'s `info.remoteAddr`, which Hono passes as `c.env`).
   * Behind a proxy or CDN, read its header here (and only if it is trusted).
   */
  readonly clientAddress?: (c: Context) => string | undefined;
  /** Event stream settings. */
  readonly stream?: EventStreamOptions;
  /** `Access-Control-Allow-Origin` of the API (default `*`). */
  readonly corsOrigin?: string;
  /** `Strict-Transport-Security`, or false for none. */
  readonly hsts?: string | false;
  /** The page renderer (default {@linkcode plainPages}). */
  readonly pages?: Pages;
  /**
   * The core's HTTP origin, for the trader terminal (`/trade`): where the
   * browser logs in and opens its WebSocket, and the one origin besides the
   * edge's that the page's CSP lets it connect to (default
   * {@linkcode DEFAULT_CORE_URL}).
   */
  readonly coreUrl?: string;
  /** Where unexpected errors are reported (default `console.error`). */
  readonly logError?: (message: string, error: unknown) => void;
  /**
   * When set, `/metrics` answers only requests carrying
   * `Authorization: Bearer <metricsToken>` (401 otherwise), for an edge
   * that listens beyond loopback. Unset, anyone who reaches it may read it.
   */
  readonly metricsToken?: string;
  /**
   * Answer the quote route's 200s and 304s on the fast path in front of
   * Hono (`quote_fast_path.ts`; default true). It sends the same answers;
   * false leaves every request to Hono (the tests compare the two). It is
   * off with a custom `clientAddress`, which takes Hono's context.
   */
  readonly quoteFastPath?: boolean;
}

/**
 * Options of {@linkcode createEdge}: a KV to poll (the edge makes, starts
 * and, on `signal`, closes its cache), or a cache the caller runs.
 */
export type EdgeOptions =
  & EdgeSettings
  & (
    | {
      /** The KV the core writes snapshots to. */
      readonly kv: Deno.Kv;
      readonly cache?: never;
      /** How often to read the version key (default 50 ms). */
      readonly pollIntervalMs?: number;
      /** Stops polling and ends the event streams. */
      readonly signal?: AbortSignal;
    }
    | {
      /** A cache the caller starts, refreshes and closes (closing it ends the streams). */
      readonly cache: SnapshotCache;
      readonly kv?: never;
    }
  );

/** The shortest {@linkcode EdgeSettings.metricsToken} accepted. */
export const MIN_METRICS_TOKEN = 16;

/**
 * Whether `token` can be a metrics token: 16 to 256 visible ASCII
 * characters (no spaces), so that it fits an `Authorization` header as is.
 *
 * @param token The candidate.
 * @returns True when it can.
 *
 * @example
 * ```ts
 * import { isMetricsToken } from "./create_edge.ts";
 * console.log(isMetricsToken("s3cret-s3cret-s3cret"), isMetricsToken("short")); // true false
 * ```
 */
export function isMetricsToken(token: string): boolean {
  return token.length >= MIN_METRICS_TOKEN && token.length <= 256 && /^[\x21-\x7e]+$/.test(token);
}

/**
 * Whether `header` is `Bearer <token>`: the scheme in any case (RFC 7235
 * §2.1), one or more spaces, then the token, compared by Hono's
 * `timingSafeEqual` (hashes first, so the time does not tell where they
 * differ).
 */
async function bearerMatches(header: string | undefined, token: string): Promise<boolean> {
  const match = header === undefined ? null : /^Bearer +([^ ]+)$/i.exec(header);
  return match !== null && await timingSafeEqual(match[1]!, token);
}

/** The default {@linkcode EdgeSettings.clientAddress}: the socket's peer. */
export function peerAddress(c: Context): string | undefined {
  return peerHostname(c.env);
}

/**
 * Makes the edge: a Hono app answering quotes, pages, streams, health and
 * metrics from an in-memory copy of the snapshots.
 *
 * @param options The snapshot source (a KV or a cache) and settings.
 * @returns The app: serve it with `Deno.serve(app.fetch)`.
 * @throws {RangeError} When a setting is out of range.
 *
 * @example
 * ```ts
 * import { createEdge, SnapshotCache } from "./mod.ts";
 * import { seedSnapshots } from "./_testing/kv.ts";
 * const kv = await Deno.openKv(":memory:");
 * await seedSnapshots(kv, ["AAPL"]);
 * const cache = new SnapshotCache({ kv });
 * await cache.refresh();
 * const app = createEdge({ cache });
 * const res = await app.request("/api/v1/quotes/AAPL");
 * const { ticker } = await res.json();
 * if (ticker.lastTrade.p !== 101.25) throw new Error("wrong price");
 * const again = await app.request("/api/v1/quotes/AAPL", {
 *   headers: { "if-none-match": res.headers.get("etag")! },
 * });
 * if (again.status !== 304) throw new Error("not cached");
 * await cache.close();
 * kv.close();
 * ```
 */
export function createEdge(options: EdgeOptions): Hono<EdgeEnv> {
  const now = options.now ?? Date.now;
  const logError = options.logError ?? ((message, error) => console.error(message, error));
  const maxSymbols = options.maxSymbols ?? DEFAULT_MAX_SYMBOLS;
  const readyMaxAgeMs = options.readyMaxAgeMs ?? DEFAULT_READY_MAX_AGE_MS;
  for (const [name, value] of [["maxSymbols", maxSymbols], ["readyMaxAgeMs", readyMaxAgeMs]]) {
    if (!(Number.isSafeInteger(value) && (value as number) > 0)) {
      throw new RangeError(
        `Cannot make the edge: ${name} must be a positive integer, not ${value}`,
      );
    }
  }

  let cache: SnapshotCache;
  if (options.cache !== undefined) {
    cache = options.cache;
  } else {
    cache = new SnapshotCache({
      kv: options.kv,
      onError: logError,
      ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }),
    });
    if (!options.signal?.aborted) {
      cache.start();
      options.signal?.addEventListener("abort", () => void cache.close(), { once: true });
    }
  }
  const streams = new EventStreams(cache, options.stream);
  const metrics = new HttpMetrics();
  const limits = resolveRequestLimits(options.limits);
  const corsOrigin = options.corsOrigin ?? DEFAULT_CORS_ORIGIN;
  const metricsToken = options.metricsToken;
  if (metricsToken !== undefined && !isMetricsToken(metricsToken)) {
    throw new RangeError(
      `Cannot make the edge: metricsToken must be ${MIN_METRICS_TOKEN}–256 visible ASCII characters`,
    );
  }
  const hsts = options.hsts === undefined ? {} : { hsts: options.hsts };
  const coreUrl = coreOrigin(options.coreUrl ?? DEFAULT_CORE_URL);
  if (coreUrl === undefined) {
    throw new RangeError(
      `Cannot make the edge: coreUrl must be an http: or https: origin, not ${options.coreUrl}`,
    );
  }
  // One policy for the middleware and the fast path: one quota per client.
  const rateLimitPolicy = options.rateLimit === false
    ? undefined
    : new RateLimitPolicy(options.rateLimit, now);
  const pages = options.pages ?? plainPages;
  const pageId = pages.id ?? crypto.randomUUID().slice(0, 8);
  const csp = (nonce: string) => pages.csp?.(nonce) ?? pageCsp(nonce);

  const app = new Hono<EdgeEnv>();
  app.onError((error, c) => {
    logError(`edge: ${c.req.method} ${c.req.path} failed`, error);
    return problem("internal", "Cannot answer: an internal error occurred (see the edge's log)");
  });
  app.notFound((c) => {
    const detail = `Cannot find ${JSON.stringify(c.req.path.slice(0, 64))}: no such route`;
    return c.req.path.startsWith("/api/")
      ? problem("no_route", detail)
      : pageProblem(c, "no_route", detail);
  });

  // Label first, so that every answer, even one refused by a later
  // middleware, is counted under its route.
  for (const pattern of Object.values(ROUTES)) {
    app.use(pattern, async function routeLabel(c, next) {
      c.set("route", pattern);
      await next();
    });
  }
  app.use(httpMetrics(metrics));
  app.use(securityHeaders(hsts));
  app.use("/api/*", corsFields({ origin: corsOrigin }));
  if (rateLimitPolicy !== undefined) {
    app.use(rateLimit({
      policy: rateLimitPolicy,
      clientAddress: options.clientAddress ?? peerAddress,
      exempt: new Set([ROUTES.livez, ROUTES.readyz, ROUTES.metrics]),
    }));
  }
  app.use(hostCheck());
  app.use(requestLimits(limits));
  app.use("/api/*", corsPreflight({ origin: corsOrigin }));

  const route = (path: string, handler: Handler<EdgeEnv>) => {
    app.get(path, handler);
    // The route exists but not for this method (HEAD goes to GET; OPTIONS
    // under /api/ is answered by CORS first).
    const allow = path.startsWith("/api/") ? "GET, HEAD, OPTIONS" : "GET, HEAD";
    app.all(path, (c) =>
      problem(
        "method_not_allowed",
        `Cannot ${c.req.method.slice(0, 16)} ${path}: it allows ${allow}`,
        { headers: { allow } },
      ));
  };

  const pageContext = (c: Context<EdgeEnv>, nonce: string): PageContext => ({
    nonce,
    url: new URL(c.req.url),
    version: cache.version,
    snapshots: cache.all(),
    symbols: cache.symbols,
    now: now(),
  });

  const page = async (
    c: Context<EdgeEnv>,
    etag: string,
    render: (ctx: PageContext) => string | Promise<string>,
    policy: (nonce: string) => string = csp,
  ) => {
    if (ifNoneMatch(c.req.header("if-none-match"), etag)) {
      return notModified(etag, PAGE_CACHE_CONTROL);
    }
    const nonce = makeNonce();
    const html = await render(pageContext(c, nonce));
    return new Response(html, {
      headers: {
        "content-type": "text/html; charset=utf-8",
        "content-security-policy": policy(nonce),
        etag,
        "cache-control": PAGE_CACHE_CONTROL,
      },
    });
  };

  // An error on a page's URL: the renderer's error page for a browser, the
  // API's problem for everything else (the same URL, so Vary: Accept).
  async function pageProblem(
    c: Context<EdgeEnv>,
    reason: ProblemReason,
    detail: string,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    const varied = { ...headers, vary: "Accept" };
    if (pages.error === undefined || !prefersHtml(c.req.header("accept"))) {
      return problem(reason, detail, { headers: varied });
    }
    const { status, title } = PROBLEMS[reason];
    const nonce = makeNonce();
    const html = await pages.error(pageContext(c, nonce), { status, title, detail, reason });
    return new Response(html, {
      status,
      headers: {
        "content-type": "text/html; charset=utf-8",
        "content-security-policy": csp(nonce),
        "cache-control": "no-store",
        ...varied,
      },
    });
  }
  const notLoadedPage = (c: Context<EdgeEnv>) =>
    pageProblem(c, "not_ready", NOT_LOADED_DETAIL, { "retry-after": "1" });

  route(ROUTES.overview, (c) => {
    if (!cache.loaded) return notLoadedPage(c);
    return page(c, `"p-${pageId}-${cache.version}"`, (ctx) => pages.overview(ctx));
  });
  route(ROUTES.quotePage, (c) => {
    if (!cache.loaded) return notLoadedPage(c);
    const symbol = c.req.param("symbol") ?? "";
    const found = lookUpSymbol(cache, symbol);
    if ("symbol" in found) {
      return page(c, `"p-${pageId}-${found.version}"`, (ctx) => pages.quote(ctx, found));
    }
    if (!SYMBOL_PATTERN_ANY_CASE.test(symbol)) return pageProblem(c, found.reason, found.detail);
    // The symbol in another case (/q/aapl): to its page when it has one,
    // and otherwise a 404 that names it as the API would (not a 400).
    const upper = symbol.toUpperCase();
    if (cache.get(upper) === undefined) {
      return pageProblem(c, "unknown_symbol", `Cannot find symbol: there is no quote for ${upper}`);
    }
    const url = c.req.url;
    const query = url.indexOf("?");
    return new Response(null, {
      status: 301,
      headers: {
        location: `/q/${upper}${query < 0 ? "" : url.slice(query)}`,
        "cache-control": SYMBOL_REDIRECT_CACHE_CONTROL,
      },
    });
  });
  route(ROUTES.trade, (c) => {
    const terminal = pages.terminal;
    if (terminal === undefined) {
      return pageProblem(c, "no_route", 'Cannot find "/trade": this edge serves no terminal');
    }
    if (!cache.loaded) return notLoadedPage(c);
    // The page embeds the instruments and the last prices: its tag follows the version.
    return page(
      c,
      `"t-${pageId}-${cache.version}"`,
      (ctx) => terminal.call(pages, ctx, coreUrl),
      (nonce) => terminalCsp(nonce, coreUrl),
    );
  });
  route(ROUTES.assets, (c) => {
    const path = c.req.path;
    return pages.asset?.(path, c.req.header("if-none-match") ?? null) ??
      problem("no_route", `Cannot find ${JSON.stringify(path.slice(0, 64))}: no such asset`);
  });
  route(ROUTES.quote, getQuote(cache));
  route(ROUTES.quotes, getQuotes(cache, maxSymbols));
  route(ROUTES.symbols, getSymbols(cache));
  route(ROUTES.stream, getStream(cache, streams, maxSymbols, options.clientAddress ?? peerAddress));
  route(ROUTES.livez, livez());
  route(ROUTES.readyz, readyz(cache, now, readyMaxAgeMs));
  route(
    ROUTES.metrics,
    async (c) =>
      metricsToken !== undefined &&
        !await bearerMatches(c.req.header("authorization"), metricsToken)
        ? problem("unauthorized", "Cannot read the metrics: they need this edge's metrics token", {
          headers: { "www-authenticate": 'Bearer realm="metrics"' },
        })
        : new Response(metrics.render() + marketMetrics(cache, streams, now()), {
          headers: {
            "content-type": "text/plain; version=0.0.4; charset=utf-8",
            "cache-control": "no-store",
          },
        }),
  );

  if (options.quoteFastPath !== false && options.clientAddress === undefined) {
    const fast = quoteFastPath({
      cache,
      metrics: metrics.route(ROUTES.quote),
      limits,
      cors: corsHeaderEntries(corsOrigin),
      security: securityHeaderEntries(hsts),
      rateLimit: rateLimitPolicy,
    });
    // Hono's fetch is an own property (and app.request calls it), so every
    // request, served or tested, goes through the fast path first.
    const slow = app.fetch;
    app.fetch = (request, env, executionCtx) =>
      fast(request, env) ?? slow(request, env, executionCtx);
  }
  return app;
}
