/**
 * THE benchmark command stream: one symbol, a fixed mix of 55% limit, 25%
 * cancel, 10% market and 10% replace commands, over a book kept near a
 * target depth (500 price levels per side by default) around a slowly
 * drifting mid. Every matching subject of `deno task bench` — the reference
 * matcher, the native kernel, the rings, nodejs-order-book — replays exactly
 * this stream, so their figures compare like with like.
 *
 * # How it is generated
 *
 * The stream is produced closed-loop against the {@linkcode ReferenceMatcher}
 * as an oracle: every command is applied to it and its events are fed back
 * into a view of the book, so that
 *
 * - cancels and replaces target orders that are really resting (a cancel of
 *   an already-filled order is a different, cheaper code path, and would
 *   flatter every subject);
 * - limits keep the depth near its target: passive limits land uniformly
 *   over `depth` ticks behind a slowly drifting mid (plus a cluster near the
 *   touch, where real books are densest), so each side holds about `depth`
 *   levels, while cancels prefer the order furthest from the mid, so levels
 *   left behind by the drift are cleared rather than accumulate;
 * - a proportional controller on the number of resting orders sets how many
 *   limits are aggressive (they cross the touch, sweep a level or two and
 *   rest any remainder) and how large market orders are, holding the book
 *   at about {@linkcode ORDERS_PER_LEVEL} orders per level instead of
 *   growing or draining over a long stream;
 * - aggressive flow leans towards the mid (buys when the book sits below it),
 *   so the book follows the drift the way informed flow moves a real one.
 *
 * Orders come from {@linkcode BENCH_ACCOUNTS} accounts drawn at random, so
 * an aggressive order now and then meets its own account's resting order
 * and self-trade prevention fires.
 *
 * The kind of each command is drawn independently with the target
 * probabilities, so the mix holds on any long window. Only during the first
 * few commands, before anything rests, does a cancel or replace target an
 * id that is gone (and is rejected `unknown_order`).
 *
 * @example
 * ```ts
 * import { benchFlow, describeFlow } from "./bench_flow.ts";
 *
 * const commands = benchFlow({ seed: 1, count: 20_000 });
 * const flow = describeFlow(commands);
 * console.log(flow.mix, flow.book.bidLevels, flow.book.askLevels);
 * ```
 *
 * @module
 */

import {
  type Command,
  CommandKind,
  type Instrument,
  loadInstruments,
  NO_PRICE,
  OrderType,
  type PlaceOrder,
  ReferenceMatcher,
  Side,
  TimeInForce,
} from "../matching/mod.ts";
import { BookView, type ViewOrder } from "./_book_view.ts";
import { Rng } from "./rng.ts";

/**
 * The benchmark mix: the probability of each command kind.
 *
 * @example
 * ```ts
 * import { BENCH_MIX } from "./bench_flow.ts";
 *
 * const total = BENCH_MIX.limit + BENCH_MIX.cancel + BENCH_MIX.market + BENCH_MIX.replace;
 * if (Math.abs(total - 1) > 1e-12) throw new Error("mix must sum to 1");
 * ```
 */
export const BENCH_MIX = { limit: 0.55, cancel: 0.25, market: 0.10, replace: 0.10 } as const;

/**
 * Accounts the benchmark stream spreads its orders over (so self-trade
 * prevention fires on roughly one maker in this many).
 *
 * @example
 * ```ts
 * import { BENCH_ACCOUNTS } from "./bench_flow.ts";
 * console.log(`${BENCH_ACCOUNTS} accounts`);
 * ```
 */
export const BENCH_ACCOUNTS = 16;

/**
 * Resting orders per price level the depth controller aims for.
 *
 * @example
 * ```ts
 * import { ORDERS_PER_LEVEL } from "./bench_flow.ts";
 * console.log(`target: ${2 * 500 * ORDERS_PER_LEVEL} resting orders at depth 500`);
 * ```
 */
export const ORDERS_PER_LEVEL = 4;

