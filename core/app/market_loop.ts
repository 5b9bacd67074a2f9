/**
 * Drives the native engine with the synthetic market at a set rate, through
 * the engine's dispatcher, and keeps per-instrument statistics from the
 * events it gets back.
 *
 * The loop paces itself by wall time: every tick it sends the commands that
 * are due (`rate × elapsed`), waits for the engine to process them (a few
 * microseconds each) and feeds the events back to the market, so the
 * market's view of its live orders stays exact.
 *
 * When the engine halts (its journal failed: a full disk, a failed sync),
 * it answers every order with a `halted` reject. The loop stops at the
 * first such answer to one of its own commands: sending on would only pile
 * up rejects (a full disk once drew 639,000 of them before anyone noticed).
 *
 * @module
 */

import {
  type Command,
  CommandKind,
  type EngineEvent,
  EventKind,
  type Instrument,
} from "../matching/types.ts";
import { SyntheticMarket } from "../synthetic/mod.ts";
import type { AccountRegistry } from "./accounts.ts";
import type { Dispatcher, Origin } from "./dispatcher.ts";

/** What happened on one instrument. */
export interface InstrumentStats {
  trades: number;
  volume: number;
  lastPrice: number | undefined;
}

/** Totals since the loop started, over the market's own commands. */
export interface LoopStats {
  commands: number;
  events: number;
  trades: number;
  rejects: number;
  readonly perInstrument: InstrumentStats[];
}

/** Options for {@linkcode MarketLoop}. */
export interface MarketLoopOptions {
  readonly instruments: readonly Instrument[];
  /** The engine's dispatcher: commands go in, and every command's events come back, through it. */
  readonly dispatcher: Dispatcher;
  /** Commands per second. */
  readonly rate: number;
  readonly seed: number;
  /** Called with every command sent (tests record the stream with it). */
  readonly onCommand?: (command: Command) => void;
}

/**
 * The synthetic market wired to a running engine through its dispatcher.
 *
 * Order ids come from the dispatcher's allocator, so they never collide
 * with other sources'. The market observes the events of *every* command,
 * not only its own: a trader's order that fills one of the market's quotes
 * must shrink it in the market's view as well.
 *
 * @example
 * ```ts
 * import { MarketLoop } from "./market_loop.ts";
 * import { Dispatcher } from "./dispatcher.ts";
 * import { NativeEngine } from "../native/mod.ts";
 * import { loadInstruments } from "../matching/mod.ts";
 *
 * const instruments = loadInstruments();
 * const engine = NativeEngine.open(instruments);
 * engine.start();
 * const dispatcher = new Dispatcher({ engine });
 * const loop = new MarketLoop({ instruments, dispatcher, rate: 1000, seed: 1 });
 * loop.step(500);
 * if (loop.stats.commands !== 500) throw new Error("expected 500 commands");
 * await dispatcher.stop();
 * engine.close();
 * ```
 */
export class MarketLoop {
  readonly #dispatcher: Dispatcher;
  readonly #market: SyntheticMarket;
  readonly #rate: number;
  readonly #onCommand: ((command: Command) => void) | undefined;
  readonly #origin: Origin = Object.freeze({ source: "synthetic" });
  readonly stats: LoopStats;
  #timer: ReturnType<typeof setInterval> | undefined;
  #owed = 0;
  #last = 0;
  #halted = false;

