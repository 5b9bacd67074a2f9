/**
 * What the price ladder shows: the best levels of each side around the
 * spread (asks above, highest first; bids below), each with its size and
 * cumulative size, the trader's own working orders at that price, and which
 * row holds the last trade.
 *
 * @module
 */

import type { OrderBook } from "./book.ts";
import type { WorkingOrder } from "./session.ts";

/** One row of the ladder. */
export interface LadderRow {
  /** Price units. */
  readonly price: number;
  /** `"sell"` for an ask level, `"buy"` for a bid level. */
  readonly side: "buy" | "sell";
  /** Lots at the level, and at it and every better one. */
  readonly size: number;
  readonly cumulative: number;
  /** The trader's working orders at this price (either side). */
  readonly own: readonly WorkingOrder[];
  /** The last trade was at this price. */
  readonly last: boolean;
}

/** The fewest levels a side shows. */
export const LADDER_DEPTH = 10;

/**
 * The ladder's rows: up to `depth` asks (highest first, the best nearest
 * the spread), then up to `depth` bids (best first).
 *
 * @param book The symbol's book.
 * @param orders The session's working orders (any symbol; others are skipped).
 * @param last The last trade's price, if any.
 * @param depth Levels a side (default {@linkcode LADDER_DEPTH}).
 * @returns The rows, top to bottom.
 *
 * @example
 * ```ts
 * import { OrderBook } from "./book.ts";
 * import { ladderRows } from "./ladder.ts";
 * const book = new OrderBook("AAPL");
 * book.applySnapshot({
 *   type: "bookSnapshot", symbol: "AAPL", sequence: 1n, engineTime: 0n,
 *   bids: [{ price: 99, quantity: 2, orderCount: 1 }],
 *   asks: [{ price: 101, quantity: 1, orderCount: 1 }, { price: 102, quantity: 3, orderCount: 1 }],
 * });
 * const rows = ladderRows(book, [], 101);
 * if (rows.map((r) => r.price).join() !== "102,101,99" || !rows[1]!.last) throw new Error();
 * ```
 */
export function ladderRows(
  book: OrderBook,
  orders: readonly WorkingOrder[],
  last: number | undefined,
  depth = LADDER_DEPTH,
): LadderRow[] {
  const own = new Map<number, WorkingOrder[]>();
  for (const o of orders) {
    if (o.symbol !== book.symbol) continue;
    const list = own.get(o.price);
    if (list === undefined) own.set(o.price, [o]);
    else list.push(o);
  }
  const row =
    (side: "buy" | "sell") => (l: { price: number; quantity: number; cumulative: number }) => ({
      price: l.price,
      side,
      size: l.quantity,
      cumulative: l.cumulative,
      own: own.get(l.price) ?? [],
      last: l.price === last,
    });
  return [
    ...book.levels("sell", depth).map(row("sell")).reverse(),
    ...book.levels("buy", depth).map(row("buy")),
  ];
}
