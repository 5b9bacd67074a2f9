/**
 * Runs the matching subjects over one command stream and collects their
 * figures: throughput, latency percentiles, and throughput as a ratio to the
 * reference subject measured in the same run.
 *
 * Method: each subject is warmed up on a prefix of the stream (so the JIT
 * and caches have seen the workload), then measured `repeat` times over the
 * whole stream from empty books. Repetitions are interleaved across subjects
 * (A B C, A B C, …) so that a slow drift of the machine (thermal, a noisy
 * neighbour) hits every subject alike; each subject reports its median
 * repetition. A subject that throws is reported, not fatal: a missing native
 * library must not stop the TypeScript figures from being printed.
 *
 * @example
 * ```ts
 * import { runMatchingBench } from "./matching_bench.ts";
 * import { ReferenceSubject } from "./reference_subject.ts";
 * import { benchFlow } from "../core/synthetic/mod.ts";
 * import { loadInstruments } from "../core/matching/mod.ts";
 *
 * const results = runMatchingBench({
 *   subjects: [new ReferenceSubject(loadInstruments())],
 *   commands: benchFlow({ seed: 1, count: 5_000, depth: 50 }),
 *   warmup: 1_000,
 * });
 * console.log(results[0]?.ratio); // 1
 * ```
 *
 * @module
 */

import type { Command } from "../core/matching/types.ts";
import { type MatchingSubject, type Percentiles, percentiles, SubjectNames } from "./subject.ts";
import { ratioInterval } from "./verdict.ts";

/** Options for {@linkcode runMatchingBench}. */
export interface MatchingBenchOptions {
  /** What to measure; names must be unique. */
  readonly subjects: readonly MatchingSubject[];
  /** The stream every subject replays. */
  readonly commands: readonly Command[];
  /** Length of the prefix each subject is warmed up on (0: no warm-up). */
  readonly warmup: number;
  /** Measured repetitions per subject; the median is reported. Default 1. */
  readonly repeat?: number;
  /** The subject ratios are taken against. Default {@linkcode SubjectNames.reference}. */
  readonly reference?: string;
  /** Progress lines (e.g. `console.error`); default silent. */
  readonly log?: (line: string) => void;
}

/** One subject's figures. `error` is set, and the figures are absent, if it failed. */
export interface SubjectResult {
  /** The subject's name. */
  readonly name: string;
  /** Why the subject could not be measured. */
  readonly error?: string;
  /** Seconds of the reported (median) repetition. */
  readonly seconds?: number;
  /** Commands processed in the reported repetition. */
  readonly commands?: number;
  /** Events (or outcomes) reported in it. */
  readonly events?: number;
  /** Throughput of the reported (median) repetition. */
  readonly commandsPerSecond?: number;
  /** Throughput of every repetition, in run order. */
  readonly repetitions?: readonly number[];
  /**
   * Throughput ÷ the reference's in this run: the median over repetitions of
   * the ratio to the reference's repetition of the same round (the reference's is 1).
   */
  readonly ratio?: number;
  /**
   * The samples `ratio` is the median of: per round, this subject's
   * throughput ÷ the reference's in the same round, in round order.
   */
  readonly ratioSamples?: readonly number[];
  /** Latency percentiles of the reported repetition, if the subject measures latency. */
  readonly latency?: Percentiles;
  /** Commands the subject could not express. */
  readonly skipped?: number;
  /** How the subject measured itself. */
  readonly note?: string;
}

/**
 * Measures every subject over the stream.
 *
 * @param options See {@linkcode MatchingBenchOptions}.
 * @returns One result per subject, in the order given.
 * @throws {RangeError} If subject names repeat, or `warmup`/`repeat` are not
 *   sensible integers.
 *
 * @example
 * ```ts
 * import { runMatchingBench } from "./matching_bench.ts";
 * import type { MatchingSubject } from "./subject.ts";
 *
 * const idle: MatchingSubject = {
 *   name: "reference",
 *   run: (commands) => ({ seconds: 1e-3, commands: commands.length, events: 0 }),
 * };
 * const [result] = runMatchingBench({ subjects: [idle], commands: [], warmup: 0 });
 * console.log(result?.commandsPerSecond); // 0
 * ```
 */
