/**
 * A seeded synthetic market: realistic, reproducible order flow across the
 * instrument table, as normalised {@linkcode Command}s, so that the core and
 * the tests run with no market-data feed.
 *
 * # Flow model
 *
 * Every call to {@linkcode SyntheticMarket.next} picks one instrument
 * (uniformly), moves that instrument's **fair value** one step, then lets one
 * participant act on it. Each step emits exactly one command.
 *
 * - **Fair value** is a random walk in ticks: `fair += drift + volatility × N(0, 1)`
 *   per step of that instrument, starting at the table's `referencePrice`
 *   and reflected at a floor of {@linkcode MIN_FAIR_TICKS} ticks, so a cheap
 *   instrument can fall but never reach zero or a degenerate one-tick book.
 * - **Market makers** (`MM1`, `MM2`, …; half the steps) each keep a
 *   two-sided ladder of post-only GTC limits around fair value. Maker `k`
 *   has its own half-spread, depth and spacing, so the touch is shared and
 *   the book has depth behind it. On its turn a maker fixes the worst stale
 *   quote (one now too close to fair value, which would be picked off, or
 *   one that fell out of the back of the ladder) by replacing it to a
 *   missing rung — or cancelling it — and otherwise fills a missing rung or
 *   occasionally re-sizes or pulls a quote. When fair value moves, ladders
 *   therefore roll one quote at a time, as real quoting engines do. A maker
 *   sees the book: it never quotes through the opposite touch.
 * - **Takers** (`TK1`, …; a quarter of the steps, plus every step whose
 *   maker had nothing to do — about 30% in all) cross the spread:
 *   IOC limits a few ticks through fair value (55%), market orders (35%)
 *   and occasional FOK limits for a larger size (10%).
 * - **Investors** (`IN1`, …; a quarter of the steps) rest plain GTC limits away from the
 *   touch (2 ticks to a few dozen, exponentially distributed) for larger
 *   sizes, and cancel or re-price them later — preferring the one that has
 *   drifted furthest from fair value — keeping at most
 *   {@linkcode MAX_INVESTOR_ORDERS} per instrument.
 *
 * Place-order ids are strictly increasing from `firstId` (or come from the
 * `nextId` allocator the market is given); cancels and
 * replaces carry the id of the order they target. Quantities are in lots and
 * prices in price units (multiples of the instrument's tick size), so no
 * command is ever rejected as `unknown_symbol`, `invalid_qty`,
 * `invalid_price` or `invalid_order`. Makers keep post-only quotes behind the
 * opposite touch as the market knows it, so `would_cross` is rare; it happens
 * when the market's view is out of date (events not observed yet).
 *
 * # Knowing what is live
 *
 * The market updates its own view optimistically as it emits commands (a
 * GTC limit is assumed to rest, a cancel to succeed, a replace to apply).
 * Feed the engine's events back through {@linkcode SyntheticMarket.observe}
 * and the view is corrected: fills reduce or remove orders, cancels (including
 * self-trade cancels) and expiries remove them, a rejected place is
 * forgotten and a rejected replace is rolled back. Without `observe` the
 * generator still works, but its cancels will increasingly target orders
 * that were already filled.
 *
 * @example Drive a matcher with the synthetic market
 * ```ts
 * import { SyntheticMarket } from "./market.ts";
 * import { ReferenceMatcher, loadInstruments } from "../matching/mod.ts";
 *
 * const instruments = loadInstruments();
 * const market = new SyntheticMarket({ instruments, seed: 1 });
 * const matcher = new ReferenceMatcher(instruments);
 * for (let i = 0; i < 1_000; i++) {
 *   market.observe(matcher.apply(market.next()));
 * }
 * matcher.close();
 * ```
 *
 * @module
 */

import {
  type CancelOrder,
  type Command,
  CommandKind,
  type EngineEvent,
  EventKind,
  type Instrument,
  NO_PRICE,
  OrderType,
  type PlaceOrder,
  type ReplaceOrder,
  Side,
  TimeInForce,
} from "../matching/types.ts";
import { Rng } from "./rng.ts";

