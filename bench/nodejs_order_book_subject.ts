/**
 * nodejs-order-book (npm, v10.1.1) as a benchmark subject: the same command
 * stream through a popular JavaScript limit order book, for a speed
 * comparison.
 *
 * # Mapping
 * - limit → `limit({ side, id, size, price, timeInForce, postOnly, accountId, stpMode })`;
 *   the library supports GTC, IOC and FOK and post-only, so every limit maps;
 * - market → `market({ side, size, accountId, stpMode })`;
 * - cancel → `cancel(id)`; replace → `modify(id, { price, size })`;
 * - skipped (and counted): orders for instruments outside the table and
 *   market FOK orders, which the library cannot express.
 *
 * # Semantics differ; this is a speed comparison
 * - Self-trade prevention is requested as `EXPIRE_MAKER` (the resting order
 *   is cancelled and matching goes on), as our engine does, but the library's
 *   `modify` re-enters an order without it.
 * - `modify` always re-queues the order; our engine keeps time priority when
 *   only the quantity shrinks.
 * - Ids are strings and every order records `Date.now()`: the library's
 *   API forces both. The strings are made in `prepare`, outside the timing.
 *
 * @example
 * ```ts
 * import { NodejsOrderBookSubject } from "./nodejs_order_book_subject.ts";
 * import { benchFlow } from "../core/synthetic/mod.ts";
 * import { loadInstruments } from "../core/matching/mod.ts";
 *
 * const commands = benchFlow({ seed: 1, count: 2_000, depth: 50 });
 * const subject = new NodejsOrderBookSubject(loadInstruments());
 * subject.prepare(commands);
 * console.log(subject.run(commands).skipped); // 0
 * ```
 *
 * @module
 */

import * as nobModule from "nodejs-order-book";
// The package's `types` field points at a file it does not ship, so the bare
// import is untyped; its own declarations are the next best thing.
import type * as Nob from "nodejs-order-book/dist/types/index.d.ts";
import type {
  LimitOrderOptions,
  MarketOrderOptions,
  OrderUpdatePrice,
  TimeInForce as NobTimeInForce,
} from "nodejs-order-book/dist/types/types.d.ts";
import {
  type Command,
  CommandKind,
  type Instrument,
  OrderType,
  Side,
  TimeInForce,
} from "../core/matching/mod.ts";
import {
  latencyEvery,
  type MatchingSubject,
  type RunResult,
  SubjectNames,
  timerOverheadNs,
  type TsSubjectOptions,
} from "./subject.ts";

const nob = nobModule as unknown as typeof Nob;
type OrderBook = InstanceType<typeof Nob.OrderBook>;

/** Our time-in-force codes (index) to the library's strings. */
const TIF = ["GTC", "IOC", "FOK"] as unknown as readonly NobTimeInForce[];

/**
 * Runs the stream through nodejs-order-book, one book per instrument.
 *
 * @example
 * ```ts
 * import { NodejsOrderBookSubject } from "./nodejs_order_book_subject.ts";
 * import { loadInstruments } from "../core/matching/mod.ts";
 *
 * console.log(new NodejsOrderBookSubject(loadInstruments()).name); // "nodejs-order-book"
 * ```
 */
export class NodejsOrderBookSubject implements MatchingSubject {
  /** {@linkcode SubjectNames.nodejsOrderBook}. */
  readonly name: string = SubjectNames.nodejsOrderBook;
  readonly #instruments: readonly Instrument[];
  readonly #every: number;
  /** Prepared state for the next run. */
  #books: OrderBook[] = [];
  /** Per command: the book it goes to, or -1 when skipped. */
  #bookOf = new Int32Array(0);
  /** Per command: its order id as the library's string key. */
  #ids: string[] = [];
  #accounts: string[] = [];
  #skipped = 0;
  #prepared = false;

  /**
   * Creates the subject; books are made fresh by each {@linkcode prepare}.
   *
   * @param instruments The instrument table the stream was made for.
   * @param options See {@linkcode TsSubjectOptions}.
   * @throws {RangeError} If `latencyEvery` is not a non-negative integer.
   */
  constructor(instruments: readonly Instrument[], options: TsSubjectOptions = {}) {
    this.#instruments = instruments;
    this.#every = latencyEvery(options);
  }

