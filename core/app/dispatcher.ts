/**
 * The one owner of a running engine's rings. Every command source — the
 * synthetic market, trader sessions, admin controls — submits through a
 * {@linkcode Dispatcher} with an origin; the dispatcher pushes commands in
 * submission order, drains events, groups them per command and hands each
 * command's events to every listener, in engine order.
 *
 * # Invariants
 *
 * - **One producer, one consumer.** Nothing else pushes to or drains the
 *   engine: the engine processes commands in push order and closes each
 *   command's events with `EVF_LAST`, so the oldest command in flight owns
 *   the next event. A second pusher would break that pairing.
 * - **Nothing accepted is dropped.** {@linkcode Dispatcher.submit} never
 *   fails for a full ring: the command waits in a backlog, in order, and
 *   moves into the ring as draining frees space. Later submissions queue
 *   behind it, so order is kept across the backlog.
 * - **Engine order to listeners.** Listeners see commands in the order the
 *   engine processed them, whoever submitted them, each with all its events
 *   (a command whose events span several drains is delivered once, whole).
 * - **One id space.** Engine order ids come from
 *   {@linkcode Dispatcher.allocateOrderId} and nowhere else, so the synthetic
 *   market and the gateway never collide; after journal recovery the first
 *   id is above the report's `maxOrderId`.
 *
 * # Driving it
 *
 * {@linkcode Dispatcher.start} runs a pump on the event loop: idle, it waits
 * on a promise that the next submission resolves; busy, it waits for events
 * off the event loop (`NativeEngine.waitForEvents`) and drains. Synchronous
 * callers (the market loop's pacing, tests) call {@linkcode Dispatcher.settle}
 * to wait, spinning, until everything submitted has been answered.
 *
 * # Known limitations
 *
 * - `engineTime` is the wall clock when the dispatcher read the command's
 *   last event, sampled once per drain: the engine's own ingress stamp is
 *   journaled but not carried on events.
 * - The backlog is unbounded; sources are bounded upstream (the gateway's
 *   per-connection message rate, the market's pacing). `stats.backlog` shows it.
 *
 * @module
 */

import {
  type Command,
  type EngineEvent,
  EventKind,
  type OrderLabel,
  type RejectReasonName,
} from "../matching/types.ts";
import { MAX_ACCOUNT_BYTES } from "../../schemas/vocabulary/names.ts";
import type { RiskLimitName } from "../../schemas/vocabulary/risk_limits.ts";
import {
  EngineStatus,
  EV_ACCOUNT_DEFINED,
  EV_CONTROL_APPLIED,
  EV_STATE_HASH,
  eventFlags,
  eventHash,
  eventKind,
  eventSeq,
  EVF_LAST,
  type NativeEngine,
  readEvent,
} from "../native/mod.ts";

/**
 * Who submitted a command. Listeners get it back as given (same object), so
 * a source can recognise its own commands by identity and carry context
 * (a session, a request id) in it.
 */
export interface Origin {
  /** A short name for logs: `"synthetic"`, `"gateway"`, `"admin"`. */
  readonly source: string;
}

/** An engine control command: journaled like an order, answered by an ack or a reject. */
export type Control =
  | { readonly defineAccount: number; readonly name: string }
  | {
    readonly limit: RiskLimitName;
    readonly account: number | "all";
    /** One instrument's override (an account's only); every instrument when absent. */
    readonly instrument?: number;
    /** 0 = no limit; `"clear"` drops an instrument's override. */
    readonly value: number | "clear";
  }
  | { readonly killSwitch: boolean; readonly account: number | "all" }
  | { readonly referencePrice: number; readonly instrument: number };

/** The engine's answer to a {@linkcode Control}. */
export type ControlResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: RejectReasonName };

/**
 * Called once per trading command, in engine order, with all its events.
 *
 * @param command The command as submitted.
 * @param events Its events in emission order (the first is its acknowledgement).
 * @param origin Who submitted it (the object given to `submit`).
 * @param engineTime Wall-clock nanoseconds since the epoch when its events were read.
 * @param firstSeq The engine sequence number of its first event; event `i`
 *   has `firstSeq + i` (unique and deterministic: a replay of the journal
 *   numbers events the same way, so it serves as a trade id).
 */
