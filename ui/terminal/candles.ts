/**
 * Candles (open, high, low, close, volume per interval) from trades: the
 * candle chart's data. {@linkcode buildCandles} is the pure builder;
 * {@linkcode CandleSeries} keeps one symbol's candles up to date as trades
 * arrive (since the page opened), and {@linkcode mergeCandles} lays them
 * over older candles from history.
 *
 * History: the edge has no candles endpoint yet (no trade history is
 * kept). {@linkcode CandleHistory} is the seam for it: the chart asks it
 * for a symbol's older candles, and {@linkcode NO_HISTORY} (the default)
 * answers none. When the endpoint exists, an implementation that fetches
 * it takes its place; nothing else changes.
 *
 * @module
 */

/** One trade, as the builder needs it. */
export interface CandleTrade {
  /** Price units. */
  readonly price: number;
  /** Lots. */
  readonly quantity: number;
  /** Engine time, ns since the epoch. */
  readonly time: bigint;
}

/** One interval's candle. Prices in price units, volume in lots. */
export interface Candle {
  /** The interval's start, seconds since the epoch (a multiple of the interval). */
  readonly time: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
}

/** The candle chart's interval by default (seconds). */
export const CANDLE_INTERVAL_S = 5;

/** The most candles a series keeps (older ones are dropped). */
export const MAX_CANDLES = 2_000;

/**
 * The start of the interval a time falls in.
 *
 * @param time ns since the epoch.
 * @param intervalS The interval, whole seconds (at least 1).
 * @returns Seconds since the epoch, a multiple of `intervalS`.
 */
function bucketOf(time: bigint, intervalS: number): number {
  const seconds = Number(time / 1_000_000_000n);
  return seconds - (((seconds % intervalS) + intervalS) % intervalS);
}

function checkInterval(intervalS: number): void {
  if (!Number.isInteger(intervalS) || intervalS < 1) {
    throw new RangeError(
      `Cannot build candles: the interval must be a whole number of seconds, got ${intervalS}`,
    );
  }
}

function extend(c: Candle, t: CandleTrade): Candle {
  return {
    time: c.time,
    open: c.open,
    high: Math.max(c.high, t.price),
    low: Math.min(c.low, t.price),
    close: t.price,
    volume: c.volume + t.quantity,
  };
}

/**
 * Candles from trades in the order they happened: one per interval that
 * has a trade, oldest first. The open is the interval's first trade, the
 * close its last; intervals without trades have no candle.
 *
 * @param trades The trades, oldest first.
 * @param intervalS The interval, whole seconds.
 * @returns The candles, oldest first.
 * @throws {RangeError} When the interval is not a whole number of seconds ≥ 1.
 *
 * @example
 * ```ts
 * import { buildCandles } from "./candles.ts";
 * const s = 1_000_000_000n;
 * const candles = buildCandles([
 *   { price: 100, quantity: 1, time: 60n * s },
 *   { price: 105, quantity: 2, time: 61n * s },
 *   { price: 99, quantity: 3, time: 62n * s },
 *   { price: 101, quantity: 4, time: 125n * s },
 * ], 60);
 * if (candles.length !== 2) throw new Error("two minutes");
 * const [a] = candles;
 * if (a?.time !== 60 || a.open !== 100 || a.high !== 105 || a.low !== 99 || a.close !== 99) {
 *   throw new Error("first minute");
 * }
 * if (a.volume !== 6 || candles[1]?.time !== 120) throw new Error("volume or bucket");
 * ```
 */
export function buildCandles(trades: readonly CandleTrade[], intervalS: number): Candle[] {
  const series = new CandleSeries(intervalS, Infinity);
  for (const t of trades) series.add(t);
  return series.candles();
}

/**
 * Older candles laid under newer ones: where both have a candle for the same
 * interval, the newer one's wins (it saw the trades itself).
 *
 * @param older Candles from history, oldest first.
 * @param newer Candles since the page opened, oldest first.
 * @returns Both, oldest first, one per interval.
 *
 * @example
 * ```ts
 * import { mergeCandles } from "./candles.ts";
 * const c = (time: number, close: number) => ({ time, open: 1, high: 9, low: 1, close, volume: 1 });
 * const merged = mergeCandles([c(0, 1), c(5, 2)], [c(5, 3), c(10, 4)]);
 * if (merged.map((m) => m.close).join() !== "1,3,4") throw new Error();
 * ```
 */
