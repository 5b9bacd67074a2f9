/**
 * The reference matcher: a plain price-time priority book, written to be
 * obviously correct rather than fast (exchange-core's "naive" book). The
 * shared suite and the property tests hold the native engine to it, event
 * for event and by state hash.
 *
 * # Invariants
 * - After every command, no book is crossed: best bid < best ask.
 * - A level is never empty; an order rests on exactly one level and is in
 *   `#resting` exactly while it rests.
 * - Within a level, `Map` insertion order is time priority.
 *
 * # Performance
 * Adding, removing and matching an order cost O(1) plus, for a level that
 * is new or emptied away from the top of the book, O(levels on that side).
 * That is enough for the hundreds of thousands of commands a test replays.
 *
 * @module
 */

import {
  type CancelReasonName,
  type Command,
  CommandKind,
  type EngineEvent,
  EventKind,
  type Instrument,
  type Matcher,
  NO_PRICE,
  OrderType,
  type PlaceOrder,
  type RejectReasonName,
  type ReplaceOrder,
  Side,
  TimeInForce,
  UNKNOWN_INSTRUMENT,
} from "./types.ts";
import { StateHasher } from "./state_hash.ts";

/** One resting order as {@linkcode ReferenceMatcher.snapshot} shows it. */
export interface OrderSnapshot {
  /** Client order id. */
  readonly id: number;
  /** Interned account number. */
  readonly account: number;
  /** Open quantity in lots. */
  readonly leaves: number;
}

/** One price level, orders oldest first. */
export interface LevelSnapshot {
  /** The level's price in price units. */
  readonly price: number;
  /** The level's orders, first in time priority first; never empty. */
  readonly orders: readonly OrderSnapshot[];
}

/** One instrument's book, each side best level first. */
export interface BookSnapshot {
  /** Buy levels, highest price first. */
  readonly bids: readonly LevelSnapshot[];
  /** Sell levels, lowest price first. */
  readonly asks: readonly LevelSnapshot[];
}

interface RestingOrder {
  readonly id: number;
  readonly account: number;
  readonly instrument: number;
  readonly side: Side;
  readonly postOnly: boolean;
  price: number;
  leaves: number;
}

/** The incoming side of a match: a new order, or a replaced one that now crosses. */
interface Taker {
  readonly id: number;
  readonly account: number;
  readonly instrument: number;
  readonly side: Side;
}

interface Level {
  readonly price: number;
  readonly orders: Map<number, RestingOrder>;
}

/** One side of a book. */
class BookSide {
  /**
   * Sorted worst first, so the best level, which matching consumes, comes
   * off the end of the array in O(1).
   */
  readonly levels: Level[] = [];
  readonly #byPrice = new Map<number, Level>();

  constructor(readonly side: Side) {}

  /** Whether `a` is a better price than `b` on this side. */
  better(a: number, b: number): boolean {
    return this.side === Side.Buy ? a > b : a < b;
  }

  best(): Level | undefined {
    return this.levels.at(-1);
  }

  /** Levels best first, as the state hash and snapshots walk them. */
  *bestFirst(): Generator<Level> {
    for (let i = this.levels.length - 1; i >= 0; i--) yield this.levels[i]!;
  }

