/**
 * The browser's entry point, bundled into `/assets/client-<hash>.js`
 * (`build.ts`): reads the page state the server embedded, hydrates the
 * server-rendered page with the same components, and keeps it live from
 * the edge's event stream by setting the quotes' signals, which update
 * their text nodes in place.
 *
 * @module
 */

import { effect, signal } from "@preact/signals";
import { type ContainerNode, hydrate } from "preact";
import { App } from "./app.tsx";
import { connectLiveStream } from "./live_stream.ts";
import { APP_ELEMENT_ID, parseState, STATE_ELEMENT_ID, streamUrl } from "./page_state.ts";
import { quoteTitle } from "./quote_page.tsx";
import { QuoteStore } from "./quote_store.ts";
import type { StreamStatus } from "./stream_status.tsx";

/**
 * The little of the DOM's `document` this uses. The DOM's own types are not
 * in the project's compiler options, and `/// <reference lib="dom" />` here
 * would add them to every file checked with this one (`deno check .`), where
 * they clash with Deno's (streams, `TextDecoderStream`).
 */
interface PageDocument {
  getElementById(id: string): (ContainerNode & { readonly textContent: string | null }) | null;
  title: string;
}

const document = (globalThis as unknown as { document: PageDocument }).document;

function start(): void {
  const stateElement = document.getElementById(STATE_ELEMENT_ID);
  const root = document.getElementById(APP_ELEMENT_ID);
  // Not one of our pages (or an old copy of one): leave it as it is.
  if (stateElement === null || root === null) return;
  const state = parseState(stateElement.textContent ?? "");
  const store = new QuoteStore(state.quotes);
  // "snapshot", as on the server, so hydration finds the text it expects.
  const status = signal<StreamStatus>("snapshot");
  hydrate(<App state={state} store={store} status={status} />, root);

  if (state.page === "quote") {
    const quote = store.get(state.symbol);
    if (quote !== undefined) effect(() => void (document.title = quoteTitle(quote.value)));
  }
  connectLiveStream({
    url: (since) => streamUrl(state, since),
    since: state.since,
    onQuote: (view) => store.apply([view]),
    status,
  });
}

start();
