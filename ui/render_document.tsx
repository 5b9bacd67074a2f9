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

/** What {@linkcode documentShell} puts around an app rendered on the server. */
export interface DocumentShell {
  /** The page's title, as text (escaped here). */
  readonly title: string;
  /** The style sheet, inlined under the nonce. */
  readonly css: string;
  /** The answer's CSP nonce. */
  readonly nonce: string;
  /** The client bundle's path. */
  readonly scriptPath: string;
  /** The id of the element the app renders into, and its server-rendered HTML. */
  readonly appId: string;
  readonly body: string;
  /** The id of the JSON state element, and the state as JSON safe inside `<script>`. */
  readonly stateId: string;
  readonly stateJson: string;
}

/**
 * The one HTML document every page of ours is served in: the app rendered on
 * the server, its state as JSON, the style sheet and the module script
 * under the answer's nonce.
 *
 * @param shell What goes in it.
 * @returns The document.
 *
 * @example
 * ```ts
 * import { documentShell } from "./render_document.tsx";
 * const html = documentShell({
 *   title: "A & B", css: "", nonce: "n", scriptPath: "/assets/x.js",
 *   appId: "app", body: "<p>hi</p>", stateId: "state", stateJson: "{}",
 * });
 * if (!html.includes("<title>A &amp; B</title>")) throw new Error(html);
 * ```
 */
export function documentShell(shell: DocumentShell): string {
  const nonce = escapeHtml(shell.nonce);
  // The empty icon keeps browsers from asking for /favicon.ico, which the edge does not serve.
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(shell.title)}</title>
<link rel="icon" href="data:,">
<style nonce="${nonce}">${shell.css}</style>
<script type="module" nonce="${nonce}" src="${escapeHtml(shell.scriptPath)}"></script>
</head>
<body>
<div id="${shell.appId}">${shell.body}</div>
<script type="application/json" id="${shell.stateId}">${shell.stateJson}</script>
</body>
</html>
`;
}

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
  return documentShell({
    title,
    css: PAGE_CSS,
    nonce: options.nonce,
    scriptPath: options.scriptPath,
    appId: APP_ELEMENT_ID,
    body,
    stateId: STATE_ELEMENT_ID,
    stateJson: serializeState(state),
  });
}
