/**
 * The committed performance baseline (`bench/baseline.json`) and the
 * regression check against it.
 *
 * Absolute throughput depends on the machine, so the baseline records each
 * subject's throughput as a **ratio to the reference subject measured in the
 * same run** (exchange-core and nautilus compare the same way). A subject
 * regressed when its ratio fell by more than the tolerance (default 25%)
 * from the baseline's, and the fall stands outside the ratio's spread: the
 * verdict is taken on the interval of the ratio's samples, not on one figure
 * (see `verdict.ts`). The reference's own ratio is 1 by definition, so a
 * slowdown of the reference itself is invisible here; its absolute figure is
 * recorded for humans, not gated.
 *
 * Ratios are only comparable between runs of the same stream, so the
 * baseline also records the stream's configuration; a run with another
 * configuration (e.g. `--quick`) is compared for information but never gated.
 *
 * @example
 * ```ts
 * import { compareToBaseline, makeBaseline } from "./baseline.ts";
 *
 * const config = { count: 1_000_000, seed: 1, depth: 500, instrument: 0 };
 * const baseline = makeBaseline("reference", config, [{ name: "fast", ratio: 8, commandsPerSecond: 8e6 }]);
 * const steady = [5, 5.1, 4.9, 5, 5.2, 4.8, 5, 5.1, 4.9];
 * const [row] = compareToBaseline(baseline, config, [{ name: "fast", ratio: 5, samples: steady }], 0.25).rows;
 * console.log(row?.verdict); // "regressed"
 * ```
 *
 * @module
 */

import {
  exactRatio,
  judgeRatio,
  type RatioInterval,
  ratioInterval,
  type Verdict,
} from "./verdict.ts";

export type { Verdict } from "./verdict.ts";

/** The stream a baseline was recorded with; ratios compare only within one. */
export interface StreamConfig {
  /** Commands in the stream. */
  readonly count: number;
  /** The stream's seed. */
  readonly seed: number;
  /** Target price levels per side. */
  readonly depth: number;
  /** Instrument number traded. */
  readonly instrument: number;
}

/** One subject's recorded figures. */
export interface BaselineEntry {
  /** Throughput ÷ the reference's throughput in the same run. */
  readonly ratio: number;
  /** Absolute throughput when recorded (informational: machine-dependent). */
  readonly commandsPerSecond: number;
  /** The ratio's spread when recorded (see `RatioInterval.spread`; informational). */
  readonly spread?: number;
}

/** The contents of `bench/baseline.json`. */
export interface Baseline {
  /** File format version. */
  readonly version: 1;
  /** Name of the subject every ratio is taken against. */
  readonly reference: string;
  /** The stream the ratios were measured on. */
  readonly config: StreamConfig;
  /** Where and when it was recorded (informational). */
  readonly recorded: Readonly<Record<string, string | number>>;
  /** Recorded figures by subject name. */
  readonly subjects: Readonly<Record<string, BaselineEntry>>;
}

/** One row of the comparison. */
export interface ComparisonRow {
  /** Subject name. */
  readonly subject: string;
  /** Its ratio in the baseline, if recorded. */
  readonly baselineRatio?: number;
  /** Its ratio in this run, if measured (the median of its samples when it has them). */
  readonly ratio?: number;
  /** The ratio's interval, if measured: its spread, printed with it. */
  readonly interval?: RatioInterval;
  /** `ratio / baselineRatio - 1`, e.g. -0.3 for 30% slower relative to the reference. */
  readonly change?: number;
  /** The outcome. */
  readonly verdict: Verdict;
  /**
   * The median fell beyond the tolerance but the interval does not establish
   * it: more samples (re-measuring the subject alternately with the
   * reference) would decide. Only when the run is comparable.
   */
  readonly needsSamples?: boolean;
}

/** The whole comparison and whether it may gate. */
export interface Comparison {
  /** One row per subject, baseline order first. */
  readonly rows: readonly ComparisonRow[];
  /** Whether the run's stream matches the baseline's, so ratios are comparable. */
  readonly comparable: boolean;
  /** Subjects that regressed (empty when not comparable: nothing is gated then). */
  readonly regressions: readonly string[];
}