  add(order: RestingOrder): void {
    let level = this.#byPrice.get(order.price);
    if (level === undefined) {
      level = { price: order.price, orders: new Map() };
      this.#byPrice.set(order.price, level);
      this.levels.splice(this.#indexOf(order.price), 0, level);
    }
    level.orders.set(order.id, order);
  }

  remove(order: RestingOrder): void {
    const level = this.#byPrice.get(order.price)!;
    level.orders.delete(order.id);
    if (level.orders.size > 0) return;
    this.#byPrice.delete(level.price);
    if (level === this.best()) this.levels.pop();
    else this.levels.splice(this.#indexOf(level.price), 1);
  }

  /** The index of the first level not worse than `price`: its own level, or where that belongs. */
  #indexOf(price: number): number {
    let lo = 0;
    let hi = this.levels.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.better(price, this.levels[mid]!.price)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

interface Book {
  readonly bids: BookSide;
  readonly asks: BookSide;
}

/**
 * A {@linkcode Matcher} in plain TypeScript, the yardstick for the native
 * engine.
 *
 * @example
 * ```ts
 * import { CommandKind, loadInstruments, OrderType, ReferenceMatcher, Side, TimeInForce } from "./mod.ts";
 * import assert from "node:assert";
 *
 * const matcher = new ReferenceMatcher(loadInstruments());
 * const order = {
 *   kind: CommandKind.PlaceOrder, instrument: 0, type: OrderType.Limit,
 *   tif: TimeInForce.Gtc, postOnly: false, price: 10050, qty: 100,
 * } as const;
 * matcher.apply({ ...order, id: 1, account: 0, side: Side.Sell });
 * const events = matcher.apply({ ...order, id: 2, account: 1, side: Side.Buy });
 * assert.deepStrictEqual(events[1], { kind: 3, instrument: 0, taker: 2, maker: 1, price: 10050, qty: 100 });
 * matcher.close();
 * ```
 */
export class ReferenceMatcher implements Matcher {
  readonly #instruments: readonly Instrument[];
  readonly #books: Book[];
  /** Every resting order by id; ids are unique per run across instruments. */
  readonly #resting = new Map<number, RestingOrder>();
  /** The id of every `new` so far, whatever became of it: a reused id is `duplicate_id`. */
  readonly #placed = new Set<number>();
  #closed = false;

  /**
   * Opens a matcher with an empty book per instrument.
   *
   * @param instruments The instrument table; an instrument's number is its position.
   */
  constructor(instruments: readonly Instrument[]) {
    this.#instruments = instruments;
    this.#books = instruments.map(() => ({
      bids: new BookSide(Side.Buy),
      asks: new BookSide(Side.Sell),
    }));
  }

  /**
   * Applies one command.
   *
   * @param command The command.
   * @returns Its events in emission order; the first acknowledges it.
   * @throws {Error} If the matcher is closed.
   *
   * @example
   * ```ts
   * import { CommandKind, loadInstruments, ReferenceMatcher } from "./mod.ts";
   * import assert from "node:assert";
   *
   * const matcher = new ReferenceMatcher(loadInstruments());
   * assert.deepStrictEqual(matcher.apply({ kind: CommandKind.CancelOrder, id: 9 }), [
   *   { kind: 2, id: 9, instrument: 0xffff_ffff, reason: "unknown_order" },
   * ]);
   * ```
   */
  apply(command: Command): EngineEvent[] {
    this.#checkOpen();
    const events: EngineEvent[] = [];
    switch (command.kind) {
      case CommandKind.PlaceOrder:
        this.#place(command, events);
        break;
      case CommandKind.CancelOrder:
        this.#cancel(command.id, events);
        break;
      case CommandKind.ReplaceOrder:
        this.#replace(command, events);
        break;
    }
    return events;
  }

  /**
   * Applies commands in order, as {@linkcode ReferenceMatcher.apply} on each.
   *
   * @param commands The commands.
   * @returns Element `i` holds command `i`'s events.
   * @throws {Error} If the matcher is closed.
   *
   * @example
   * ```ts
   * import { CommandKind, loadInstruments, ReferenceMatcher } from "./mod.ts";
   * import assert from "node:assert";
   *
   * const matcher = new ReferenceMatcher(loadInstruments());
   * const results = matcher.applyAll([
   *   { kind: CommandKind.CancelOrder, id: 1 },
   *   { kind: CommandKind.ReplaceOrder, id: 2, price: 100, qty: 1 },
   * ]);
   * assert.deepStrictEqual(results.map((events) => events.length), [1, 1]);
   * ```
   */
  applyAll(commands: readonly Command[]): EngineEvent[][] {
    return commands.map((command) => this.apply(command));
  }

