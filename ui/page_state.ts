/**
 * The state a server-rendered page hands to the browser: which page it is,
 * the quotes it was rendered from, and the version to resume the live
 * stream from. The server embeds it as JSON in
 * `<script type="application/json" id="tc-state">` (data, not code: the page's
 * CSP does not apply to it and it needs no nonce); the client reads it back
 * and hydrates from exactly the values the HTML shows.
 *
 * @module
 */

import { SYMBOL_PATTERN } from "../schemas/vocabulary/names.ts";
import type { QuoteView } from "./quote_view.ts";

/** The id of the element the pages render into and hydrate. */
export const APP_ELEMENT_ID = "app";

/** The id of the `<script type="application/json">` holding the {@linkcode PageState}. */
export const STATE_ELEMENT_ID = "tc-state";

/** The path of the edge's event stream. */
export const STREAM_PATH = "/api/v1/stream";

/** A page's state. */
export type PageState =
  | {
    readonly page: "quote";
    /** The page's symbol (its quote is in `quotes`). */
    readonly symbol: string;
    /** The version the page shows: the stream sends only newer quotes. */
    readonly since: number;
    readonly quotes: readonly QuoteView[];
  }
  | {
    readonly page: "overview";
    readonly since: number;
    readonly quotes: readonly QuoteView[];
  };

const UNSAFE_IN_SCRIPT: Record<string, string> = {
  "<": "\\u003c",
  ">": "\\u003e",
  "&": "\\u0026",
  "\u2028": "\\u2028",
  "\u2029": "\\u2029",
};

/**
 * The state as JSON that is safe as the text of a `<script>` element: `<`,
 * `>` and `&` are escaped, so no value (a name holding `</script>` or
 * `<!--`) can end the element or change how the parser reads it.
 *
 * @param state The state.
 * @returns The JSON text.
 *
 * @example
 * ```ts
 * import { serializeState } from "./page_state.ts";
 * const json = serializeState({ page: "overview", since: 1, quotes: [] });
 * if (json !== '{"page":"overview","since":1,"quotes":[]}') throw new Error(json);
 * ```
 */
export function serializeState(state: PageState): string {
  return serializeJson(state);
}

/**
 * Any JSON value as text that is safe inside a `<script>` element (see
 * {@linkcode serializeState}); the terminal's page state uses it too.
 *
 * @param value The value.
 * @returns The JSON text.
 *
 * @example
 * ```ts
 * import { serializeJson } from "./page_state.ts";
 * if (serializeJson({ a: "</script>" }) !== '{"a":"\\u003c/script\\u003e"}') throw new Error();
 * ```
 */
export function serializeJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (ch) => UNSAFE_IN_SCRIPT[ch] ?? ch);
}

/**
 * Reads the state back.
 *
 * @param text The element's text.
 * @returns The state.
 * @throws {SyntaxError} When the text is not JSON.
 * @throws {TypeError} When the JSON is not a page state.
 *
 * @example
 * ```ts
 * import { parseState } from "./page_state.ts";
 * const state = parseState('{"page":"quote","symbol":"AAPL","since":3,"quotes":[]}');
 * if (state.page !== "quote" || state.symbol !== "AAPL") throw new Error("misread");
 * ```
 */
export function parseState(text: string): PageState {
  const value: unknown = JSON.parse(text);
  const v = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
  if (!Number.isSafeInteger(v.since) || !Array.isArray(v.quotes)) {
    throw new TypeError("Cannot read the page state: since and quotes are required");
  }
  if (v.page === "quote") {
    if (typeof v.symbol !== "string" || !SYMBOL_PATTERN.test(v.symbol)) {
      throw new TypeError("Cannot read the page state: a quote page needs its symbol");
    }
    return value as PageState;
  }
  if (v.page === "overview") return value as PageState;
  throw new TypeError(`Cannot read the page state: unknown page ${JSON.stringify(v.page)}`);
}

/**
 * The event stream's URL for a page: its symbol (the overview streams all
 * symbols, new ones included) and the version to resume from.
 *
 * @param state The page's state.
 * @param since The newest version the page holds every change up to.
 * @returns The path and query.
 *
 * @example
 * ```ts
 * import { streamUrl } from "./page_state.ts";
 * const url = streamUrl({ page: "quote", symbol: "BRK.B", since: 3, quotes: [] }, 7);
 * if (url !== "/api/v1/stream?symbols=BRK.B&since=7") throw new Error(url);
 * ```
 */
export function streamUrl(state: PageState, since: number): string {
  const query = new URLSearchParams();
  if (state.page === "quote") query.set("symbols", state.symbol);
  query.set("since", String(since));
  return `${STREAM_PATH}?${query}`;
}
