/**
 * Drives the native engine with the synthetic market at a set rate and keeps
 * per-instrument statistics from the events it gets back.
 *
 * The loop paces itself by wall time: every tick it sends the commands that
 * are due (`rate × elapsed`), waits for the engine to process them (a few
 * microseconds each) and feeds the events back to the market, so the
 * market's view of its live orders stays exact.
 *
 * @module
 */

import { EventKind, type Instrument } from "../matching/types.ts";
import {
  EV_ACCOUNT_DEFINED,
  eventFlags,
  eventKind,
  EVF_LAST,
  NativeEngine,
  readEvent,
} from "../native/mod.ts";
import { SyntheticMarket } from "../synthetic/mod.ts";
import type { Command, EngineEvent } from "../matching/types.ts";

/** What happened on one instrument. */
export interface InstrumentStats {
  trades: number;
  volume: number;
  lastPrice: number | undefined;
}

/** Totals since the loop started. */
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
  readonly engine: NativeEngine;
  /** Commands per second. */
  readonly rate: number;
  readonly seed: number;
  /** Called with every command sent (tests record the stream with it). */
  readonly onCommand?: (command: Command) => void;
  /** The first order id (default 1); after recovery, above every id the journal holds. */
  readonly firstId?: number;
}

/**
 * The synthetic market wired to a running engine.
 *
 * @example
 * ```ts
 * import { MarketLoop } from "./market_loop.ts";
 * import { NativeEngine } from "../native/mod.ts";
 * import { loadInstruments } from "../matching/mod.ts";
 *
 * const instruments = loadInstruments();
 * const engine = NativeEngine.open(instruments);
 * engine.start();
 * const loop = new MarketLoop({ instruments, engine, rate: 1000, seed: 1 });
 * loop.step(500);
 * if (loop.stats.commands !== 500) throw new Error("expected 500 commands");
 * engine.close();
 * ```
 */
export class MarketLoop {
  readonly #engine: NativeEngine;
  readonly #market: SyntheticMarket;
  readonly #rate: number;
  readonly #onCommand: ((command: Command) => void) | undefined;
  readonly stats: LoopStats;
  #timer: ReturnType<typeof setInterval> | undefined;
  #owed = 0;
  #last = 0;

  constructor(options: MarketLoopOptions) {
    this.#engine = options.engine;
    this.#rate = options.rate;
    this.#onCommand = options.onCommand;
    this.#market = new SyntheticMarket({
      instruments: options.instruments,
      seed: options.seed,
      firstId: options.firstId ?? 1,
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
  }

  /**
   * Names the market's accounts in the engine's journal, except those it
   * already knows, and waits for the engine to acknowledge them.
   *
   * @param known Account numbers the journal already names.
   * @returns How many accounts were defined.
   * @throws {Error} When the engine does not acknowledge a definition.
   */
  defineAccounts(known: ReadonlySet<number>): number {
    const engine = this.#engine;
    const names = this.#market.accountNames();
    let defined = 0;
    names.forEach((name, account) => {
      if (known.has(account)) return;
      while (!engine.pushDefineAccount(account, name)) engine.drain(() => {});
      defined++;
    });
    engine.flush();
    let acks = 0;
    while (acks < defined) {
      engine.drain((u32, at) => {
        if (eventKind(u32, at) !== EV_ACCOUNT_DEFINED) {
          throw new Error(
            `Cannot define accounts: the engine answered ${JSON.stringify(readEvent(u32, at))}`,
          );
        }
        acks++;
      });
    }
    return defined;
  }

  /**
   * Sends `count` commands and waits until the engine has answered each.
   *
   * @param count How many commands.
   */
  step(count: number): void {
    const engine = this.#engine;
    let batch: EngineEvent[] = [];
    const onEvent = (u32: Uint32Array, at: number) => {
      const event = readEvent(u32, at);
      batch.push(event);
      this.#count(event);
      if (eventFlags(u32, at) & EVF_LAST) {
        this.#market.observe(batch);
        batch = [];
      }
    };
    for (let sent = 0; sent < count; sent++) {
      // One command in flight at a time: the market decides its next order
      // from the answer to the last, as a real participant would.
      const command = this.#market.next();
      while (!engine.push(command)) engine.drain(onEvent);
      this.#onCommand?.(command);
      engine.flush();
      while (engine.processed !== engine.pushed) engine.drain(onEvent);
      // Its last events may have landed after the drain that saw it processed.
      engine.drain(onEvent);
    }
    this.stats.commands += count;
  }

  #count(event: EngineEvent): void {
    this.stats.events++;
    if (event.kind === EventKind.OrderRejected) this.stats.rejects++;
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
    if (this.#rate === 0 || this.#timer !== undefined) return;
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
