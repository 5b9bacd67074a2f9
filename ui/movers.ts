/**
 * The market overview's biggest movers: the symbols that rose and fell the
 * most today, by percent change from the previous close.
 *
 * @module
 */

import type { QuoteView } from "./quote_view.ts";

/** The biggest gainers and losers. */
export interface Movers {
  /** Rising symbols, the biggest rise first. */
  readonly gainers: readonly QuoteView[];
  /** Falling symbols, the biggest fall first. */
  readonly losers: readonly QuoteView[];
}

/** How many gainers and how many losers the overview shows. */
export const MOVERS_SHOWN = 3;

/**
 * Picks the biggest movers. A symbol without a percent change, or with
 * none, is neither. Equal changes are ordered by symbol, so the server and
 * the browser list the same symbols in the same order.
 *
 * @param views The quotes.
 * @param count How many of each side (default {@linkcode MOVERS_SHOWN}).
 * @returns The gainers and losers.
 *
 * @example
 * ```ts
 * import { biggestMovers } from "./movers.ts";
 * import { makeSnapshot } from "./_testing/fixtures.ts";
 * const { gainers, losers } = biggestMovers([
 *   makeSnapshot("A", { changePercent: 1 }),
 *   makeSnapshot("B", { changePercent: -3 }),
 *   makeSnapshot("C", { changePercent: 2 }),
 * ]);
 * if (gainers.map((v) => v.symbol).join() !== "C,A" || losers[0]?.symbol !== "B") {
 *   throw new Error("wrong movers");
 * }
 * ```
 */
export function biggestMovers(views: readonly QuoteView[], count = MOVERS_SHOWN): Movers {
  const bySize = (a: QuoteView, b: QuoteView) =>
    Math.abs(b.changePercent ?? 0) - Math.abs(a.changePercent ?? 0) ||
    (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0);
  return {
    gainers: views.filter((v) => (v.changePercent ?? 0) > 0).sort(bySize).slice(0, count),
    losers: views.filter((v) => (v.changePercent ?? 0) < 0).sort(bySize).slice(0, count),
  };
}
