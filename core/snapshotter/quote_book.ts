/**
 * The quote book: per symbol, what a public quote shows — the last trade,
 * the day's open, high, low, close, volume, VWAP and trade count, the
 * previous close and the change — aggregated from the engine's events in
 * engine order, plus the top of book and the market data sequence read from
 * the market data publisher when a snapshot is made.
 *
 * # The day
 * A day is a UTC calendar day of the trades' engine time. The first trade
 * of a new day starts its statistics afresh and makes the previous day's
 * close the previous close; {@linkcode QuoteBook.collect} does the same at
 * midnight for a symbol that has not traded since (its `day` becomes null,
 * its change 0). Until a symbol has closed a day here, its previous close is
 * the instrument table's `referencePrice`, taken as the previous session's
 * close (the table has no other).
 *
 * # Invariants
 * - {@linkcode QuoteBook.apply} is synchronous, allocation-free (until a
 *   day's totals pass 2^53) and O(events): it runs inside the dispatcher's
 *   delivery loop.
 * - A symbol is in {@linkcode QuoteBook.collect}'s result exactly when its
 *   snapshot (apart from `updated` and `version`) differs from the one the
 *   last `collect` returned for it, or was {@linkcode QuoteBook.requeue}d.
 * - Every snapshot made passes `parseQuoteSnapshot` (`schemas/quotes.ts`),
 *   whatever the quantities: the day's volume and Σ price × lots are exact
 *   totals (`_total.ts`: a number while safe, a `bigint` beyond), and the
 *   volume a snapshot shows saturates at 2^53 − 1 lots (the most a JSON
 *   number carries exactly) instead of becoming a value the edge refuses,
 *   which would freeze the symbol's public quote until the day ended.
 *
 * # Known limitations
 * - Statistics cover the trades this process saw, plus what
 *   {@linkcode QuoteBook.resume} restored from the last written snapshots:
 *   after a crash, the trades of the last unwritten interval are missing from
 *   the day's volume (the journal restores the books, not these statistics).
 * - The 52-week range is null: there is no history yet.
 * - A day's volume beyond 2^53 − 1 lots shows as 2^53 − 1 (9.0e15: over
 *   4 × 10^9 trades of the largest order an instrument allows). The VWAP
 *   stays right: it is the exact Σ price × lots over the exact volume, each
 *   rounded to a double (within 2^-52 relative, far below a tick).
 *
 * @module
 */

import {
  type EngineEvent,
  EventKind,
  type Instrument,
  type OrderTraded,
} from "../matching/types.ts";
import {
  QUOTES_FORMAT,
  type QuoteSnapshot,
  type SymbolInfo,
  type SymbolList,
} from "../../schemas/quotes.ts";
import { priceDecimals, roundTo, toDecimal } from "./decimal.ts";
import type { TopOfBook, TopOfBookSource } from "./top_of_book.ts";
import { Total } from "./_total.ts";

/** Milliseconds in a (UTC) day. */
export const DAY_MS = 86_400_000;

/** Decimal places of `changePercent` (0.5022 %: hundredths of a basis point). */
export const CHANGE_PERCENT_DECIMALS = 4;

/** Options of {@linkcode QuoteBook}. */
export interface QuoteBookOptions {
  /** The instrument table; an instrument's number is its position. */
  readonly instruments: readonly Instrument[];
  /** Where the top of book and the channel sequence come from (see `marketDataTop`). */
  readonly top: TopOfBookSource;
}

/** One symbol's state. Prices in units; 0 means "none" (engine prices are positive). */
class SymbolState {
  readonly symbol: string;
  readonly name: string;
  readonly scale: number;
  readonly decimals: number;
  /** Units. */
  readonly tickSize: number;
  readonly lotSize: number;
  /** Lots. */
  readonly maxOrderQty: number;
  lastPrice = 0;
  lastSize = 0;
  lastTime = 0;
  /** The UTC day (ms / DAY_MS) the day statistics are of; -1: no trade today. */
  day = -1;
  open = 0;
  high = 0;
  low = 0;
  close = 0;
  /** Lots traded today. */
  readonly volume = new Total();
  /** Σ price × lots, in price units × lots (the VWAP's numerator). */
  readonly notional = new Total();
  trades = 0;
  /** Units; 0 when unknown. */
  prevClose: number;
  /** Traded since this book was made (then `resume` leaves it alone). */
  traded = false;
  /** Grows whenever anything above changes. */
  revision = 0;
  /** Touched since the last `collect`. */
  dirty = false;
  /** What the last snapshot `collect` returned reflected (-1: none yet). */
  madeRevision = -1;
  madeTop: TopOfBook | undefined = undefined;

