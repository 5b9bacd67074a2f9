/**
 * What the candle chart draws and when, without a browser: given the
 * chosen symbol's candles at each animation frame, {@linkcode CandleFeed}
 * makes the chart (again for a new symbol or theme), asks the history for
 * older candles, and hands the chart every candle when an older one changed
 * or only the last one otherwise, at most every
 * {@linkcode CHART_REFRESH_MS}. `candle_chart.tsx` runs it in an effect.
 *
 * @module
 */

import { type Candle, type CandleHistory, type CandleSeries, mergeCandles } from "./candles.ts";
import type { Instrument } from "./ticket.ts";

/**
 * The least time between two redraws of the chart (ms): a candle of
 * seconds needs no redraw at 60 frames a second, and lightweight-charts'
 * redraw took about 0.8 ms of a frame's script in the terminal bench (the
 * ladder and the tape still follow every frame).
 */
export const CHART_REFRESH_MS = 100;

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

/** One frame's input. */
export interface FeedInput {
  readonly instrument: Instrument;
  readonly theme: "dark" | "light";
  /** The instrument's candles since the page opened. */
  readonly series: CandleSeries;
  /** ms, monotonic. */
  readonly now: number;
}

/**
 * Feeds a chart.
 *
 * @example
 * ```ts
 * import { CandleFeed } from "./candle_feed.ts";
 * import { CandleSeries, NO_HISTORY } from "./candles.ts";
 * const shown: number[] = [];
 * const feed = new CandleFeed(() => ({
 *   show: (c) => shown.push(c.length), update: () => {}, dispose: () => {},
 * }), NO_HISTORY);
 * const series = new CandleSeries(5);
 * series.add({ price: 100, quantity: 1, time: 0n });
 * const instrument = { symbol: "AAPL", name: "", priceDecimals: 2, tick: 1, lotSize: 1, maxOrderQty: undefined };
 * feed.step({ instrument, theme: "dark", series, now: 0 });
 * if (shown[0] !== 1) throw new Error(String(shown));
 * ```
 */
export class CandleFeed {
  readonly #mount: (options: { instrument: Instrument; theme: "dark" | "light" }) => CandleView;
  readonly #history: CandleHistory;
  readonly #refreshMs: number;
  #view: CandleView | undefined;
  #symbol = "";
  #theme = "";
  #version = -1;
  #length = 0;
  #last: Candle | undefined;
  #older: readonly Candle[] = [];
  #drawnAt = -Infinity;

  /**
   * @param mount Makes the chart (already bound to its element).
   * @param history Older candles.
   * @param refreshMs The least time between redraws (default {@linkcode CHART_REFRESH_MS}).
   */
  constructor(
    mount: (options: { instrument: Instrument; theme: "dark" | "light" }) => CandleView,
    history: CandleHistory,
    refreshMs: number = CHART_REFRESH_MS,
  ) {
    this.#mount = mount;
    this.#history = history;
    this.#refreshMs = refreshMs;
  }

  /**
   * One frame: draws what changed, unless the last redraw was too recent.
   *
   * @param input The instrument, theme, candles and time.
   * @returns 0 when drawn (or nothing to draw), else in how many ms to call again.
   */
  step({ instrument, theme, series, now }: FeedInput): number {
    const symbol = instrument.symbol;
    const fresh = this.#view === undefined || this.#symbol !== symbol || this.#theme !== theme;
    if (!fresh && now - this.#drawnAt < this.#refreshMs) {
      return this.#refreshMs - (now - this.#drawnAt);
    }
    this.#drawnAt = now;
    if (fresh) {
      this.#view?.dispose();
      this.#view = this.#mount({ instrument, theme });
      if (this.#symbol !== symbol) {
        this.#older = [];
        this.#history.candles(symbol, series.intervalS).then((candles) => {
          // Still this symbol's chart: lay the history under what was seen.
          if (this.#symbol !== symbol || candles.length === 0) return;
          this.#older = candles;
          this.#view?.show(mergeCandles(candles, series.candles()));
        }, () => {}); // no history is not an error: the trades since the page opened remain
      }
      this.#symbol = symbol;
      this.#theme = theme;
      this.#version = -1;
    }
    const view = this.#view!;
    const last = series.last();
    if (this.#version !== series.version || series.length < this.#length) {
      view.show(mergeCandles(this.#older, series.candles()));
    } else if (last !== undefined && last !== this.#last) view.update(last);
    this.#version = series.version;
    this.#length = series.length;
    this.#last = last;
    return 0;
  }

  /** Removes the chart. */
  dispose(): void {
    this.#view?.dispose();
    this.#view = undefined;
  }
}