  constructor(options: MarketLoopOptions) {
    const dispatcher = options.dispatcher;
    this.#dispatcher = dispatcher;
    this.#rate = options.rate;
    this.#onCommand = options.onCommand;
    this.#market = new SyntheticMarket({
      instruments: options.instruments,
      seed: options.seed,
      nextId: () => dispatcher.allocateOrderId(),
    });
    this.stats = {
      commands: 0,
      events: 0,
      trades: 0,
      rejects: 0,
      perInstrument: options.instruments.map(() => ({
        trades: 0,
        volume: 0,
        lastPrice: undefined,
      })),
    };
    dispatcher.listen((_command, events, origin) => {
      this.#market.observe(events);
      if (origin === this.#origin) { for (const event of events) this.#count(event); }
    });
  }

  /**
   * True once the engine answered one of the loop's commands with a
   * `halted` reject: the loop has stopped and sends nothing more.
   */
  get halted(): boolean {
    return this.#halted;
  }

  /**
   * Names the market's accounts (its participants are accounts 0, 1, 2, …)
   * in the registry and the engine's journal, except those already named so,
   * and waits for the engine to acknowledge them.
   *
   * @param accounts The registry.
   * @returns How many accounts were defined.
   * @throws {RangeError} When one of the numbers already names another account.
   * @throws {Error} When the engine refuses a definition.
   */
  async defineAccounts(accounts: AccountRegistry): Promise<number> {
    const names = this.#market.accountNames();
    const answers: Promise<unknown>[] = [];
    names.forEach((name, account) => {
      if (accounts.name(account) === name) return;
      answers.push(
        accounts.define(account, name).then((answer) => {
          if (!answer.ok) {
            throw new Error(
              `Cannot define account ${account} ${
                JSON.stringify(name)
              }: the engine refused (${answer.reason})`,
            );
          }
        }),
      );
    });
    if (answers.length > 0) this.#dispatcher.settle();
    await Promise.all(answers);
    return answers.length;
  }

  /**
   * Cancels the market's own orders left resting from before a restart
   * (recovered from the journal), and waits for the engine's answers. The
   * market starts with an empty view of its orders, so without this each
   * restart would leave another full set of quotes in the books that nobody
   * manages. Orders of other accounts (traders') are left alone. Call it
   * after {@linkcode MarketLoop.defineAccounts}.
   *
   * @param resting The orders resting at start (`NativeEngine.restingOrders`).
   * @param accounts The registry, to tell the market's accounts by name.
   * @returns How many orders were cancelled.
   */
  cancelLeftovers(
    resting: readonly { readonly id: number; readonly account: number }[],
    accounts: AccountRegistry,
  ): number {
    const names = this.#market.accountNames();
    const mine = resting.filter((order) =>
      names[order.account] !== undefined && accounts.name(order.account) === names[order.account]
    );
    for (const order of mine) {
      this.#dispatcher.submit({ kind: CommandKind.CancelOrder, id: order.id }, this.#origin);
    }
    if (mine.length > 0) this.#dispatcher.settle();
    this.stats.commands += mine.length;
    return mine.length;
  }

  /**
   * Sends `count` commands and waits until the engine has answered each;
   * fewer once the engine has halted (none after that).
   *
   * @param count How many commands.
   * @returns How many were sent.
   */
  step(count: number): number {
    const dispatcher = this.#dispatcher;
    let sent = 0;
    // One command in flight at a time: the market decides its next order
    // from the answer to the last, as a real participant would.
    for (; sent < count && !this.#halted; sent++) {
      const command = this.#market.next();
      dispatcher.submit(command, this.#origin);
      this.#onCommand?.(command);
      dispatcher.settle();
    }
    this.stats.commands += sent;
    return sent;
  }

  #count(event: EngineEvent): void {
    this.stats.events++;
    if (event.kind === EventKind.OrderRejected) {
      this.stats.rejects++;
      if (event.reason === "halted" && !this.#halted) {
        this.#halted = true;
        this.stop();
      }
    }
    if (event.kind !== EventKind.OrderTraded) return;
    this.stats.trades++;
    const s = this.stats.perInstrument[event.instrument];
    if (s) {
      s.trades++;
      s.volume += event.qty;
      s.lastPrice = event.price;
    }
  }

  /** Starts pacing at the configured rate on a 10 ms timer. */
  start(): void {
    if (this.#rate === 0 || this.#timer !== undefined || this.#halted) return;
    this.#last = performance.now();
    this.#timer = setInterval(() => {
      const now = performance.now();
      this.#owed += ((now - this.#last) / 1000) * this.#rate;
      this.#last = now;
      const due = Math.floor(this.#owed);
      if (due > 0) {
        this.#owed -= due;
        this.step(due);
      }
    }, 10);
  }

  /** Stops pacing. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