  /**
   * FNV-1a 64 over every book, as `STATE_HASH.md` defines it.
   *
   * @returns The hash.
   * @throws {Error} If the matcher is closed.
   *
   * @example
   * ```ts
   * import { loadInstruments, ReferenceMatcher } from "./mod.ts";
   * import assert from "node:assert";
   *
   * const instruments = loadInstruments();
   * assert.deepStrictEqual(
   *   new ReferenceMatcher(instruments).stateHash(),
   *   new ReferenceMatcher(instruments).stateHash(),
   * );
   * ```
   */
  stateHash(): bigint {
    this.#checkOpen();
    const h = new StateHasher();
    this.#books.forEach((book, i) => {
      h.word(i);
      for (const side of [book.bids, book.asks]) {
        h.word(side.levels.length);
        for (const level of side.bestFirst()) {
          h.word(level.price);
          h.word(level.orders.size);
          for (const order of level.orders.values()) {
            h.word(order.id);
            h.word(order.account);
            h.word(order.leaves);
          }
        }
      }
    });
    return h.digest();
  }

  /**
   * A copy of one instrument's book, for tests and diagnostics.
   *
   * @param instrument The instrument number.
   * @param depth How many levels per side, best first.
   * @returns The book, each side best level first, each level oldest order first.
   * @throws {RangeError} If there is no such instrument.
   * @throws {Error} If the matcher is closed.
   *
   * @example
   * ```ts
   * import { loadInstruments, ReferenceMatcher } from "./mod.ts";
   * import assert from "node:assert";
   *
   * assert.deepStrictEqual(new ReferenceMatcher(loadInstruments()).snapshot(0), { bids: [], asks: [] });
   * ```
   */
  snapshot(instrument: number, depth = Infinity): BookSnapshot {
    this.#checkOpen();
    const book = this.#books[instrument];
    if (book === undefined) {
      throw new RangeError(`Cannot snapshot book: there is no instrument ${instrument}`);
    }
    const copy = (side: BookSide): LevelSnapshot[] => {
      const levels: LevelSnapshot[] = [];
      for (const level of side.bestFirst()) {
        if (levels.length >= depth) break;
        levels.push({
          price: level.price,
          orders: [...level.orders.values()].map(({ id, account, leaves }) => ({
            id,
            account,
            leaves,
          })),
        });
      }
      return levels;
    };
    return { bids: copy(book.bids), asks: copy(book.asks) };
  }

  /**
   * Drops every book. Later calls throw.
   *
   * @example
   * ```ts
   * import { loadInstruments, ReferenceMatcher } from "./mod.ts";
   * new ReferenceMatcher(loadInstruments()).close();
   * ```
   */
  close(): void {
    this.#closed = true;
    this.#resting.clear();
    this.#placed.clear();
    this.#books.length = 0;
  }

  #checkOpen(): void {
    if (this.#closed) throw new Error("Cannot use matcher: it is closed");
  }

  #place(order: PlaceOrder, events: EngineEvent[]): void {
    const { id, instrument, account, side, postOnly, price, qty } = order;
    const isDuplicate = this.#placed.has(id);
    this.#placed.add(id);
    const reason = this.#placeRejection(order, isDuplicate);
    if (reason !== null) {
      const at = reason === "unknown_symbol" ? UNKNOWN_INSTRUMENT : instrument;
      events.push({ kind: EventKind.OrderRejected, id, instrument: at, reason });
      return;
    }
    events.push({ kind: EventKind.OrderAccepted, id, instrument });

    const book = this.#books[instrument]!;
    const limit = order.type === OrderType.Limit ? price : null;
    if (order.tif === TimeInForce.Fok && this.#fillable(order, limit) < qty) {
      events.push({ kind: EventKind.OrderExpired, id, instrument, leaves: qty });
      return;
    }
    const leaves = this.#match(book, order, limit, qty, events);
    if (leaves === 0) return;
    if (limit !== null && order.tif === TimeInForce.Gtc) {
      this.#rest(book, { id, account, instrument, side, postOnly, price, leaves });
    } else {
      events.push({ kind: EventKind.OrderExpired, id, instrument, leaves });
    }
  }

  /** The first rule, in the contract's order, that `order` breaks; null if none. */
  #placeRejection(order: PlaceOrder, isDuplicate: boolean): RejectReasonName | null {
    const book = this.#books[order.instrument];
    const isLimit = order.type === OrderType.Limit;
    if (book === undefined) return "unknown_symbol";
    if (!isPositiveInteger(order.qty)) return "invalid_qty";
    if (isLimit && !this.#isValidPrice(order.instrument, order.price)) return "invalid_price";
    if (isDuplicate) return "duplicate_id";
    if (order.postOnly && !(isLimit && order.tif === TimeInForce.Gtc)) return "invalid_order";
    if (!isLimit && order.price !== NO_PRICE) return "invalid_order";
    if (order.postOnly && this.#wouldCross(book, order.side, order.price)) return "would_cross";
    return null;
  }

  #cancel(id: number, events: EngineEvent[], reason: CancelReasonName = "requested"): void {
    const order = this.#resting.get(id);
    if (order === undefined) {
      events.push(unknownOrder(id));
      return;
    }
    this.#unrest(order);
    events.push({
      kind: EventKind.OrderCancelled,
      id,
      instrument: order.instrument,
      leaves: order.leaves,
      reason,
    });
  }

  #replace({ id, price, qty }: ReplaceOrder, events: EngineEvent[]): void {
    const order = this.#resting.get(id);
    if (order === undefined) {
      events.push(unknownOrder(id));
      return;
    }
    const { instrument } = order;
    const book = this.#books[instrument]!;
    const reason = this.#replaceRejection(order, price, qty);
    if (reason !== null) {
      events.push({ kind: EventKind.OrderRejected, id, instrument, reason });
      return;
    }
    events.push({ kind: EventKind.OrderReplaced, id, instrument, price, qty });

    if (price === order.price && qty <= order.leaves) {
      // Shrinking in place keeps time priority: nobody behind is worse off.
      order.leaves = qty;
      return;
    }
    this.#unrest(order);
    order.price = price;
    order.leaves = this.#match(book, order, price, qty, events);
    if (order.leaves > 0) this.#rest(book, order);
  }

  /** The first rule, in the contract's order, that replacing `order` breaks; null if none. */
  #replaceRejection(order: RestingOrder, price: number, qty: number): RejectReasonName | null {
    if (!isPositiveInteger(qty)) return "invalid_qty";
    if (!this.#isValidPrice(order.instrument, price)) return "invalid_price";
    const book = this.#books[order.instrument]!;
    if (order.postOnly && this.#wouldCross(book, order.side, price)) return "would_cross";
    return null;
  }

  /**
   * Matches `taker` against the opposite side while it has quantity and the
   * best opposite price is acceptable (`limit` null: any price).
   *
   * @returns The taker's unfilled quantity.
   */
  #match(
    book: Book,
    taker: Taker,
    limit: number | null,
    qty: number,
    events: EngineEvent[],
  ): number {
    const opposite = taker.side === Side.Buy ? book.asks : book.bids;
    let leaves = qty;
    while (leaves > 0) {
      const level = opposite.best();
      if (level === undefined || !acceptable(taker.side, limit, level.price)) break;
      const maker = level.orders.values().next().value!;
      if (maker.account === taker.account) {
        this.#cancel(maker.id, events, "self_trade");
        continue;
      }
      const traded = Math.min(leaves, maker.leaves);
      events.push({
        kind: EventKind.OrderTraded,
        instrument: taker.instrument,
        taker: taker.id,
        maker: maker.id,
        price: maker.price,
        qty: traded,
      });
      leaves -= traded;
      maker.leaves -= traded;
      if (maker.leaves === 0) this.#unrest(maker);
    }
    return leaves;
  }

  /** The opposite quantity a FOK order could take: other accounts' only, at acceptable prices. */
  #fillable(order: PlaceOrder, limit: number | null): number {
    const book = this.#books[order.instrument]!;
    const opposite = order.side === Side.Buy ? book.asks : book.bids;
    let total = 0;
    for (const level of opposite.bestFirst()) {
      if (!acceptable(order.side, limit, level.price)) break;
      for (const maker of level.orders.values()) {
        if (maker.account !== order.account) total += maker.leaves;
      }
      if (total >= order.qty) break;
    }
    return total;
  }

  #wouldCross(book: Book, side: Side, price: number): boolean {
    const best = (side === Side.Buy ? book.asks : book.bids).best();
    return best !== undefined && acceptable(side, price, best.price);
  }

  #isValidPrice(instrument: number, price: number): boolean {
    return isPositiveInteger(price) && price % this.#instruments[instrument]!.tickSize === 0;
  }

  #rest(book: Book, order: RestingOrder): void {
    (order.side === Side.Buy ? book.bids : book.asks).add(order);
    this.#resting.set(order.id, order);
  }

  #unrest(order: RestingOrder): void {
    const book = this.#books[order.instrument]!;
    (order.side === Side.Buy ? book.bids : book.asks).remove(order);
    this.#resting.delete(order.id);
  }
}

/** Whether a taker on `side` with `limit` (null: market) may trade at `price`. */
function acceptable(side: Side, limit: number | null, price: number): boolean {
  if (limit === null) return true;
  return side === Side.Buy ? price <= limit : price >= limit;
}

function isPositiveInteger(x: number): boolean {
  return Number.isSafeInteger(x) && x > 0;
}

function unknownOrder(id: number): EngineEvent {
  return {
    kind: EventKind.OrderRejected,
    id,
    instrument: UNKNOWN_INSTRUMENT,
    reason: "unknown_order",
  };
}