/** Fair value never falls below this many ticks (it is reflected there). */
export const MIN_FAIR_TICKS = 5;
/** Most resting orders one investor keeps on one instrument. */
export const MAX_INVESTOR_ORDERS = 8;

/** How many participants of each kind the market runs. */
export interface SyntheticAccounts {
  /** Market-making accounts (`MM1`…); at least 1. Default 4. */
  readonly makers?: number;
  /** Taker accounts (`TK1`…); at least 1. Default 3. */
  readonly takers?: number;
  /** Investor accounts (`IN1`…); at least 1. Default 3. */
  readonly investors?: number;
}

/** Options for {@linkcode SyntheticMarket}. */
export interface SyntheticMarketOptions {
  /** The full instrument table; command `instrument` numbers index it. */
  readonly instruments: readonly Instrument[];
  /** Selects the stream: the same seed (and options) gives the same commands. */
  readonly seed: number;
  /** Participants; see {@linkcode SyntheticAccounts}. */
  readonly accounts?: SyntheticAccounts;
  /** Id of the first place-order; later ones count up from it. Default 1. */
  readonly firstId?: number;
  /**
   * Hands out place-order ids instead of counting up from `firstId` (which
   * is then ignored): the engine's one id allocator when the market shares
   * the engine with other sources (`core/app/dispatcher.ts`). Its ids must
   * be unique, non-negative safe integers.
   */
  readonly nextId?: () => number;
  /** Instrument numbers to trade; default every instrument in the table. */
  readonly trade?: readonly number[];
  /** Fair value's standard deviation per step of one instrument, in ticks. Default 0.3. */
  readonly volatilityTicks?: number;
  /** Fair value's mean move per step of one instrument, in ticks. Default 0. */
  readonly driftTicks?: number;
}

/** A participant's role; it decides how the participant trades. */
const Role = { Maker: 0, Taker: 1, Investor: 2 } as const;
type Role = typeof Role[keyof typeof Role];

/** What the market believes about one of its orders that may rest. */
interface LiveOrder {
  readonly id: number;
  readonly instrument: number;
  readonly account: number;
  readonly side: Side;
  price: number;
  leaves: number;
  /** The command whose acknowledgement is still to be observed (0 when none). */
  pending: number;
  /** Price and leaves before an optimistic replace, to roll back a rejection. */
  prevPrice: number;
  prevLeaves: number;
  /** The bucket (instrument × account × side) that lists this order's id. */
  readonly bucket: number[];
}

/** A market maker's quoting style. */
interface MakerStyle {
  /** Distance from fair value to the first rung, in ticks. */
  readonly halfSpread: number;
  /** Rungs per side. */
  readonly rungs: number;
  /** Ticks between rungs. */
  readonly spacing: number;
  /** Typical quote size in lots. */
  readonly size: number;
}

/**
 * Generates seeded order flow for a whole instrument table; see the module
 * documentation for the flow model.
 *
 * @example
 * ```ts
 * import { SyntheticMarket } from "./market.ts";
 * import { loadInstruments } from "../matching/mod.ts";
 *
 * const market = new SyntheticMarket({ instruments: loadInstruments(), seed: 7 });
 * const commands = market.take(100);
 * if (commands.length !== 100) throw new Error("expected 100 commands");
 * ```
 */
export class SyntheticMarket {
  readonly #instruments: readonly Instrument[];
  readonly #trade: readonly number[];
  readonly #rng: Rng;
  readonly #names: readonly string[];
  readonly #roles: readonly Role[];
  readonly #makers: readonly number[];
  readonly #takers: readonly number[];
  readonly #investors: readonly number[];
  readonly #styles: readonly MakerStyle[];
  readonly #volatility: number;
  readonly #drift: number;
  /** Fair value per instrument number, in ticks (fractional). */
  readonly #fair: Float64Array;
  /** Ids per (instrument, account, side): index `(instrument × accounts + account) × 2 + side`. */
  readonly #buckets: number[][];
  readonly #live = new Map<number, LiveOrder>();
  readonly #allocate: (() => number) | undefined;
  #nextId: number;

