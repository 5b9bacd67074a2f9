/**
 * What the matching benchmark measures — a {@linkcode MatchingSubject} — and
 * the helpers every subject and report shares: percentiles over latency
 * samples, number formatting, and the cost of the clock itself.
 *
 * A subject is anything that can take the benchmark's command stream: the
 * reference matcher, the native kernel through one FFI batch call, the native
 * engine through the shared-memory rings, or a third-party book. Adding one
 * to `deno task bench` is one line in `bench/main.ts`.
 *
 * @example A trivial subject
 * ```ts
 * import type { MatchingSubject } from "./subject.ts";
 *
 * const noop: MatchingSubject = {
 *   name: "noop",
 *   run(commands) {
 *     const start = performance.now();
 *     const seconds = (performance.now() - start) / 1_000;
 *     return { seconds, commands: commands.length, events: 0 };
 *   },
 * };
 * console.log(noop.run([]).commands); // 0
 * ```
 *
 * @module
 */

import type { Command } from "../core/matching/types.ts";

/**
 * Subject names the report knows: targets and ratios are looked up by these,
 * so native subjects must use `kernel` and `rings`.
 *
 * @example
 * ```ts
 * import { SubjectNames } from "./subject.ts";
 * console.log(SubjectNames.kernel); // "native-kernel"
 * ```
 */
export const SubjectNames = {
  /** The TypeScript reference matcher: the yardstick every ratio is taken against. */
  reference: "reference",
  /** nodejs-order-book from npm, for comparison with a popular JS book. */
  nodejsOrderBook: "nodejs-order-book",
  /** The native matching kernel alone, driven by one FFI batch call. */
  kernel: "native-kernel",
  /** The native engine thread, driven from Deno through the shared-memory rings. */
  rings: "native-rings",
} as const;

/** What one measured run produced. */
export interface RunResult {
  /** Wall-clock seconds for the whole stream. */
  readonly seconds: number;
  /** Commands the subject processed (the stream's length minus any skipped). */
  readonly commands: number;
  /** Events (or, for a third-party book, outcomes) it reported. */
  readonly events: number;
  /** Per-command latencies in nanoseconds, if measured (all commands or a sample). */
  readonly latenciesNs?: Float64Array;
  /** Commands the subject cannot express and left out. */
  readonly skipped?: number;
  /** One line on how it was measured, printed under the results table. */
  readonly note?: string;
}

/**
 * Something the matching benchmark can measure.
 *
 * Contract: every `prepare` + `run` pair starts from empty books, so a subject
 * can be warmed up on a prefix of the stream and then measured on all of it.
 * `prepare` is untimed: translate or copy the stream there (e.g. into FFI
 * buffers or a library's own argument shapes), never in `run`.
 */
export interface MatchingSubject {
  /** Unique within a run; see {@linkcode SubjectNames} for the names the report knows. */
  readonly name: string;
  /** Untimed set-up for the next {@linkcode MatchingSubject.run} over `commands`. */
  prepare?(commands: readonly Command[]): void;
  /** Applies every command from empty books, timing itself. */
  run(commands: readonly Command[]): RunResult;
  /** Releases native resources; the subject is not used afterwards. */
  close?(): void;
}

/** Latency percentiles in nanoseconds. */
export interface Percentiles {
  /** Median. */
  readonly p50: number;
  /** 90th percentile. */
  readonly p90: number;
  /** 99th percentile. */
  readonly p99: number;
  /** 99.9th percentile. */
  readonly p999: number;
  /** Largest sample. */
  readonly max: number;
  /** Number of samples they were taken over. */
  readonly samples: number;
}

/**
 * Percentiles of latency samples, by the nearest-rank method (a reported
 * percentile is always a latency that was actually observed).
 *
 * @param samples Latencies in nanoseconds; not modified.
 * @returns p50, p90, p99, p99.9 and max; all `NaN` when there are no samples.
 *
 * @example
 * ```ts
 * import { percentiles } from "./subject.ts";
 *
 * const p = percentiles(Float64Array.from({ length: 100 }, (_, i) => i + 1));
 * console.log(p.p50, p.p99, p.max); // 50 99 100
 * ```
 */
export function percentiles(samples: Float64Array): Percentiles {
  const n = samples.length;
  if (n === 0) {
    return { p50: NaN, p90: NaN, p99: NaN, p999: NaN, max: NaN, samples: 0 };
  }
  const sorted = samples.slice().sort();
  const rank = (q: number) => sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))] as number;
  return {
    p50: rank(0.5),
    p90: rank(0.9),
    p99: rank(0.99),
    p999: rank(0.999),
    max: sorted[n - 1] as number,
    samples: n,
  };
}

