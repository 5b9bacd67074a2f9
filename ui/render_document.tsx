/**
 * Server rendering: a whole HTML document for a {@linkcode PageState},
 * readable before any script runs (every price is in the HTML), carrying
 * the state as JSON for hydration and the client bundle as a
 * `<script type="module">` with the answer's CSP nonce. No inline event
 * handlers and no `style` attributes: the page works under a CSP that
 * allows only its own origin and the nonce.
 *
 * @module
 */

import { signal } from "@preact/signals";
import { renderToString } from "preact-render-to-string";
import { App } from "./app.tsx";
import { APP_ELEMENT_ID, type PageState, serializeState, STATE_ELEMENT_ID } from "./page_state.ts";
import { quoteTitle } from "./quote_page.tsx";
import { QuoteStore } from "./quote_store.ts";
import type { StreamStatus } from "./stream_status.tsx";
import { PAGE_CSS } from "./styles.ts";

/** Options of {@linkcode renderDocument}. */
export interface RenderDocumentOptions {
  /** The answer's CSP nonce, put on the `<script>` and `<style>` elements. */
  readonly nonce: string;
  /** The client bundle's URL path (`/assets/client-<hash>.js`). */
  readonly scriptPath: string;
}

/** The overview's title. */
export const OVERVIEW_TITLE = "Markets — TradeCaptain";

/**
 * Escapes text for HTML content and double-quoted attribute values.
 *
 * @param text The text.
 * @returns The escaped text.
 *
 * @example
 * ```ts
 * import { escapeHtml } from "./render_document.tsx";
 * if (escapeHtml(`<a href="x">&'`) !== "&lt;a href=&quot;x&quot;&gt;&amp;&#39;") throw new Error();
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ESCAPES[ch] ?? ch);
}

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * Renders a page to a whole HTML document.
 *
 * @param state The page and the quotes it shows (a quote page's symbol must be among them).
 * @param options The nonce and the client bundle's path.
 * @returns The document.
 * @throws {RangeError} When a quote page's symbol has no quote in `state.quotes`.
 *
 * @example
 * ```ts
 * import { renderDocument } from "./render_document.tsx";
 * import { makeSnapshot } from "./_testing/fixtures.ts";
 * const html = renderDocument(
 *   { page: "quote", symbol: "AAPL", since: 1, quotes: [makeSnapshot("AAPL")] },
 *   { nonce: "abc", scriptPath: "/assets/client-0.js" },
 * );
 * if (!html.includes(">101.25<")) throw new Error("no price");
 * if (!html.includes('<script type="module" nonce="abc" src="/assets/client-0.js">')) {
 *   throw new Error("no script");
 * }
 * ```
 */
export function renderDocument(state: PageState, options: RenderDocumentOptions): string {
  const store = new QuoteStore(state.quotes);
  // As the client starts: the same tree, so hydration finds what it expects.
  const status = signal<StreamStatus>("snapshot");
  const body = renderToString(<App state={state} store={store} status={status} />);
  const quote = state.page === "quote" ? store.get(state.symbol)?.peek() : undefined;
  const title = quote === undefined ? OVERVIEW_TITLE : quoteTitle(quote);
  const nonce = escapeHtml(options.nonce);
  // The empty icon keeps browsers from asking for /favicon.ico, which the edge does not serve.
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<style nonce="${nonce}">${PAGE_CSS}</style>
<script type="module" nonce="${nonce}" src="${escapeHtml(options.scriptPath)}"></script>
</head>
<body>
<div id="${APP_ELEMENT_ID}">${body}</div>
<script type="application/json" id="${STATE_ELEMENT_ID}">${serializeState(state)}</script>
</body>
</html>
`;
}