  /**
   * Creates a market positioned at every instrument's reference price.
   *
   * @param options See {@linkcode SyntheticMarketOptions}.
   * @throws {RangeError} If the table is empty, an account count is below 1,
   *   `firstId` is not a non-negative safe integer, or `trade` names an
   *   instrument outside the table.
   *
   * @example
   * ```ts
   * import { SyntheticMarket } from "./market.ts";
   * import { loadInstruments } from "../matching/mod.ts";
   *
   * const market = new SyntheticMarket({
   *   instruments: loadInstruments(),
   *   seed: 3,
   *   accounts: { makers: 2, takers: 1, investors: 1 },
   *   firstId: 1_000,
   * });
   * const first = market.next();
   * if (first.kind !== 1 || first.id !== 1_000) throw new Error("expected a place with id 1000");
   * ```
   */
  constructor(options: SyntheticMarketOptions) {
    const { instruments, seed } = options;
    if (instruments.length === 0) {
      throw new RangeError("Cannot create market: the instrument table is empty");
    }
    const firstId = options.firstId ?? 1;
    if (!Number.isSafeInteger(firstId) || firstId < 0) {
      throw new RangeError(
        `Cannot create market: firstId must be a non-negative safe integer, got ${firstId}`,
      );
    }
    const trade = options.trade ?? instruments.map((_, i) => i);
    if (
      trade.length === 0 ||
      trade.some((i) => !(Number.isInteger(i) && i >= 0 && i < instruments.length))
    ) {
      throw new RangeError(
        `Cannot create market: trade must list instrument numbers below ${instruments.length}`,
      );
    }
    const makers = options.accounts?.makers ?? 4;
    const takers = options.accounts?.takers ?? 3;
    const investors = options.accounts?.investors ?? 3;
    for (
      const [what, n] of [["makers", makers], ["takers", takers], ["investors", investors]] as const
    ) {
      if (!Number.isInteger(n) || n < 1) {
        throw new RangeError(`Cannot create market: need at least 1 of ${what}, got ${n}`);
      }
    }

    this.#instruments = instruments;
    this.#trade = [...trade];
    this.#rng = new Rng(seed);
    this.#volatility = options.volatilityTicks ?? 0.3;
    this.#drift = options.driftTicks ?? 0;
    this.#nextId = firstId;
    this.#allocate = options.nextId;

    const names: string[] = [];
    const roles: Role[] = [];
    const add = (prefix: string, n: number, role: Role): number[] => {
      const accounts: number[] = [];
      for (let k = 1; k <= n; k++) {
        accounts.push(names.length);
        names.push(`${prefix}${k}`);
        roles.push(role);
      }
      return accounts;
    };
    this.#makers = add("MM", makers, Role.Maker);
    this.#takers = add("TK", takers, Role.Taker);
    this.#investors = add("IN", investors, Role.Investor);
    this.#names = names;
    this.#roles = roles;
    // Staggered styles: a tight maker with a short ladder, wider ones with
    // deeper ladders, so the touch is contested and there is depth behind it.
    this.#styles = this.#makers.map((_, k) => ({
      halfSpread: 1 + (k % 3 === 0 ? 0 : k % 2 === 0 ? 1 : 0.5),
      rungs: 3 + 2 * (k % 4),
      spacing: k % 3 === 2 ? 2 : 1,
      size: 10 * (1 + (k % 3)),
    }));

    this.#fair = new Float64Array(instruments.length);
    instruments.forEach((inst, i) => {
      this.#fair[i] = Math.max(MIN_FAIR_TICKS, inst.referencePrice / inst.tickSize);
    });
    this.#buckets = Array.from({ length: instruments.length * names.length * 2 }, () => []);
  }

  /**
   * Account names; an account's number is its index here (`"MM1"` is 0).
   *
   * @returns A fresh array of names: makers, then takers, then investors.
   *
   * @example
   * ```ts
   * import { SyntheticMarket } from "./market.ts";
   * import { loadInstruments } from "../matching/mod.ts";
   *
   * const names = new SyntheticMarket({ instruments: loadInstruments(), seed: 1 }).accountNames();
   * if (names[0] !== "MM1") throw new Error("account 0 should be MM1");
   * ```
   */
  accountNames(): string[] {
    return [...this.#names];
  }

  /**
   * The current fair value of an instrument, in price units (not rounded to a tick).
   *
   * @param instrument Instrument number.
   * @returns Fair value in price units.
   *
   * @example
   * ```ts
   * import { SyntheticMarket } from "./market.ts";
   * import { loadInstruments } from "../matching/mod.ts";
   *
   * const instruments = loadInstruments();
   * const market = new SyntheticMarket({ instruments, seed: 1 });
   * if (market.fairValue(0) !== instruments[0]!.referencePrice) throw new Error("starts at reference");
   * ```
   */
  fairValue(instrument: number): number {
    const inst = this.#instruments[instrument];
    if (inst === undefined) throw new RangeError(`Unknown instrument number ${instrument}`);
    return (this.#fair[instrument] ?? 0) * inst.tickSize;
  }

  /**
   * How many of the market's orders it currently believes may be resting.
   *
   * @returns Number of tracked live orders.
   *
   * @example
   * ```ts
   * import { SyntheticMarket } from "./market.ts";
   * import { loadInstruments } from "../matching/mod.ts";
   *
   * const market = new SyntheticMarket({ instruments: loadInstruments(), seed: 1 });
   * if (market.liveOrders() !== 0) throw new Error("starts empty");
   * ```
   */
  liveOrders(): number {
    return this.#live.size;
  }

  /**
   * Generates the next command.
   *
   * @returns One normalised command.
   *
   * @example
   * ```ts
   * import { SyntheticMarket } from "./market.ts";
   * import { loadInstruments } from "../matching/mod.ts";
   *
   * const market = new SyntheticMarket({ instruments: loadInstruments(), seed: 1 });
   * const command = market.next();
   * if (command.kind !== 1) throw new Error("an empty market starts with a place");
   * ```
   */
  next(): Command {
    const rng = this.#rng;
    const instrument = this.#trade[Math.floor(rng.next() * this.#trade.length)] as number;
    this.#step(instrument);
    const u = rng.next();
    if (u < 0.5) {
      const account = rng.pick(this.#makers);
      const command = this.#make(instrument, account);
      if (command !== undefined) return command;
    } else if (u < 0.75) {
      const command = this.#invest(instrument, rng.pick(this.#investors));
      if (command !== undefined) return command;
    }
    // Takers always have something to send; they also stand in for a maker
    // whose ladder needs nothing this step.
    return this.#takeLiquidity(instrument, rng.pick(this.#takers));
  }

  /**
   * Generates `n` commands.
   *
   * @param n How many; a non-negative integer.
   * @returns The commands in order.
   * @throws {RangeError} If `n` is not a non-negative integer.
   *
   * @example
   * ```ts
   * import { SyntheticMarket } from "./market.ts";
   * import { loadInstruments } from "../matching/mod.ts";
   *
   * const a = new SyntheticMarket({ instruments: loadInstruments(), seed: 5 }).take(50);
   * const b = new SyntheticMarket({ instruments: loadInstruments(), seed: 5 }).take(50);
   * if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error("not deterministic");
   * ```
   */
  take(n: number): Command[] {
    if (!Number.isInteger(n) || n < 0) {
      throw new RangeError(`Cannot take commands: n must be a non-negative integer, got ${n}`);
    }
    const out: Command[] = [];
    for (let i = 0; i < n; i++) out.push(this.next());
    return out;
  }

  /**
   * Updates the market's view of its live orders from engine events: fills
   * reduce or remove orders, cancels and expiries remove them, a rejected
   * place is forgotten, a rejected replace is rolled back. Events about ids
   * the market does not track (IOC, FOK, market orders, other sources) are ignored.
   *
   * @param events Events in emission order, for one or many commands.
   *
   * @example
   * ```ts
   * import { SyntheticMarket } from "./market.ts";
   * import { ReferenceMatcher, loadInstruments } from "../matching/mod.ts";
   *
   * const instruments = loadInstruments();
   * const market = new SyntheticMarket({ instruments, seed: 2 });
   * const matcher = new ReferenceMatcher(instruments);
   * market.observe(matcher.applyAll(market.take(500)).flat());
   * matcher.close();
   * ```
   */
  observe(events: readonly EngineEvent[]): void {
    const live = this.#live;
    for (const event of events) {
      switch (event.kind) {
        case EventKind.OrderAccepted: {
          const order = live.get(event.id);
          if (order !== undefined) order.pending = 0;
          break;
        }
        case EventKind.OrderRejected: {
          const order = live.get(event.id);
          if (order === undefined) break;
          if (order.pending === CommandKind.ReplaceOrder && event.reason !== "unknown_order") {
            order.price = order.prevPrice;
            order.leaves = order.prevLeaves;
            order.pending = 0;
          } else {
            // A rejected place never rested; `unknown_order` means the order
            // was gone before our replace reached it.
            this.#forget(order);
          }
          break;
        }
        case EventKind.OrderTraded: {
          this.#fill(event.maker, event.qty);
          this.#fill(event.taker, event.qty);
          break;
        }
        case EventKind.OrderCancelled:
        case EventKind.OrderExpired: {
          const order = live.get(event.id);
          if (order !== undefined) this.#forget(order);
          break;
        }
        case EventKind.OrderReplaced: {
          const order = live.get(event.id);
          if (order !== undefined) {
            order.price = event.price;
            order.leaves = event.qty;
            order.pending = 0;
          }
          break;
        }
      }
    }
  }

  #fill(id: number, qty: number): void {
    const order = this.#live.get(id);
    if (order === undefined) return;
    order.leaves -= qty;
    if (order.leaves <= 0) this.#forget(order);
  }

  #forget(order: LiveOrder): void {
    this.#live.delete(order.id);
    const bucket = order.bucket;
    const i = bucket.indexOf(order.id);
    if (i >= 0) {
      // Order within a bucket carries no meaning, so swap-remove is enough.
      bucket[i] = bucket[bucket.length - 1] as number;
      bucket.pop();
    }
  }

  #bucket(instrument: number, account: number, side: Side): number[] {
    return this.#buckets[(instrument * this.#names.length + account) * 2 + side] as number[];
  }

  /** One random-walk step of an instrument's fair value. */
  #step(instrument: number): void {
    let fair = (this.#fair[instrument] as number) + this.#drift +
      this.#volatility * this.#rng.normal();
    if (fair < MIN_FAIR_TICKS) fair = 2 * MIN_FAIR_TICKS - fair;
    this.#fair[instrument] = fair;
  }

  #tick(instrument: number): number {
    return (this.#instruments[instrument] as Instrument).tickSize;
  }

  /** A lot count around `typical`, log-normally spread (always >= 1). */
  #size(typical: number): number {
    return Math.max(1, Math.round(typical * Math.exp(0.6 * this.#rng.normal() - 0.18)));
  }

  #place(
    instrument: number,
    account: number,
    side: Side,
    type: OrderType,
    tif: TimeInForce,
    postOnly: boolean,
    ticks: number,
    qty: number,
  ): PlaceOrder {
    const id = this.#allocate === undefined ? this.#nextId++ : this.#allocate();
    const price = type === OrderType.Market ? NO_PRICE : ticks * this.#tick(instrument);
    if (type === OrderType.Limit && tif === TimeInForce.Gtc) {
      const bucket = this.#bucket(instrument, account, side);
      bucket.push(id);
      this.#live.set(id, {
        id,
        instrument,
        account,
        side,
        price,
        leaves: qty,
        pending: CommandKind.PlaceOrder,
        prevPrice: price,
        prevLeaves: qty,
        bucket,
      });
    }
    return {
      kind: CommandKind.PlaceOrder,
      id,
      account,
      instrument,
      side,
      type,
      tif,
      postOnly,
      price,
      qty,
    };
  }

  #cancel(order: LiveOrder): CancelOrder {
    this.#forget(order);
    return { kind: CommandKind.CancelOrder, id: order.id };
  }

  #replace(order: LiveOrder, ticks: number, qty: number): ReplaceOrder {
    const price = ticks * this.#tick(order.instrument);
    order.prevPrice = order.price;
    order.prevLeaves = order.leaves;
    order.price = price;
    order.leaves = qty;
    order.pending = CommandKind.ReplaceOrder;
    return { kind: CommandKind.ReplaceOrder, id: order.id, price, qty };
  }

  /** The price, in ticks, of rung `j` of a maker's ladder on one side. */
  #rung(instrument: number, style: MakerStyle, side: Side, j: number): number {
    const fair = this.#fair[instrument] as number;
    const offset = style.halfSpread + j * style.spacing;
    return side === Side.Buy
      ? Math.max(1, Math.floor(fair - offset))
      : Math.max(2, Math.ceil(fair + offset));
  }

  /** A maker's turn: fix a stale quote, fill a missing rung, or touch up a quote. */
  #make(instrument: number, account: number): Command | undefined {
    const rng = this.#rng;
    const style = this.#styles[this.#makers.indexOf(account)] as MakerStyle;
    const first: Side = rng.chance(0.5) ? Side.Buy : Side.Sell;
    const second = (1 - first) as Side;
    // The side with the more urgent stale quote goes first: a quote too
    // close to fair value is about to be picked off.
    const a = this.#stalest(instrument, account, style, first);
    const b = this.#stalest(instrument, account, style, second);
    for (const { side, order } of b.score > a.score ? [b, a] : [a, b]) {
      const missing = this.#missingRung(instrument, account, style, side);
      if (order !== undefined) {
        if (missing !== undefined && rng.chance(0.75)) {
          return this.#replace(order, missing, this.#size(style.size));
        }
        return this.#cancel(order);
      }
      if (missing !== undefined && this.#bucket(instrument, account, side).length < style.rungs) {
        return this.#place(
          instrument,
          account,
          side,
          OrderType.Limit,
          TimeInForce.Gtc,
          true,
          missing,
          this.#size(style.size),
        );
      }
    }
    // The ladder is complete: occasionally re-size or pull a quote, as
    // makers do when their inventory or risk limits move.
    const bucket = this.#bucket(instrument, account, first);
    if (bucket.length > 0 && rng.chance(0.3)) {
      const order = this.#live.get(rng.pick(bucket)) as LiveOrder;
      if (rng.chance(0.5)) return this.#cancel(order);
      const tick = this.#tick(instrument);
      return this.#replace(order, order.price / tick, this.#size(style.size));
    }
    return undefined;
  }

  /**
   * A maker's stalest quote on one side: too close to fair value scores
   * above 1000 (worse), too far behind the ladder scores its distance.
   */
  #stalest(
    instrument: number,
    account: number,
    style: MakerStyle,
    side: Side,
  ): { side: Side; order: LiveOrder | undefined; score: number } {
    const tick = this.#tick(instrument);
    const inner = this.#rung(instrument, style, side, 0);
    const outer = this.#rung(instrument, style, side, style.rungs - 1);
    let order: LiveOrder | undefined;
    let score = 0;
    for (const id of this.#bucket(instrument, account, side)) {
      const quote = this.#live.get(id) as LiveOrder;
      const ticks = quote.price / tick;
      const tooClose = side === Side.Buy ? ticks - inner : inner - ticks;
      const tooFar = side === Side.Buy ? outer - ticks : ticks - outer;
      const s = tooClose > 0 ? 1_000 + tooClose : tooFar > 0 ? tooFar : 0;
      if (s > score) {
        order = quote;
        score = s;
      }
    }
    return { side, order, score };
  }

  /**
   * The innermost rung (in ticks) with no quote of this maker on it, if
   * any, kept behind the opposite touch as the market knows it: a maker sees
   * the book and does not send a post-only quote it knows would cross.
   */
  #missingRung(
    instrument: number,
    account: number,
    style: MakerStyle,
    side: Side,
  ): number | undefined {
    const tick = this.#tick(instrument);
    const bucket = this.#bucket(instrument, account, side);
    const opposite = this.#touch(instrument, (1 - side) as Side) / tick;
    for (let j = 0; j < style.rungs; j++) {
      let ticks = this.#rung(instrument, style, side, j);
      if (opposite > 0) {
        ticks = side === Side.Buy ? Math.min(ticks, opposite - 1) : Math.max(ticks, opposite + 1);
      }
      if (ticks < 1) return undefined;
      let taken = false;
      for (const id of bucket) {
        if ((this.#live.get(id) as LiveOrder).price === ticks * tick) {
          taken = true;
          break;
        }
      }
      if (!taken) return ticks;
    }
    return undefined;
  }

  /** The best price of the market's own live orders on one side of a book; 0 if none. */
  #touch(instrument: number, side: Side): number {
    let best = 0;
    for (let account = 0; account < this.#names.length; account++) {
      for (const id of this.#bucket(instrument, account, side)) {
        const price = (this.#live.get(id) as LiveOrder).price;
        if (best === 0 || (side === Side.Buy ? price > best : price < best)) best = price;
      }
    }
    return best;
  }

  /** A taker's turn: an IOC through fair value, a market order or a FOK. */
  #takeLiquidity(instrument: number, account: number): PlaceOrder {
    const rng = this.#rng;
    const side: Side = rng.chance(0.5) ? Side.Buy : Side.Sell;
    const fair = this.#fair[instrument] as number;
    const u = rng.next();
    if (u < 0.35) {
      return this.#place(
        instrument,
        account,
        side,
        OrderType.Market,
        TimeInForce.Ioc,
        false,
        0,
        this.#size(8),
      );
    }
    const fok = u >= 0.9;
    const through = rng.int(1, fok ? 4 : 3);
    const ticks = side === Side.Buy
      ? Math.ceil(fair) + through
      : Math.max(1, Math.floor(fair) - through);
    return this.#place(
      instrument,
      account,
      side,
      OrderType.Limit,
      fok ? TimeInForce.Fok : TimeInForce.Ioc,
      false,
      ticks,
      this.#size(fok ? 30 : 8),
    );
  }

  /** An investor's turn: rest a limit away from the touch, or revise one. */
  #invest(instrument: number, account: number): Command | undefined {
    const rng = this.#rng;
    const fair = this.#fair[instrument] as number;
    const tick = this.#tick(instrument);
    const bids = this.#bucket(instrument, account, Side.Buy);
    const asks = this.#bucket(instrument, account, Side.Sell);
    const resting = bids.length + asks.length;
    if (resting > 0 && (resting >= MAX_INVESTOR_ORDERS || rng.chance(0.35))) {
      // Revise the order that drifted furthest from fair value: it is the
      // one a real investor would look at again.
      let furthest: LiveOrder | undefined;
      let distance = -1;
      for (const bucket of [bids, asks]) {
        for (const id of bucket) {
          const order = this.#live.get(id) as LiveOrder;
          const d = Math.abs(order.price / tick - fair);
          if (d > distance) {
            furthest = order;
            distance = d;
          }
        }
      }
      const order = furthest as LiveOrder;
      if (rng.chance(0.6)) return this.#cancel(order);
      return this.#replace(order, this.#awayTicks(fair, order.side), this.#size(100));
    }
    const side: Side = rng.chance(0.5) ? Side.Buy : Side.Sell;
    return this.#place(
      instrument,
      account,
      side,
      OrderType.Limit,
      TimeInForce.Gtc,
      false,
      this.#awayTicks(fair, side),
      this.#size(100),
    );
  }

  /** A price 2 to ~60 ticks away from fair value on the passive side. */
  #awayTicks(fair: number, side: Side): number {
    const distance = 2 + Math.min(60, Math.floor(-12 * Math.log(1 - this.#rng.next())));
    return side === Side.Buy
      ? Math.max(1, Math.floor(fair) - distance)
      : Math.ceil(fair) + distance;
  }

  /**
   * The role of an account: `"maker"`, `"taker"` or `"investor"`.
   *
   * @param account Account number.
   * @returns The role's name.
   *
   * @example
   * ```ts
   * import { SyntheticMarket } from "./market.ts";
   * import { loadInstruments } from "../matching/mod.ts";
   *
   * const market = new SyntheticMarket({ instruments: loadInstruments(), seed: 1 });
   * if (market.roleOf(0) !== "maker") throw new Error("MM1 is a maker");
   * ```
   */
  roleOf(account: number): "maker" | "taker" | "investor" {
    const role = this.#roles[account];
    if (role === undefined) throw new RangeError(`Unknown account number ${account}`);
    return role === Role.Maker ? "maker" : role === Role.Taker ? "taker" : "investor";
  }
}
