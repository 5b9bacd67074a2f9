/**
 * What the journal costs and delivers, against its targets:
 *
 * - {@linkcode CoreSubject}: the engine layer (`Core.process`) on Deno's
 *   thread over the benchmark stream, without and with a journal
 *   (process-crash mode): their ratio is journaling's cost on the hot path.
 * - {@linkcode runJournalBench}: a 64-byte append's latency, group commit's
 *   sustained rate with a real sync per batch, and recovery's replay speed.
 * - {@linkcode runPaired}: the same stream through two subjects (the rings
 *   without and with the journal) in alternating runs, for the on/off ratio.
 *
 * Temporary journals go under the system temp folder and are removed.
 *
 * @module
 */

import type { Command, Instrument } from "../core/matching/mod.ts";
import {
  encodeCommands,
  lastNativeError,
  NativeEngine,
  nativeLibrary,
} from "../core/native/mod.ts";
import {
  formatNs,
  type MatchingSubject,
  medianIndex,
  type Percentiles,
  percentiles,
  type RunResult,
} from "./subject.ts";
import type { SubjectResult } from "./matching_bench.ts";

/** Subject names of the journal comparison. */
export const JournalSubjectNames = {
  core: "native-core",
  coreJournal: "native-core+journal",
  ringsJournal: "native-rings+journal",
} as const;

const encoder = new TextEncoder();

/**
 * The engine layer on Deno's thread, with or without a fresh journal.
 *
 * @example
 * ```ts
 * import { CoreSubject } from "./journal_bench.ts";
 * import { benchFlow } from "../core/synthetic/mod.ts";
 * import { loadInstruments } from "../core/matching/mod.ts";
 *
 * const commands = benchFlow({ seed: 1, count: 5_000, depth: 50 });
 * const subject = new CoreSubject(loadInstruments(), { journal: true });
 * subject.prepare(commands);
 * if (subject.run(commands).events < commands.length) throw new Error("bad run");
 * subject.close();
 * ```
 */
export class CoreSubject implements MatchingSubject {
  readonly name: string;
  readonly #engine: NativeEngine;
  readonly #journal: boolean;
  #records = new Uint8Array(0);
  #dir: string | undefined;

  /**
   * @param instruments The instrument table the stream was made for.
   * @param options `journal`: journal every command (process-crash mode).
   */
  constructor(instruments: readonly Instrument[], options: { journal: boolean }) {
    this.#journal = options.journal;
    this.name = options.journal ? JournalSubjectNames.coreJournal : JournalSubjectNames.core;
    this.#engine = NativeEngine.open(instruments, { commandCapacity: 64, eventCapacity: 64 });
  }