/** A subject's figures from a run, as the comparison needs them. */
export interface MeasuredRatio {
  /** Subject name. */
  readonly name: string;
  /** Throughput ÷ reference throughput in this run. */
  readonly ratio: number;
  /**
   * The ratio's samples (one per round or pair); without them `ratio` is
   * taken as exact, and judged as one figure.
   */
  readonly samples?: readonly number[];
}

/** Options for {@linkcode compareToBaseline}. */
export interface CompareOptions {
  /** Samples a regression needs (default 9, see `verdict.ts`). */
  readonly minSamples?: number;
  /** The intervals' confidence (default 0.95). */
  readonly confidence?: number;
}

function intervalOf(m: MeasuredRatio, confidence: number | undefined): RatioInterval {
  return m.samples === undefined || m.samples.length === 0
    ? exactRatio(m.ratio)
    : ratioInterval(m.samples, confidence);
}

/**
 * Compares a run's ratios with the baseline's.
 *
 * @param baseline The committed baseline, or `undefined` if there is none yet.
 * @param config The configuration of the run's stream.
 * A subject is `regressed` only when the interval of its ratio's samples
 * lies wholly below the baseline's ratio less the tolerance, from enough
 * samples (see `verdict.ts`'s `judgeRatio`); a median beyond the tolerance
 * that its interval does not establish is `noisy`, with `needsSamples` set
 * so the caller can re-measure and compare again.
 *
 * @param baseline The committed baseline, or `undefined` if there is none yet.
 * @param config The configuration of the run's stream.
 * @param measured Each measured subject's ratio and its samples (the reference included or not).
 * @param tolerance Largest tolerated relative fall of a ratio, e.g. 0.25.
 * @param options See {@linkcode CompareOptions}.
 * @returns Rows in baseline order then new subjects, and the regressions.
 * @throws {RangeError} When the tolerance is not in [0, 1).
 *
 * @example
 * ```ts
 * import { compareToBaseline, makeBaseline } from "./baseline.ts";
 *
 * const config = { count: 100, seed: 1, depth: 10, instrument: 0 };
 * const baseline = makeBaseline("reference", config, [{ name: "fast", ratio: 8, commandsPerSecond: 8e6 }]);
 * // One round of three read slow: the median is 25% down, but not beyond the spread.
 * const result = compareToBaseline(baseline, config, [{ name: "fast", ratio: 5, samples: [5, 4.9, 8.1] }], 0.25);
 * console.log(result.regressions.length, result.rows[0]?.verdict, result.rows[0]?.needsSamples); // 0 "noisy" true
 * ```
 */
export function compareToBaseline(
  baseline: Baseline | undefined,
  config: StreamConfig,
  measured: readonly MeasuredRatio[],
  tolerance: number,
  options: CompareOptions = {},
): Comparison {
  if (!(tolerance >= 0 && tolerance < 1)) {
    throw new RangeError(`Cannot compare: tolerance must be in [0, 1), got ${tolerance}`);
  }
  const comparable = baseline !== undefined && sameConfig(baseline.config, config);
  const now = new Map(measured.map((m) => [m.name, intervalOf(m, options.confidence)]));
  const rows: ComparisonRow[] = [];
  const recorded = baseline?.subjects ?? {};
  for (const [subject, entry] of Object.entries(recorded)) {
    const interval = now.get(subject);
    if (subject === baseline?.reference) {
      rows.push({
        subject,
        baselineRatio: entry.ratio,
        ...(interval === undefined ? {} : { ratio: interval.median, interval }),
        verdict: "reference",
      });
    } else if (interval === undefined) {
      rows.push({ subject, baselineRatio: entry.ratio, verdict: "missing" });
    } else {
      const { verdict, change, needsSamples } = judgeRatio(
        interval,
        entry.ratio,
        tolerance,
        options,
      );
      rows.push({
        subject,
        baselineRatio: entry.ratio,
        ratio: interval.median,
        interval,
        change,
        verdict,
        ...(needsSamples && comparable ? { needsSamples } : {}),
      });
    }
  }
  for (const m of measured) {
    if (!(m.name in recorded)) {
      const interval = now.get(m.name)!;
      rows.push({
        subject: m.name,
        ratio: interval.median,
        interval,
        verdict: m.name === (baseline?.reference ?? "") ? "reference" : "new",
      });
    }
  }
  return {
    rows,
    comparable,
    regressions: comparable
      ? rows.filter((r) => r.verdict === "regressed").map((r) => r.subject)
      : [],
  };
}

