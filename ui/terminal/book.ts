/**
 * One symbol's L2 book in the terminal, kept from the core's market data
 * channel: a `bookSnapshot`, then `bookDelta`s with absolute quantities (0
 * removes a level), each message of the channel (`bookDelta`, `trade`,
 * `quote`) numbered one more than the last.
 *
 * # Invariants
 * - A delta costs O(levels it changes): each side is a `Map` from price to
 *   level, and the best price is kept as levels arrive. Removing the best
 *   level only marks the best unknown; the next read finds it in one pass
 *   (reads happen once per animation frame, deltas up to thousands a second).
 *   Sorted levels for the ladder are made on read and kept until the next
 *   change.
 * - Nothing is applied out of order: a message older than the book is
 *   ignored; one that skips a number is a gap, after which the book is
 *   `stale` and ignores everything until a snapshot (the caller sends
 *   `requestSnapshot` once, when {@linkcode ChannelStep} says `gap`).
 * - Prices and quantities are the wire's integers (price units, lots).
 *
 * @module
 */

import type { BookDeltaEvent, BookLevel, BookSnapshotEvent, Side } from "../../schemas/wire/mod.ts";

/** Where a book stands: no snapshot yet, in step with the channel, or behind a gap. */
export type BookState = "empty" | "live" | "stale";

/**
 * What a channel message did to the book: `applied`; `old` (at or before
 * the book's sequence, ignored); `gap` (it skipped a number: the book is now
 * stale, ask for a snapshot); `waiting` (the book is stale or empty and
 * waits for a snapshot; nothing to do).
 */
export type ChannelStep = "applied" | "old" | "gap" | "waiting";

/** A level as the ladder shows it. */
export interface LadderLevel extends BookLevel {
  /** Lots at this level and every better one on its side. */
  readonly cumulative: number;
}

class BookSide {
  readonly levels = new Map<number, BookLevel>();
  /** The best price, NaN when unknown (recomputed on read), undefined when empty. */
  #best: number | undefined = undefined;
  #sorted: BookLevel[] | undefined;

  constructor(readonly bids: boolean) {}

  better(a: number, b: number): boolean {
    return this.bids ? a > b : a < b;
  }

