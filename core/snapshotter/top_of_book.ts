/**
 * Where the quote book reads the top of each book and the market data
 * channel's sequence: the market data publisher's L2 view, so that the core
 * keeps one book per instrument besides the engine's own.
 *
 * @module
 */

import type { Instrument } from "../matching/types.ts";

/** The top of one book, in engine units, and the sequence it reflects. */
export interface TopOfBook {
  /** Best bid in price units; 0 when no one bids. */
  readonly bidPrice: number;
  /** Lots at the best bid; 0 when no one bids. */
  readonly bidSize: number;
  /** Best ask in price units; 0 when no one offers. */
  readonly askPrice: number;
  /** Lots at the best ask; 0 when no one offers. */
  readonly askSize: number;
  /** The market data channel's sequence: the last message numbered on it (0: none yet). */
  readonly sequence: number;
}

/**
 * Reads the top of an instrument's book. Called only when a snapshot is
 * made (once per changed symbol per write), never per command.
 *
 * @param instrument The instrument number.
 * @returns Its top of book now.
 */
export type TopOfBookSource = (instrument: number) => TopOfBook;

/** A level as the market data publisher shows it. */
interface Level {
  readonly price: number;
  readonly quantity: number;
}

/** What {@linkcode marketDataTop} needs of `MarketData` (core/marketdata). */
export interface BookReader {
  /**
   * A symbol's levels, best first, and the channel sequence they reflect.
   *
   * @param symbol The symbol.
   * @returns The book, or undefined for an unknown symbol.
   */
  book(
    symbol: string,
  ): { bids: readonly Level[]; asks: readonly Level[]; sequence: bigint } | undefined;
}

/**
 * Reads the top of book from the market data publisher
 * (`MarketData.book`), which the dispatcher feeds with every command: the
 * same books, and the same channel sequence, the traders' stream shows.
 *
 * `MarketData.book` copies and sorts every level of the book, a few µs per
 * hundred levels; the snapshotter calls it once per changed symbol per
 * write, not per command.
 *
 * @param marketData The publisher.
 * @param instruments The instrument table it was made with.
 * @returns The source.
 * @throws {RangeError} When read for an instrument the publisher does not know.
 *
 * @example
 * ```ts
 * import { marketDataTop } from "./top_of_book.ts";
 * import { MarketData } from "../marketdata/mod.ts";
 * import { loadInstruments, Side } from "../matching/mod.ts";
 * import assert from "node:assert";
 *
 * const instruments = loadInstruments();
 * const market = new MarketData({ instruments });
 * market.seed([{ id: 1, instrument: 0, side: Side.Sell, price: 19005, qty: 7 }]);
 * assert.deepStrictEqual(marketDataTop(market, instruments)(0), {
 *   bidPrice: 0, bidSize: 0, askPrice: 19005, askSize: 7, sequence: 0,
 * });
 * ```
 */
export function marketDataTop(
  marketData: BookReader,
  instruments: readonly Instrument[],
): TopOfBookSource {
  const symbols = instruments.map((i) => i.symbol);
  return (instrument) => {
    const symbol = symbols[instrument];
    const book = symbol === undefined ? undefined : marketData.book(symbol);
    if (book === undefined) {
      throw new RangeError(
        `Cannot read the top of book: market data has no instrument ${instrument}` +
          (symbol === undefined ? "" : ` (${symbol})`),
      );
    }
    const bid = book.bids[0];
    const ask = book.asks[0];
    return {
      bidPrice: bid?.price ?? 0,
      bidSize: bid?.quantity ?? 0,
      askPrice: ask?.price ?? 0,
      askSize: ask?.quantity ?? 0,
      sequence: Number(book.sequence),
    };
  };
}
