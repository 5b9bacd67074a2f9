/**
 * Server rendering of `/trade`: the whole document, with the login form
 * already there before any script runs, the state as JSON for hydration,
 * and the terminal's bundle as a `<script type="module">` with the answer's
 * CSP nonce.
 *
 * @module
 */

import { renderToString } from "preact-render-to-string";
import { documentShell } from "../render_document.tsx";
import { serializeJson } from "../page_state.ts";
import { TerminalApp } from "./app.tsx";
import { MarketStore } from "./market.ts";
import { TERMINAL_ELEMENT_ID, TERMINAL_STATE_ID, type TerminalState } from "./page_state.ts";
import { TERMINAL_CSS } from "./styles.ts";
import { Terminal, type TerminalEnvironment } from "./terminal.ts";
import { toInstrument } from "./ticket.ts";

/** The terminal page's title. */
export const TERMINAL_TITLE = "Terminal — TradeCaptain";

/** Nothing happens on the server: the terminal only connects in the browser. */
const INERT: TerminalEnvironment = {
  openSocket: () => {
    throw new Error("Cannot connect while rendering on the server");
  },
  fetch: () => Promise.reject(new Error("Cannot log in while rendering on the server")),
  frame: () => {},
  setTimeout: () => 0,
  clearTimeout: () => {},
  setInterval: () => 0,
  clearInterval: () => {},
  now: () => 0,
};

/**
 * Makes the terminal and its instruments from the page's state: the same on
 * both sides, so hydration finds what the server rendered.
 *
 * @param state The page's state.
 * @param env The browser's functions (on the server, nothing).
 * @returns The terminal and instruments.
 */
export function makeTerminal(
  state: TerminalState,
  env: TerminalEnvironment = INERT,
): { terminal: Terminal; instruments: ReturnType<typeof toInstrument>[] } {
  const instruments = state.instruments.map(toInstrument);
  const terminal = new Terminal({
    coreUrl: state.coreUrl,
    symbols: instruments.map((i) => i.symbol),
    market: new MarketStore(state.tickers),
    env,
  });
  return { terminal, instruments };
}

/**
 * Renders `/trade`.
 *
 * @param state The core's URL, instruments and tickers.
 * @param options The answer's nonce and the terminal bundle's path.
 * @returns The HTML document.
 *
 * @example
 * ```ts
 * import { renderTerminalDocument } from "./render.tsx";
 * const html = renderTerminalDocument(
 *   { coreUrl: "http://127.0.0.1:8080", tickers: [], instruments: [
 *     { symbol: "AAPL", name: "Apple", priceDecimals: 2, tickSize: 0.01, lotSize: 1 },
 *   ] },
 *   { nonce: "n0", scriptPath: "/assets/terminal-0.js" },
 * );
 * if (!html.includes('name="password"') || !html.includes('nonce="n0"')) throw new Error();
 * ```
 */
export function renderTerminalDocument(
  state: TerminalState,
  options: { readonly nonce: string; readonly scriptPath: string },
): string {
  const { terminal, instruments } = makeTerminal(state);
  const body = renderToString(
    <TerminalApp terminal={terminal} instruments={instruments} ask={() => false} />,
  );
  return documentShell({
    title: TERMINAL_TITLE,
    css: TERMINAL_CSS,
    nonce: options.nonce,
    scriptPath: options.scriptPath,
    appId: TERMINAL_ELEMENT_ID,
    body,
    stateId: TERMINAL_STATE_ID,
    stateJson: serializeJson(state),
  });
}