/** Options for {@linkcode benchFlow}. */
export interface BenchFlowOptions {
  /** Selects the stream; the same options always give the same commands. */
  readonly seed: number;
  /** Number of commands; a non-negative integer. */
  readonly count: number;
  /** Instrument number to trade; default 0 (the table's first). */
  readonly instrument?: number;
  /** Target price levels per side; default 500 (about 1000 levels in all). */
  readonly depth?: number;
  /** The instrument table; default {@linkcode loadInstruments}(). */
  readonly instruments?: readonly Instrument[];
  /** Id of the first place-order; later ones count up from it. Default 1. */
  readonly firstId?: number;
}

/** Command counts by kind, as {@linkcode describeFlow} reports them. */
export interface FlowCounts {
  /** Limit orders of any time in force. */
  readonly limit: number;
  /** Of which GTC. */
  readonly limitGtc: number;
  /** Of which IOC. */
  readonly limitIoc: number;
  /** Of which FOK. */
  readonly limitFok: number;
  /** Of which post-only. */
  readonly postOnly: number;
  /** Market orders. */
  readonly market: number;
  /** Cancels. */
  readonly cancel: number;
  /** Replaces. */
  readonly replace: number;
}

/** What a command stream is and what it did to the book, for a benchmark's header. */
export interface FlowDescription {
  /** Number of commands. */
  readonly commands: number;
  /** Counts per kind. */
  readonly counts: FlowCounts;
  /** Fractions of all commands: limit, cancel, market, replace. */
  readonly mix: {
    readonly limit: number;
    readonly cancel: number;
    readonly market: number;
    readonly replace: number;
  };
  /** Instrument numbers the stream trades, ascending. */
  readonly instruments: readonly number[];
  /** Distinct accounts placing orders. */
  readonly accounts: number;
  /** The book after the last command (summed over the stream's instruments). */
  readonly book: {
    readonly bidLevels: number;
    readonly askLevels: number;
    readonly restingOrders: number;
    /** Mean levels per side over the stream, sampled every 1000 commands. */
    readonly meanBidLevels: number;
    readonly meanAskLevels: number;
  };
  /** What the reference matcher did with the stream. */
  readonly outcome: {
    readonly events: number;
    readonly trades: number;
    readonly tradedQty: number;
    readonly selfTradeCancels: number;
    readonly expired: number;
    readonly rejects: Readonly<Record<string, number>>;
  };
}

/** Descriptions of streams made by {@linkcode benchFlow}, so describing them needs no replay. */
const described = new WeakMap<readonly Command[], FlowDescription>();

/** Samples the book's depth every this many commands. */
const SAMPLE_EVERY = 1_000;

/**
 * Generates the benchmark stream; see the module documentation.
 *
 * @param options See {@linkcode BenchFlowOptions}.
 * @returns `count` commands for one instrument.
 * @throws {RangeError} If `count` or `depth` is not a non-negative (positive)
 *   integer, or `instrument` is not in the table.
 *
 * @example
 * ```ts
 * import { benchFlow } from "./bench_flow.ts";
 *
 * const a = benchFlow({ seed: 9, count: 1_000 });
 * const b = benchFlow({ seed: 9, count: 1_000 });
 * if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error("not deterministic");
 * ```
 */
