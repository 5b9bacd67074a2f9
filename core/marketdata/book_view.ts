/**
 * An L2 view of every instrument's book, rebuilt from the commands the
 * engine processed and the events it produced, in engine order: which
 * orders rest (id → instrument, side, price, open quantity) and, per side,
 * each price level's total quantity and order count.
 *
 * The publisher needs the levels a command changed (for one `BookDelta`
 * with absolute totals) and the top of the book (for `Quote`); the engine
 * reports orders, not levels, so the view follows each order:
 *
 * - `accepted` (a new order): it opens with its quantity; trades where it is
 *   the taker and an `expired` rest reduce it; a limit order rests what is
 *   left at the end of the command;
 * - `traded`: the maker loses the traded quantity (and so does a resting
 *   taker: a replaced order that crossed);
 * - `cancelled`, `expired` (of a resting order): it leaves the book;
 * - `replaced`: it moves to the new price with the new open quantity, then
 *   any trades it takes reduce it there.
 *
 * # Invariants
 * - After every `apply`, every level in the view has a positive order count
 *   and holds exactly the sum of its orders' open quantities; no level is
 *   left empty.
 * - `changes` lists each level whose total or count differs from before the
 *   command, once, with its new values (0 and 0 for a removed level).
 * - The best level of each side is known in O(1) after every command.
 * - Every level's total is a safe integer (below 2^53), so it is exact and
 *   fits the wire's quantities. The engine makes it so: it caps every order
 *   at its instrument's `maxOrderQty`, at most 2^21 − 1 lots, and fewer than
 *   2^32 orders rest at once. An order that would take a level past
 *   2^53 − 1 anyway (a matcher without that cap) throws a `RangeError`
 *   instead of being counted inexactly.
 *
 * # Performance
 * A command costs O(events) map operations, plus finding the next best price
 * when the best level empties: a few word reads of an occupancy bitmap over
 * 65,536 ticks around the reference price (as the native book's ladder), a
 * scan of the side's levels beyond it. No allocation but a resting order's
 * record and a new level's.
 *
 * @module
 */

import {
  type Command,
  CommandKind,
  type EngineEvent,
  EventKind,
  type Instrument,
  OrderType,
  type PlaceOrder,
  Side,
} from "../matching/types.ts";
import type { BookLevel } from "../wire/types.ts";

/** A price level of the view. Read-only outside the view; valid until the next `apply`. */
export interface ViewLevel {
  /** The engine's side: buy 0 (a bid level), sell 1 (an ask level). */
  readonly side: Side;
  /** Price units. */
  readonly price: number;
  /** Total open lots at the price; 0 once removed. */
  readonly qty: number;
  /** Orders resting at the price; 0 once removed. */
  readonly count: number;
}

/** A resting order, as {@linkcode BookView.seed} takes it and {@linkcode BookView.order} shows it. */
export interface RestingOrder {
  /** The engine's order id. */
  readonly id: number;
  /** Instrument number. */
  readonly instrument: number;
  readonly side: Side;
  /** Price units. */
  readonly price: number;
  /** Open lots. */
  readonly qty: number;
}

/**
 * Tick slots per side whose occupancy a bitmap tracks, centred on the
 * instrument's reference price: the next best price after the best level
 * empties is found in a few word reads inside this window, by a scan of the
 * side's levels outside it.
 */
const WINDOW = 1 << 16;

class Level implements ViewLevel {
  qty = 0;
  count = 0;
  /** The stamp of the last command that touched the level. */
  stamp = 0;
  /** Total and count before that command. */
  qtyBefore = 0;
  countBefore = 0;

  constructor(readonly book: BookSide, readonly side: Side, readonly price: number) {}
}

class Order {
  constructor(
    readonly id: number,
    readonly instrument: number,
    readonly side: Side,
    public level: Level,
    public qty: number,
  ) {}
}

/** One side of one book: levels by price, and the best one. */
class BookSide {
  readonly levels = new Map<number, Level>();
  /** The best level, or undefined when the side is empty. Between commands, never empty. */
  best: Level | undefined;
  /** Bit `i` is set while a level exists at `base + i * tick` (see {@linkcode WINDOW}). */
  readonly #occupied = new Uint32Array(WINDOW / 32);
  readonly #base: number;