  constructor(readonly instrument: number, i: Instrument) {
    this.symbol = i.symbol;
    this.name = i.name;
    this.scale = i.priceScale;
    this.decimals = priceDecimals(i.priceScale);
    this.tickSize = i.tickSize;
    this.lotSize = i.lotSize;
    this.maxOrderQty = i.maxOrderQty;
    this.prevClose = i.referencePrice;
  }
}

const sameTop = (a: TopOfBook, b: TopOfBook) =>
  a.sequence === b.sequence && a.bidPrice === b.bidPrice && a.bidSize === b.bidSize &&
  a.askPrice === b.askPrice && a.askSize === b.askSize;

/**
 * The quote book of every instrument. Feed it every command's events in
 * engine order ({@linkcode QuoteBook.apply}); take the snapshots of what
 * changed with {@linkcode QuoteBook.collect}. See the module documentation.
 *
 * @example
 * ```ts
 * import { QuoteBook } from "./quote_book.ts";
 * import { marketDataTop } from "./top_of_book.ts";
 * import { MarketData } from "../marketdata/mod.ts";
 * import { CommandKind, loadInstruments, OrderType, ReferenceMatcher, Side, TimeInForce } from "../matching/mod.ts";
 * import assert from "node:assert";
 *
 * const instruments = loadInstruments();
 * const matcher = new ReferenceMatcher(instruments);
 * const market = new MarketData({ instruments });
 * const quotes = new QuoteBook({ instruments, top: marketDataTop(market, instruments) });
 * const order = {
 *   kind: CommandKind.PlaceOrder, account: 0, instrument: 0, type: OrderType.Limit,
 *   tif: TimeInForce.Gtc, postOnly: false,
 * } as const;
 * const at = 1_764_000_000_000_000_000n; // engine time, ns
 * for (const command of [
 *   { ...order, id: 1, side: Side.Sell, price: 19010, qty: 10 },
 *   { ...order, id: 2, side: Side.Buy, price: 19010, qty: 4, account: 1 },
 *   { ...order, id: 3, side: Side.Buy, price: 18990, qty: 2, account: 1 },
 * ]) {
 *   const events = matcher.apply(command);
 *   market.apply(command, events, at);
 *   quotes.apply(events, at);
 * }
 * const [aapl] = quotes.collect(1, 1_764_000_000_100);
 * assert.deepStrictEqual(aapl?.lastTrade, { price: 190.1, size: 4, time: 1_764_000_000_000 });
 * assert.deepStrictEqual([aapl?.bid, aapl?.ask], [{ price: 189.9, size: 2 }, { price: 190.1, size: 6 }]);
 * assert.deepStrictEqual([aapl?.prevClose, aapl?.change, aapl?.changePercent], [190, 0.1, 0.0526]);
 * ```
 */
export class QuoteBook {
  readonly #states: SymbolState[];
  readonly #bySymbol = new Map<string, SymbolState>();
  readonly #top: TopOfBookSource;
  /** Symbols touched since the last `collect`. */
  readonly #dirty: SymbolState[] = [];

