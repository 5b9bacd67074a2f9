/**
 * Watches the engine for a halt, so that an operator sees it: the engine
 * halts when its journal fails (a full disk, a failed sync) and then
 * answers every order with a `halted` reject. The watch reads the engine's
 * status word (one atomic load: cheap enough for every command the
 * dispatcher hands on, and on a timer for a quiet market), and the first
 * time it reads a halt it takes the cause from the native side, logs it
 * once, and tells its listeners (the synthetic market stops; readiness and
 * the quote snapshots' `alive` mark report it).
 *
 * @module
 */

import type { EngineState } from "../../schemas/quotes.ts";
import { type EngineHalt, EngineStatus } from "../native/mod.ts";

/** What the watch reads of an engine (a `NativeEngine`). */
export interface WatchedEngine {
  /** The engine thread's status word (one of `EngineStatus`). */
  readonly status: number;
  /** Why it halted, or undefined. */
  haltCause(): EngineHalt | undefined;
}

/** A halt as the watch saw it. */
export interface Halted {
  /** What failed and why, with the path (for the core's log and its own readiness). */
  readonly reason: string;
  /** The failed OS call's errno, or null. */
  readonly errno: number | null;
  /** Its code (`"ENOSPC"`, `"EIO"`, `"errno N"`), or `"unknown"` when no OS call failed. */
  readonly cause: string;
  /** When the watch saw it (ms since the epoch). */
  readonly since: number;
}

/** Options for {@linkcode EngineWatch}. */
export interface EngineWatchOptions {
  readonly engine: WatchedEngine;
  /** How often {@linkcode EngineWatch.start} checks (default 100 ms). */
  readonly intervalMs?: number;
  /** The clock, ms since the epoch (default `Date.now`). */
  readonly now?: () => number;
  /** Where the halt is reported, once (default `console.error`). */
  readonly log?: (message: string) => void;
}

/**
 * Tells when the engine halts, and why. See the module documentation.
 *
 * @example
 * ```ts
 * import { EngineWatch } from "./engine_watch.ts";
 * import { type EngineHalt, EngineStatus } from "../native/mod.ts";
 *
 * let cause: EngineHalt | undefined;
 * const engine = { status: EngineStatus.Running as number, haltCause: () => cause };
 * const lines: string[] = [];
 * const watch = new EngineWatch({ engine, log: (line) => lines.push(line) });
 * watch.onHalt((halt) => lines.push(`stopping: ${halt.cause}`));
 * if (watch.check()) throw new Error("a running engine is not halted");
 * engine.status = EngineStatus.Halted;
 * cause = { reason: "Engine halted: disk full", errno: 28, code: "ENOSPC" };
 * watch.check();
 * watch.check();
 * if (lines.length !== 2 || lines[1] !== "stopping: ENOSPC") throw new Error(lines.join("\n"));
 * ```
 */
export class EngineWatch {
  readonly #engine: WatchedEngine;
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #log: (message: string) => void;
  readonly #listeners: ((halt: Halted) => void)[] = [];
  #halted: Halted | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;

  /**
   * Makes a watch; {@linkcode EngineWatch.start} polls, {@linkcode EngineWatch.check} checks now.
   *
   * @param options The engine, the polling interval, the clock and the log.
   */
  constructor(options: EngineWatchOptions) {
    this.#engine = options.engine;
    this.#intervalMs = options.intervalMs ?? 100;
    this.#now = options.now ?? Date.now;
    this.#log = options.log ?? ((message) => console.error(message));
  }

  /** The halt, once seen; undefined while the engine runs. */
  get halted(): Halted | undefined {
    return this.#halted;
  }

  /** The engine's state as the quote snapshots' `alive` mark carries it. */
  get state(): EngineState {
    const halted = this.#halted;
    return halted === undefined
      ? { state: "running", cause: null, since: null }
      : { state: "halted", cause: halted.cause, since: halted.since };
  }

  /**
   * Calls `listener` once when the engine halts (at once when it has).
   *
   * @param listener Told the halt.
   */
  onHalt(listener: (halt: Halted) => void): void {
    if (this.#halted !== undefined) listener(this.#halted);
    else this.#listeners.push(listener);
  }

  /**
   * Reads the engine's status; the first time it reads a halt (or a failed
   * engine thread), logs it with its cause and tells the listeners.
   *
   * @returns True once the engine has halted.
   */
  check(): boolean {
    if (this.#halted !== undefined) return true;
    const status = this.#engine.status;
    if (status !== EngineStatus.Halted && status !== EngineStatus.Failed) return false;
    const cause = this.#engine.haltCause();
    const halted: Halted = cause === undefined
      ? {
        reason: status === EngineStatus.Failed
          ? "Engine failed: its thread stopped on an internal error; the matching state is lost"
          : "Engine halted: no cause was recorded",
        errno: null,
        cause: "unknown",
        since: this.#now(),
      }
      : {
        reason: cause.reason,
        errno: cause.errno,
        cause: cause.code ?? "unknown",
        since: this.#now(),
      };
    this.#halted = halted;
    this.stop();
    this.#log(
      `engine: HALTED (${halted.cause}): ${halted.reason}. It takes no more orders (each is ` +
        "rejected as halted) and the core is not ready; fix the cause, then restart the core",
    );
    for (const listener of this.#listeners.splice(0)) listener(halted);
    return true;
  }

  /** Checks every `intervalMs` until the engine halts or {@linkcode EngineWatch.stop}. */
  start(): void {
    if (this.#timer !== undefined || this.#halted !== undefined) return;
    this.#timer = setInterval(() => this.check(), this.#intervalMs);
  }

  /** Stops checking on the timer. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