  /**
   * Encodes the stream and, with a journal, makes a fresh folder for it.
   *
   * @param commands The stream.
   */
  prepare(commands: readonly Command[]): void {
    this.#records = encodeCommands(commands);
    this.#removeDir();
    if (this.#journal) this.#dir = Deno.makeTempDirSync({ prefix: "tc-bench-journal-" });
  }

  /** The journal folder of the last run, if journaling. */
  get journalDir(): string | undefined {
    return this.#dir;
  }

  /**
   * Runs the stream through a fresh core.
   *
   * @param commands The stream given to {@linkcode CoreSubject.prepare}.
   * @returns Its throughput.
   * @throws {Error} When the native call fails.
   */
  run(commands: readonly Command[]): RunResult {
    const { lib, handle } = this.#engine;
    const out = new BigUint64Array(2);
    const dir = this.#dir === undefined ? null : encoder.encode(this.#dir);
    const rc = lib.engine_bench_core(
      handle,
      this.#records,
      BigInt(commands.length),
      dir,
      BigInt(dir?.length ?? 0),
      out,
    );
    if (rc !== 0) throw new Error(lastNativeError(lib));
    return {
      seconds: Number(out[0]) / 1e9,
      commands: commands.length,
      events: Number(out[1]),
      note: this.#journal
        ? "engine layer on Deno's thread, journaling every command and trade (process-crash mode)"
        : "engine layer on Deno's thread, no journal",
    };
  }

  #removeDir(): void {
    if (this.#dir !== undefined) Deno.removeSync(this.#dir, { recursive: true });
    this.#dir = undefined;
  }

  /** Frees the engine and removes the journal folder. */
  close(): void {
    this.#removeDir();
    this.#engine.close();
  }
}

/** Two subjects' throughputs from alternating runs over one stream. */
export interface PairedRuns {
  /** The first subject's name (the journal off). */
  readonly offName: string;
  /** The second subject's name (the journal on). */
  readonly onName: string;
  /** The first subject's commands per second, run by run. */
  readonly off: readonly number[];
  /** The second subject's commands per second, run by run. */
  readonly on: readonly number[];
  /** Median of `on` ÷ median of `off`. */
  readonly ratio: number;
}

/**
 * Runs `off` and `on` over `commands` in `pairs` pairs, alternating which
 * goes first (off-on, on-off, …), so that a drift of the machine over the
 * series (page cache, other tenants, clock) falls on both alike; the ratio
 * is of the two medians. Each run is preceded by its `prepare`.
 *
 * @param off The subject without the journal.
 * @param on The same subject with it.
 * @param commands The stream.
 * @param pairs Pairs of runs, at least 1.
 * @returns Both series and the ratio.
 * @throws {RangeError} When `pairs` is not a positive integer.
 *
 * @example
 * ```ts
 * import { runPaired } from "./journal_bench.ts";
 * const fixed = (name: string, seconds: number) => ({
 *   name,
 *   run: (c: readonly unknown[]) => ({ seconds, commands: c.length, events: c.length }),
 * });
 * const r = runPaired(fixed("off", 1), fixed("on", 1.25), [], 3);
 * console.log(r.ratio); // 0.8
 * ```
 */
export function runPaired(
  off: MatchingSubject,
  on: MatchingSubject,
  commands: readonly Command[],
  pairs: number,
): PairedRuns {
  if (!Number.isInteger(pairs) || pairs < 1) {
    throw new RangeError(`Cannot run pairs: pairs must be a positive integer, got ${pairs}`);
  }
  const rates = new Map<MatchingSubject, number[]>([[off, []], [on, []]]);
  for (let i = 0; i < pairs; i++) {
    for (const subject of i % 2 === 0 ? [off, on] : [on, off]) {
      subject.prepare?.(commands);
      const result = subject.run(commands);
      rates.get(subject)!.push(result.commands / result.seconds);
    }
  }
  const offRates = rates.get(off)!;
  const onRates = rates.get(on)!;
  const median = (v: readonly number[]) => v[medianIndex(v)]!;
  return {
    offName: off.name,
    onName: on.name,
    off: offRates,
    on: onRates,
    ratio: median(onRates) / median(offRates),
  };
}

/** The journal's own figures. */
export interface JournalFigures {
  /** Latency of one 64-byte append, process-crash mode (ns). */
  readonly append: Percentiles;
  readonly appendRecordsPerSecond: number;
  /** Group commit: batches of `batch` appends, one real sync each. */
  readonly groupCommit: {
    readonly recordsPerSecond: number;
    readonly syncs: number;
    readonly batch: number;
  };
  /** Recovery from a journal of `replayed` commands without snapshots. */
  readonly recovery?: { readonly commandsPerSecond: number; readonly replayed: number };
  /** The rings without and with the journal, in alternating runs. */
  readonly rings?: PairedRuns;
}

function journalBench(count: number, syncEvery: number, latencies: Float64Array | null) {
  const lib = nativeLibrary();
  const dir = Deno.makeTempDirSync({ prefix: "tc-bench-append-" });
  try {
    const path = encoder.encode(dir);
    const out = new BigUint64Array(2);
    const rc = lib.journal_bench(
      path,
      BigInt(path.length),
      BigInt(count),
      64,
      BigInt(syncEvery),
      out,
      latencies,
    );
    if (rc !== 0) throw new Error(lastNativeError(lib));
    return { seconds: Number(out[0]) / 1e9, syncs: Number(out[1]) };
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

/**
 * Measures appends, group commit and recovery.
 *
 * @param options `appends`: appends timed; `groupCommitRecords`: records
 *   appended in group commit; `recovery`: commands to journal and recover.
 * @returns The figures.
 *
 * @example
 * ```ts
 * import { runJournalBench } from "./journal_bench.ts";
 * const f = runJournalBench({ appends: 10_000, groupCommitRecords: 10_000 });
 * if (!(f.append.p50 > 0) || !(f.groupCommit.recordsPerSecond > 0)) throw new Error("no figures");
 * ```
 */
export function runJournalBench(options: {
  appends: number;
  groupCommitRecords: number;
  /** Journal these commands once, then time recovering from that journal. */
  recovery?: { readonly instruments: readonly Instrument[]; readonly commands: readonly Command[] };
  /** Alternate these two subjects (see {@linkcode runPaired}); both are closed after. */
  rings?: {
    readonly off: MatchingSubject;
    readonly on: MatchingSubject;
    readonly commands: readonly Command[];
    readonly pairs: number;
  };
}): JournalFigures {
  const latencies = new Float64Array(options.appends);
  const appended = journalBench(options.appends, 0, latencies);
  const batch = 1000;
  const group = journalBench(options.groupCommitRecords, batch, null);
  let recovery: JournalFigures["recovery"];
  if (options.recovery !== undefined) {
    const { instruments, commands } = options.recovery;
    const writer = new CoreSubject(instruments, { journal: true });
    const engine = NativeEngine.open(instruments);
    try {
      writer.prepare(commands);
      writer.run(commands);
      const report = engine.openJournal({ dir: writer.journalDir!, meta: "{}", snapshotEvery: 0 });
      recovery = { commandsPerSecond: report.commandsPerSecond, replayed: report.replayed };
    } finally {
      engine.close();
      writer.close();
    }
  }
  let rings: PairedRuns | undefined;
  if (options.rings !== undefined) {
    const { off, on, commands, pairs } = options.rings;
    try {
      rings = runPaired(off, on, commands, pairs);
    } finally {
      off.close?.();
      on.close?.();
    }
  }
  return {
    append: percentiles(latencies),
    appendRecordsPerSecond: options.appends / appended.seconds,
    groupCommit: {
      recordsPerSecond: options.groupCommitRecords / group.seconds,
      syncs: group.syncs,
      batch,
    },
    ...(recovery === undefined ? {} : { recovery }),
    ...(rings === undefined ? {} : { rings }),
  };
}

/** One checked figure of the journal section. */
export interface JournalCheck {
  readonly label: string;
  readonly status: "PASS" | "FAIL" | "SKIP" | "INFO";
  readonly figure: string;
}

/**
 * Checks the journal's targets: append p50 ≤ 50 ns and p99 ≤ 500 ns, group
 * commit ≥ 1 M records/s, matching throughput with the journal ≥ 0.8 of
 * without (through the rings), recovery ≥ 5 M commands/s; and reports the
 * engine layer's own on/off ratio, which no producer hides.
 *
 * @param f The journal figures; the rings ratio is `f.rings`' when measured.
 * @param results The matching subjects' results (the on/off ratios otherwise).
 * @param ringsName The rings subject without a journal.
 * @returns One check per target.
 *
 * @example
 * ```ts
 * import { checkJournal } from "./journal_bench.ts";
 * const checks = checkJournal({
 *   append: { p50: 30, p90: 35, p99: 60, p999: 200, max: 900, samples: 10 },
 *   appendRecordsPerSecond: 3e7,
 *   groupCommit: { recordsPerSecond: 2e6, syncs: 10, batch: 1000 },
 * }, [], "native-rings");
 * if (checks[0]?.status !== "PASS") throw new Error(JSON.stringify(checks));
 * ```
 */
export function checkJournal(
  f: JournalFigures,
  results: readonly SubjectResult[],
  ringsName: string,
): JournalCheck[] {
  const rate = (name: string) => results.find((r) => r.name === name)?.commandsPerSecond;
  const check = (
    label: string,
    value: number | undefined,
    ok: (v: number) => boolean,
    show: (v: number) => string,
  ) =>
    value === undefined || Number.isNaN(value)
      ? { label, status: "SKIP" as const, figure: "not measured" }
      : { label, status: ok(value) ? "PASS" as const : "FAIL" as const, figure: show(value) };
  const ratio = (on: string, off: string) => {
    const a = rate(on);
    const b = rate(off);
    return a === undefined || b === undefined ? undefined : a / b;
  };
  const x = (v: number) => `${v.toFixed(2)}×`;
  const mps = (v: readonly number[]) => `${(v[medianIndex(v)]! / 1e6).toFixed(2)} M/s`;
  const info = (label: string, value: number | undefined, show: (v: number) => string) => ({
    label,
    status: "INFO" as const,
    figure: value === undefined ? "not measured" : show(value),
  });
  return [
    check("journal append p50 <= 50 ns", f.append.p50, (v) => v <= 50, formatNs),
    check("journal append p99 <= 500 ns", f.append.p99, (v) => v <= 500, formatNs),
    check(
      "group commit >= 1 M records/s (real sync per batch)",
      f.groupCommit.recordsPerSecond,
      (v) => v >= 1e6,
      (v) => `${(v / 1e6).toFixed(2)} M records/s`,
    ),
    info(
      "engine layer alone on Deno's thread with journal / without (no producer to hide it behind)",
      ratio(JournalSubjectNames.coreJournal, JournalSubjectNames.core),
      x,
    ),
    check(
      "matching throughput with journal >= 0.8 of without (through the rings, the production path)",
      f.rings?.ratio ?? ratio(JournalSubjectNames.ringsJournal, ringsName),
      (v) => v >= 0.8,
      (v) =>
        f.rings === undefined
          ? x(v)
          : `${x(v)} (medians of ${f.rings.on.length} alternating runs each: ${
            mps(f.rings.on)
          } with, ${mps(f.rings.off)} without)`,
    ),
    check(
      "recovery replays >= 5 M commands/s",
      f.recovery?.commandsPerSecond,
      (v) => v >= 5e6,
      (v) => `${(v / 1e6).toFixed(2)} M commands/s over ${f.recovery?.replayed} commands`,
    ),
  ];
}
