/**
 * The TypeScript {@linkcode ReferenceMatcher} as a benchmark subject. It is
 * the yardstick: every other subject's throughput is reported, and
 * baselined, as a ratio to this one measured in the same run, which cancels
 * out the machine.
 *
 * @example
 * ```ts
 * import { ReferenceSubject } from "./reference_subject.ts";
 * import { benchFlow } from "../core/synthetic/mod.ts";
 * import { loadInstruments } from "../core/matching/mod.ts";
 *
 * const commands = benchFlow({ seed: 1, count: 2_000, depth: 50 });
 * const subject = new ReferenceSubject(loadInstruments());
 * subject.prepare(commands);
 * const result = subject.run(commands);
 * console.log(result.commands / result.seconds, "commands/s");
 * subject.close();
 * ```
 *
 * @module
 */

import { type Command, type Instrument, ReferenceMatcher } from "../core/matching/mod.ts";
import {
  latencyEvery,
  type MatchingSubject,
  type RunResult,
  SubjectNames,
  timerOverheadNs,
  type TsSubjectOptions,
} from "./subject.ts";

/**
 * Runs the stream through a fresh {@linkcode ReferenceMatcher}, one
 * `apply` per command.
 *
 * @example
 * ```ts
 * import { ReferenceSubject } from "./reference_subject.ts";
 * import { loadInstruments } from "../core/matching/mod.ts";
 *
 * const subject = new ReferenceSubject(loadInstruments(), { latencyEvery: 0 });
 * console.log(subject.name); // "reference"
 * ```
 */
export class ReferenceSubject implements MatchingSubject {
  /** {@linkcode SubjectNames.reference}. */
  readonly name: string = SubjectNames.reference;
  readonly #instruments: readonly Instrument[];
  readonly #every: number;
  #matcher: ReferenceMatcher | undefined;

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
   * Creates the fresh matcher the next run uses, outside the timed region.
   *
   * @param _commands Unused: the matcher takes commands as they are.
   */
  prepare(_commands: readonly Command[]): void {
    this.#matcher?.close();
    this.#matcher = new ReferenceMatcher(this.#instruments);
  }

  /**
   * Applies every command; see {@linkcode MatchingSubject.run}.
   *
   * @param commands The stream.
   * @returns Timing, event count and sampled latencies.
   */
  run(commands: readonly Command[]): RunResult {
    if (this.#matcher === undefined) this.prepare(commands);
    const matcher = this.#matcher as ReferenceMatcher;
    this.#matcher = undefined; // one run per prepare: the next starts from empty books
    const n = commands.length;
    const every = this.#every;
    const overhead = every > 0 ? timerOverheadNs() : 0;
    const latencies = new Float64Array(every > 0 ? Math.ceil(n / every) : 0);
    let sampled = 0;
    let countdown = 0;
    let events = 0;
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      const command = commands[i] as Command;
      if (every > 0 && countdown-- === 0) {
        countdown = every - 1;
        const t0 = performance.now();
        events += matcher.apply(command).length;
        const ns = (performance.now() - t0) * 1e6 - overhead;
        latencies[sampled++] = ns > 0 ? ns : 0;
      } else {
        events += matcher.apply(command).length;
      }
    }
    const seconds = (performance.now() - start) / 1_000;
    matcher.close();
    return {
      seconds,
      commands: n,
      events,
      ...(every > 0 ? { latenciesNs: latencies.subarray(0, sampled) } : {}),
      note: every > 0
        ? `latency: 1 in ${every} commands timed with performance.now(), ${
          Math.round(overhead)
        } ns clock overhead subtracted`
        : "latency not measured",
    };
  }

  /** Drops the prepared matcher, if any. */
  close(): void {
    this.#matcher?.close();
    this.#matcher = undefined;
  }
}