  /**
   * Makes an empty quote book: no trades, previous closes from the table.
   *
   * @param options The instruments and the top-of-book source.
   * @throws {RangeError} If a symbol appears twice, or a price scale is not a positive integer.
   *
   * @example
   * ```ts
   * import { QuoteBook } from "./quote_book.ts";
   * import { loadInstruments } from "../matching/mod.ts";
   * const top = () => ({ bidPrice: 0, bidSize: 0, askPrice: 0, askSize: 0, sequence: 0 });
   * const quotes = new QuoteBook({ instruments: loadInstruments(), top });
   * if (quotes.collect(1, 0).length !== 0) throw new Error("nothing happened yet");
   * ```
   */
  constructor(options: QuoteBookOptions) {
    this.#top = options.top;
    this.#states = options.instruments.map((instrument, n) => {
      const state = new SymbolState(n, instrument);
      if (this.#bySymbol.has(state.symbol)) {
        throw new RangeError(
          `Cannot make quote book: symbol ${state.symbol} appears twice in the instruments`,
        );
      }
      this.#bySymbol.set(state.symbol, state);
      return state;
    });
  }

  /** How many symbols the book has. */
  get size(): number {
    return this.#states.length;
  }

  /**
   * The instrument list as the public sees it (the value of
   * `QUOTE_KEYS.symbols`), in engine order.
   *
   * @returns The list.
   *
   * @example
   * ```ts
   * import { QuoteBook } from "./quote_book.ts";
   * import { loadInstruments } from "../matching/mod.ts";
   * import assert from "node:assert";
   *
   * const top = () => ({ bidPrice: 0, bidSize: 0, askPrice: 0, askSize: 0, sequence: 0 });
   * const list = new QuoteBook({ instruments: loadInstruments(), top }).symbolList();
   * assert.deepStrictEqual(list.symbols.at(-1), {
   *   symbol: "ES-FUT", name: "E-mini S&P 500 Future",
   *   priceDecimals: 2, tickSize: 0.25, lotSize: 1, maxOrderQty: 1_000_000,
   * });
   * ```
   */
  symbolList(): SymbolList {
    return {
      format: QUOTES_FORMAT,
      symbols: this.#states.map((s): SymbolInfo => ({
        symbol: s.symbol,
        name: s.name,
        priceDecimals: s.decimals,
        tickSize: toDecimal(s.tickSize, s.scale, s.decimals),
        lotSize: s.lotSize,
        maxOrderQty: s.maxOrderQty,
      })),
    };
  }

  /**
   * Applies one command's events, in engine order: trades update the last
   * trade and the day; any event on a book marks its symbol for the next
   * {@linkcode QuoteBook.collect}. Rejections change nothing.
   *
   * The command itself is not needed: its events name the instrument, and a
   * trade's price and size.
   *
   * @param events The command's events, in emission order.
   * @param engineTime When the engine took it, ns since the epoch (the trade time).
   *
   * @example
   * ```ts
   * import { QuoteBook } from "./quote_book.ts";
   * import { loadInstruments } from "../matching/mod.ts";
   * import assert from "node:assert";
   *
   * const top = () => ({ bidPrice: 0, bidSize: 0, askPrice: 0, askSize: 0, sequence: 3 });
   * const quotes = new QuoteBook({ instruments: loadInstruments(), top });
   * quotes.apply([
   *   { kind: 1, id: 2, instrument: 9 },
   *   { kind: 3, instrument: 9, taker: 2, maker: 1, price: 560_025, qty: 3 },
   * ], 1_764_000_000_000_000_000n);
   * const [es] = quotes.collect(1, 1_764_000_000_100);
   * assert.deepStrictEqual([es?.symbol, es?.day?.vwap, es?.change], ["ES-FUT", 5600.25, 0.25]);
   * ```
   */
  apply(events: readonly EngineEvent[], engineTime: bigint): void {
    const states = this.#states;
    let timeMs = -1;
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      if (event.kind === EventKind.OrderRejected) continue;
      const state = states[event.instrument];
      if (state === undefined) continue;
      if (!state.dirty) {
        state.dirty = true;
        this.#dirty.push(state);
      }
      if (event.kind === EventKind.OrderTraded) {
        if (timeMs < 0) timeMs = Number(engineTime / 1_000_000n);
        trade(state, event, timeMs);
      }
    }
  }

  /**
   * Restores a symbol's last trade, day statistics and previous close from
   * its last written snapshot (after a restart), unless it has traded here
   * already. The day is restored only if it is the day of `nowMs`; a
   * snapshot from an earlier day gives its last trade as the previous close.
   * A snapshot of another price precision (the instrument table changed) is
   * ignored. The VWAP restarts from the snapshot's rounded one: within half
   * a unit of its last decimal place.
   *
   * @param snapshot A snapshot read back from KV (checked by `parseQuoteSnapshot`).
   * @param nowMs Now, ms since the epoch.
   * @returns Whether anything was restored.
   *
   * @example
   * ```ts
   * import { QuoteBook } from "./quote_book.ts";
   * import { loadInstruments } from "../matching/mod.ts";
   * import assert from "node:assert";
   *
   * const top = () => ({ bidPrice: 0, bidSize: 0, askPrice: 0, askSize: 0, sequence: 0 });
   * const quotes = new QuoteBook({ instruments: loadInstruments(), top });
   * const day = { open: 189, high: 191, low: 188.5, close: 190.5, volume: 10, vwap: 189.75, trades: 4 };
   * const restored = quotes.resume({
   *   format: 1, symbol: "AAPL", name: "Apple Inc.", priceDecimals: 2,
   *   lastTrade: { price: 190.5, size: 1, time: 1_764_000_000_000 }, bid: null, ask: null,
   *   day, prevClose: 190, change: 0.5, changePercent: 0.2632, week52: null,
   *   sequence: 42, updated: 1_764_000_000_000, version: 7,
   * }, 1_764_000_060_000);
   * assert.deepStrictEqual(restored, true);
   * assert.deepStrictEqual(quotes.collect(8, 1_764_000_060_000)[0]?.day, day);
   * ```
   */
  resume(snapshot: QuoteSnapshot, nowMs: number): boolean {
    const state = this.#bySymbol.get(snapshot.symbol);
    if (
      state === undefined || state.traded || snapshot.priceDecimals !== state.decimals ||
      snapshot.lastTrade === null
    ) return false;
    const units = (price: number) => Math.round(price * state.scale);
    const last = snapshot.lastTrade;
    state.lastPrice = units(last.price);
    state.lastSize = last.size;
    state.lastTime = last.time;
    const day = Math.floor(last.time / DAY_MS);
    const d = snapshot.day;
    if (d !== null && d.volume > 0 && day === Math.floor(nowMs / DAY_MS)) {
      state.day = day;
      state.open = units(d.open);
      state.high = units(d.high);
      state.low = units(d.low);
      state.close = units(d.close);
      state.volume.reset();
      state.volume.add(d.volume);
      state.notional.set(d.vwap * state.scale * d.volume);
      state.trades = d.trades;
      if (snapshot.prevClose !== null) state.prevClose = units(snapshot.prevClose);
    } else {
      state.prevClose = state.lastPrice;
    }
    this.#touch(state);
    return true;
  }

  /**
   * The snapshots of the symbols that changed since the last call (or all of
   * them), made now. A symbol whose last day ended before `updatedMs` first
   * closes it (see the module documentation). Each changed symbol's top of
   * book is read once, from the source.
   *
   * @param version The KV version the snapshots will be written with.
   * @param updatedMs Now, ms since the epoch.
   * @param all Every symbol, changed or not (the first write after a start).
   * @returns The snapshots, in engine order of their first change.
   * @throws {RangeError} If `version` or `updatedMs` is not a non-negative safe integer.
   *
   * @example
   * ```ts
   * import { QuoteBook } from "./quote_book.ts";
   * import { loadInstruments } from "../matching/mod.ts";
   * import assert from "node:assert";
   *
   * let sequence = 0;
   * const top = () => ({ bidPrice: 18990, bidSize: 5, askPrice: 0, askSize: 0, sequence });
   * const quotes = new QuoteBook({ instruments: loadInstruments(), top });
   * assert.deepStrictEqual(quotes.collect(1, 0, true).length, 10);
   * sequence = 1;
   * quotes.apply([{ kind: 1, id: 1, instrument: 3 }], 0n); // AMZN's book changed
   * assert.deepStrictEqual(quotes.collect(2, 0).map((s) => [s.symbol, s.bid, s.ask, s.sequence]), [
   *   ["AMZN", { price: 189.9, size: 5 }, null, 1],
   * ]);
   * ```
   */
  collect(version: number, updatedMs: number, all = false): QuoteSnapshot[] {
    if (!Number.isSafeInteger(version) || version < 0) {
      throw new RangeError(`Cannot make quote snapshots: version ${version} is not a count`);
    }
    if (!Number.isSafeInteger(updatedMs) || updatedMs < 0) {
      throw new RangeError(
        `Cannot make quote snapshots: time ${updatedMs} is not whole ms since the epoch`,
      );
    }
    const today = Math.floor(updatedMs / DAY_MS);
    for (const state of this.#states) {
      if (state.day >= 0 && state.day < today) {
        closeDay(state);
        this.#touch(state);
      }
    }
    const candidates = all ? this.#states : this.#dirty;
    const out: QuoteSnapshot[] = [];
    for (const state of candidates) {
      state.dirty = false;
      const top = this.#top(state.instrument);
      if (
        !all && state.madeRevision === state.revision && state.madeTop !== undefined &&
        sameTop(state.madeTop, top)
      ) continue;
      state.madeRevision = state.revision;
      state.madeTop = top;
      out.push(snapshotOf(state, top, version, updatedMs));
    }
    this.#dirty.length = 0;
    return out;
  }

  /**
   * Marks symbols to be collected again whatever changes: their snapshots
   * were made but not written (the write failed).
   *
   * @param symbols The symbols (unknown ones are ignored).
   *
   * @example
   * ```ts
   * import { QuoteBook } from "./quote_book.ts";
   * import { loadInstruments } from "../matching/mod.ts";
   * import assert from "node:assert";
   *
   * const top = () => ({ bidPrice: 0, bidSize: 0, askPrice: 0, askSize: 0, sequence: 0 });
   * const quotes = new QuoteBook({ instruments: loadInstruments(), top });
   * quotes.collect(1, 0, true);
   * quotes.requeue(["MSFT"]);
   * assert.deepStrictEqual(quotes.collect(1, 0).map((s) => s.symbol), ["MSFT"]);
   * ```
   */
  requeue(symbols: Iterable<string>): void {
    for (const symbol of symbols) {
      const state = this.#bySymbol.get(symbol);
      if (state === undefined) continue;
      state.madeTop = undefined;
      this.#touch(state);
    }
  }

  #touch(state: SymbolState): void {
    state.revision++;
    if (!state.dirty) {
      state.dirty = true;
      this.#dirty.push(state);
    }
  }
}

