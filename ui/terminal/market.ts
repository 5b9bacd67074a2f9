/**
 * The market as the terminal sees it: one {@linkcode OrderBook} per
 * subscribed symbol, each symbol's last trade and day reference (for the
 * watchlist's change), the time-and-sales tape, and each symbol's trades
 * since the page opened as candles ({@linkcode CandleSeries}) and as its
 * sparkline's trail ({@linkcode PriceTrail}). Fed the core's
 * `bookSnapshot`, `bookDelta`, `trade`, `quote` and `resync` messages.
 *
 * Components do not watch the books themselves: {@linkcode MarketStore.tick}
 * is a signal bumped once per applied batch (one animation frame), and views
 * read the books inside computed values that depend on it.
 *
 * @module
 */

import { type ReadonlySignal, signal } from "@preact/signals";
import type { ServerEvent, Side } from "../../schemas/wire/mod.ts";
import { OrderBook } from "./book.ts";
import { CandleSeries } from "./candles.ts";
import { PriceTrail } from "./sparkline.ts";

/** One print on the tape. */
export interface TapeRow {
  readonly tradeId: bigint;
  readonly symbol: string;
  /** Price units, lots. */
  readonly price: number;
  readonly quantity: number;
  /** The taker's side. */
  readonly aggressorSide: Side;
  /** Engine time, ns since the epoch. */
  readonly time: bigint;
}

/** A symbol's last trade and reference price, in price units. */
export interface SymbolTicker {
  /** The last trade's price; undefined before any. */
  readonly last: number | undefined;
  /** The previous close (change is measured from it); undefined when unknown. */
  readonly reference: number | undefined;
}

/** The most prints the tape keeps. */
export const TAPE_LENGTH = 200;

/**
 * The market's live state.
 *
 * @example
 * ```ts
 * import { MarketStore } from "./market.ts";
 * const market = new MarketStore([{ symbol: "AAPL", last: 10000, reference: 9900 }]);
 * market.apply({
 *   type: "bookSnapshot", symbol: "AAPL", sequence: 1n, bids: [], asks: [], engineTime: 0n,
 * });
 * market.apply({
 *   type: "trade", symbol: "AAPL", sequence: 2n, tradeId: 5n, price: 10025, quantity: 3,
 *   aggressorSide: "buy", engineTime: 0n,
 * });
 * market.commit();
 * if (market.ticker("AAPL").last !== 10025 || market.tape.value.length !== 1) throw new Error();
 * ```
 */
export class MarketStore {
  readonly #books = new Map<string, OrderBook>();
  readonly #tickers = new Map<
    string,
    { last: number | undefined; reference: number | undefined }
  >();
  readonly #candles = new Map<string, CandleSeries>();
  readonly #trails = new Map<string, PriceTrail>();
  #tape: TapeRow[] = [];
  #dirty = false;
  readonly #tick = signal(0);
  readonly #tapeSignal = signal<readonly TapeRow[]>([]);

  /**
   * @param tickers Each symbol's last price and reference when the page was made (from the edge).
   */
  constructor(
    tickers: readonly { symbol: string; last: number | undefined; reference: number | undefined }[],
  ) {
    for (const t of tickers) this.#tickers.set(t.symbol, { last: t.last, reference: t.reference });
  }

  /** Bumped by {@linkcode MarketStore.commit} when anything changed since the last. */
  get tick(): ReadonlySignal<number> {
    return this.#tick;
  }

  /** The tape, newest first (set at each commit). */
  get tape(): ReadonlySignal<readonly TapeRow[]> {
    return this.#tapeSignal;
  }

  /**
   * A symbol's book (made empty on first use: a subscription fills it).
   *
   * @param symbol The symbol.
   * @returns Its book.
   */
  book(symbol: string): OrderBook {
    let book = this.#books.get(symbol);
    if (book === undefined) this.#books.set(symbol, book = new OrderBook(symbol));
    return book;
  }

  /**
   * A symbol's candles from the trades seen since the page opened.
   *
   * @param symbol The symbol.
   * @returns Its candles (made empty on first use).
   */
  candles(symbol: string): CandleSeries {
    let series = this.#candles.get(symbol);
    if (series === undefined) this.#candles.set(symbol, series = new CandleSeries());
    return series;
  }

  /**
   * A symbol's last prices since the page opened, for its sparkline.
   *
   * @param symbol The symbol.
   * @returns Its trail (made empty on first use).
   */
  trail(symbol: string): PriceTrail {
    let trail = this.#trails.get(symbol);
    if (trail === undefined) this.#trails.set(symbol, trail = new PriceTrail());
    return trail;
  }

  /**
   * A symbol's last trade and reference.
   *
   * @param symbol The symbol.
   * @returns Its ticker (both undefined for a symbol never seen).
   */
  ticker(symbol: string): SymbolTicker {
    return this.#tickers.get(symbol) ?? { last: undefined, reference: undefined };
  }

  /**
   * Applies one message. Nothing is shown until {@linkcode MarketStore.commit}.
   *
   * @param event The message (others than market data are ignored).
   * @returns The symbol whose book must be fetched again (`requestSnapshot`)
   *   after a gap, or undefined.
   */
  apply(event: ServerEvent): string | undefined {
    switch (event.type) {
      case "bookSnapshot":
        this.book(event.symbol).applySnapshot(event);
        this.#dirty = true;
        return undefined;
      case "bookDelta": {
        const step = this.book(event.symbol).applyDelta(event);
        this.#dirty ||= step === "applied" || step === "gap";
        return step === "gap" ? event.symbol : undefined;
      }
      case "quote": {
        const step = this.book(event.symbol).step(event.sequence);
        return step === "gap" ? event.symbol : undefined;
      }
      case "trade": {
        const step = this.book(event.symbol).step(event.sequence);
        // A trade counts for the tape and the last price even when the book
        // is behind: only its order in the channel was lost, not the trade.
        if (step === "applied" || step === "waiting" || step === "gap") {
          const ticker = this.#tickers.get(event.symbol);
          if (ticker === undefined) {
            this.#tickers.set(event.symbol, { last: event.price, reference: undefined });
          } else ticker.last = event.price;
          this.candles(event.symbol).add({
            price: event.price,
            quantity: event.quantity,
            time: event.engineTime,
          });
          this.trail(event.symbol).add(event.price);
          this.#tape.unshift({
            tradeId: event.tradeId,
            symbol: event.symbol,
            price: event.price,
            quantity: event.quantity,
            aggressorSide: event.aggressorSide,
            time: event.engineTime,
          });
          if (this.#tape.length > TAPE_LENGTH) this.#tape.length = TAPE_LENGTH;
          this.#dirty = true;
        }
        return step === "gap" ? event.symbol : undefined;
      }
      case "resync":
        this.book(event.symbol).invalidate();
        this.#dirty = true;
        return undefined;
      default:
        return undefined;
    }
  }

  /** Every book waits for a snapshot (the connection was lost). */
  invalidateAll(): void {
    for (const book of this.#books.values()) book.invalidate();
    this.#dirty = true;
  }

  /** Whether every book of these symbols is live. */
  allLive(symbols: readonly string[]): boolean {
    return symbols.every((s) => this.book(s).state === "live");
  }

  /** Shows what was applied since the last commit (one per animation frame). */
  commit(): void {
    if (!this.#dirty) return;
    this.#dirty = false;
    this.#tapeSignal.value = this.#tape.slice();
    this.#tick.value++;
  }
}