export type CommandListener = (
  command: Command,
  events: readonly EngineEvent[],
  origin: Origin,
  engineTime: bigint,
  firstSeq: number,
) => void;

/** Options for {@linkcode Dispatcher}. */
export interface DispatcherOptions {
  /** The engine, started (or to be started before the first `settle`). */
  readonly engine: NativeEngine;
  /**
   * The first engine order id to hand out (default 1). After journal
   * recovery: `(report.maxOrderId ?? 0) + 1`, since ids are never reused.
   */
  readonly firstOrderId?: number;
  /** Where a listener's exception or an engine failure is reported (default `console.error`). */
  readonly onError?: (error: unknown) => void;
}

/** Counters since the dispatcher was made. */
export interface DispatcherStats {
  /** Commands and controls submitted. */
  readonly submitted: number;
  /** Commands and controls answered in full. */
  readonly completed: number;
  /** Events read. */
  readonly events: number;
  /** Submitted, waiting for ring space. */
  readonly backlog: number;
  /** In the ring or being processed, not yet answered in full. */
  readonly inflight: number;
}

const ORDER = 0;
const CONTROL = 1;
const HASH = 2;

interface Entry {
  readonly kind: typeof ORDER | typeof CONTROL | typeof HASH;
  readonly command: Command | undefined;
  readonly label: OrderLabel | undefined;
  readonly control: Control | undefined;
  readonly origin: Origin;
  readonly resolve: ((value: ControlResult | bigint) => void) | undefined;
}

/** The origin of controls and queries submitted without one. */
const CONTROL_ORIGIN: Origin = Object.freeze({ source: "control" });

/** How long the pump waits for events off the event loop before looking again. */
const WAIT_MS = 20;

/** A first-in, first-out queue without `Array.shift`'s O(n). */
class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  peek(): T | undefined {
    return this.#items[this.#head];
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
}

const utf8 = new TextEncoder();

/** Wall-clock nanoseconds since the epoch (sub-microsecond resolution). */
function nowNs(): bigint {
  const ms = performance.timeOrigin + performance.now();
  const whole = Math.floor(ms);
  return BigInt(whole) * 1_000_000n + BigInt(Math.floor((ms - whole) * 1e6));
}

/**
 * Owns a running engine's rings: submissions in, events out, grouped per
 * command, to listeners in engine order. See the module documentation.
 *
 * @example
 * ```ts
 * import { Dispatcher } from "./dispatcher.ts";
 * import { NativeEngine } from "../native/mod.ts";
 * import { CommandKind, loadInstruments } from "../matching/mod.ts";
 *
 * const engine = NativeEngine.open(loadInstruments());
 * engine.start();
 * const dispatcher = new Dispatcher({ engine });
 * const seen: string[] = [];
 * dispatcher.listen((command, events, origin) => {
 *   seen.push(`${origin.source}: ${command.kind} → ${events.map((e) => e.kind).join(",")}`);
 * });
 * const id = dispatcher.allocateOrderId();
 * dispatcher.submit({ kind: CommandKind.CancelOrder, id }, { source: "example" });
 * dispatcher.settle();
 * if (seen[0] !== "example: 2 → 2") throw new Error(seen.join("; ")); // a reject
 * await dispatcher.stop();
 * engine.close();
 * ```
 */
export class Dispatcher {
  readonly #engine: NativeEngine;
  readonly #onError: (error: unknown) => void;
  readonly #listeners: CommandListener[] = [];
  readonly #drained: (() => void)[] = [];
  readonly #backlog = new Fifo<Entry>();
  readonly #inflight = new Fifo<Entry>();
  /** Events of the oldest command in flight, read so far. */
  #current: EngineEvent[] = [];
  #currentSeq = 0;
  #controlResult: ControlResult | bigint = { ok: true };
  /** Commands answered in the drain under way: entry, events, first sequence. */
  readonly #doneEntries: Entry[] = [];
  readonly #doneEvents: (readonly EngineEvent[] | ControlResult | bigint)[] = [];
  readonly #doneSeqs: number[] = [];
  #nextOrderId: number;
  #needsFlush = false;
  #polling = false;
  #flushScheduled = false;
  #running = false;
  #stopped = false;
  #failure: unknown = undefined;
  #pump: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #submitted = 0;
  #completed = 0;
  #events = 0;

