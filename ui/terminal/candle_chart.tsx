/**
 * The candle chart: the chosen symbol's candles with volume, from the
 * trades seen since the page opened (`MarketStore.candles`) over the
 * older candles a {@linkcode CandleHistory} answers (none yet: the edge
 * has no candles endpoint; {@linkcode NO_HISTORY}).
 *
 * The drawing is passed in ({@linkcode MountCandles}): in the browser
 * `candle_view.ts` (lightweight-charts, on canvas), on the server nothing,
 * so server rendering shows the empty panel and never loads the library.
 * Once per animation frame the chart gets the last candle, or every
 * candle when an older one changed (a late print, the oldest dropped, a new
 * symbol, history arriving).
 *
 * @module
 */

import { effect, type ReadonlySignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { type Candle, type CandleHistory, mergeCandles, NO_HISTORY } from "./candles.ts";
import type { MarketStore } from "./market.ts";
import type { Instrument } from "./ticket.ts";

/** A chart drawn in an element. */
export interface CandleView {
  /** Draws these candles (oldest first), in place of any before. */
  show(candles: readonly Candle[]): void;
  /** Updates the last candle, or adds one after it. */
  update(candle: Candle): void;
  /** Removes the chart from its element. */
  dispose(): void;
}

/** How a chart is made in an element, for an instrument and a theme. */
export type MountCandles = (
  element: unknown,
  options: { instrument: Instrument; theme: "dark" | "light" },
) => CandleView;

/** Props of {@linkcode CandleChart}. */
export interface CandleChartProps {
  readonly instrument: ReadonlySignal<Instrument>;
  readonly market: MarketStore;
  readonly theme: ReadonlySignal<"dark" | "light">;
  /** Draws the chart (the browser's); without it, the panel stays empty. */
  readonly mount?: MountCandles | undefined;
  /** Older candles (default {@linkcode NO_HISTORY}). */
  readonly history?: CandleHistory | undefined;
}

/**
 * The candle chart's panel.
 *
 * @param props The instrument, market, theme, drawing and history.
 * @returns The panel.
 */
export function CandleChart(
  { instrument, market, theme, mount, history = NO_HISTORY }: CandleChartProps,
) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = box.current;
    if (mount === undefined || element === null) return;
    let view: CandleView | undefined;
    let shown = {
      symbol: "",
      theme: "",
      version: -1,
      length: 0,
      last: undefined as Candle | undefined,
    };
    let older: readonly Candle[] = [];
    const stop = effect(() => {
      market.tick.value;
      const i = instrument.value;
      const t = theme.value;
      const series = market.candles(i.symbol);
      if (view === undefined || shown.symbol !== i.symbol || shown.theme !== t) {
        view?.dispose();
        view = mount(element, { instrument: i, theme: t });
        if (shown.symbol !== i.symbol) {
          older = [];
          const symbol = i.symbol;
          history.candles(symbol, series.intervalS).then((candles) => {
            if (instrument.peek().symbol !== symbol || candles.length === 0) return;
            older = candles;
            shown = { ...shown, version: -1 }; // redraw all at the next frame
            view?.show(mergeCandles(older, market.candles(symbol).candles()));
          }, () => {}); // no history is not an error: the trades since the page opened remain
        }
        shown = { symbol: i.symbol, theme: t, version: -1, length: 0, last: undefined };
      }
      const last = series.last();
      if (series.version !== shown.version || series.length < shown.length) {
        view.show(mergeCandles(older, series.candles()));
      } else if (last !== undefined && last !== shown.last) view.update(last);
      shown = { ...shown, version: series.version, length: series.length, last };
    });
    return () => {
      stop();
      view?.dispose();
    };
  }, []);
  return (
    <section class="panel chart">
      <h2>
        Chart{" "}
        <a class="attribution" href="https://www.tradingview.com/" target="_blank" rel="noopener">
          by TradingView
        </a>
      </h2>
      <div class="candles" ref={box} />
    </section>
  );
}