  constructor(readonly side: Side, readonly tick: number, center: number) {
    this.#base = center - (WINDOW / 2) * tick;
  }

  /** The bitmap slot of `price`, or -1 outside the window (or off the tick grid). */
  #slot(price: number): number {
    const slot = (price - this.#base) / this.tick;
    return slot >= 0 && slot < WINDOW && (slot | 0) === slot ? slot : -1;
  }

  /** Whether `a` is a better price than `b` on this side. */
  better(a: number, b: number): boolean {
    return this.side === Side.Buy ? a > b : a < b;
  }

  /** The level at `price`, made empty if there is none. */
  at(price: number): Level {
    let level = this.levels.get(price);
    if (level === undefined) {
      level = new Level(this, this.side, price);
      this.levels.set(price, level);
      const slot = this.#slot(price);
      if (slot >= 0) this.#occupied[slot >>> 5]! |= 1 << (slot & 31);
      if (this.best === undefined || this.better(price, this.best.price)) this.best = level;
    }
    return level;
  }

  /** Forgets an emptied level. */
  remove(level: Level): void {
    this.levels.delete(level.price);
    const slot = this.#slot(level.price);
    if (slot >= 0) this.#occupied[slot >>> 5]! &= ~(1 << (slot & 31));
  }

  /**
   * After empty levels were removed: if the best one was, find the next.
   * Inside the window, the next occupied slot away from the touch is the
   * next best (anything beyond the window is worse); otherwise scan.
   */
  settle(): void {
    const best = this.best;
    if (best === undefined || best.count > 0) return;
    const slot = this.#slot(best.price);
    const next = slot < 0 ? -1 : this.side === Side.Buy ? this.#below(slot) : this.#above(slot);
    if (next >= 0) {
      this.best = this.levels.get(this.#base + next * this.tick);
      return;
    }
    let found: Level | undefined;
    for (const level of this.levels.values()) {
      if (found === undefined || this.better(level.price, found.price)) found = level;
    }
    this.best = found;
  }

  /** The highest occupied slot below `slot`, or -1. */
  #below(slot: number): number {
    const bits = this.#occupied;
    let word = slot >>> 5;
    let w = bits[word]! & ((1 << (slot & 31)) - 1); // (1 << 0) - 1 = 0: none below
    while (w === 0) {
      if (--word < 0) return -1;
      w = bits[word]!;
    }
    return (word << 5) + 31 - Math.clz32(w);
  }

  /** The lowest occupied slot above `slot`, or -1. */
  #above(slot: number): number {
    const bits = this.#occupied;
    let word = slot >>> 5;
    let w = bits[word]! & ~((2 << (slot & 31)) - 1); // 2 << 31 = 0: ~(-1) = none above
    while (w === 0) {
      if (++word >= bits.length) return -1;
      w = bits[word]!;
    }
    return (word << 5) + 31 - Math.clz32(w & -w);
  }

  /** The levels, best first. */
  sorted(): Level[] {
    const levels = [...this.levels.values()];
    return this.side === Side.Buy
      ? levels.sort((a, b) => b.price - a.price)
      : levels.sort((a, b) => a.price - b.price);
  }
}

interface Book {
  readonly bids: BookSide;
  readonly asks: BookSide;
}

/**
 * The L2 book view of every instrument. Feed it every command and its
 * events, in engine order; read the levels a command changed from
 * {@linkcode BookView.changes}.
 *
 * @example
 * ```ts
 * import { BookView } from "./book_view.ts";
 * import { CommandKind, loadInstruments, OrderType, ReferenceMatcher, Side, TimeInForce } from "../matching/mod.ts";
 * import assert from "node:assert";
 *
 * const instruments = loadInstruments();
 * const matcher = new ReferenceMatcher(instruments);
 * const view = new BookView(instruments);
 * const order = {
 *   kind: CommandKind.PlaceOrder, account: 0, instrument: 0, type: OrderType.Limit,
 *   tif: TimeInForce.Gtc, postOnly: false, price: 19000,
 * } as const;
 * for (const command of [
 *   { ...order, id: 1, side: Side.Sell, qty: 10 },
 *   { ...order, id: 2, side: Side.Sell, qty: 5 },
 *   { ...order, id: 3, side: Side.Buy, qty: 12, account: 1 },
 * ]) view.apply(command, matcher.apply(command));
 * // The buy took 10 + 2 lots: one sell of 3 lots is left.
 * assert.deepStrictEqual(view.levels(0), { bids: [], asks: [{ price: 19000, quantity: 3, orderCount: 1 }] });
 * assert.deepStrictEqual(view.changes.map(({ price, qty, count }) => [price, qty, count]), [[19000, 3, 1]]);
 * ```
 */