export function mergeCandles(older: readonly Candle[], newer: readonly Candle[]): Candle[] {
  const byTime = new Map<number, Candle>();
  for (const c of older) byTime.set(c.time, c);
  for (const c of newer) byTime.set(c.time, c);
  return [...byTime.values()].sort((a, b) => a.time - b.time);
}

/**
 * One symbol's candles, kept up to date trade by trade.
 *
 * A trade older than the last candle's interval (the core's channel is in
 * order, so only a late print after a resync can be) is folded into its
 * own interval's candle wherever that sits; its open and close then follow
 * arrival order, not the trade's time (it does not carry finer time than
 * the candle's order needs).
 *
 * @example
 * ```ts
 * import { CandleSeries } from "./candles.ts";
 * const series = new CandleSeries(5);
 * series.add({ price: 100, quantity: 2, time: 10_000_000_000n });
 * const last = series.add({ price: 102, quantity: 1, time: 12_000_000_000n });
 * if (last.candle.close !== 102 || last.candle.volume !== 3 || !last.isLast) throw new Error();
 * ```
 */
export class CandleSeries {
  readonly #intervalS: number;
  readonly #max: number;
  #candles: Candle[] = [];
  #version = 0;

  /**
   * @param intervalS The interval, whole seconds (default {@linkcode CANDLE_INTERVAL_S}).
   * @param max The most candles kept (default {@linkcode MAX_CANDLES}).
   * @throws {RangeError} When the interval is not a whole number of seconds ≥ 1.
   */
  constructor(intervalS: number = CANDLE_INTERVAL_S, max: number = MAX_CANDLES) {
    checkInterval(intervalS);
    this.#intervalS = intervalS;
    this.#max = max;
  }

  /** The interval (seconds). */
  get intervalS(): number {
    return this.#intervalS;
  }

  /** Moves on at every change that is not to the last candle (a chart then redraws them all). */
  get version(): number {
    return this.#version;
  }

  /**
   * Adds one trade.
   *
   * @param trade The trade.
   * @returns The candle it changed or made, and whether that is the last one.
   */
  add(trade: CandleTrade): { candle: Candle; isLast: boolean } {
    const time = bucketOf(trade.time, this.#intervalS);
    const candles = this.#candles;
    const last = candles[candles.length - 1];
    if (last === undefined || time > last.time) {
      const candle = {
        time,
        open: trade.price,
        high: trade.price,
        low: trade.price,
        close: trade.price,
        volume: trade.quantity,
      };
      candles.push(candle);
      if (candles.length > this.#max) {
        candles.shift();
        this.#version++;
      }
      return { candle, isLast: true };
    }
    // Find its interval from the end: late prints are recent.
    let i = candles.length - 1;
    while (i >= 0 && candles[i]!.time > time) i--;
    if (i >= 0 && candles[i]!.time === time) {
      const candle = extend(candles[i]!, trade);
      candles[i] = candle;
      const isLast = i === candles.length - 1;
      if (!isLast) this.#version++;
      return { candle, isLast };
    }
    const candle = {
      time,
      open: trade.price,
      high: trade.price,
      low: trade.price,
      close: trade.price,
      volume: trade.quantity,
    };
    candles.splice(i + 1, 0, candle);
    if (candles.length > this.#max) candles.shift();
    this.#version++;
    return { candle, isLast: false };
  }

  /** How many candles there are. */
  get length(): number {
    return this.#candles.length;
  }

  /**
   * The newest candle.
   *
   * @returns It, or undefined before any trade.
   */
  last(): Candle | undefined {
    return this.#candles[this.#candles.length - 1];
  }

  /**
   * The candles, oldest first (a copy).
   *
   * @returns The candles.
   */
  candles(): Candle[] {
    return this.#candles.slice();
  }
}

/** Where a chart finds a symbol's older candles. */
export interface CandleHistory {
  /**
   * A symbol's candles before the page opened.
   *
   * @param symbol The symbol.
   * @param intervalS The interval (seconds).
   * @returns The candles, oldest first (none when there is no history).
   */
  candles(symbol: string, intervalS: number): Promise<readonly Candle[]>;
}

/** No history: the edge has no candles endpoint yet. */
export const NO_HISTORY: CandleHistory = { candles: () => Promise.resolve([]) };