/**
 * Makes a baseline from a run. Subjects in `previous` that this run did not
 * measure are kept when the configuration is unchanged, so recording a run
 * without the native library does not forget the native subjects' ratios.
 *
 * @param reference Name of the reference subject.
 * @param config The run's stream configuration.
 * @param measured Each measured subject's ratio and absolute throughput.
 * @param recorded Where and when (CPU, Deno version, date…), informational.
 * @param previous The baseline being replaced, if any.
 * @returns The new baseline.
 *
 * @example
 * ```ts
 * import { makeBaseline } from "./baseline.ts";
 *
 * const config = { count: 100, seed: 1, depth: 10, instrument: 0 };
 * const b = makeBaseline("reference", config, [
 *   { name: "reference", ratio: 1, commandsPerSecond: 1e6 },
 * ]);
 * console.log(b.subjects.reference?.ratio); // 1
 * ```
 */
export function makeBaseline(
  reference: string,
  config: StreamConfig,
  measured: readonly (MeasuredRatio & { readonly commandsPerSecond: number })[],
  recorded: Readonly<Record<string, string | number>> = {},
  previous?: Baseline,
): Baseline {
  const subjects: Record<string, BaselineEntry> = {};
  if (
    previous !== undefined && sameConfig(previous.config, config) &&
    previous.reference === reference
  ) {
    Object.assign(subjects, previous.subjects);
  }
  for (const m of measured) {
    const spread = m.samples === undefined ? NaN : ratioInterval(m.samples).spread;
    subjects[m.name] = {
      ratio: round(m.ratio),
      commandsPerSecond: Math.round(m.commandsPerSecond),
      ...(Number.isFinite(spread) ? { spread: round(spread) } : {}),
    };
  }
  return { version: 1, reference, config: { ...config }, recorded: { ...recorded }, subjects };
}

/**
 * Parses and checks a baseline file's JSON.
 *
 * @param json The parsed JSON.
 * @param source Where it came from, for error messages.
 * @returns The baseline.
 * @throws {TypeError} If the shape is wrong, e.g. "Cannot read baseline: bench/baseline.json: subjects.x.ratio must be a positive number".
 *
 * @example
 * ```ts
 * import { parseBaseline } from "./baseline.ts";
 *
 * const b = parseBaseline({
 *   version: 1, reference: "reference", recorded: {},
 *   config: { count: 10, seed: 1, depth: 5, instrument: 0 },
 *   subjects: { reference: { ratio: 1, commandsPerSecond: 1e6 } },
 * }, "inline");
 * console.log(b.reference); // "reference"
 * ```
 */
export function parseBaseline(json: unknown, source: string): Baseline {
  const fail = (what: string): never => {
    throw new TypeError(`Cannot read baseline: ${source}: ${what}`);
  };
  if (!isRecord(json)) return fail("it must be a JSON object");
  if (json.version !== 1) fail(`version must be 1, got ${JSON.stringify(json.version)}`);
  if (typeof json.reference !== "string") fail("reference must be a string");
  const config = json.config;
  if (!isRecord(config)) return fail("config must be an object");
  for (const key of ["count", "seed", "depth", "instrument"] as const) {
    if (typeof config[key] !== "number") fail(`config.${key} must be a number`);
  }
  if (json.recorded !== undefined && !isRecord(json.recorded)) fail("recorded must be an object");
  const subjects = json.subjects;
  if (!isRecord(subjects)) return fail("subjects must be an object");
  for (const [name, entry] of Object.entries(subjects)) {
    if (!isRecord(entry)) return fail(`subjects.${name} must be an object`);
    if (typeof entry.ratio !== "number" || !(entry.ratio > 0)) {
      fail(`subjects.${name}.ratio must be a positive number`);
    }
    if (typeof entry.commandsPerSecond !== "number") {
      fail(`subjects.${name}.commandsPerSecond must be a number`);
    }
  }
  return json as unknown as Baseline;
}

function sameConfig(a: StreamConfig, b: StreamConfig): boolean {
  return a.count === b.count && a.seed === b.seed && a.depth === b.depth &&
    a.instrument === b.instrument;
}

function round(x: number): number {
  return Number(x.toPrecision(4));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
