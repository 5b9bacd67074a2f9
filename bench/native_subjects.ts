/**
 * The native engine as benchmark subjects:
 *
 * - {@linkcode KernelSubject} (`native-kernel`): the matching kernel alone.
 *   Commands are encoded before timing; one FFI call runs them all on a
 *   fresh matcher, on Deno's thread. One pass measures throughput, a second
 *   measures each command's latency with the cycle counter.
 * - {@linkcode RingsSubject} (`native-rings`): the production path. Deno
 *   encodes each command object into the shared command ring, the pinned
 *   engine thread matches it, and Deno drains the event ring, with no FFI
 *   call and no allocation per order.
 *
 * @module
 */

import type { Command, Instrument } from "../core/matching/mod.ts";
import {
  encodeCommands,
  lastNativeError,
  NativeEngine,
  pinCurrentThread,
  retireJournal,
  writeCommand,
} from "../core/native/mod.ts";
import { type MatchingSubject, type RunResult, SubjectNames } from "./subject.ts";

/**
 * The matching kernel alone, through one batch FFI call.
 *
 * @example
 * ```ts
 * import { KernelSubject } from "./native_subjects.ts";
 * import { benchFlow } from "../core/synthetic/mod.ts";
 * import { loadInstruments } from "../core/matching/mod.ts";
 *
 * const commands = benchFlow({ seed: 1, count: 5_000, depth: 50 });
 * const subject = new KernelSubject(loadInstruments());
 * subject.prepare(commands);
 * const result = subject.run(commands);
 * if (result.commands !== commands.length || !result.latenciesNs) throw new Error("bad run");
 * subject.close();
 * ```
 */
export class KernelSubject implements MatchingSubject {
  /** {@linkcode SubjectNames.kernel}. */
  readonly name: string = SubjectNames.kernel;
  readonly #engine: NativeEngine;
  #records = new Uint8Array(0);

  /** @param instruments The instrument table the stream was made for. */
  constructor(instruments: readonly Instrument[]) {
    this.#engine = NativeEngine.open(instruments, { commandCapacity: 64, eventCapacity: 64 });
  }

  /**
   * Encodes the stream into 64-byte records, outside the timed region.
   *
   * @param commands The stream.
   */
  prepare(commands: readonly Command[]): void {
    this.#records = encodeCommands(commands);
  }