/** One trade at `timeMs`: the last trade, and the day (started afresh on a new UTC day). */
function trade(state: SymbolState, event: OrderTraded, timeMs: number): void {
  const { price, qty } = event;
  const day = Math.floor(timeMs / DAY_MS);
  if (day > state.day) {
    if (state.day >= 0) closeDay(state);
    state.day = day;
    state.open = state.high = state.low = price;
    state.volume.reset();
    state.notional.reset();
    state.trades = 0;
  }
  if (price > state.high) state.high = price;
  if (price < state.low) state.low = price;
  state.close = price;
  state.volume.add(qty);
  state.notional.addProduct(price, qty);
  state.trades++;
  state.lastPrice = price;
  state.lastSize = qty;
  state.lastTime = timeMs;
  state.traded = true;
  state.revision++;
}

/** Ends a symbol's day: its close becomes the previous close; no day statistics until a trade. */
function closeDay(state: SymbolState): void {
  state.prevClose = state.close;
  state.day = -1;
}

function snapshotOf(
  s: SymbolState,
  top: TopOfBook,
  version: number,
  updated: number,
): QuoteSnapshot {
  const { scale, decimals } = s;
  const price = (units: number) => toDecimal(units, scale, decimals);
  const hasLast = s.lastPrice > 0;
  const hasPrev = s.prevClose > 0;
  return {
    format: QUOTES_FORMAT,
    symbol: s.symbol,
    name: s.name,
    priceDecimals: decimals,
    lastTrade: hasLast ? { price: price(s.lastPrice), size: s.lastSize, time: s.lastTime } : null,
    bid: top.bidSize > 0 ? { price: price(top.bidPrice), size: top.bidSize } : null,
    ask: top.askSize > 0 ? { price: price(top.askPrice), size: top.askSize } : null,
    day: s.day >= 0
      ? {
        open: price(s.open),
        high: price(s.high),
        low: price(s.low),
        close: price(s.close),
        volume: s.volume.saturated,
        vwap: price(s.notional.value / s.volume.value),
        trades: s.trades,
      }
      : null,
    prevClose: hasPrev ? price(s.prevClose) : null,
    change: hasLast && hasPrev ? price(s.lastPrice - s.prevClose) : null,
    changePercent: hasLast && hasPrev
      ? roundTo(((s.lastPrice - s.prevClose) / s.prevClose) * 100, CHANGE_PERCENT_DECIMALS)
      : null,
    week52: null,
    sequence: top.sequence,
    updated,
    version,
  };
}
