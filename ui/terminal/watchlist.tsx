/**
 * The watchlist: each instrument's last price, change and change % from
 * the previous close, and a sparkline of its last prices since the page
 * opened (`sparkline.ts`); choosing a row sets the terminal's symbol.
 *
 * @module
 */

import { type Signal, useComputed } from "@preact/signals";
import type { MarketStore } from "./market.ts";
import { sparklinePoints } from "./sparkline.ts";
import { unitsToText } from "./ticket.ts";
import type { Instrument } from "./ticket.ts";

/** Props of {@linkcode Watchlist}. */
export interface WatchlistProps {
  readonly instruments: readonly Instrument[];
  readonly market: MarketStore;
  /** The chosen symbol. */
  readonly selected: Signal<string>;
}

/**
 * A row's figures: last, change and change % (text), and the direction.
 *
 * @param last The last price (units), if any.
 * @param reference The previous close (units), if any.
 * @param priceDecimals The instrument's decimals.
 * @returns The texts and direction.
 *
 * @example
 * ```ts
 * import { rowFigures } from "./watchlist.tsx";
 * const r = rowFigures(10125, 10000, 2);
 * if (r.change !== "+1.25" || r.percent !== "+1.25%" || r.direction !== "up") throw new Error();
 * ```
 */
export function rowFigures(
  last: number | undefined,
  reference: number | undefined,
  priceDecimals: number,
): { last: string; change: string; percent: string; direction: "up" | "down" | "flat" } {
  if (last === undefined) return { last: "–", change: "–", percent: "–", direction: "flat" };
  const text = unitsToText(last, priceDecimals);
  if (reference === undefined || reference <= 0) {
    return { last: text, change: "–", percent: "–", direction: "flat" };
  }
  const diff = last - reference;
  const sign = diff > 0 ? "+" : "";
  const percent = (diff / reference) * 100;
  return {
    last: text,
    change: sign + unitsToText(diff, priceDecimals),
    percent: `${sign}${percent.toFixed(2)}%`,
    direction: diff > 0 ? "up" : diff < 0 ? "down" : "flat",
  };
}

/**
 * The watchlist.
 *
 * @param props The instruments, the market and the chosen symbol.
 * @returns The table.
 */
export function Watchlist({ instruments, market, selected }: WatchlistProps) {
  return (
    <section class="panel watchlist">
      <h2>Watchlist</h2>
      <table>
        <thead>
          <tr>
            <th>Symbol</th>
            <th>Last</th>
            <th>Chg</th>
            <th>Chg %</th>
            <th aria-label="Since the page opened"></th>
          </tr>
        </thead>
        <tbody>
          {instruments.map((i) => (
            <WatchRow key={i.symbol} instrument={i} market={market} selected={selected} />
          ))}
        </tbody>
      </table>
    </section>
  );
}

const SPARK_WIDTH = 60;
const SPARK_HEIGHT = 16;

function WatchRow(
  { instrument, market, selected }: {
    instrument: Instrument;
    market: MarketStore;
    selected: Signal<string>;
  },
) {
  const figures = useComputed(() => {
    market.tick.value;
    const t = market.ticker(instrument.symbol);
    return rowFigures(t.last, t.reference, instrument.priceDecimals);
  });
  const current = useComputed(() => selected.value === instrument.symbol);
  const line = useComputed(() => {
    market.tick.value;
    return sparklinePoints(market.trail(instrument.symbol).points(), SPARK_WIDTH, SPARK_HEIGHT);
  });
  return (
    <tr
      aria-selected={current}
      class={useComputed(() => figures.value.direction)}
      onClick={() => selected.value = instrument.symbol}
    >
      <th scope="row">{instrument.symbol}</th>
      <td>{useComputed(() => figures.value.last)}</td>
      <td>{useComputed(() => figures.value.change)}</td>
      <td>{useComputed(() => figures.value.percent)}</td>
      <td class="spark">
        <svg
          viewBox={`0 0 ${SPARK_WIDTH} ${SPARK_HEIGHT}`}
          preserveAspectRatio="none"
          aria-hidden="true"
        >
          <polyline points={line} />
        </svg>
      </td>
    </tr>
  );
}