export function benchFlow(options: BenchFlowOptions): Command[] {
  const { seed, count } = options;
  const instrument = options.instrument ?? 0;
  const depth = options.depth ?? 500;
  const instruments = options.instruments ?? loadInstruments();
  let nextId = options.firstId ?? 1;
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new RangeError(
      `Cannot generate flow: count must be a non-negative integer, got ${count}`,
    );
  }
  if (!Number.isSafeInteger(depth) || depth < 1) {
    throw new RangeError(`Cannot generate flow: depth must be a positive integer, got ${depth}`);
  }
  const inst = instruments[instrument];
  if (inst === undefined || !Number.isInteger(instrument)) {
    throw new RangeError(
      `Cannot generate flow: instrument ${instrument} is not in the table of ${instruments.length}`,
    );
  }

  const rng = new Rng(seed);
  const oracle = new ReferenceMatcher(instruments);
  const view = new BookView(instruments);
  const sampler = new DepthSampler();
  const tick = inst.tickSize;
  const targetOrders = 2 * depth * ORDERS_PER_LEVEL;
  // Room below the mid for the widest reach (3 × depth, below), so no bid
  // ever needs a non-positive price, whatever the instrument's reference price.
  const minMid = 3 * depth + 10;
  let mid = Math.max(minMid, inst.referencePrice / tick);
  // How far behind the mid passive limits may land, per side, in ticks. It
  // starts at `depth` and is nudged so the side's level count tracks `depth`:
  // random placement leaves some levels empty, and how many depends on the
  // orders per level, which the controller below moves.
  const reach = [depth, depth];
  let events = 0;
  const commands: Command[] = [];

  for (let i = 0; i < count; i++) {
    // The mid: a slow random walk with a weak pull towards the book's own
    // mid, so the two cannot drift apart for long.
    const bid = view.best(instrument, Side.Buy) / tick;
    const ask = view.best(instrument, Side.Sell) / tick;
    const bookMid = bid > 0 && ask > 0 ? (bid + ask) / 2 : mid;
    mid += 0.05 * rng.normal() + 0.002 * (bookMid - mid);
    if (mid < minMid) mid = minMid;
    // How far the book is from its target size, clamped to [-1, 1].
    const pressure = Math.max(-1, Math.min(1, (view.size - targetOrders) / targetOrders));

    const u = rng.next();
    let command: Command;
    if (u < BENCH_MIX.limit) {
      const aggressive = rng.chance(Math.max(0.01, Math.min(0.5, 0.12 + 0.6 * pressure)));
      const account = rng.int(0, BENCH_ACCOUNTS - 1);
      if (aggressive) {
        const side = leanSide(rng, mid, bookMid);
        const opposite = view.best(instrument, side === Side.Buy ? Side.Sell : Side.Buy) / tick;
        const touch = opposite > 0 ? opposite : Math.round(mid);
        const through = rng.int(0, 2);
        const ticks = side === Side.Buy ? touch + through : Math.max(1, touch - through);
        command = place(
          nextId++,
          account,
          instrument,
          side,
          OrderType.Limit,
          ticks * tick,
          size(rng, 60),
        );
      } else {
        const side: Side = rng.chance(0.5) ? Side.Buy : Side.Sell;
        const levels = view.levels(instrument, side);
        reach[side] = Math.max(
          depth / 2,
          Math.min(3 * depth, (reach[side] as number) + 0.02 * (depth - levels)),
        );
        command = place(
          nextId++,
          account,
          instrument,
          side,
          OrderType.Limit,
          passiveTicks(rng, view, instrument, side, mid, reach[side] as number, tick) * tick,
          size(rng, 20),
        );
      }
    } else if (u < BENCH_MIX.limit + BENCH_MIX.cancel) {
      const order = farther(rng, view, mid * tick);
      command = { kind: CommandKind.CancelOrder, id: order?.id ?? Math.max(0, nextId - 1) };
    } else if (u < BENCH_MIX.limit + BENCH_MIX.cancel + BENCH_MIX.market) {
      // Market orders take about one touch order's worth, more when the
      // book is too full, less when it is too thin.
      const typical = 25 * (1 + 1.5 * pressure);
      command = place(
        nextId++,
        rng.int(0, BENCH_ACCOUNTS - 1),
        instrument,
        leanSide(rng, mid, bookMid),
        OrderType.Market,
        NO_PRICE,
        size(rng, Math.max(2, typical)),
      );
    } else {
      const order = view.size > 0 ? view.at(rng.int(0, view.size - 1)) : undefined;
      if (order === undefined) {
        command = {
          kind: CommandKind.ReplaceOrder,
          id: Math.max(0, nextId - 1),
          price: Math.round(mid) * tick,
          qty: 1,
        };
      } else if (rng.chance(0.3)) {
        // Shrink in place: keeps time priority, the cheap path of a replace.
        const qty = order.leaves > 1 ? rng.int(1, order.leaves - 1) : 1;
        command = { kind: CommandKind.ReplaceOrder, id: order.id, price: order.price, qty };
      } else {
        // Re-price a few ticks, staying passive.
        const ticks = order.price / tick + rng.int(-3, 3);
        command = {
          kind: CommandKind.ReplaceOrder,
          id: order.id,
          price: clampPassive(view, instrument, order.side, ticks, tick) * tick,
          qty: size(rng, 20),
        };
      }
    }
    commands.push(command);
    const result = oracle.apply(command);
    events += result.length;
    view.apply(command, result);
    if ((i + 1) % SAMPLE_EVERY === 0) sampler.sample(view, [instrument]);
  }
  oracle.close();
  described.set(commands, describe(commands, view, sampler, [instrument], events));
  return commands;
}