  /**
   * Creates empty books and translates ids and accounts into the library's
   * string keys, outside the timed region.
   *
   * @param commands The stream the next run will replay.
   */
  prepare(commands: readonly Command[]): void {
    const n = commands.length;
    this.#books = this.#instruments.map(() => new nob.OrderBook());
    this.#bookOf = new Int32Array(n);
    this.#ids = new Array<string>(n);
    this.#accounts = [];
    this.#skipped = 0;
    const bookOfId = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const c = commands[i] as Command;
      this.#ids[i] = String(c.id);
      if (c.kind === CommandKind.PlaceOrder) {
        const unknown = c.instrument >= this.#instruments.length;
        const marketFok = c.type === OrderType.Market && c.tif === TimeInForce.Fok;
        if (unknown || marketFok) {
          this.#bookOf[i] = -1;
          this.#skipped++;
          continue;
        }
        this.#bookOf[i] = c.instrument;
        bookOfId.set(c.id, c.instrument);
        while (this.#accounts.length <= c.account) {
          this.#accounts.push(String(this.#accounts.length));
        }
      } else {
        // An id never placed goes to book 0, where the library misses it as
        // our engine would.
        this.#bookOf[i] = bookOfId.get(c.id) ?? 0;
      }
    }
    this.#prepared = true;
  }

  /**
   * Applies every command; see {@linkcode MatchingSubject.run}.
   *
   * @param commands The stream given to {@linkcode NodejsOrderBookSubject.prepare}.
   * @returns Timing, outcome count (1 per command plus the orders each
   *   reports filled), skipped count and sampled latencies.
   */
  run(commands: readonly Command[]): RunResult {
    if (!this.#prepared || this.#bookOf.length !== commands.length) this.prepare(commands);
    this.#prepared = false; // one run per prepare: the next starts from empty books
    const books = this.#books;
    const bookOf = this.#bookOf;
    const ids = this.#ids;
    const accounts = this.#accounts;
    const buy = nob.Side.BUY;
    const sell = nob.Side.SELL;
    const stp = nob.SelfTradePreventionMode.EXPIRE_MAKER;
    // Reused argument objects: the library reads them and keeps nothing (with
    // journaling off), so one per kind avoids an allocation per command.
    const limit: LimitOrderOptions = {
      id: "",
      side: buy,
      size: 0,
      price: 0,
      timeInForce: TIF[0] as NobTimeInForce,
      postOnly: false,
      accountId: "",
      stpMode: stp,
    };
    const market: MarketOrderOptions = { side: buy, size: 0, accountId: "", stpMode: stp };
    const update: OrderUpdatePrice = { price: 0, size: 0 };

    const n = commands.length;
    const every = this.#every;
    const overhead = every > 0 ? timerOverheadNs() : 0;
    const latencies = new Float64Array(every > 0 ? Math.ceil(n / every) : 0);
    let sampled = 0;
    let countdown = 0;
    let events = 0;
    let t0 = 0;
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      const b = bookOf[i] as number;
      if (b < 0) continue;
      const timed = every > 0 && countdown-- === 0;
      if (timed) {
        countdown = every - 1;
        t0 = performance.now();
      }
      const book = books[b] as OrderBook;
      const c = commands[i] as Command;
      if (c.kind === CommandKind.PlaceOrder) {
        if (c.type === OrderType.Market) {
          market.side = c.side === Side.Buy ? buy : sell;
          market.size = c.qty;
          market.accountId = accounts[c.account] as string;
          const r = book.market(market);
          events += 1 + r.done.length + (r.partial === null ? 0 : 1);
        } else {
          limit.id = ids[i] as string;
          limit.side = c.side === Side.Buy ? buy : sell;
          limit.size = c.qty;
          limit.price = c.price;
          limit.timeInForce = TIF[c.tif] as NobTimeInForce;
          limit.postOnly = c.postOnly;
          limit.accountId = accounts[c.account] as string;
          const r = book.limit(limit);
          events += 1 + r.done.length + (r.partial === null ? 0 : 1);
        }
      } else if (c.kind === CommandKind.CancelOrder) {
        book.cancel(ids[i] as string);
        events += 1;
      } else {
        update.price = c.price;
        update.size = c.qty;
        const r = book.modify(ids[i] as string, update);
        events += 1 + r.done.length + (r.partial === null ? 0 : 1);
      }
      if (timed) {
        const ns = (performance.now() - t0) * 1e6 - overhead;
        latencies[sampled++] = ns > 0 ? ns : 0;
      }
    }
    const seconds = (performance.now() - start) / 1_000;
    const skipped = this.#skipped;
    this.#books = [];
    return {
      seconds,
      commands: n - skipped,
      events,
      skipped,
      ...(every > 0 ? { latenciesNs: latencies.subarray(0, sampled) } : {}),
      note: "semantics differ (string ids, Date.now() per order, modify re-queues); " +
        "events = 1 per command + orders reported done/partial",
    };
  }

  /** Drops the books. */
  close(): void {
    this.#books = [];
    this.#ids = [];
    this.#prepared = false;
  }
}
