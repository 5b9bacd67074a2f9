/**
 * The HTML pages' hook. `GET /` (the market overview) and `GET /q/:symbol`
 * (one symbol's quote) call an injected renderer, {@linkcode Pages}: the
 * server-rendered Preact pages from `ui/` plug in here. Without one, the
 * edge answers plain, script-free pages ({@linkcode plainPages}).
 *
 * A browser (`Accept` preferring `text/html`, `accept.ts`) that asks a
 * page's URL for something that is not there (an unknown or malformed
 * symbol, a path no route knows, market data not read yet) gets the
 * renderer's error page ({@linkcode Pages.error}) with the error's status;
 * everything else gets the `application/problem+json` of the API.
 *
 * Each page answer gets a fresh nonce (`ctx.nonce`): put it on every inline
 * `<script>` and `<style>`; the answer's `Content-Security-Policy` allows
 * those and `'self'`, nothing else ({@linkcode pageCsp}, or the renderer's
 * own `csp`).
 *
 * @module
 */

import type { QuoteSnapshot, SymbolInfo } from "../schemas/quotes.ts";

/** What a page renderer gets. */
export interface PageContext {
  /** This answer's CSP nonce (base64): the value of `nonce="…"` on inline scripts and styles. */
  readonly nonce: string;
  /** The request's URL. */
  readonly url: URL;
  /** The KV version the snapshots reflect: pass it as `since` to `/api/v1/stream`. */
  readonly version: number;
  /** Every snapshot: the listed instruments in engine order, then the rest. */
  readonly snapshots: readonly QuoteSnapshot[];
  /** The instrument list. */
  readonly symbols: readonly SymbolInfo[];
  /** The time (ms since the epoch). */
  readonly now: number;
}

/** What an error page shows: the problem the API would answer. */
export interface PageError {
  /** The HTTP status (400, 404, 503). */
  readonly status: number;
  /** The problem's title ("Unknown symbol"). */
  readonly title: string;
  /** What failed and why ("Cannot find symbol: there is no quote for ZZZZ"). */
  readonly detail: string;
  /** The problem's reason code (`unknown_symbol`). */
  readonly reason: string;
}

/** A page renderer: HTML documents from the cached snapshots. */
export interface Pages {
  /**
   * The market overview (`GET /`).
   *
   * @param ctx The nonce, URL and snapshots.
   * @returns The HTML document.
   */
  overview(ctx: PageContext): string | Promise<string>;
  /**
   * One symbol's page (`GET /q/:symbol`; the edge answers 400 or 404 itself
   * for a bad or unknown symbol). Its entity tag follows `snapshot`'s
   * version only, so render what may change from `snapshot`: the other
   * symbols in `ctx` may be older in a copy the browser revalidates.
   *
   * @param ctx The nonce, URL and snapshots.
   * @param snapshot The symbol's snapshot.
   * @returns The HTML document.
   */
  quote(ctx: PageContext, snapshot: QuoteSnapshot): string | Promise<string>;
  /**
   * An error page, for a browser that asked a page's URL for something
   * that is not there (see the module doc). Without it, browsers get the
   * problem JSON as API clients do.
   *
   * @param ctx The nonce, URL and snapshots.
   * @param error The status, title, detail and reason.
   * @returns The HTML document.
   */
  error?(ctx: PageContext, error: PageError): string | Promise<string>;
  /**
   * The trader terminal (`GET /trade`): a page that logs in against the
   * core and talks to its WebSocket. Without it, `/trade` is a 404. Its
   * policy is {@linkcode terminalCsp}: the page may connect to its own
   * origin and the core's, nothing else.
   *
   * @param ctx The nonce, URL, snapshots and instrument list.
   * @param coreUrl The core's HTTP origin (`EDGE_CORE_URL`), where the browser logs in.
   * @returns The HTML document.
   */
  terminal?(ctx: PageContext, coreUrl: string): string | Promise<string>;
  /**
   * Answers `GET /assets/…`: the pages' static files (content-hashed
   * bundles, served `immutable` with their own validators).
   *
   * @param path The request's path (`/assets/client-0a1b2c.js`).
   * @param ifNoneMatch The request's `If-None-Match`, or null.
   * @returns The answer, or undefined when there is no such asset (404).
   */
  asset?(path: string, ifNoneMatch: string | null): Response | undefined;
  /**
   * The page's `Content-Security-Policy` (default {@linkcode pageCsp}).
   *
   * @param nonce The answer's nonce.
   * @returns The policy.
   */
  csp?(nonce: string): string;
  /**
   * Names this renderer's build in the pages' entity tags, so that a new
   * build is not answered 304 for an old page (default: a random id per
   * process).
   */
  readonly id?: string;
}

/**
 * A fresh nonce: 16 random bytes in base64.
 *
 * @returns The nonce.
 *
 * @example
 * ```ts
 * import { makeNonce } from "./pages.ts";
 * if (makeNonce() === makeNonce()) throw new Error("nonce reused");
 * ```
 */
export function makeNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes));
}

/**
 * The default policy of pages: their own origin, and inline scripts and
 * styles carrying the nonce; no plugins, no framing, no `<base>`.
 *
 * @param nonce The answer's nonce.
 * @returns The policy.
 *
 * @example
 * ```ts
 * import { pageCsp } from "./pages.ts";
 * if (!pageCsp("abc").includes("script-src 'self' 'nonce-abc'")) throw new Error("no nonce");
 * ```
 */
