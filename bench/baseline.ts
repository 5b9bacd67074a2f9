/**
 * The committed performance baseline (`bench/baseline.json`) and the
 * regression check against it.
 *
 * Absolute throughput depends on the machine, so the baseline records each
 * subject's throughput as a **ratio to the reference subject measured in the
 * same run** (exchange-core and nautilus compare the same way). A subject
 * regressed when its ratio fell by more than the tolerance (default 25%)
 * from the baseline's. The reference's own ratio is 1 by definition, so a
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
 * const [row] = compareToBaseline(baseline, config, [{ name: "fast", ratio: 5 }], 0.25).rows;
 * console.log(row?.verdict); // "regressed"
 * ```
 *
 * @module
 */

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

/** How one subject compares with the baseline. */
export type Verdict =
  /** Within tolerance. */
  | "ok"
  /** Ratio fell by more than the tolerance. */
  | "regressed"
  /** Ratio rose by more than the tolerance: consider `--update-baseline`. */
  | "improved"
  /** Measured now, not in the baseline. */
  | "new"
  /** In the baseline, not measured now (e.g. native library not built). */
  | "missing"
  /** The reference subject itself (ratio 1 by definition). */
  | "reference";

/** One row of the comparison. */
export interface ComparisonRow {
  /** Subject name. */
  readonly subject: string;
  /** Its ratio in the baseline, if recorded. */
  readonly baselineRatio?: number;
  /** Its ratio in this run, if measured. */
  readonly ratio?: number;
  /** `ratio / baselineRatio - 1`, e.g. -0.3 for 30% slower relative to the reference. */
  readonly change?: number;
  /** The outcome. */
  readonly verdict: Verdict;
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
}

/**
 * Compares a run's ratios with the baseline's.
 *
 * @param baseline The committed baseline, or `undefined` if there is none yet.
 * @param config The configuration of the run's stream.
 * @param measured Each measured subject's ratio (the reference included or not).
 * @param tolerance Largest tolerated relative fall of a ratio, e.g. 0.25.
 * @returns Rows in baseline order then new subjects, and the regressions.
 *
 * @example
 * ```ts
 * import { compareToBaseline, makeBaseline } from "./baseline.ts";
 *
 * const config = { count: 100, seed: 1, depth: 10, instrument: 0 };
 * const baseline = makeBaseline("reference", config, [{ name: "fast", ratio: 8, commandsPerSecond: 8e6 }]);
 * const result = compareToBaseline(baseline, config, [{ name: "fast", ratio: 9 }], 0.25);
 * console.log(result.regressions.length); // 0
 * ```
 */
export function compareToBaseline(
  baseline: Baseline | undefined,
  config: StreamConfig,
  measured: readonly MeasuredRatio[],
  tolerance: number,
): Comparison {
  if (!(tolerance >= 0 && tolerance < 1)) {
    throw new RangeError(`Cannot compare: tolerance must be in [0, 1), got ${tolerance}`);
  }
  const now = new Map(measured.map((m) => [m.name, m.ratio]));
  const rows: ComparisonRow[] = [];
  const recorded = baseline?.subjects ?? {};
  for (const [subject, entry] of Object.entries(recorded)) {
    const ratio = now.get(subject);
    if (subject === baseline?.reference) {
      rows.push({
        subject,
        baselineRatio: entry.ratio,
        ...(ratio === undefined ? {} : { ratio }),
        verdict: "reference",
      });
    } else if (ratio === undefined) {
      rows.push({ subject, baselineRatio: entry.ratio, verdict: "missing" });
    } else {
      const change = ratio / entry.ratio - 1;
      const verdict: Verdict = change < -tolerance
        ? "regressed"
        : change > tolerance
        ? "improved"
        : "ok";
      rows.push({ subject, baselineRatio: entry.ratio, ratio, change, verdict });
    }
  }
  for (const m of measured) {
    if (!(m.name in recorded)) {
      rows.push({
        subject: m.name,
        ratio: m.ratio,
        verdict: m.name === (baseline?.reference ?? "") ? "reference" : "new",
      });
    }
  }
  const comparable = baseline !== undefined && sameConfig(baseline.config, config);
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
    subjects[m.name] = {
      ratio: round(m.ratio),
      commandsPerSecond: Math.round(m.commandsPerSecond),
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
