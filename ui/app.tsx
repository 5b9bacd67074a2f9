/**
 * The root component of the public pages: the same tree is rendered to a
 * string at the edge and hydrated in the browser, from the same
 * {@linkcode PageState}.
 *
 * @module
 */

import type { ReadonlySignal } from "@preact/signals";
import { MarketOverview } from "./market_overview.tsx";
import type { PageState } from "./page_state.ts";
import { QuotePage } from "./quote_page.tsx";
import type { QuoteStore } from "./quote_store.ts";
import type { StreamStatus } from "./stream_status.tsx";

/** Props of {@linkcode App}. */
export interface AppProps {
  /** Which page, and what it was rendered from. */
  readonly state: PageState;
  /** The quotes, as signals (made from `state.quotes`). */
  readonly store: QuoteStore;
  /** The live stream's state. */
  readonly status: ReadonlySignal<StreamStatus>;
}

/**
 * The page.
 *
 * @param props The state, store and stream state.
 * @returns The page's content.
 * @throws {RangeError} When a quote page's symbol has no quote in the store.
 */
export function App({ state, store, status }: AppProps) {
  if (state.page === "overview") return <MarketOverview store={store} status={status} />;
  const quote = store.get(state.symbol);
  if (quote === undefined) {
    throw new RangeError(`Cannot render the quote page: no quote of ${state.symbol}`);
  }
  return <QuotePage quote={quote} status={status} />;
}
