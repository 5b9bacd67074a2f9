/**
 * The public quote pages: Preact components shared between server rendering
 * at the edge and the browser, kept live with @preact/signals from the
 * edge's event stream.
 *
 * ```ts
 * import { findAsset, quotePages } from "./mod.ts";
 * import { makeSnapshot } from "./_testing/fixtures.ts";
 * const s = makeSnapshot("AAPL");
 * const html = quotePages.quote({ nonce: "abc", version: 1, snapshots: [s] }, s);
 * const src = html.match(/<script type="module" nonce="abc" src="([^"]+)">/)?.[1];
 * if (src === undefined || findAsset(src) === undefined) throw new Error("no bundle");
 * ```
 *
 * # Serving
 *
 * Pass {@linkcode quotePages} as the edge's `pages` hook. It renders
 * `GET /` and `GET /q/:symbol` as whole documents, the error page a
 * browser gets where there is nothing (`error_page.tsx`: `/q/ZZZZ`, an
 * unknown path; no script), and answers
 * `GET /assets/…` with the client bundle ({@linkcode findAsset},
 * {@linkcode assetResponse}: `Cache-Control: public, max-age=31536000,
 * immutable`, under a path naming the content's hash).
 *
 * # In the browser
 *
 * `client.tsx`, bundled by `build.ts` into `dist/client_bundle.ts`
 * (committed), reads the state the page embeds, hydrates, and opens
 * `GET /api/v1/stream` (`symbols` = the page's symbol on a quote page, all on
 * the overview; `since` = the version the page shows). Each quote sets its
 * symbol's signal; the computed texts bound to the page's nodes change in
 * place. See `live_stream.ts` for reconnecting.
 *
 * # Invariants
 *
 * - Imports `schemas/` and npm packages only: nothing from `core/`,
 *   `native/` or `edge/` (tests aside).
 * - Server and browser print the same text for the same quote: no locale,
 *   no time zone (`format.ts`).
 * - No inline event handlers, no `style` attributes, no inline script but
 *   JSON data: the pages run under a CSP of `'self'` and a nonce.
 *
 * @module
 */

export { App, type AppProps } from "./app.tsx";
export {
  ERROR_PAGE_SYMBOLS,
  ErrorPage,
  type ErrorPageError,
  type ErrorPageProps,
  renderErrorDocument,
} from "./error_page.tsx";
export {
  type Asset,
  ASSET_CACHE_CONTROL,
  ASSET_PREFIX,
  assetResponse,
  assets,
  clientBundle,
  findAsset,
} from "./assets.ts";
export {
  type Direction,
  direction,
  formatChange,
  formatPercent,
  formatPrice,
  formatSize,
  formatTime,
  MISSING,
} from "./format.ts";
export {
  connectLiveStream,
  EVENT_SOURCE_CLOSED,
  type EventSourceLike,
  type LiveStream,
  type LiveStreamOptions,
} from "./live_stream.ts";
export { MarketOverview, type MarketOverviewProps } from "./market_overview.tsx";
export { biggestMovers, type Movers, MOVERS_SHOWN } from "./movers.ts";
export {
  APP_ELEMENT_ID,
  type PageState,
  parseState,
  serializeState,
  STATE_ELEMENT_ID,
  STREAM_PATH,
  streamUrl,
} from "./page_state.ts";
export {
  createQuotePages,
  type PageInput,
  type QuotePages,
  quotePages,
  type QuotePagesOptions,
} from "./pages.ts";
export { QuotePage, type QuotePageProps, quoteTitle } from "./quote_page.tsx";
export { QuoteStore } from "./quote_store.ts";
export { parseTickerEvent, type QuoteView, toQuoteView } from "./quote_view.ts";
export {
  escapeHtml,
  OVERVIEW_TITLE,
  renderDocument,
  type RenderDocumentOptions,
} from "./render_document.tsx";
export { STREAM_STATUS_TEXT, type StreamStatus, StreamStatusText } from "./stream_status.tsx";