export function runMatchingBench(options: MatchingBenchOptions): SubjectResult[] {
  const { subjects, commands, warmup } = options;
  const repeat = options.repeat ?? 1;
  const reference = options.reference ?? SubjectNames.reference;
  const log = options.log ?? (() => {});
  if (new Set(subjects.map((s) => s.name)).size !== subjects.length) {
    throw new RangeError("Cannot run bench: subject names must be unique");
  }
  if (!Number.isInteger(warmup) || warmup < 0) {
    throw new RangeError(`Cannot run bench: warmup must be a non-negative integer, got ${warmup}`);
  }
  if (!Number.isInteger(repeat) || repeat < 1) {
    throw new RangeError(`Cannot run bench: repeat must be a positive integer, got ${repeat}`);
  }

  const errors = new Map<string, string>();
  const runs = new Map<string, Run[]>(subjects.map((s) => [s.name, []]));
  const attempt = (subject: MatchingSubject, what: string, fn: () => void): void => {
    if (errors.has(subject.name)) return;
    try {
      fn();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      errors.set(subject.name, `${what}: ${message}`);
      log(`${subject.name}: ${what} failed: ${message}`);
    }
  };

  if (warmup > 0) {
    const prefix = commands.slice(0, warmup);
    for (const subject of subjects) {
      log(`${subject.name}: warm-up over ${prefix.length} commands`);
      attempt(subject, "warm-up", () => {
        subject.prepare?.(prefix);
        subject.run(prefix);
      });
    }
  }
  for (let r = 0; r < repeat; r++) {
    for (const subject of subjects) {
      attempt(subject, "run", () => {
        subject.prepare?.(commands);
        const result = subject.run(commands);
        const rate = result.seconds > 0 ? result.commands / result.seconds : 0;
        (runs.get(subject.name) as Run[]).push({ ...result, rate });
        log(`${subject.name}: run ${r + 1}/${repeat}: ${(rate / 1e6).toFixed(3)} M commands/s`);
      });
    }
  }
  for (const subject of subjects) {
    attempt(subject, "close", () => subject.close?.());
  }

  const medians = new Map<string, Run>();
  for (const [name, list] of runs) {
    if (errors.has(name) || list.length === 0) continue;
    const sorted = [...list].sort((a, b) => a.rate - b.rate);
    medians.set(name, sorted[Math.floor((sorted.length - 1) / 2)] as Run);
  }
  // Ratios pair each repetition with the reference's repetition of the same
  // round (they ran back to back), then take the median: drift between
  // rounds cancels out instead of landing in one subject's figure.
  const referenceRuns = errors.has(reference) ? [] : runs.get(reference) ?? [];
  const samplesOf = (name: string): number[] => {
    const own = runs.get(name) ?? [];
    const pairs: number[] = [];
    for (let r = 0; r < Math.min(own.length, referenceRuns.length); r++) {
      const base = (referenceRuns[r] as Run).rate;
      if (base > 0) pairs.push((own[r] as Run).rate / base);
    }
    return pairs;
  };
  return subjects.map((subject): SubjectResult => {
    const error = errors.get(subject.name);
    const run = medians.get(subject.name);
    if (error !== undefined || run === undefined) {
      return { name: subject.name, error: error ?? "not measured" };
    }
    const ratioSamples = samplesOf(subject.name);
    const ratio = ratioSamples.length === 0 ? undefined : ratioInterval(ratioSamples).median;
    return {
      name: subject.name,
      seconds: run.seconds,
      commands: run.commands,
      events: run.events,
      commandsPerSecond: run.rate,
      repetitions: (runs.get(subject.name) as Run[]).map((r) => r.rate),
      ...(ratio === undefined ? {} : { ratio, ratioSamples }),
      ...(run.latenciesNs === undefined || run.latenciesNs.length === 0
        ? {}
        : { latency: percentiles(run.latenciesNs) }),
      ...(run.skipped === undefined ? {} : { skipped: run.skipped }),
      ...(run.note === undefined ? {} : { note: run.note }),
    };
  });
}

/** One measured repetition. */
interface Run {
  readonly seconds: number;
  readonly commands: number;
  readonly events: number;
  readonly latenciesNs?: Float64Array;
  readonly skipped?: number;
  readonly note?: string;
  readonly rate: number;
}

/**
 * Wraps a subject whose construction may fail (a native library that is not
 * built, a CPU that cannot be pinned) so that the failure is reported as
 * that subject's result instead of stopping the whole bench. The subject is
 * created on first use.
 *
 * @param name The subject's name (shown even when it cannot be created).
 * @param create Makes the subject; may throw.
 * @returns A subject that defers to the created one.
 *
 * @example
 * ```ts
 * import { lazySubject, runMatchingBench } from "./matching_bench.ts";
 *
 * const broken = lazySubject("native-kernel", () => {
 *   throw new Error("libtradecaptain_native.so not found");
 * });
 * const [result] = runMatchingBench({ subjects: [broken], commands: [], warmup: 0 });
 * console.log(result?.error); // "run: libtradecaptain_native.so not found"
 * ```
 */
export function lazySubject(name: string, create: () => MatchingSubject): MatchingSubject {
  let subject: MatchingSubject | undefined;
  const get = (): MatchingSubject => (subject ??= create());
  return {
    name,
    prepare(commands) {
      get().prepare?.(commands);
    },
    run(commands) {
      return get().run(commands);
    },
    close() {
      subject?.close?.();
    },
  };
}
