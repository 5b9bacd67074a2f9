/**
 * The depth chart: the chosen symbol's cumulative bid and ask size by
 * price ({@linkcode depthGeometry}), an SVG redrawn once per animation
 * frame. Its colours come from the style sheet (no `style` attributes: the
 * page's CSP refuses them).
 *
 * @module
 */

import { type ReadonlySignal, useComputed } from "@preact/signals";
import { depthGeometry } from "./depth.ts";
import type { MarketStore } from "./market.ts";
import { type Instrument, unitsToText } from "./ticket.ts";

/** How many levels a side the chart shows. */
export const DEPTH_LEVELS = 20;

const WIDTH = 300;
const HEIGHT = 120;

/**
 * The depth chart.
 *
 * @param props The instrument and the market.
 * @returns The panel.
 */
export function DepthChart(
  { instrument, market }: { instrument: ReadonlySignal<Instrument>; market: MarketStore },
) {
  const view = useComputed(() => {
    market.tick.value;
    const i = instrument.value;
    const book = market.book(i.symbol);
    const g = depthGeometry(
      book.levels("buy", DEPTH_LEVELS),
      book.levels("sell", DEPTH_LEVELS),
      WIDTH,
      HEIGHT,
    );
    return {
      ...g,
      low: g.maxCumulative === 0 ? "" : unitsToText(g.lowPrice, i.priceDecimals),
      high: g.maxCumulative === 0 ? "" : unitsToText(g.highPrice, i.priceDecimals),
      total: g.maxCumulative === 0 ? "" : String(g.maxCumulative),
    };
  });
  return (
    <section class="panel depth">
      <h2>Depth</h2>
      <svg
        class="depth-chart"
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        preserveAspectRatio="none"
        role="img"
        aria-label="Cumulative size by price"
      >
        <path class="bids" d={useComputed(() => view.value.bidPath)} />
        <path class="asks" d={useComputed(() => view.value.askPath)} />
      </svg>
      <div class="depth-scale">
        <span>{useComputed(() => view.value.low)}</span>
        <span>{useComputed(() => view.value.total)}</span>
        <span>{useComputed(() => view.value.high)}</span>
      </div>
    </section>
  );
}
