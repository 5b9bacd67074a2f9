/**
 * What the engine did, over every source: the core's periodic statistics
 * line. The market loop's own counters cover only the synthetic market's
 * commands, so a trader's orders read as nothing there; this counts every
 * trading command the dispatcher hands its listeners, whoever submitted it,
 * with a count per source (`synthetic`, `gateway`, …).
 *
 * @module
 */

import { type EngineEvent, EventKind, type Instrument } from "../matching/types.ts";
import type { Dispatcher } from "./dispatcher.ts";

/** What happened on one instrument. */
export interface InstrumentTotals {
  trades: number;
  volume: number;
  lastPrice: number | undefined;
}

/** Totals since counting began. */
export interface EngineTotals {
  /** Trading commands answered, from every source. */
  readonly commands: number;
  /** Their events. */
  readonly events: number;
  readonly trades: number;
  readonly rejects: number;
  /** Commands per origin source, in order of first appearance. */
  readonly bySource: ReadonlyMap<string, number>;
  /** Per instrument number. */
  readonly perInstrument: readonly Readonly<InstrumentTotals>[];
}

/**
 * Counts every trading command a dispatcher delivers, and its events.
 *
 * @example
 * ```ts
 * import { EngineStats } from "./engine_stats.ts";
 * import { Dispatcher } from "./dispatcher.ts";
 * import { NativeEngine } from "../native/mod.ts";
 * import { CommandKind, loadInstruments } from "../matching/mod.ts";
 *
 * const instruments = loadInstruments();
 * const engine = NativeEngine.open(instruments);
 * engine.start();
 * const dispatcher = new Dispatcher({ engine });
 * const stats = new EngineStats(dispatcher, instruments);
 * const cancel = { kind: CommandKind.CancelOrder, id: dispatcher.allocateOrderId() } as const;
 * dispatcher.submit(cancel, { source: "gateway" });
 * dispatcher.submit(cancel, { source: "synthetic" });
 * dispatcher.settle();
 * const { commands, rejects, bySource } = stats.totals;
 * if (commands !== 2 || rejects !== 2 || bySource.get("gateway") !== 1) {
 *   throw new Error("expected two rejected cancels, one from a trader");
 * }
 * await dispatcher.stop();
 * engine.close();
 * ```
 */
export class EngineStats {
  #commands = 0;
  #events = 0;
  #trades = 0;
  #rejects = 0;
  readonly #bySource = new Map<string, number>();
  readonly #perInstrument: InstrumentTotals[];
  readonly #stop: () => void;

  /**
   * Starts counting; add it before any command is submitted to count them all.
   *
   * @param dispatcher The engine's dispatcher.
   * @param instruments The instrument table (for per-instrument totals).
   */
  constructor(dispatcher: Dispatcher, instruments: readonly Instrument[]) {
    this.#perInstrument = instruments.map(() => ({ trades: 0, volume: 0, lastPrice: undefined }));
    this.#stop = dispatcher.listen((_command, events, origin) => {
      this.#commands++;
      this.#bySource.set(origin.source, (this.#bySource.get(origin.source) ?? 0) + 1);
      this.#events += events.length;
      for (const event of events) this.#count(event);
    });
  }

  #count(event: EngineEvent): void {
    if (event.kind === EventKind.OrderRejected) this.#rejects++;
    if (event.kind !== EventKind.OrderTraded) return;
    this.#trades++;
    const s = this.#perInstrument[event.instrument];
    if (s !== undefined) {
      s.trades++;
      s.volume += event.qty;
      s.lastPrice = event.price;
    }
  }

  /** The totals so far (the maps and rows are live views: read, do not keep). */
  get totals(): EngineTotals {
    return {
      commands: this.#commands,
      events: this.#events,
      trades: this.#trades,
      rejects: this.#rejects,
      bySource: this.#bySource,
      perInstrument: this.#perInstrument,
    };
  }

  /** Stops counting. */
  close(): void {
    this.#stop();
  }
}
