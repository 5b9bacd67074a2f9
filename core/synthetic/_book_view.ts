/**
 * A generator's view of the books it is driving, rebuilt from its own
 * commands and the engine's events: which of its orders rest, where, for how
 * much, how many price levels each side has, and the best prices.
 *
 * The benchmark stream needs this on every command (to aim cancels at live
 * orders and keep the depth near its target) and {@linkcode describeFlow}
 * needs it to report the depth a stream produces. The `Matcher` contract does
 * not expose books, and asking the oracle for a snapshot on every command
 * would cost far more than keeping these counters.
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
  Side,
  TimeInForce,
} from "../matching/types.ts";

/** One resting order as the view sees it. */
export interface ViewOrder {
  readonly id: number;
  readonly instrument: number;
  readonly account: number;
  readonly side: Side;
  price: number;
  leaves: number;
  /** Position in the view's dense list of live ids (for O(1) random picks). */
  slot: number;
}

/** One side of one book: orders per price, and the best price (0 when empty). */
class SideView {
  readonly ordersAt = new Map<number, number>();
  orders = 0;
  best = 0;

  constructor(readonly side: Side, readonly tick: number) {}

  add(price: number): void {
    this.ordersAt.set(price, (this.ordersAt.get(price) ?? 0) + 1);
    this.orders++;
    if (this.best === 0 || (this.side === Side.Buy ? price > this.best : price < this.best)) {
      this.best = price;
    }
  }

  remove(price: number): void {
    const n = (this.ordersAt.get(price) ?? 0) - 1;
    this.orders--;
    if (n > 0) {
      this.ordersAt.set(price, n);
      return;
    }
    this.ordersAt.delete(price);
    if (price !== this.best) return;
    if (this.orders === 0) {
      this.best = 0;
      return;
    }
    // Walk away from the touch to the next occupied price. Books near the
    // touch are dense, so this is a few steps; it is bounded because the
    // side is not empty.
    const step = this.side === Side.Buy ? -this.tick : this.tick;
    let p = price + step;
    while (!this.ordersAt.has(p)) p += step;
    this.best = p;
  }
}

/** Both sides of one instrument's book. */
interface InstrumentView {
  readonly bids: SideView;
  readonly asks: SideView;
}

/** Tallies of what the engine did, for {@linkcode describeFlow}. */
export interface ViewTallies {
  trades: number;
  tradedQty: number;
  selfTradeCancels: number;
  expired: number;
  /** Reject counts by reason name. */
  readonly rejects: Record<string, number>;
}

/**
 * Mirrors the books from commands and their events. Feed it every command
 * with exactly the events that command produced, in order.
 */
export class BookView {
  readonly #books: InstrumentView[];
  readonly #orders = new Map<number, ViewOrder>();
  /** Dense list of live ids; `ViewOrder.slot` indexes it. */
  readonly #ids: number[] = [];
  readonly tallies: ViewTallies = {
    trades: 0,
    tradedQty: 0,
    selfTradeCancels: 0,
    expired: 0,
    rejects: {},
  };

  constructor(instruments: readonly Instrument[]) {
    this.#books = instruments.map((inst) => ({
      bids: new SideView(Side.Buy, inst.tickSize),
      asks: new SideView(Side.Sell, inst.tickSize),
    }));
  }

  /** Number of orders resting on every book together. */
  get size(): number {
    return this.#ids.length;
  }

  /** Price levels on one side of one book. */
  levels(instrument: number, side: Side): number {
    return this.#side(instrument, side).ordersAt.size;
  }

  /** Orders resting on one side of one book. */
  orders(instrument: number, side: Side): number {
    return this.#side(instrument, side).orders;
  }

  /** Best price on one side of one book; 0 when that side is empty. */
  best(instrument: number, side: Side): number {
    return this.#side(instrument, side).best;
  }

  /** The live order with this id, if the view has it resting. */
  order(id: number): ViewOrder | undefined {
    return this.#orders.get(id);
  }

  /** The live order at position `slot` of the dense id list (0 <= slot < size). */
  at(slot: number): ViewOrder {
    return this.#orders.get(this.#ids[slot] as number) as ViewOrder;
  }

  /**
   * Applies one command's effects as told by its events.
   *
   * @param command The command that was sent.
   * @param events Exactly the events it produced, in order.
   */
  apply(command: Command, events: readonly EngineEvent[]): void {
    // The incoming GTC limit, until we know whether any of it rests.
    let incoming = command.kind === CommandKind.PlaceOrder &&
      command.type === OrderType.Limit && command.tif === TimeInForce.Gtc;
    let incomingLeaves = command.kind === CommandKind.PlaceOrder ? command.qty : 0;
    let accepted = false;
    for (const event of events) {
      switch (event.kind) {
        case EventKind.OrderAccepted:
          if (event.id === command.id) accepted = true;
          break;
        case EventKind.OrderRejected:
          this.tallies.rejects[event.reason] = (this.tallies.rejects[event.reason] ?? 0) + 1;
          break;
        case EventKind.OrderTraded: {
          this.tallies.trades++;
          this.tallies.tradedQty += event.qty;
          this.#reduce(event.maker, event.qty);
          if (incoming && event.taker === command.id) incomingLeaves -= event.qty;
          else this.#reduce(event.taker, event.qty);
          break;
        }
        case EventKind.OrderCancelled:
          if (event.reason === "self_trade") this.tallies.selfTradeCancels++;
          this.#remove(event.id);
          break;
        case EventKind.OrderExpired:
          this.tallies.expired++;
          if (incoming && event.id === command.id) incoming = false;
          else this.#remove(event.id);
          break;
        case EventKind.OrderReplaced: {
          const order = this.#orders.get(event.id);
          if (order !== undefined) {
            const side = this.#side(order.instrument, order.side);
            side.remove(order.price);
            order.price = event.price;
            order.leaves = event.qty;
            side.add(order.price);
          }
          break;
        }
      }
    }
    if (incoming && accepted && incomingLeaves > 0 && command.kind === CommandKind.PlaceOrder) {
      const order: ViewOrder = {
        id: command.id,
        instrument: command.instrument,
        account: command.account,
        side: command.side,
        price: command.price,
        leaves: incomingLeaves,
        slot: this.#ids.length,
      };
      this.#orders.set(order.id, order);
      this.#ids.push(order.id);
      this.#side(order.instrument, order.side).add(order.price);
    }
  }

  #side(instrument: number, side: Side): SideView {
    const book = this.#books[instrument];
    if (book === undefined) throw new RangeError(`Unknown instrument number ${instrument}`);
    return side === Side.Buy ? book.bids : book.asks;
  }

  #reduce(id: number, qty: number): void {
    const order = this.#orders.get(id);
    if (order === undefined) return;
    order.leaves -= qty;
    if (order.leaves <= 0) this.#remove(id);
  }

  #remove(id: number): void {
    const order = this.#orders.get(id);
    if (order === undefined) return;
    this.#orders.delete(id);
    this.#side(order.instrument, order.side).remove(order.price);
    // Swap-remove from the dense list, fixing the moved order's slot.
    const lastId = this.#ids.pop() as number;
    if (lastId !== id) {
      this.#ids[order.slot] = lastId;
      (this.#orders.get(lastId) as ViewOrder).slot = order.slot;
    }
  }
}