/**
 * The index of the median of `values` (the lower middle of an even count).
 *
 * @param values At least one value.
 * @returns The index into `values`.
 * @throws {RangeError} When `values` is empty.
 *
 * @example
 * ```ts
 * import { medianIndex } from "./subject.ts";
 * console.log(medianIndex([30, 10, 20]), medianIndex([4, 1, 3, 2])); // 2 3
 * ```
 */
export function medianIndex(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError("Cannot take a median of nothing");
  const order = values.map((_, i) => i).sort((a, b) => values[a]! - values[b]!);
  return order[Math.floor((values.length - 1) / 2)]!;
}

/**
 * Formats a rate as millions per second with three significant digits.
 *
 * @param perSecond Commands per second.
 * @returns e.g. `"12.3 M/s"`, `"0.456 M/s"`; `"-"` when not finite.
 *
 * @example
 * ```ts
 * import { formatRate } from "./subject.ts";
 * console.log(formatRate(12_345_678)); // "12.3 M/s"
 * ```
 */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return "-";
  return `${(perSecond / 1e6).toPrecision(3)} M/s`;
}

/**
 * Formats a duration given in nanoseconds, in the unit that keeps it short.
 *
 * @param ns Nanoseconds.
 * @returns e.g. `"87 ns"`, `"1.25 µs"`, `"3.40 ms"`, `"2.00 s"`; `"-"` when not finite.
 *
 * @example
 * ```ts
 * import { formatNs } from "./subject.ts";
 * console.log(formatNs(87.4), formatNs(1_250), formatNs(3_400_000)); // 87 ns 1.25 µs 3.40 ms
 * ```
 */
export function formatNs(ns: number): string {
  if (!Number.isFinite(ns)) return "-";
  if (ns < 1_000) return `${Math.round(ns)} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(2)} µs`;
  if (ns < 1e9) return `${(ns / 1e6).toFixed(2)} ms`;
  return `${(ns / 1e9).toFixed(2)} s`;
}

/**
 * Formats a ratio to the reference, e.g. `"3.21×"`.
 *
 * @param ratio A positive ratio.
 * @returns Three significant digits and a times sign; `"-"` when not finite.
 *
 * @example
 * ```ts
 * import { formatRatio } from "./subject.ts";
 * console.log(formatRatio(0.41234)); // "0.412×"
 * ```
 */
export function formatRatio(ratio: number): string {
  if (!Number.isFinite(ratio)) return "-";
  return `${ratio.toPrecision(3)}×`;
}

/**
 * The cost, in nanoseconds, of reading `performance.now()` twice around
 * nothing: the median of many such empty intervals. TypeScript subjects time
 * sampled commands this way and subtract it. On virtual machines the clock
 * read is often 100 ns or more, which is why subjects sample rather than
 * time every command.
 *
 * @param pairs How many empty intervals to measure.
 * @returns Median empty-interval length in nanoseconds.
 *
 * @example
 * ```ts
 * import { timerOverheadNs } from "./subject.ts";
 * const overhead = timerOverheadNs(1_000);
 * if (!(overhead >= 0)) throw new Error("overhead cannot be negative");
 * ```
 */
export function timerOverheadNs(pairs = 20_000): number {
  const gaps = new Float64Array(pairs);
  for (let i = 0; i < pairs; i++) {
    const t0 = performance.now();
    gaps[i] = (performance.now() - t0) * 1e6;
  }
  return percentiles(gaps).p50;
}

/** Options for the TypeScript subjects. */
export interface TsSubjectOptions {
  /**
   * Time one command in this many (0: none). Reading the clock costs about
   * 100 ns on a VM, so timing every command would distort both the
   * latencies and the throughput; 1 in 16 costs a few percent of throughput.
   * Default 16.
   */
  readonly latencyEvery?: number;
}

/**
 * Reads and checks {@linkcode TsSubjectOptions.latencyEvery}.
 *
 * @param options The subject's options.
 * @returns How often a command is timed (default 16; 0: never).
 * @throws {RangeError} If it is not a non-negative integer.
 *
 * @example
 * ```ts
 * import { latencyEvery } from "./subject.ts";
 * if (latencyEvery({}) !== 16) throw new Error("bad default");
 * ```
 */
export function latencyEvery(options: TsSubjectOptions): number {
  const every = options.latencyEvery ?? 16;
  if (!Number.isInteger(every) || every < 0) {
    throw new RangeError(`latencyEvery must be a non-negative integer, got ${every}`);
  }
  return every;
}