  /**
   * Takes over an engine's rings.
   *
   * @param options The engine, the first order id, the error sink.
   * @throws {RangeError} When `firstOrderId` is not a positive safe integer.
   */
  constructor(options: DispatcherOptions) {
    const first = options.firstOrderId ?? 1;
    if (!Number.isSafeInteger(first) || first < 1) {
      throw new RangeError(
        `Cannot create dispatcher: firstOrderId must be a positive safe integer, got ${first}`,
      );
    }
    this.#engine = options.engine;
    this.#nextOrderId = first;
    this.#onError = options.onError ?? ((error) => console.error(error));
  }

  /**
   * Hands out the next engine order id: the only source of ids for
   * commands submitted here.
   *
   * @returns A fresh id, above every id handed out before.
   */
  allocateOrderId(): number {
    return this.#nextOrderId++;
  }

  /** The id {@linkcode Dispatcher.allocateOrderId} will return next. */
  get nextOrderId(): number {
    return this.#nextOrderId;
  }

  /**
   * Adds a listener for every trading command's events, in engine order.
   * Listeners run in the order they were added; one that throws is reported
   * to `onError` and the others still run.
   *
   * @param listener The listener.
   * @returns A function that removes it.
   */
  listen(listener: CommandListener): () => void {
    this.#listeners.push(listener);
    return () => {
      const i = this.#listeners.indexOf(listener);
      if (i >= 0) this.#listeners.splice(i, 1);
    };
  }

  /**
   * Adds a callback run once after each drain that delivered at least one
   * command (market data flushes its batched frames there).
   *
   * @param callback The callback.
   * @returns A function that removes it.
   */
  onDrained(callback: () => void): () => void {
    this.#drained.push(callback);
    return () => {
      const i = this.#drained.indexOf(callback);
      if (i >= 0) this.#drained.splice(i, 1);
    };
  }

  /**
   * Submits a trading command. It reaches the engine after every command
   * submitted before it; a full ring only delays it.
   *
   * @param command The command; a place-order's id from {@linkcode Dispatcher.allocateOrderId}.
   * @param origin Who submits it; listeners get this object back.
   * @param label For a place order: its client order id and placer, journaled
   *   with it and kept with it while it rests, so that a restart gives the
   *   order back to whoever placed it (`NativeEngine.restingOrders`).
   * @throws {Error} After {@linkcode Dispatcher.stop}, or once the engine has failed.
   */
  submit(command: Command, origin: Origin, label?: OrderLabel): void {
    this.#enqueue({ kind: ORDER, command, label, control: undefined, origin, resolve: undefined });
  }