export function pageCsp(nonce: string): string {
  return `default-src 'self'; script-src 'self' 'nonce-${nonce}'; ` +
    `style-src 'self' 'nonce-${nonce}'; img-src 'self' data:; connect-src 'self'; ` +
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";
}

/**
 * The trader terminal's policy: {@linkcode pageCsp}'s, except that the page
 * may also connect to the core, over HTTP (`/auth/login`) and WebSocket
 * (`/ws`), at its origin and nowhere else.
 *
 * @param nonce The answer's nonce.
 * @param coreUrl The core's HTTP origin (`http://host:port` or `https://…`).
 * @returns The policy.
 *
 * @example
 * ```ts
 * import { terminalCsp } from "./pages.ts";
 * const csp = terminalCsp("abc", "http://127.0.0.1:8080");
 * if (!csp.includes("connect-src 'self' http://127.0.0.1:8080 ws://127.0.0.1:8080;")) {
 *   throw new Error(csp);
 * }
 * ```
 */
export function terminalCsp(nonce: string, coreUrl: string): string {
  const http = new URL(coreUrl);
  const ws = `${http.protocol === "https:" ? "wss:" : "ws:"}//${http.host}`;
  return pageCsp(nonce).replace("connect-src 'self';", `connect-src 'self' ${http.origin} ${ws};`);
}

/**
 * Escapes text for HTML content and attribute values.
 *
 * @param text The text.
 * @returns The escaped text.
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

const price = (s: QuoteSnapshot, p: number | null | undefined) =>
  p === null || p === undefined ? "–" : p.toFixed(s.priceDecimals);

const signed = (n: number | null, digits: number, suffix = "") =>
  n === null ? "–" : `${n > 0 ? "+" : ""}${n.toFixed(digits)}${suffix}`;

function document(nonce: string, title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style nonce="${escapeHtml(nonce)}">
body { font: 16px/1.4 system-ui, sans-serif; margin: 2rem auto; max-width: 48rem; padding: 0 1rem; }
table { border-collapse: collapse; width: 100%; } td, th { padding: .25rem .5rem; text-align: right; }
td:first-child, th:first-child { text-align: left; } .up { color: #067d17; } .down { color: #b3261e; }
</style>
</head>
<body>
${body}
</body>
</html>
`;
}

const direction = (n: number | null) => (n === null || n === 0 ? "" : n > 0 ? "up" : "down");

/**
 * Plain, script-free pages, until `ui/` provides the real ones.
 *
 * @example
 * ```ts
 * import { plainPages } from "./pages.ts";
 * import { makeSnapshot } from "./_testing/kv.ts";
 * const s = makeSnapshot("AAPL");
 * const html = await plainPages.quote({
 *   nonce: "n", url: new URL("http://x/q/AAPL"), version: 1, snapshots: [s], symbols: [], now: 0,
 * }, s);
 * if (!html.includes("101.25")) throw new Error("no price");
 * ```
 */
export const plainPages: Pages = {
  overview(ctx) {
    const rows = ctx.snapshots.map((s) =>
      `<tr><td><a href="/q/${encodeURIComponent(s.symbol)}">${escapeHtml(s.symbol)}</a></td>` +
      `<td>${escapeHtml(s.name)}</td><td>${price(s, s.lastTrade?.price)}</td>` +
      `<td class="${direction(s.change)}">${signed(s.change, s.priceDecimals)}</td>` +
      `<td class="${direction(s.changePercent)}">${signed(s.changePercent, 2, "%")}</td></tr>`
    ).join("\n");
    return document(
      ctx.nonce,
      "TradeCaptain — markets",
      `<h1>Markets</h1>
<table>
<thead><tr><th>Symbol</th><th>Name</th><th>Last</th><th>Change</th><th>%</th></tr></thead>
<tbody>
${rows || '<tr><td colspan="5">No quotes yet.</td></tr>'}
</tbody>
</table>`,
    );
  },
  quote(ctx, s) {
    const row = (name: string, value: string) => `<tr><th>${name}</th><td>${value}</td></tr>`;
    const side = (q: { price: number; size: number } | null) =>
      q === null ? "–" : `${price(s, q.price)} × ${q.size}`;
    return document(
      ctx.nonce,
      `${s.symbol} — TradeCaptain`,
      `<p><a href="/">Markets</a></p>
<h1>${escapeHtml(s.symbol)} <small>${escapeHtml(s.name)}</small></h1>
<p><strong>${price(s, s.lastTrade?.price)}</strong>
<span class="${direction(s.change)}">${signed(s.change, s.priceDecimals)} (${
        signed(s.changePercent, 2, "%")
      })</span></p>
<table>
${row("Bid", side(s.bid))}
${row("Ask", side(s.ask))}
${row("Open", price(s, s.day?.open))}
${row("High", price(s, s.day?.high))}
${row("Low", price(s, s.day?.low))}
${row("Volume", s.day === null ? "–" : String(s.day.volume))}
${row("VWAP", price(s, s.day?.vwap))}
${row("Previous close", price(s, s.prevClose))}
${row("Updated", new Date(s.updated).toISOString())}
</table>`,
    );
  },
  error(ctx, e) {
    return document(
      ctx.nonce,
      `${e.title} — TradeCaptain`,
      `<p><a href="/">Markets</a></p>
<h1>${escapeHtml(e.title)}</h1>
<p>${escapeHtml(e.detail)}</p>`,
    );
  },
};
