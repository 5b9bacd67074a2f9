/**
 * The state the edge's `/trade` page hands to the browser: where the core
 * is, the instruments (the edge's `/api/v1/symbols`), and each symbol's last
 * price and previous close when the page was made, in price units. Embedded
 * as JSON like the quote pages' state (`ui/page_state.ts`).
 *
 * @module
 */

import type { QuoteSnapshot, SymbolInfo } from "../../schemas/quotes.ts";

/** The id of the `<script type="application/json">` holding the {@linkcode TerminalState}. */
export const TERMINAL_STATE_ID = "tc-terminal-state";

/** The id of the element the terminal renders into. */
export const TERMINAL_ELEMENT_ID = "terminal";

/** A symbol's prices when the page was made (price units). */
export interface TickerSeed {
  readonly symbol: string;
  readonly last: number | undefined;
  readonly reference: number | undefined;
}

/** The terminal page's state. */
export interface TerminalState {
  /** The core's HTTP origin (login, and its `ws:` twin for `/ws`). */
  readonly coreUrl: string;
  readonly instruments: readonly SymbolInfo[];
  readonly tickers: readonly TickerSeed[];
}

/**
 * The state for the page from the edge's cached data.
 *
 * @param coreUrl The core's HTTP origin.
 * @param symbols The instrument list.
 * @param snapshots The quote snapshots (their prices are decimals).
 * @returns The state.
 *
 * @example
 * ```ts
 * import { terminalState } from "./page_state.ts";
 * const s = terminalState("http://127.0.0.1:8080", [
 *   { symbol: "AAPL", name: "Apple", priceDecimals: 2, tickSize: 0.01, lotSize: 1 },
 * ], []);
 * if (s.tickers[0]?.last !== undefined) throw new Error("no trade yet");
 * ```
 */
export function terminalState(
  coreUrl: string,
  symbols: readonly SymbolInfo[],
  snapshots: readonly QuoteSnapshot[],
): TerminalState {
  const bySymbol = new Map(snapshots.map((s) => [s.symbol, s]));
  const units = (price: number | null | undefined, decimals: number) =>
    price === null || price === undefined ? undefined : Math.round(price * 10 ** decimals);
  return {
    coreUrl,
    instruments: symbols,
    tickers: symbols.map((i) => {
      const s = bySymbol.get(i.symbol);
      return {
        symbol: i.symbol,
        last: units(s?.lastTrade?.price, i.priceDecimals),
        reference: units(s?.prevClose, i.priceDecimals),
      };
    }),
  };
}

/**
 * Reads the state back (JSON has no `undefined`: missing prices come back absent).
 *
 * @param text The element's text.
 * @returns The state.
 * @throws {TypeError} When it is not a terminal state.
 *
 * @example
 * ```ts
 * import { parseTerminalState } from "./page_state.ts";
 * const s = parseTerminalState('{"coreUrl":"http://x:1","instruments":[],"tickers":[]}');
 * if (s.coreUrl !== "http://x:1") throw new Error("misread");
 * ```
 */
export function parseTerminalState(text: string): TerminalState {
  const v = JSON.parse(text) as Record<string, unknown> | null;
  if (
    typeof v !== "object" || v === null || typeof v.coreUrl !== "string" ||
    !Array.isArray(v.instruments) || !Array.isArray(v.tickers)
  ) {
    throw new TypeError("Cannot read the terminal's state: coreUrl, instruments and tickers");
  }
  return v as unknown as TerminalState;
}