export class BookView {
  readonly #books: Book[];
  readonly #orders = new Map<number, Order>();
  // Both arrays only grow: `length = 0` would free their backing stores, and
  // growing them again on every command costs more than the rest of `apply`.
  readonly #touched: Level[] = [];
  #touchedCount = 0;
  readonly #changes: Level[] = [];
  #changeCount = 0;
  #stamp = 0;
  #instrument = -1;
  #takerSide: Side | -1 = -1;
  #trades = 0;

  /**
   * Makes an empty view.
   *
   * @param instruments The instrument table; an instrument's number is its position.
   *
   * @example
   * ```ts
   * import { BookView } from "./book_view.ts";
   * import { loadInstruments } from "../matching/mod.ts";
   * const view = new BookView(loadInstruments());
   * if (view.orderCount !== 0) throw new Error("not empty");
   * ```
   */
  constructor(instruments: readonly Instrument[]) {
    this.#books = instruments.map(({ tickSize, referencePrice }) => ({
      bids: new BookSide(Side.Buy, tickSize, referencePrice),
      asks: new BookSide(Side.Sell, tickSize, referencePrice),
    }));
  }

  /**
   * The levels the last {@linkcode BookView.apply} changed, each once, with
   * their new totals (quantity and count 0: removed). A new array each
   * call, but of the view's own levels: read them before the next `apply`.
   * The hot path uses {@linkcode BookView.changeBuffer} instead.
   *
   * @example
   * ```ts
   * import { BookView } from "./book_view.ts";
   * import { CommandKind, loadInstruments } from "../matching/mod.ts";
   *
   * const view = new BookView(loadInstruments());
   * view.apply({ kind: CommandKind.CancelOrder, id: 1 }, [
   *   { kind: 2, id: 1, instrument: 0xffff_ffff, reason: "unknown_order" },
   * ]);
   * if (view.changes.length !== 0) throw new Error("a reject changed the book");
   * ```
   */
  get changes(): readonly ViewLevel[] {
    return this.#changes.slice(0, this.#changeCount);
  }

  /**
   * How many levels the last {@linkcode BookView.apply} changed: the first
   * `changeCount` entries of {@linkcode BookView.changeBuffer}.
   *
   * @example
   * ```ts
   * import { BookView } from "./book_view.ts";
   * import { loadInstruments } from "../matching/mod.ts";
   * if (new BookView(loadInstruments()).changeCount !== 0) throw new Error("no command yet");
   * ```
   */
  get changeCount(): number {
    return this.#changeCount;
  }

  /**
   * The view's own array of changed levels, for the hot path (no copy): only
   * its first {@linkcode BookView.changeCount} entries belong to the last
   * command; the rest are stale.
   *
   * @example
   * ```ts
   * import { BookView } from "./book_view.ts";
   * import { loadInstruments } from "../matching/mod.ts";
   * const view = new BookView(loadInstruments());
   * const changed = view.changeBuffer.slice(0, view.changeCount);
   * if (changed.length !== 0) throw new Error("no command yet");
   * ```
   */
  get changeBuffer(): readonly ViewLevel[] {
    return this.#changes;
  }

  /**
   * The instrument of the last {@linkcode BookView.apply}, or -1 if it
   * reached no book (rejected).
   *
   * @example
   * ```ts
   * import { BookView } from "./book_view.ts";
   * import { loadInstruments } from "../matching/mod.ts";
   * if (new BookView(loadInstruments()).instrument !== -1) throw new Error("no command yet");
   * ```
   */
  get instrument(): number {
    return this.#instrument;
  }

  /**
   * The side of the last command's incoming order (the new order, or the
   * replaced one): the aggressor of its trades. -1 if there was none.
   *
   * @example
   * ```ts
   * import { BookView } from "./book_view.ts";
   * import { loadInstruments } from "../matching/mod.ts";
   * if (new BookView(loadInstruments()).takerSide !== -1) throw new Error("no command yet");
   * ```
   */
  get takerSide(): Side | -1 {
    return this.#takerSide;
  }

  /**
   * How many trades the last {@linkcode BookView.apply} had.
   *
   * @example
   * ```ts
   * import { BookView } from "./book_view.ts";
   * import { loadInstruments } from "../matching/mod.ts";
   * if (new BookView(loadInstruments()).tradeCount !== 0) throw new Error("no command yet");
   * ```
   */
  get tradeCount(): number {
    return this.#trades;
  }

  /**
   * How many orders rest, over all instruments.
   *
   * @example
   * ```ts
   * import { BookView } from "./book_view.ts";
   * import { loadInstruments } from "../matching/mod.ts";
   * const view = new BookView(loadInstruments());
   * view.seed([{ id: 1, instrument: 0, side: 0, price: 100, qty: 5 }]);
   * if (view.orderCount !== 1) throw new Error("seed lost");
   * ```
   */
  get orderCount(): number {
    return this.#orders.size;
  }

  /**
   * Adds resting orders without reporting changes: the books as the engine
   * holds them after a journal recovery.
   *
   * @param orders Resting orders, in time priority order.
   * @throws {RangeError} If an order names no instrument, has a side other
   * than 0 or 1, a price or quantity that is not a positive safe integer, an
   * id that is not a non-negative safe integer, or an id already resting,
   * or would take its level's total past 2^53 − 1 lots (the orders before
   * it stay seeded).
   *
   * @example
   * ```ts
   * import { BookView } from "./book_view.ts";
   * import { loadInstruments, Side } from "../matching/mod.ts";
   * import assert from "node:assert";
   *
   * const view = new BookView(loadInstruments());
   * view.seed([
   *   { id: 7, instrument: 0, side: Side.Buy, price: 18990, qty: 5 },
   *   { id: 9, instrument: 0, side: Side.Buy, price: 18990, qty: 3 },
   * ]);
   * assert.deepStrictEqual(view.levels(0).bids, [{ price: 18990, quantity: 8, orderCount: 2 }]);
   * ```
   */
  seed(orders: Iterable<RestingOrder>): void {
    for (const { id, instrument, side, price, qty } of orders) {
      const why = (problem: string) =>
        new RangeError(`Cannot seed book view: order ${id} ${problem}`);
      if (!Number.isSafeInteger(id) || id < 0) throw why("needs a non-negative integer id");
      const book = this.#books[instrument];
      if (book === undefined || !Number.isInteger(instrument)) {
        throw why(`names instrument ${instrument}, which is not in the table`);
      }
      if (side !== Side.Buy && side !== Side.Sell) throw why(`has side ${side}, not 0 or 1`);
      if (!isPositiveInteger(price)) throw why(`has price ${price}, not a positive integer`);
      if (!isPositiveInteger(qty)) throw why(`has quantity ${qty}, not a positive integer`);
      if (this.#orders.has(id)) throw why("is already resting");
      const bookSide = side === Side.Buy ? book.bids : book.asks;
      const total = levelTotal(bookSide.levels.get(price)?.qty ?? 0, qty);
      if (total < 0) throw why(tooMuch(price, bookSide.levels.get(price)!.qty, qty));
      const level = bookSide.at(price);
      level.qty = total;
      level.count++;
      this.#orders.set(id, new Order(id, instrument, side, level, qty));
    }
  }

  /**
   * Applies one command and the events the engine produced for it.
   *
   * @param command The command, as the engine took it.
   * @param events Its events, in emission order.
   * @returns The instrument whose book the command reached, or -1.
   * @throws {Error} If the events contradict the view (an order traded,
   * cancelled or replaced that the view does not hold, or for more than it
   * holds): a command was not fed to it, or the view was not seeded. The
   * view is then unreliable.
   * @throws {RangeError} If an order resting or replaced would take its
   * level's total past 2^53 − 1 lots (see the module's invariants); the
   * view is then unreliable too.
   *
   * @example
   * ```ts
   * import { BookView } from "./book_view.ts";
   * import { CommandKind, loadInstruments, Side } from "../matching/mod.ts";
   * import assert from "node:assert";
   *
   * const view = new BookView(loadInstruments());
   * view.seed([{ id: 1, instrument: 0, side: Side.Sell, price: 19001, qty: 4 }]);
   * view.apply({ kind: CommandKind.ReplaceOrder, id: 1, price: 19002, qty: 6 }, [
   *   { kind: 6, id: 1, instrument: 0, price: 19002, qty: 6 },
   * ]);
   * assert.deepStrictEqual(view.changes.map(({ price, qty, count }) => [price, qty, count]), [
   *   [19001, 0, 0],
   *   [19002, 6, 1],
   * ]);
   * ```
   */
  apply(command: Command, events: readonly EngineEvent[]): number {
    const stamp = ++this.#stamp;
    this.#instrument = -1;
    this.#takerSide = -1;
    this.#trades = 0;
    const place: PlaceOrder | undefined = command.kind === CommandKind.PlaceOrder
      ? command
      : undefined;
    /** The new order's open quantity while it is being matched; -1 until accepted. */
    let incoming = -1;
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      switch (event.kind) {
        case EventKind.OrderAccepted:
          if (place !== undefined && event.id === place.id) {
            incoming = place.qty;
            this.#instrument = event.instrument;
            this.#takerSide = place.side;
          }
          break;
        case EventKind.OrderRejected:
          break;
        case EventKind.OrderTraded: {
          this.#instrument = event.instrument;
          this.#trades++;
          this.#reduce(this.#resting(event.maker, "trade as maker"), event.qty, stamp);
          // An accepted new order's id is never resting (a reused id is rejected).
          const taker = place !== undefined && event.taker === place.id && incoming >= 0
            ? undefined
            : this.#orders.get(event.taker);
          if (taker !== undefined) {
            this.#reduce(taker, event.qty, stamp);
          } else if (place !== undefined && event.taker === place.id && incoming >= event.qty) {
            incoming -= event.qty;
          } else {
            throw new Error(
              `Cannot apply trade to the book view: taker ${event.taker} is neither resting ` +
                `nor the incoming order with at least ${event.qty} lots open`,
            );
          }
          break;
        }
        case EventKind.OrderCancelled: {
          this.#instrument = event.instrument;
          const order = this.#resting(event.id, "cancel");
          if (order.qty !== event.leaves) this.#leavesMismatch("cancel", order, event.leaves);
          this.#remove(order, stamp);
          break;
        }
        case EventKind.OrderExpired: {
          this.#instrument = event.instrument;
          if (place !== undefined && event.id === place.id && incoming >= 0) {
            if (incoming !== event.leaves) {
              throw new Error(
                `Cannot apply expiry to the book view: order ${event.id} has ${incoming} lots ` +
                  `open, the engine expired ${event.leaves}`,
              );
            }
            incoming = 0;
          } else {
            const order = this.#resting(event.id, "expiry");
            if (order.qty !== event.leaves) this.#leavesMismatch("expiry", order, event.leaves);
            this.#remove(order, stamp);
          }
          break;
        }
        case EventKind.OrderReplaced: {
          this.#instrument = event.instrument;
          const order = this.#resting(event.id, "replace");
          this.#takerSide = order.side;
          this.#move(order, event.price, event.qty, stamp);
          break;
        }
      }
    }
    if (place !== undefined && incoming > 0 && place.type === OrderType.Limit) {
      const book = this.#books[place.instrument]!;
      const bookSide = place.side === Side.Buy ? book.bids : book.asks;
      const total = levelTotal(bookSide.levels.get(place.price)?.qty ?? 0, incoming);
      if (total < 0) {
        throw new RangeError(
          `Cannot apply order ${place.id} to the book view: it ${
            tooMuch(place.price, bookSide.levels.get(place.price)!.qty, incoming)
          }`,
        );
      }
      const level = bookSide.at(place.price);
      this.#touch(level, stamp);
      level.qty = total;
      level.count++;
      this.#orders.set(
        place.id,
        new Order(place.id, place.instrument, place.side, level, incoming),
      );
    }
    this.#commit();
    return this.#instrument;
  }

  /**
   * The resting order with this id, if any.
   *
   * @param id The engine's order id.
   * @returns A copy of the order, or undefined.
   *
   * @example
   * ```ts
   * import { BookView } from "./book_view.ts";
   * import { loadInstruments } from "../matching/mod.ts";
   * import assert from "node:assert";
   *
   * const view = new BookView(loadInstruments());
   * view.seed([{ id: 3, instrument: 1, side: 1, price: 42010, qty: 2 }]);
   * assert.deepStrictEqual(view.order(3), { id: 3, instrument: 1, side: 1, price: 42010, qty: 2 });
   * ```
   */
  order(id: number): RestingOrder | undefined {
    const order = this.#orders.get(id);
    if (order === undefined) return undefined;
    const { instrument, side, qty } = order;
    return { id, instrument, side, price: order.level.price, qty };
  }

  /**
   * An instrument's levels, each side best first.
   *
   * @param instrument The instrument number.
   * @returns Bids (highest first) and asks (lowest first).
   * @throws {RangeError} If there is no such instrument.
   *
   * @example
   * ```ts
   * import { BookView } from "./book_view.ts";
   * import { loadInstruments } from "../matching/mod.ts";
   * import assert from "node:assert";
   *
   * assert.deepStrictEqual(new BookView(loadInstruments()).levels(0), { bids: [], asks: [] });
   * ```
   */
  levels(instrument: number): { bids: BookLevel[]; asks: BookLevel[] } {
    const book = this.#book(instrument);
    const copy = (side: BookSide) =>
      side.sorted().map(({ price, qty, count }) => ({ price, quantity: qty, orderCount: count }));
    return { bids: copy(book.bids), asks: copy(book.asks) };
  }

  /**
   * An instrument's levels on one side, best first, as the view's own level
   * objects (valid until the next `apply`): for snapshot encoding.
   *
   * @param instrument The instrument number.
   * @param side Which side.
   * @returns The levels.
   * @throws {RangeError} If there is no such instrument.
   *
   * @example
   * ```ts
   * import { BookView } from "./book_view.ts";
   * import { loadInstruments, Side } from "../matching/mod.ts";
   *
   * const view = new BookView(loadInstruments());
   * view.seed([{ id: 1, instrument: 0, side: Side.Buy, price: 100, qty: 1 }]);
   * if (view.sortedLevels(0, Side.Buy)[0]?.price !== 100) throw new Error("missing");
   * ```
   */
  sortedLevels(instrument: number, side: Side): readonly ViewLevel[] {
    const book = this.#book(instrument);
    return (side === Side.Buy ? book.bids : book.asks).sorted();
  }

  /**
   * The best bid level of an instrument (valid until the next `apply`).
   *
   * @param instrument The instrument number.
   * @returns The level, or undefined when there is no bid.
   * @throws {RangeError} If there is no such instrument.
   *
   * @example
   * ```ts
   * import { BookView } from "./book_view.ts";
   * import { loadInstruments } from "../matching/mod.ts";
   * if (new BookView(loadInstruments()).bestBid(0) !== undefined) throw new Error("bid?");
   * ```
   */
  bestBid(instrument: number): ViewLevel | undefined {
    return this.#book(instrument).bids.best;
  }

  /**
   * The best ask level of an instrument (valid until the next `apply`).
   *
   * @param instrument The instrument number.
   * @returns The level, or undefined when there is no ask.
   * @throws {RangeError} If there is no such instrument.
   *
   * @example
   * ```ts
   * import { BookView } from "./book_view.ts";
   * import { loadInstruments } from "../matching/mod.ts";
   * const view = new BookView(loadInstruments());
   * view.seed([{ id: 1, instrument: 0, side: 1, price: 19001, qty: 1 }]);
   * if (view.bestAsk(0)?.price !== 19001) throw new Error("ask?");
   * ```
   */
  bestAsk(instrument: number): ViewLevel | undefined {
    return this.#book(instrument).asks.best;
  }

  #book(instrument: number): Book {
    const book = this.#books[instrument];
    if (book === undefined) {
      throw new RangeError(`Cannot read book view: there is no instrument ${instrument}`);
    }
    return book;
  }

  #resting(id: number, what: string): Order {
    const order = this.#orders.get(id);
    if (order === undefined) {
      throw new Error(
        `Cannot apply ${what} to the book view: order ${id} is not resting in it ` +
          "(a command was not fed to the view, or it was not seeded)",
      );
    }
    return order;
  }

  #leavesMismatch(what: string, order: Order, leaves: number): never {
    throw new Error(
      `Cannot apply ${what} to the book view: order ${order.id} has ${order.qty} lots open, ` +
        `the engine reports ${leaves}`,
    );
  }

  #touch(level: Level, stamp: number): void {
    if (level.stamp === stamp) return;
    level.stamp = stamp;
    level.qtyBefore = level.qty;
    level.countBefore = level.count;
    this.#touched[this.#touchedCount++] = level;
  }

  #reduce(order: Order, qty: number, stamp: number): void {
    if (qty > order.qty) {
      throw new Error(
        `Cannot apply trade to the book view: order ${order.id} has ${order.qty} lots open, ` +
          `the trade is for ${qty}`,
      );
    }
    const level = order.level;
    this.#touch(level, stamp);
    level.qty -= qty;
    order.qty -= qty;
    if (order.qty === 0) {
      level.count--;
      this.#orders.delete(order.id);
    }
  }

  #remove(order: Order, stamp: number): void {
    const level = order.level;
    this.#touch(level, stamp);
    level.qty -= order.qty;
    level.count--;
    this.#orders.delete(order.id);
  }

  #move(order: Order, price: number, qty: number, stamp: number): void {
    const from = order.level;
    this.#touch(from, stamp);
    from.qty -= order.qty;
    from.count--;
    const total = levelTotal(from.book.levels.get(price)?.qty ?? 0, qty);
    if (total < 0) {
      throw new RangeError(
        `Cannot apply replace to the book view: order ${order.id} ${
          tooMuch(price, from.book.levels.get(price)!.qty, qty)
        }`,
      );
    }
    const to = from.book.at(price);
    this.#touch(to, stamp);
    to.qty = total;
    to.count++;
    order.level = to;
    order.qty = qty;
  }

  /** Drops emptied levels, settles the best prices, and lists the net changes. */
  #commit(): void {
    const touched = this.#touched;
    const n = this.#touchedCount;
    const changes = this.#changes;
    let changed = 0;
    let emptiedBest = false;
    for (let i = 0; i < n; i++) {
      const level = touched[i]!;
      if (level.count === 0) {
        level.book.remove(level);
        if (level === level.book.best) emptiedBest = true;
      }
      if (level.qty !== level.qtyBefore || level.count !== level.countBefore) {
        changes[changed++] = level;
      }
    }
    // Only once every emptied level is gone: settling walks the map.
    if (emptiedBest) { for (let i = 0; i < n; i++) touched[i]!.book.settle(); }
    this.#touchedCount = 0;
    this.#changeCount = changed;
  }
}

/** A level's total plus `qty` lots, or -1 when that is past 2^53 − 1 (no longer exact). */
function levelTotal(total: number, qty: number): number {
  const sum = total + qty;
  return sum <= Number.MAX_SAFE_INTEGER ? sum : -1;
}

/** Why a level cannot take `qty` more lots. */
function tooMuch(price: number, total: number, qty: number): string {
  return `would take the level at price ${price} from ${total} to ${
    BigInt(total) + BigInt(qty)
  } lots, past 2^53 - 1 (is it above its instrument's maxOrderQty?)`;
}

function isPositiveInteger(x: number): boolean {
  return Number.isSafeInteger(x) && x > 0;
}
