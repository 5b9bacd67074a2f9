/**
 * The depth chart's geometry: cumulative bid and ask size by price, as two
 * SVG step paths in a box (bids rising to the left of the spread, asks to
 * the right), drawn by `depth_chart.tsx`.
 *
 * @module
 */

import type { LadderLevel } from "./book.ts";

/** The depth chart's paths and scales. */
export interface DepthGeometry {
  /** SVG path data of the bids' area (empty when there are none). */
  readonly bidPath: string;
  /** SVG path data of the asks' area (empty when there are none). */
  readonly askPath: string;
  /** The prices at the box's left and right edges (units); equal when the book is empty. */
  readonly lowPrice: number;
  readonly highPrice: number;
  /** The cumulative size at the box's top (lots). */
  readonly maxCumulative: number;
}

const round = (n: number) => Math.round(n * 10) / 10;

/**
 * Lays out cumulative depth: x is price (linear from the lowest bid shown to
 * the highest ask shown), y cumulative size (0 at the bottom, the larger
 * side's total at the top). Each side is a step area from its best price
 * outward: the size at a price holds until the next level.
 *
 * @param bids Bid levels best first, with cumulative sizes (`OrderBook.levels`).
 * @param asks Ask levels best first, with cumulative sizes.
 * @param width The box's width (px).
 * @param height The box's height (px).
 * @returns The paths and scales.
 *
 * @example
 * ```ts
 * import { depthGeometry } from "./depth.ts";
 * const g = depthGeometry(
 *   [{ price: 99, quantity: 2, cumulative: 2, orderCount: 1 }, { price: 98, quantity: 2, cumulative: 4, orderCount: 1 }],
 *   [{ price: 101, quantity: 1, cumulative: 1, orderCount: 1 }],
 *   100,
 *   50,
 * );
 * if (g.lowPrice !== 98 || g.highPrice !== 101 || g.maxCumulative !== 4) throw new Error();
 * if (g.bidPath !== "M33.3 50V25H0V0H0V50Z") throw new Error(g.bidPath);
 * ```
 */
export function depthGeometry(
  bids: readonly LadderLevel[],
  asks: readonly LadderLevel[],
  width: number,
  height: number,
): DepthGeometry {
  const lowPrice = bids[bids.length - 1]?.price ?? asks[0]?.price ?? 0;
  const highPrice = asks[asks.length - 1]?.price ?? bids[0]?.price ?? 0;
  const maxCumulative = Math.max(
    bids[bids.length - 1]?.cumulative ?? 0,
    asks[asks.length - 1]?.cumulative ?? 0,
  );
  const span = highPrice - lowPrice;
  const x = (price: number) => round(span === 0 ? width / 2 : ((price - lowPrice) / span) * width);
  const y = (size: number) =>
    round(maxCumulative === 0 ? height : height - (size / maxCumulative) * height);
  const side = (levels: readonly LadderLevel[], edge: number): string => {
    if (levels.length === 0) return "";
    let d = `M${x(levels[0]!.price)} ${height}`;
    for (let i = 0; i < levels.length; i++) {
      const level = levels[i]!;
      d += `V${y(level.cumulative)}`;
      const next = levels[i + 1];
      d += `H${next === undefined ? round(edge) : x(next.price)}`;
    }
    return `${d}V${height}Z`;
  };
  return {
    bidPath: side(bids, 0),
    askPath: side(asks, width),
    lowPrice,
    highPrice,
    maxCumulative,
  };
}
