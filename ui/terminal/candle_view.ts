/**
 * The candle chart drawn by lightweight-charts (TradingView's, on canvas):
 * the browser's {@linkcode MountCandles} for `candle_chart.tsx`. Prices are
 * shown in the instrument's decimals, volume as a histogram under them.
 *
 * The library's attribution logo is off: it injects a `<style>` element,
 * which the page's CSP refuses; the panel's heading links to TradingView
 * instead, as its licence's notice asks.
 *
 * @module
 */

import {
  CandlestickSeries,
  createChart,
  HistogramSeries,
  type UTCTimestamp,
} from "lightweight-charts";
import type { Candle } from "./candles.ts";
import type { CandleView, MountCandles } from "./candle_feed.ts";

const THEMES = {
  dark: { bg: "#171b21", fg: "#8a93a0", line: "#2a313b", up: "#3fb968", down: "#ef5350" },
  light: { bg: "#ffffff", fg: "#5d6672", line: "#d9dde3", up: "#137a3a", down: "#c62828" },
} as const;

/**
 * Draws candles and volume with lightweight-charts in an element.
 *
 * @param element The chart's box (an `HTMLElement`).
 * @param options The instrument (decimals, tick) and the theme.
 * @returns The chart.
 */
export const mountCandles: MountCandles = (element, { instrument, theme }): CandleView => {
  const colours = THEMES[theme];
  const scale = 10 ** instrument.priceDecimals;
  const chart = createChart(element as Parameters<typeof createChart>[0], {
    autoSize: true,
    layout: {
      background: { color: colours.bg },
      textColor: colours.fg,
      attributionLogo: false,
    },
    grid: { vertLines: { color: colours.line }, horzLines: { color: colours.line } },
    timeScale: { timeVisible: true, secondsVisible: true },
  });
  const candles = chart.addSeries(CandlestickSeries, {
    upColor: colours.up,
    downColor: colours.down,
    wickUpColor: colours.up,
    wickDownColor: colours.down,
    borderVisible: false,
    priceFormat: {
      type: "price",
      precision: instrument.priceDecimals,
      minMove: instrument.tick / scale,
    },
  });
  const volume = chart.addSeries(HistogramSeries, {
    priceFormat: { type: "volume" },
    priceScaleId: "",
    color: colours.fg,
  });
  volume.priceScale().applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
  const bar = (c: Candle) => ({
    time: c.time as UTCTimestamp,
    open: c.open / scale,
    high: c.high / scale,
    low: c.low / scale,
    close: c.close / scale,
  });
  const vol = (c: Candle) => ({
    time: c.time as UTCTimestamp,
    value: c.volume,
    color: c.close >= c.open ? colours.up : colours.down,
  });
  return {
    show(list) {
      candles.setData(list.map(bar));
      volume.setData(list.map(vol));
    },
    update(c) {
      candles.update(bar(c));
      volume.update(vol(c));
    },
    dispose() {
      chart.remove();
    },
  };
};