/**
 * Describes a command stream: counts per kind, the mix, and — by replaying
 * it through a fresh {@linkcode ReferenceMatcher} — the book it leaves and
 * what matching did. Arrays returned by {@linkcode benchFlow} are described
 * from the figures gathered while generating them, with no replay (so do not
 * modify such an array and then describe it; describe a copy instead).
 *
 * @param commands The stream.
 * @param instruments The instrument table used to replay it; default {@linkcode loadInstruments}().
 * @returns The description.
 *
 * @example
 * ```ts
 * import { benchFlow, describeFlow } from "./bench_flow.ts";
 *
 * const flow = describeFlow(benchFlow({ seed: 1, count: 5_000, depth: 50 }));
 * if (flow.commands !== 5_000) throw new Error("wrong count");
 * console.log(`${(flow.mix.limit * 100).toFixed(1)}% limit`);
 * ```
 */
export function describeFlow(
  commands: readonly Command[],
  instruments?: readonly Instrument[],
): FlowDescription {
  const known = described.get(commands);
  if (known !== undefined) return known;
  const table = instruments ?? loadInstruments();
  const oracle = new ReferenceMatcher(table);
  const view = new BookView(table);
  const sampler = new DepthSampler();
  const traded = new Set<number>();
  let events = 0;
  commands.forEach((command, i) => {
    if (command.kind === CommandKind.PlaceOrder && command.instrument < table.length) {
      traded.add(command.instrument);
    }
    const result = oracle.apply(command);
    events += result.length;
    view.apply(command, result);
    if ((i + 1) % SAMPLE_EVERY === 0) sampler.sample(view, [...traded]);
  });
  oracle.close();
  return describe(commands, view, sampler, [...traded].sort((a, b) => a - b), events);
}

/** Accumulates per-side level counts every {@linkcode SAMPLE_EVERY} commands. */
class DepthSampler {
  samples = 0;
  bidLevels = 0;
  askLevels = 0;

  sample(view: BookView, instruments: readonly number[]): void {
    this.samples++;
    for (const i of instruments) {
      this.bidLevels += view.levels(i, Side.Buy);
      this.askLevels += view.levels(i, Side.Sell);
    }
  }
}

