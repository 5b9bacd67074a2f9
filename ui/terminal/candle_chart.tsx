/**
 * The candle chart: the chosen symbol's candles with volume, from the
 * trades seen since the page opened (`MarketStore.candles`) over the
 * older candles a {@linkcode CandleHistory} answers (none yet: the edge
 * has no candles endpoint; {@linkcode NO_HISTORY}).
 *
 * The drawing is passed in ({@linkcode MountCandles}): in the browser
 * `candle_view.ts` (lightweight-charts, on canvas), on the server nothing,
 * so server rendering shows the empty panel and never loads the library.
 * What is drawn and when is {@linkcode CandleFeed}'s, run at every change
 * of the market (once per animation frame), the symbol or the theme.
 *
 * @module
 */

import { effect, type ReadonlySignal, signal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { CandleFeed, type MountCandles } from "./candle_feed.ts";
import { type CandleHistory, NO_HISTORY } from "./candles.ts";
import type { MarketStore } from "./market.ts";
import type { Instrument } from "./ticket.ts";

export type { CandleView, MountCandles } from "./candle_feed.ts";

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
    const feed = new CandleFeed((options) => mount(element, options), history);
    // Bumped by the timer when a frame's redraw was put off.
    const later = signal(0);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = effect(() => {
      market.tick.value;
      later.value;
      const i = instrument.value;
      const wait = feed.step({
        instrument: i,
        theme: theme.value,
        series: market.candles(i.symbol),
        now: performance.now(),
      });
      if (wait > 0) {
        timer ??= setTimeout(() => {
          timer = undefined;
          later.value++;
        }, wait);
      }
    });
    return () => {
      stop();
      clearTimeout(timer);
      feed.dispose();
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