  /**
   * Runs the stream twice on fresh books: untimed per command (throughput),
   * then timed per command (latency).
   *
   * @param commands The stream given to {@linkcode KernelSubject.prepare}.
   * @returns Throughput from the first pass, latencies from the second.
   * @throws {Error} When the native call fails.
   */
  run(commands: readonly Command[]): RunResult {
    const { lib, handle } = this.#engine;
    const n = BigInt(commands.length);
    const out = new BigUint64Array(2);
    if (lib.engine_bench(handle, this.#records, n, out, null) !== 0) {
      throw new Error(lastNativeError(lib));
    }
    const seconds = Number(out[0]) / 1e9;
    const events = Number(out[1]);
    const latenciesNs = new Float64Array(commands.length);
    if (lib.engine_bench(handle, this.#records, n, out, latenciesNs) !== 0) {
      throw new Error(lastNativeError(lib));
    }
    return {
      seconds,
      commands: commands.length,
      events,
      latenciesNs,
      note: "one FFI call per run on Deno's thread; latency pass reads the TSC around each command",
    };
  }

  /** Frees the engine. */
  close(): void {
    this.#engine.close();
  }
}

/** Options for {@linkcode RingsSubject}. */
export interface RingsSubjectOptions {
  /** CPU for the engine thread (default: the last one). */
  readonly cpu?: number;
  /** Publish the command tail every this many commands (default 256). */
  readonly publishEvery?: number;
  /** Journal every command into a fresh temporary journal (process-crash mode). */
  readonly journal?: boolean;
  /**
   * With `journal`: each run after the first gets a journal whose segment
   * files are the previous run's, retired ({@linkcode retireJournal}), as a
   * long-running core with `retention: "snapshots"` reuses released ones;
   * without it, every run makes new files, as with `retention: "all"`.
   */
  readonly recycledSegments?: boolean;
}

/**
 * Deno → command ring → pinned engine thread → event ring → Deno.
 *
 * @example
 * ```ts
 * import { RingsSubject } from "./native_subjects.ts";
 * import { benchFlow } from "../core/synthetic/mod.ts";
 * import { loadInstruments } from "../core/matching/mod.ts";
 *
 * const commands = benchFlow({ seed: 1, count: 5_000, depth: 50 });
 * const subject = new RingsSubject(loadInstruments());
 * subject.prepare(commands);
 * const result = subject.run(commands);
 * if (result.commands !== commands.length || result.events < commands.length) {
 *   throw new Error("bad run");
 * }
 * subject.close();
 * ```
 */
export class RingsSubject implements MatchingSubject {
  /** {@linkcode SubjectNames.rings}, or `native-rings+journal` with a journal. */
  readonly name: string;
  readonly #instruments: readonly Instrument[];
  readonly #cpu: number;
  readonly #publishEvery: number;
  #engine: NativeEngine | undefined;
  #mainPinError: string | undefined;
  readonly #journal: boolean;
  readonly #recycled: boolean;
  #dir: string | undefined;

  /**
   * @param instruments The instrument table the stream was made for.
   * @param options Engine CPU and publish batch.
   */
  constructor(instruments: readonly Instrument[], options: RingsSubjectOptions = {}) {
    this.#instruments = instruments;
    this.#cpu = options.cpu ?? -1;
    this.#publishEvery = options.publishEvery ?? 256;
    this.#journal = options.journal ?? false;
    this.#recycled = this.#journal && (options.recycledSegments ?? false);
    this.name = !this.#journal
      ? SubjectNames.rings
      : `${SubjectNames.rings}+journal${this.#recycled ? "" : "(new files)"}`;
  }

  /**
   * Starts a fresh engine (empty books) for the next run, outside the timed region.
   *
   * @param _commands Unused.
   */
  prepare(_commands: readonly Command[]): void {
    this.#engine?.close();
    this.#engine = undefined;
    if (this.#journal) {
      if (this.#recycled && this.#dir !== undefined) {
        retireJournal(this.#dir);
      } else {
        this.#removeDir();
        this.#dir = Deno.makeTempDirSync({ prefix: "tc-bench-rings-" });
      }
    }
    this.#engine = NativeEngine.open(this.#instruments, {
      commandCapacity: 1 << 16,
      eventCapacity: 1 << 18,
    });
    if (this.#dir !== undefined) {
      this.#engine.openJournal({ dir: this.#dir, meta: "{}", snapshotEvery: 0 });
    }
    const placement = this.#engine.start(this.#cpu);
    // Keep Deno's thread off the engine's CPU, as the core does.
    this.#mainPinError = pinCurrentThread(placement.cpu === 0 ? 1 : 0);
  }

  /**
   * Pushes every command through the rings and drains every event.
   *
   * @param commands The stream.
   * @returns Wall-clock throughput from first push to last event.
   * @throws {Error} When {@linkcode RingsSubject.prepare} was not called.
   */
  run(commands: readonly Command[]): RunResult {
    const engine = this.#engine;
    if (!engine) throw new Error("Cannot run: prepare() first");
    const words = engine.words;
    const every = this.#publishEvery;
    const noop = () => {};
    const n = commands.length;
    let next = 0;
    let events = 0;
    const start = performance.now();
    while (next < n) {
      while (next < n) {
        const at = engine.reserve();
        if (at < 0) break;
        writeCommand(words, at, commands[next]!);
        engine.commit();
        next++;
        if (next % every === 0) engine.flush();
      }
      engine.flush();
      events += engine.drain(noop);
    }
    const target = engine.pushed;
    while (engine.processed !== target) events += engine.drain(noop);
    events += engine.drain(noop);
    const seconds = (performance.now() - start) / 1000;
    const placement = engine.placement;
    return {
      seconds,
      commands: n,
      events,
      note: `engine thread ${
        placement?.pinned ? `pinned to CPU ${placement.cpu}` : "unpinned"
      }, Deno's thread ${
        this.#mainPinError ? `unpinned (${this.#mainPinError})` : "pinned to another CPU"
      }; Deno encodes each command object into the ring, publishes every ${every}${
        !this.#journal
          ? ""
          : `; journal on (process-crash mode, ${
            this.#recycled ? "segment files recycled from the previous run" : "new segment files"
          })`
      }`,
    };
  }

  /** Stops and frees the engine, and removes its journal. */
  close(): void {
    this.#engine?.close();
    this.#engine = undefined;
    this.#removeDir();
  }

  #removeDir(): void {
    if (this.#dir !== undefined) Deno.removeSync(this.#dir, { recursive: true });
    this.#dir = undefined;
  }
}