  set(level: BookLevel): void {
    this.#sorted = undefined;
    if (level.quantity <= 0) {
      if (this.levels.delete(level.price) && level.price === this.#best) this.#best = NaN;
      return;
    }
    const isNew = !this.levels.has(level.price);
    // A copy: a delta's level carries its side too.
    const { price, quantity, orderCount } = level;
    this.levels.set(price, { price, quantity, orderCount });
    if (
      isNew && !Number.isNaN(this.#best) &&
      (this.#best === undefined || this.better(level.price, this.#best))
    ) {
      this.#best = level.price;
    }
  }

  clear(): void {
    this.levels.clear();
    this.#best = undefined;
    this.#sorted = undefined;
  }

  best(): BookLevel | undefined {
    if (Number.isNaN(this.#best)) {
      let best: number | undefined;
      for (const price of this.levels.keys()) {
        if (best === undefined || this.better(price, best)) best = price;
      }
      this.#best = best;
    }
    return this.#best === undefined ? undefined : this.levels.get(this.#best);
  }

  sorted(): readonly BookLevel[] {
    this.#sorted ??= [...this.levels.values()].sort((a, b) =>
      this.bids ? b.price - a.price : a.price - b.price
    );
    return this.#sorted;
  }
}

/**
 * A symbol's book, applied from its channel.
 *
 * @example
 * ```ts
 * import { OrderBook } from "./book.ts";
 * const book = new OrderBook("AAPL");
 * book.applySnapshot({
 *   type: "bookSnapshot", symbol: "AAPL", sequence: 5n, engineTime: 0n,
 *   bids: [{ price: 10000, quantity: 3, orderCount: 1 }],
 *   asks: [{ price: 10010, quantity: 2, orderCount: 1 }],
 * });
 * const step = book.applyDelta({
 *   type: "bookDelta", symbol: "AAPL", sequence: 6n, engineTime: 0n,
 *   levels: [{ side: "sell", price: 10010, quantity: 0, orderCount: 0 }],
 * });
 * if (step !== "applied" || book.bestAsk() !== undefined) throw new Error("not removed");
 * ```
 */
export class OrderBook {
  readonly #bids = new BookSide(true);
  readonly #asks = new BookSide(false);
  #state: BookState = "empty";
  #sequence = 0n;
  /** Grows with every change: a view compares it to know whether to redraw. */
  revision = 0;

  /**
   * @param symbol The symbol whose channel feeds this book.
   */
  constructor(readonly symbol: string) {}

  /** Where the book stands. */
  get state(): BookState {
    return this.#state;
  }

  /** The last channel sequence applied (a snapshot's, or a message's since). */
  get sequence(): bigint {
    return this.#sequence;
  }

  /**
   * Replaces the book with a snapshot: the book is live at its sequence.
   *
   * @param snapshot The core's snapshot of this symbol.
   */
  applySnapshot(snapshot: BookSnapshotEvent): void {
    this.#bids.clear();
    this.#asks.clear();
    for (const level of snapshot.bids) this.#bids.set(level);
    for (const level of snapshot.asks) this.#asks.set(level);
    this.#sequence = snapshot.sequence;
    this.#state = "live";
    this.revision++;
  }

  /**
   * Applies a delta: each level's absolute quantity (0 removes it).
   *
   * @param delta The delta.
   * @returns What happened ({@linkcode ChannelStep}); on `gap`, ask for a snapshot.
   */
  applyDelta(delta: BookDeltaEvent): ChannelStep {
    const step = this.step(delta.sequence);
    if (step !== "applied") return step;
    for (const level of delta.levels) {
      (level.side === "buy" ? this.#bids : this.#asks).set(level);
    }
    this.revision++;
    return step;
  }

  /**
   * Accounts for a channel message that carries no levels (`trade`, `quote`):
   * it moves the sequence on, or reveals a gap.
   *
   * @param sequence The message's channel sequence.
   * @returns What happened ({@linkcode ChannelStep}).
   */
  step(sequence: bigint): ChannelStep {
    if (this.#state !== "live") return "waiting";
    if (sequence <= this.#sequence) return "old";
    if (sequence !== this.#sequence + 1n) {
      this.#state = "stale";
      this.revision++;
      return "gap";
    }
    this.#sequence = sequence;
    return "applied";
  }

  /** Drops the book until the next snapshot (the core said `resync`, or the connection was lost). */
  invalidate(): void {
    if (this.#state === "live") this.#state = "stale";
    this.revision++;
  }

  /** The best bid, if any. */
  bestBid(): BookLevel | undefined {
    return this.#bids.best();
  }

  /** The best ask, if any. */
  bestAsk(): BookLevel | undefined {
    return this.#asks.best();
  }

  /**
   * The level at a price.
   *
   * @param side `"buy"` for bids, `"sell"` for asks.
   * @param price The price (units).
   * @returns The level, or undefined when nothing rests there.
   */
  level(side: Side, price: number): BookLevel | undefined {
    return (side === "buy" ? this.#bids : this.#asks).levels.get(price);
  }

  /**
   * The best `count` levels of a side, best first, with cumulative sizes.
   *
   * @param side `"buy"` for bids, `"sell"` for asks.
   * @param count How many levels at most.
   * @returns The levels.
   */
  levels(side: Side, count: number): LadderLevel[] {
    const sorted = (side === "buy" ? this.#bids : this.#asks).sorted();
    const out: LadderLevel[] = [];
    let cumulative = 0;
    for (let i = 0; i < sorted.length && i < count; i++) {
      const level = sorted[i]!;
      cumulative += level.quantity;
      out.push({ ...level, cumulative });
    }
    return out;
  }

  /** How many levels each side has. */
  depth(): { bids: number; asks: number } {
    return { bids: this.#bids.levels.size, asks: this.#asks.levels.size };
  }
}