  /**
   * Submits a control command (journaled, in order with trading commands).
   *
   * @param control What to set.
   * @param origin Who submits it.
   * @returns The engine's answer, once it comes (after `settle`, or from the pump).
   * @throws {RangeError} When an account name is empty or over 48 bytes of UTF-8.
   * @throws {Error} After {@linkcode Dispatcher.stop}, or once the engine has failed.
   */
  submitControl(control: Control, origin: Origin = CONTROL_ORIGIN): Promise<ControlResult> {
    if ("defineAccount" in control) {
      const bytes = utf8.encode(control.name).length;
      if (bytes === 0 || bytes > MAX_ACCOUNT_BYTES) {
        throw new RangeError(
          `Cannot define account ${control.defineAccount}: its name must be 1 to ${MAX_ACCOUNT_BYTES} bytes of UTF-8, not ${bytes}`,
        );
      }
    }
    return new Promise((resolve) => {
      this.#enqueue({
        kind: CONTROL,
        command: undefined,
        label: undefined,
        control,
        origin,
        resolve: resolve as (value: ControlResult | bigint) => void,
      });
    });
  }

  /**
   * Asks the engine for its state hash, in order with everything submitted.
   *
   * @returns FNV-1a 64 over every book once every earlier command is applied.
   * @throws {Error} After {@linkcode Dispatcher.stop}, or once the engine has failed.
   */
  queryStateHash(): Promise<bigint> {
    return new Promise((resolve) => {
      this.#enqueue({
        kind: HASH,
        command: undefined,
        label: undefined,
        control: undefined,
        origin: CONTROL_ORIGIN,
        resolve: resolve as (value: ControlResult | bigint) => void,
      });
    });
  }

  #enqueue(entry: Entry): void {
    if (this.#failure !== undefined) {
      throw new Error(`Cannot submit command: the engine failed (${String(this.#failure)})`, {
        cause: this.#failure,
      });
    }
    if (this.#stopped) throw new Error("Cannot submit command: the dispatcher is stopped");
    this.#submitted++;
    if (this.#backlog.length > 0 || !this.#push(entry)) this.#backlog.push(entry);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(this.#flushLater);
    }
    const wake = this.#wake;
    if (wake !== undefined) {
      this.#wake = undefined;
      wake();
    }
  }

  /** Publishes what the current task pushed, once (one wake of the engine per task). */
  readonly #flushLater = (): void => {
    this.#flushScheduled = false;
    this.#flush();
  };

  #flush(): void {
    if (!this.#needsFlush) return;
    this.#needsFlush = false;
    this.#engine.flush();
  }

  /** Writes one entry into the command ring; false when it is full. */
  #push(entry: Entry): boolean {
    const engine = this.#engine;
    let pushed: boolean;
    if (entry.kind === ORDER) {
      const label = entry.label;
      pushed = label === undefined
        ? engine.push(entry.command!)
        : engine.push(entry.command!, label.clientOrderId, label.placer);
    } else if (entry.kind === HASH) {
      pushed = engine.pushHashQuery();
    } else {
      const control = entry.control!;
      pushed = "defineAccount" in control
        ? engine.pushDefineAccount(control.defineAccount, control.name)
        : engine.pushRiskControl(control);
    }
    if (pushed) {
      this.#inflight.push(entry);
      this.#needsFlush = true;
    }
    return pushed;
  }

  /** Moves backlog entries into the ring while it has space. */
  #pushBacklog(): void {
    const backlog = this.#backlog;
    while (backlog.length > 0 && this.#push(backlog.peek()!)) backlog.shift();
  }

  /**
   * Drains once, without waiting: publishes pushed commands, moves the
   * backlog into freed space, reads every event available, and delivers
   * each command answered in full to the listeners (and each control's
   * answer to its promise).
   *
   * @returns How many commands and controls were answered in full.
   * @throws {Error} When the engine thread has failed, or when called from a listener.
   */
  poll(): number {
    if (this.#polling) {
      throw new Error(
        "Cannot poll: a listener may not poll or settle the dispatcher that calls it",
      );
    }
    this.#polling = true;
    try {
      return this.#pollOnce();
    } finally {
      this.#polling = false;
    }
  }

  #pollOnce(): number {
    this.#pushBacklog();
    this.#flush();
    const read = this.#engine.drain(this.#onEvent);
    this.#events += read;
    if (read > 0) {
      // Space freed by the engine's progress: refill before delivering, so
      // the engine works while listeners run.
      this.#pushBacklog();
      this.#flush();
    }
    return this.#deliver();
  }

  readonly #onEvent = (u32: Uint32Array, at: number): void => {
    const entry = this.#inflight.peek();
    if (entry === undefined) {
      this.#report(new Error(`Cannot route event: kind ${eventKind(u32, at)} has no command`));
      return;
    }
    const kind = eventKind(u32, at);
    if (this.#current.length === 0) this.#currentSeq = eventSeq(u32, at);
    try {
      if (entry.kind === ORDER) {
        this.#current.push(readEvent(u32, at));
      } else if (kind === EV_CONTROL_APPLIED || kind === EV_ACCOUNT_DEFINED) {
        this.#controlResult = { ok: true };
      } else if (kind === EV_STATE_HASH) {
        this.#controlResult = eventHash(u32, at);
      } else {
        const event = readEvent(u32, at);
        this.#controlResult = event.kind === EventKind.OrderRejected
          ? { ok: false, reason: event.reason }
          : { ok: false, reason: "unknown_command" };
      }
    } catch (error) {
      // An event this build cannot decode: report it, keep the pairing.
      this.#report(error);
    }
    if ((eventFlags(u32, at) & EVF_LAST) === 0) return;
    this.#inflight.shift();
    this.#doneEntries.push(entry);
    this.#doneSeqs.push(this.#currentSeq);
    if (entry.kind === ORDER) {
      this.#doneEvents.push(this.#current);
      this.#current = [];
    } else {
      this.#doneEvents.push(this.#controlResult);
      this.#controlResult = { ok: true };
    }
  };

  #deliver(): number {
    const entries = this.#doneEntries;
    const n = entries.length;
    if (n === 0) return 0;
    const engineTime = nowNs();
    let orders = 0;
    for (let i = 0; i < n; i++) {
      const entry = entries[i]!;
      const result = this.#doneEvents[i]!;
      if (entry.kind === ORDER) {
        orders++;
        const events = result as readonly EngineEvent[];
        const seq = this.#doneSeqs[i]!;
        for (const listener of this.#listeners) {
          try {
            listener(entry.command!, events, entry.origin, engineTime, seq);
          } catch (error) {
            this.#report(error);
          }
        }
      } else {
        entry.resolve!(result as ControlResult | bigint);
      }
    }
    entries.length = 0;
    this.#doneEvents.length = 0;
    this.#doneSeqs.length = 0;
    this.#completed += n;
    if (orders > 0) {
      for (const callback of this.#drained) {
        try {
          callback();
        } catch (error) {
          this.#report(error);
        }
      }
    }
    return n;
  }

  #report(error: unknown): void {
    try {
      this.#onError(error);
    } catch {
      // The error sink itself failed; there is nowhere left to report.
    }
  }

  /** True while commands are in the ring or the backlog. */
  get busy(): boolean {
    return this.#inflight.length > 0 || this.#backlog.length > 0;
  }

  /**
   * Waits, spinning on this thread, until every command submitted so far
   * has been answered and delivered. For synchronous callers; the engine
   * answers in microseconds.
   *
   * @throws {Error} When the engine thread is not running (and events are
   *   still owed), or has failed.
   */
  settle(): void {
    while (this.busy) {
      if (this.poll() > 0) continue;
      const status = this.#engine.status;
      // A thread just started may not have said so yet: NotStarted counts
      // only when start() was never called.
      const started = this.#engine.placement !== undefined;
      if (
        status === EngineStatus.Stopped || status === EngineStatus.Failed ||
        (status === EngineStatus.NotStarted && !started)
      ) {
        // One last look: events published just before the thread stopped.
        if (this.poll() > 0) continue;
        throw new Error(
          `Cannot settle: the engine thread is not running (status ${status}) and ${this.#inflight.length} commands are unanswered`,
        );
      }
    }
  }

  /**
   * Starts the pump on the event loop (see the module documentation).
   * Idempotent.
   */
  start(): void {
    if (this.#running || this.#stopped) return;
    this.#running = true;
    this.#pump = this.#run();
  }

  async #run(): Promise<void> {
    try {
      while (this.#running) {
        this.poll();
        if (!this.busy) {
          await new Promise<void>((resolve) => (this.#wake = resolve));
          continue;
        }
        await this.#engine.waitForEvents(WAIT_MS);
      }
    } catch (error) {
      this.#failure = error;
      this.#running = false;
      this.#report(error);
    }
  }

  /**
   * Stops the pump and waits for its last wait to return (so the engine may
   * be closed afterwards), then answers what is still in flight, waiting up
   * to `graceMs`. No submission is accepted afterwards.
   *
   * @param graceMs How long to wait for commands in flight (default 1000).
   * @returns When the pump has stopped.
   */
  async stop(graceMs = 1000): Promise<void> {
    if (this.#stopped) {
      await this.#pump;
      return;
    }
    this.#stopped = true;
    this.#running = false;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
    await this.#pump;
    if (this.#failure !== undefined) return;
    const deadline = performance.now() + graceMs;
    try {
      while (this.busy && performance.now() < deadline) {
        if (this.poll() === 0) await this.#engine.waitForEvents(WAIT_MS);
      }
    } catch (error) {
      this.#failure = error;
      this.#report(error);
    }
  }

  /** Counters: submitted, answered, events read, backlog and in flight. */
  get stats(): DispatcherStats {
    return {
      submitted: this.#submitted,
      completed: this.#completed,
      events: this.#events,
      backlog: this.#backlog.length,
      inflight: this.#inflight.length,
    };
  }
}