function describe(
  commands: readonly Command[],
  view: BookView,
  sampler: DepthSampler,
  instruments: readonly number[],
  events: number,
): FlowDescription {
  let limit = 0, limitGtc = 0, limitIoc = 0, limitFok = 0, postOnly = 0;
  let market = 0, cancel = 0, replace = 0;
  const accounts = new Set<number>();
  for (const c of commands) {
    if (c.kind === CommandKind.CancelOrder) cancel++;
    else if (c.kind === CommandKind.ReplaceOrder) replace++;
    else {
      accounts.add(c.account);
      if (c.type === OrderType.Market) market++;
      else {
        limit++;
        if (c.tif === TimeInForce.Gtc) limitGtc++;
        else if (c.tif === TimeInForce.Ioc) limitIoc++;
        else limitFok++;
        if (c.postOnly) postOnly++;
      }
    }
  }
  const n = commands.length;
  const share = (k: number) => (n === 0 ? 0 : k / n);
  let bidLevels = 0, askLevels = 0, restingOrders = 0;
  for (const i of instruments) {
    bidLevels += view.levels(i, Side.Buy);
    askLevels += view.levels(i, Side.Sell);
    restingOrders += view.orders(i, Side.Buy) + view.orders(i, Side.Sell);
  }
  const mean = (total: number) => (sampler.samples === 0 ? 0 : total / sampler.samples);
  return {
    commands: n,
    counts: { limit, limitGtc, limitIoc, limitFok, postOnly, market, cancel, replace },
    mix: {
      limit: share(limit),
      cancel: share(cancel),
      market: share(market),
      replace: share(replace),
    },
    instruments,
    accounts: accounts.size,
    book: {
      bidLevels,
      askLevels,
      restingOrders,
      meanBidLevels: mean(sampler.bidLevels),
      meanAskLevels: mean(sampler.askLevels),
    },
    outcome: {
      events,
      trades: view.tallies.trades,
      tradedQty: view.tallies.tradedQty,
      selfTradeCancels: view.tallies.selfTradeCancels,
      expired: view.tallies.expired,
      rejects: { ...view.tallies.rejects },
    },
  };
}

function place(
  id: number,
  account: number,
  instrument: number,
  side: Side,
  type: OrderType,
  price: number,
  qty: number,
): PlaceOrder {
  // Market orders are IOC by nature; limits in this stream are all GTC.
  const tif = type === OrderType.Market ? TimeInForce.Ioc : TimeInForce.Gtc;
  return {
    kind: CommandKind.PlaceOrder,
    id,
    account,
    instrument,
    side,
    type,
    tif,
    postOnly: false,
    price,
    qty,
  };
}

/** A lot count around `typical`, log-normally spread (always >= 1). */
function size(rng: Rng, typical: number): number {
  return Math.max(1, Math.round(typical * Math.exp(0.5 * rng.normal() - 0.125)));
}

/** Buy with a probability that grows as the book's mid falls below the generator's. */
function leanSide(rng: Rng, mid: number, bookMid: number): Side {
  const pBuy = 1 / (1 + Math.exp(-(mid - bookMid) / 2));
  return rng.chance(pBuy) ? Side.Buy : Side.Sell;
}

/**
 * A passive price in ticks: a third of the time near the touch (geometric,
 * mean ~4 ticks), otherwise uniform over `reach` ticks behind the mid, and
 * never through the opposite touch.
 */
function passiveTicks(
  rng: Rng,
  view: BookView,
  instrument: number,
  side: Side,
  mid: number,
  reach: number,
  tick: number,
): number {
  const distance = rng.chance(1 / 3)
    ? 1 + Math.floor(-4 * Math.log(1 - rng.next()))
    : rng.int(1, Math.round(reach));
  const ticks = side === Side.Buy ? Math.ceil(mid) - distance : Math.floor(mid) + distance;
  return clampPassive(view, instrument, side, ticks, tick);
}

/** Keeps a price (in ticks) at least one tick inside the opposite touch and above zero. */
function clampPassive(
  view: BookView,
  instrument: number,
  side: Side,
  ticks: number,
  tick: number,
): number {
  if (side === Side.Buy) {
    const ask = view.best(instrument, Side.Sell) / tick;
    return Math.max(1, ask > 0 ? Math.min(ticks, ask - 1) : ticks);
  }
  const bid = view.best(instrument, Side.Buy) / tick;
  return Math.max(bid > 0 ? bid + 1 : 1, ticks);
}

/** Of two random live orders, the one further from the mid (stale orders get cancelled first). */
function farther(rng: Rng, view: BookView, midPrice: number): ViewOrder | undefined {
  if (view.size === 0) return undefined;
  const a = view.at(rng.int(0, view.size - 1));
  const b = view.at(rng.int(0, view.size - 1));
  return Math.abs(a.price - midPrice) >= Math.abs(b.price - midPrice) ? a : b;
}
