/**
 * `deno task bench`: the performance regression gate.
 *
 * Generates the benchmark stream ({@linkcode benchFlow}), replays it through
 * every matching subject, and prints the full configuration (machine,
 * runtime, the stream's measured mix and depth), a results table, the
 * targets as PASS/FAIL lines, and the comparison with
 * `bench/baseline.json`; then the journal, market data and the trader
 * gateway over real sockets (`gateway_bench.ts`: a core and its clients as
 * child processes on loopback), and the edge (`edge_bench.ts`: its quote
 * GET under wrk beside a bare `Deno.serve`, and a trade's way from the core
 * to the edge's API), and the trader terminal in headless Chromium
 * (`terminal_bench.ts`: longest task and message → paint at 1,000 messages
 * a second). Exits 1 if a subject's ratio to the
 * reference fell by more than the tolerance, beyond the ratio's spread
 * (unless `--no-gate`), 2 on bad usage or if the reference subject itself
 * failed.
 *
 * The verdict (`verdict.ts`): every ratio is the median of its samples (one
 * per round) and is printed with its spread, a 95% interval for that median.
 * A subject whose median fell beyond the tolerance is measured again, in
 * pairs of runs alternating with the reference, until the interval settles
 * on one side of the limit or `--max-samples` is reached; it is `regressed`
 * only when the whole interval, from at least 9 samples, lies beyond the
 * tolerance, and `noisy` (not gated) when it does not.
 *
 * The matching subjects include two peers on the same stream in the same
 * rounds: nodejs-order-book (JavaScript) and orderbook-rs (Rust, in the
 * bench-only program `bench/orderbook_rs_peer/`, built here with cargo on
 * first use).
 *
 * Flags:
 * - `--quick`: 50k commands, 10k warm-up, 1 repetition (CI smoke; not gated,
 *   since its configuration differs from the baseline's); the gateway with
 *   100 subscribers, 1,000 idle sockets and 300 orders; the edge with one
 *   wrk round of 1 s per server and 80 trades;
 * - `--no-gateway`: leave out the gateway benchmarks (they start processes
 *   and open sockets on 127.0.0.1);
 * - `--no-edge`: leave out the edge benchmarks (likewise; the load runs
 *   need wrk, and say so when it is missing);
 * - `--no-terminal`: leave out the terminal benchmark (it starts Chromium,
 *   and says it skipped when Chromium is missing; `--quick`: 3 s, not 10);
 * - `--count N` (default 1,000,000), `--seed S` (1), `--depth D` (500 levels per side),
 *   `--warmup N` (count / 5, at most 200,000), `--repeat R` (3);
 * - `--journal-pairs P` (7; 1 with `--quick`): alternating runs of the rings
 *   without and with the journal, for journaling's cost;
 * - `--tolerance T`: largest tolerated fall of a ratio (0.25);
 * - `--max-samples N` (21): most ratio samples a suspected regression is
 *   judged on, its first rounds included (at least `--repeat`);
 * - `--baseline FILE` (`bench/baseline.json`): the baseline to compare with
 *   and, with `--update-baseline`, to write;
 * - `--update-baseline`: record this run's ratios in `bench/baseline.json`;
 * - `--no-gate`: report regressions but exit 0;
 * - `--gate-targets`: also exit 1 when an absolute target FAILs;
 * - `--json FILE`: write every figure as JSON.
 *
 * @example
 * ```ts ignore
 * // deno task bench --quick --no-gate
 * ```
 *
 * @module
 */

import os from "node:os";
import { parseArgs } from "node:util";
import { argumentFault, messageOf } from "../core/tools/_cli.ts";
import { loadInstruments } from "../core/matching/mod.ts";
import { benchFlow, describeFlow, type FlowDescription } from "../core/synthetic/mod.ts";
import { KernelSubject, RingsSubject } from "./native_subjects.ts";
import {
  checkJournal,
  CoreSubject,
  type JournalCheck,
  type JournalFigures,
  JournalSubjectNames,
  runJournalBench,
} from "./journal_bench.ts";
import { nativeLibrary } from "../core/native/mod.ts";
import {
  type Baseline,
  compareToBaseline,
  type Comparison,
  makeBaseline,
  type MeasuredRatio,
  parseBaseline,
  type StreamConfig,
} from "./baseline.ts";
import { lazySubject, runMatchingBench, type SubjectResult } from "./matching_bench.ts";
import { NodejsOrderBookSubject } from "./nodejs_order_book_subject.ts";
import { ORDERBOOK_RS, OrderbookRsSubject } from "./orderbook_rs_subject.ts";
import { RatioSampler } from "./remeasure.ts";
import { type RatioInterval, ratioInterval, settleRatio } from "./verdict.ts";
import { LoadMeter } from "./_machine_load.ts";
import { ReferenceSubject } from "./reference_subject.ts";
import {
  formatNs,
  formatRate,
  formatRatio,
  type MatchingSubject,
  SubjectNames,
  timerOverheadNs,
} from "./subject.ts";
import {
  checkTargets,
  EDGE_TARGETS,
  GATEWAY_TARGETS,
  MARKET_DATA_TARGETS,
  MATCHING_TARGETS,
  type TargetCheck,
  TERMINAL_TARGETS,
} from "./targets.ts";
import {
  runTerminalBench,
  terminalConfig,
  type TerminalFigures,
  terminalLines,
  terminalResults,
} from "./terminal_bench.ts";
import { marketDataResults, printMarketData, runMarketDataBench } from "./marketdata_bench.ts";
import {
  gatewayConfig,
  type GatewayFigures,
  gatewayResults,
  printGateway,
  runGatewayBench,
} from "./gateway_bench.ts";
import {
  edgeConfig,
  type EdgeFigures,
  edgeResults,
  printEdge,
  runEdgeBench,
} from "./edge_bench.ts";

const BASELINE_URL = new URL("./baseline.json", import.meta.url);
/** Other processes' CPU use beyond which a regression's report says the machine was busy. */
const BUSY_CPUS = 0.25;

/** Parsed command line. */
interface Flags {
  readonly quick: boolean;
  readonly count: number;
  readonly seed: number;
  readonly depth: number;
  readonly warmup: number;
  readonly repeat: number;
  readonly journalPairs: number;
  readonly tolerance: number;
  readonly maxSamples: number;
  readonly baseline: URL;
  readonly updateBaseline: boolean;
  readonly gate: boolean;
  readonly gateTargets: boolean;
  readonly gateway: boolean;
  readonly edge: boolean;
  readonly terminal: boolean;
  readonly json?: string;
}

const USAGE = `Usage: deno task bench [--quick] [--count N] [--seed S] [--depth D] [--warmup N]
       [--repeat R] [--journal-pairs P] [--tolerance T] [--max-samples N] [--baseline FILE]
       [--update-baseline] [--no-gate] [--gate-targets] [--no-gateway] [--no-edge]
       [--no-terminal] [--json FILE]`;

/** The command line, as `node:util`'s `parseArgs` reads it. */
const FLAGS = {
  quick: { type: "boolean" },
  count: { type: "string" },
  seed: { type: "string" },
  depth: { type: "string" },
  warmup: { type: "string" },
  repeat: { type: "string" },
  "journal-pairs": { type: "string" },
  tolerance: { type: "string" },
  "max-samples": { type: "string" },
  baseline: { type: "string" },
  json: { type: "string" },
  "update-baseline": { type: "boolean" },
  "no-gate": { type: "boolean" },
  "gate-targets": { type: "boolean" },
  "no-gateway": { type: "boolean" },
  "no-edge": { type: "boolean" },
  "no-terminal": { type: "boolean" },
  help: { type: "boolean" },
} as const;

/**
 * Reads the command line; prints the usage and exits 0 on `--help`.
 *
 * @throws {TypeError} On bad usage, with the usage in the message.
 */
function parseFlags(args: readonly string[]): Flags {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: FLAGS, strict: true }).values;
  } catch (error) {
    const fault = argumentFault(args, FLAGS, false);
    const message = fault === undefined
      ? messageOf(error)
      : fault.kind === "needs_value"
      ? `${fault.option} needs a value`
      : fault.kind === "takes_no_value"
      ? `${fault.option} takes no value`
      : fault.arg.startsWith("--")
      ? `Unknown flag ${fault.arg}`
      : `Unexpected argument ${fault.arg}`;
    throw new TypeError(`${message}\n${USAGE}`);
  }
  const values = new Map<string, string>();
  const switches = new Set<string>();
  for (const [name, value] of Object.entries(parsed)) {
    if (typeof value === "string") values.set(name, value);
    else if (value === true) switches.add(name);
  }
  if (switches.has("help")) {
    console.log(USAGE);
    Deno.exit(0);
  }
  const int = (name: string, fallback: number, min: number): number => {
    const raw = values.get(name);
    const n = raw === undefined ? fallback : Number(raw.replaceAll("_", ""));
    if (!Number.isSafeInteger(n) || n < min) {
      throw new TypeError(`--${name} must be an integer >= ${min}, got ${raw}`);
    }
    return n;
  };
  const quick = switches.has("quick");
  const count = int("count", quick ? 50_000 : 1_000_000, 1);
  const tolerance = Number(values.get("tolerance") ?? 0.25);
  if (!(tolerance >= 0 && tolerance < 1)) {
    throw new TypeError(`--tolerance must be in [0, 1), got ${values.get("tolerance")}`);
  }
  const json = values.get("json");
  const repeat = int("repeat", quick ? 1 : 3, 1);
  const baselinePath = values.get("baseline");
  return {
    quick,
    count,
    seed: int("seed", 1, 0),
    depth: int("depth", 500, 1),
    warmup: int(
      "warmup",
      quick ? Math.min(10_000, count) : Math.min(200_000, Math.floor(count / 5)),
      0,
    ),
    repeat,
    journalPairs: int("journal-pairs", quick ? 1 : 7, 1),
    tolerance,
    maxSamples: int("max-samples", Math.max(21, repeat), repeat),
    baseline: baselinePath === undefined
      ? BASELINE_URL
      : new URL(baselinePath, `file://${Deno.cwd()}/`),
    updateBaseline: switches.has("update-baseline"),
    gate: !switches.has("no-gate"),
    gateTargets: switches.has("gate-targets"),
    gateway: !switches.has("no-gateway"),
    edge: !switches.has("no-edge"),
    terminal: !switches.has("no-terminal"),
    ...(json === undefined ? {} : { json }),
  };
}

/** The machine and runtime, for the header and the baseline's record. */
function machine(): Record<string, string | number> {
  // node:os needs only --allow-sys; Deno reads /proc files only with --allow-all.
  let cpu = "unknown CPU";
  try {
    const first = os.cpus()[0];
    if (first !== undefined) {
      cpu = first.speed > 0 ? `${first.model} @ ${first.speed} MHz` : first.model;
    }
  } catch {
    // No permission: the model is informational.
  }
  let kernel = "";
  try {
    kernel = Deno.osRelease();
  } catch {
    // Needs --allow-sys; informational.
  }
  let native = "native library not built";
  try {
    native = Deno.UnsafePointerView.getCString(nativeLibrary().native_version()!);
  } catch {
    // Reported as such; the native subjects say why they were not measured.
  }
  return {
    cpu,
    cores: navigator.hardwareConcurrency,
    os: `${Deno.build.os} ${Deno.build.arch}${kernel === "" ? "" : ` (${kernel})`}`,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
    native,
  };
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

function num(x: number): string {
  return Math.round(x).toLocaleString("en-US");
}

function pad(s: string, width: number, right = false): string {
  return right ? s.padStart(width) : s.padEnd(width);
}

function printHeader(
  flags: Flags,
  symbol: string,
  flow: FlowDescription,
  host: Record<string, string | number>,
  clockNs: number,
  generationSeconds: number,
  othersDuringRounds: number,
): void {
  const { mix, counts, book, outcome } = flow;
  const rejects = Object.entries(outcome.rejects).map(([r, n]) => `${r} ${num(n)}`).join(", ");
  console.log("TradeCaptain matching bench");
  console.log(`  machine   ${host.cpu}, ${host.cores} cores, ${host.os}`);
  console.log(`  runtime   Deno ${host.deno}, V8 ${host.v8}, TypeScript ${host.typescript}`);
  console.log(`  native    ${host.native}`);
  console.log(
    `  load      other processes used ${cpusText(othersDuringRounds)} of ${host.cores} CPUs ` +
      `while the subjects ran (a quiet machine: under 0.1)`,
  );
  console.log(
    `  stream    benchFlow seed=${flags.seed} count=${num(flags.count)} instrument=${symbol} ` +
      `depth target=${flags.depth}/side (generated in ${generationSeconds.toFixed(2)} s)`,
  );
  console.log(
    `  mix       limit ${pct(mix.limit)} (GTC ${num(counts.limitGtc)}, IOC ${
      num(counts.limitIoc)
    }, ` +
      `FOK ${num(counts.limitFok)}), cancel ${pct(mix.cancel)}, market ${pct(mix.market)}, ` +
      `replace ${pct(mix.replace)}; ${flow.accounts} accounts`,
  );
  console.log(
    `  book      at end ${num(book.bidLevels)} bid + ${num(book.askLevels)} ask levels, ` +
      `${num(book.restingOrders)} resting orders; mean over the stream ` +
      `${num(book.meanBidLevels)} + ${num(book.meanAskLevels)} levels`,
  );
  console.log(
    `  outcome   ${num(outcome.events)} events, ${num(outcome.trades)} trades, ` +
      `${num(outcome.selfTradeCancels)} self-trade cancels, rejects: ${
        rejects === "" ? "none" : rejects
      }`,
  );
  console.log(
    `  method    warm-up ${num(flags.warmup)} commands, ${flags.repeat} measured repetition(s) ` +
      `(median reported), ratios vs ${SubjectNames.reference}; clock read ~${
        Math.round(clockNs)
      } ns`,
  );
  console.log();
}

function printResults(results: readonly SubjectResult[], rounds: number): void {
  const head = [
    pad("subject", 20),
    pad("commands/s", 12, true),
    pad("p50", 10, true),
    pad("p99", 10, true),
    pad("p99.9", 10, true),
    pad("max", 10, true),
    pad("vs ref", 9, true),
    pad("spread", 7, true),
    pad("runs (M/s)", 22, true),
  ].join(" ");
  console.log(head);
  console.log("-".repeat(head.length));
  for (const r of results) {
    if (r.error !== undefined) {
      console.log(`${pad(r.name, 20)} not measured: ${r.error}`);
      continue;
    }
    const l = r.latency;
    console.log([
      pad(r.name, 20),
      pad(formatRate(r.commandsPerSecond ?? NaN), 12, true),
      pad(formatNs(l?.p50 ?? NaN), 10, true),
      pad(formatNs(l?.p99 ?? NaN), 10, true),
      pad(formatNs(l?.p999 ?? NaN), 10, true),
      pad(formatNs(l?.max ?? NaN), 10, true),
      pad(formatRatio(r.ratio ?? NaN), 9, true),
      pad(
        r.ratioSamples === undefined ? "-" : `±${pct(ratioInterval(r.ratioSamples).spread)}`,
        7,
        true,
      ),
      pad((r.repetitions ?? []).map((x) => (x / 1e6).toFixed(3)).join(" "), 22, true),
    ].join(" "));
  }
  for (const r of results) {
    const notes = [
      ...(r.note === undefined ? [] : [r.note]),
      ...(r.skipped ? [`${num(r.skipped)} commands skipped (not expressible)`] : []),
      ...(r.latency === undefined ? [] : [`${num(r.latency.samples)} latency samples`]),
      ...(r.events === undefined ? [] : [`${num(r.events)} events`]),
    ];
    if (notes.length > 0 && r.error === undefined) console.log(`  ${r.name}: ${notes.join("; ")}`);
  }
  const { low, high, confidence } = ratioInterval(Array.from({ length: rounds }, (_, i) => i));
  console.log(
    `  spread: a ratio is the median of one sample per round; ± is the wider side of the ` +
      `median's confidence interval (order statistics: samples ${low + 1} to ${high + 1} of ` +
      `${rounds} in order, ${Math.floor(100 * confidence)}%)`,
  );
  console.log();
}

function printTargets(
  checks: readonly TargetCheck[],
  results: readonly SubjectResult[],
  ourTrades: number,
): void {
  console.log("targets");
  for (const c of checks) console.log(`  ${c.status} ${c.target.label}: ${c.detail}`);
  const byName = new Map(results.map((r) => [r.name, r]));
  const kernel = byName.get(SubjectNames.kernel);
  if (kernel?.latency !== undefined) {
    console.log(`  INFO kernel latency max: ${formatNs(kernel.latency.max)}`);
  }
  const nob = byName.get(SubjectNames.nodejsOrderBook);
  if (nob?.commandsPerSecond !== undefined) {
    const vsKernel = kernel?.commandsPerSecond === undefined
      ? ""
      : `; ${SubjectNames.kernel} is ${
        formatRatio(kernel.commandsPerSecond / nob.commandsPerSecond)
      } it`;
    console.log(
      `  INFO ${SubjectNames.nodejsOrderBook}: ${formatRate(nob.commandsPerSecond)} = ` +
        `${formatRatio(nob.ratio ?? NaN)} ${SubjectNames.reference}${vsKernel}`,
    );
  }
  const peer = byName.get(ORDERBOOK_RS);
  if (peer?.commandsPerSecond !== undefined) {
    // Kernel ÷ peer per round (they ran in the same rounds), then the median.
    const rounds = (kernel?.repetitions ?? []).flatMap((k, i) => {
      const p = peer.repetitions?.[i];
      return p === undefined || !(p > 0) ? [] : [k / p];
    });
    const vsKernel = rounds.length === 0 ? "" : (() => {
      const r = ratioInterval(rounds);
      return `; ${SubjectNames.kernel} is ${formatRatio(r.median)} it, ${spreadText(r)}, ` +
        `per round on the same stream`;
    })();
    console.log(
      `  INFO ${ORDERBOOK_RS} (Rust): ${formatRate(peer.commandsPerSecond)} = ` +
        `${formatRatio(peer.ratio ?? NaN)} ${SubjectNames.reference}${vsKernel}`,
    );
    console.log(
      `       where it differs: self-trade prevention cancels every same-account order on a ` +
        `level it touches (ours: the one it would trade with); built for concurrent use ` +
        `(lock-free skip lists, a concurrent order map, atomics per level) and reads the clock ` +
        `per order; no market FOK (skipped); its books reported ${
          num(peer.events ?? NaN)
        } trades, ours ${num(ourTrades)}`,
    );
  }
  console.log();
}

function printComparison(
  comparison: Comparison,
  baseline: Baseline | undefined,
  flags: Flags,
  remeasured: ReadonlyMap<string, Remeasured>,
): void {
  console.log(
    `baseline (${flags.baseline.pathname.split("/").slice(-2).join("/")}, tolerance ${
      pct(flags.tolerance)
    }; a regression must stand outside the ratio's spread)`,
  );
  if (baseline === undefined) {
    console.log("  no baseline yet: run with --update-baseline to record one");
    console.log();
    return;
  }
  const head = `  ${pad("subject", 20)} ${pad("baseline", 9, true)} ${pad("now", 9, true)} ${
    pad("change", 8, true)
  }  ${pad("verdict", 9)}  spread (interval, confidence, samples)`;
  console.log(head);
  for (const row of comparison.rows) {
    const change = row.change === undefined
      ? "-"
      : `${row.change >= 0 ? "+" : ""}${pct(row.change)}`;
    const again = remeasured.get(row.subject);
    console.log(
      `  ${pad(row.subject, 20)} ${pad(formatRatio(row.baselineRatio ?? NaN), 9, true)} ${
        pad(formatRatio(row.ratio ?? NaN), 9, true)
      } ${pad(change, 8, true)}  ${pad(row.verdict, 9)}  ${spreadText(row.interval)}${
        again === undefined ? "" : `, ${again.samples} from alternating pairs measured again ` +
          `(others used ${cpusText(again.others)} CPUs meanwhile)`
      }`,
    );
  }
  const busy = comparison.rows.filter((r) =>
    r.verdict === "regressed" && (remeasured.get(r.subject)?.others ?? 0) > BUSY_CPUS
  ).map((r) => r.subject);
  if (busy.length > 0) {
    console.log(
      `  busy machine: other processes used more than ${BUSY_CPUS} CPUs while ${
        busy.join(", ")
      } was measured again; a subject with threads of its own (the rings) loses more to them ` +
        `than the reference does, so confirm on a quiet machine`,
    );
  }
  const noisy = comparison.rows.filter((r) => r.verdict === "noisy").map((r) => r.subject);
  if (noisy.length > 0) {
    console.log(
      `  noisy (not gated): ${noisy.join(", ")}: the median is beyond the tolerance but the ` +
        `interval reaches back inside it; a quieter machine or a larger --max-samples would decide`,
    );
  }
  if (!comparison.comparable) {
    const b = baseline.config;
    console.log(
      `  not gated: this run's stream (count=${flags.count} seed=${flags.seed} depth=${flags.depth}) ` +
        `differs from the baseline's (count=${b.count} seed=${b.seed} depth=${b.depth})`,
    );
  } else if (comparison.regressions.length > 0) {
    console.log(
      `  REGRESSED: ${comparison.regressions.join(", ")} fell more than ${
        pct(flags.tolerance)
      } relative to ${baseline.reference}`,
    );
  } else {
    console.log("  OK: no regression beyond tolerance");
  }
  if (comparison.rows.some((r) => r.verdict === "improved")) {
    console.log("  improvements beyond tolerance: consider --update-baseline");
  }
  console.log();
}

function readBaseline(url: URL): Baseline | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(url);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  return parseBaseline(JSON.parse(text), url.pathname);
}

/** What measuring a subject again added. */
interface Remeasured {
  /** Samples added. */
  readonly samples: number;
  /** CPUs' worth of time other processes used meanwhile (`NaN`: unknown). */
  readonly others: number;
}

/** CPUs' worth of time, as printed: "0.03", or "unknown" off Linux. */
function cpusText(cpus: number): string {
  return Number.isFinite(cpus) ? cpus.toFixed(2) : "unknown";
}

/** A subject's figures as the baseline takes them, with the ratio's samples. */
type Measured = MeasuredRatio & { readonly commandsPerSecond: number; samples: readonly number[] };

/**
 * Measures again, alternating with the reference, every subject whose
 * median fell beyond the tolerance without its interval establishing it
 * (`needsSamples`), until `settleRatio` is satisfied or `--max-samples` is
 * reached; replaces its samples in `measured` in place.
 *
 * @returns How many samples were added, and the CPUs other processes used
 *   meanwhile, by subject.
 */
function settleSuspects(
  comparison: Comparison,
  measured: Measured[],
  sampler: (name: string, meter: LoadMeter) => RatioSampler,
  flags: Flags,
  log: (line: string) => void,
): Map<string, Remeasured> {
  const added = new Map<string, Remeasured>();
  for (const row of comparison.rows) {
    const index = measured.findIndex((m) => m.name === row.subject);
    const m = measured[index];
    if (!row.needsSamples || m === undefined || row.baselineRatio === undefined) continue;
    log(
      `${row.subject}: ratio ${formatRatio(m.ratio)} is ${
        pct(-(row.change ?? NaN))
      } below the baseline's, inside its spread (${
        spreadText(row.interval)
      }): measuring again, alternating with ${SubjectNames.reference}`,
    );
    const meter = new LoadMeter(navigator.hardwareConcurrency);
    const source = sampler(row.subject, meter);
    try {
      const settled = settleRatio(
        m.samples,
        row.baselineRatio,
        flags.tolerance,
        (count) => {
          const more = source.samples(count);
          log(`${row.subject}: ${more.map((x) => formatRatio(x)).join(" ")}`);
          return more;
        },
        { maxSamples: flags.maxSamples },
      );
      measured[index] = { ...m, ratio: settled.interval.median, samples: settled.samples };
      const others = meter.others;
      added.set(row.subject, { samples: settled.remeasured, others });
      log(
        `${row.subject}: ${settled.judgement.verdict} at ${formatRatio(settled.interval.median)} ` +
          `(${spreadText(settled.interval)}); other processes used ${
            cpusText(others)
          } CPUs meanwhile`,
      );
    } catch (error) {
      log(
        `${row.subject}: could not measure again: ${
          error instanceof Error ? error.message : error
        }`,
      );
    } finally {
      source.close();
    }
  }
  return added;
}

/** A ratio's spread as printed: "±4.1% (7.02–7.61, 95%, n=12)". */
function spreadText(interval: RatioInterval | undefined): string {
  if (interval === undefined || interval.samples === 0) return "-";
  return `±${pct(interval.spread)} (${interval.low.toPrecision(3)}–${
    interval.high.toPrecision(3)
  }, ${Math.floor(100 * interval.confidence)}%, n=${interval.samples})`;
}

async function main(args: readonly string[]): Promise<number> {
  let flags: Flags;
  try {
    flags = parseFlags(args);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    return 2;
  }
  const instruments = loadInstruments();
  const instrument = 0;
  const log = (line: string) => console.error(`bench: ${line}`);

  log(`generating ${num(flags.count)} commands (seed ${flags.seed}, depth ${flags.depth})`);
  const t0 = performance.now();
  const commands = benchFlow({
    seed: flags.seed,
    count: flags.count,
    depth: flags.depth,
    instrument,
    instruments,
  });
  const generationSeconds = (performance.now() - t0) / 1_000;
  const flow = describeFlow(commands, instruments);

  // Every subject measured by this run, by name; adding one is one line
  // here. Each is made lazily, so a missing library (or cargo, for the
  // orderbook-rs peer) is reported, not fatal; a suspected regression is
  // measured again on fresh instances made by the same function.
  const makers = new Map<string, () => MatchingSubject>([
    [SubjectNames.reference, () => new ReferenceSubject(instruments)],
    [SubjectNames.nodejsOrderBook, () => new NodejsOrderBookSubject(instruments)],
    [ORDERBOOK_RS, () => new OrderbookRsSubject(instruments, { warmup: flags.warmup })],
    [SubjectNames.kernel, () => new KernelSubject(instruments)],
    [SubjectNames.rings, () => new RingsSubject(instruments)],
    [JournalSubjectNames.core, () => new CoreSubject(instruments, { journal: false })],
    [JournalSubjectNames.coreJournal, () => new CoreSubject(instruments, { journal: true })],
    [JournalSubjectNames.ringsJournal, () => new RingsSubject(instruments, { journal: true })],
  ]);
  // Other processes' CPU use while the subjects ran, for the header. The
  // peer's runs are not metered: its process would count as another's.
  const metered = (name: string, meter: LoadMeter, subject: MatchingSubject) =>
    name === ORDERBOOK_RS ? subject : meter.wrap(subject);
  const roundsMeter = new LoadMeter(navigator.hardwareConcurrency);
  const subjects = [...makers].map(([name, make]) =>
    metered(name, roundsMeter, lazySubject(name, make))
  );

  const host = machine();
  const clockNs = timerOverheadNs();
  const results = runMatchingBench({
    subjects,
    commands,
    warmup: flags.warmup,
    repeat: flags.repeat,
    reference: SubjectNames.reference,
    log,
  });
  const othersDuringRounds = roundsMeter.others;
  console.error();

  // The verdicts, while the machine is as quiet as it was for the rounds
  // (before the gateway and edge benches start processes): a subject whose
  // median fell beyond the tolerance is measured again until its spread
  // settles the question.
  const config: StreamConfig = {
    count: flags.count,
    seed: flags.seed,
    depth: flags.depth,
    instrument,
  };
  const measured: Measured[] = results.flatMap((r) =>
    r.ratio === undefined || r.commandsPerSecond === undefined ? [] : [{
      name: r.name,
      ratio: r.ratio,
      commandsPerSecond: r.commandsPerSecond,
      samples: r.ratioSamples ?? [r.ratio],
    }]
  );
  const baseline = readBaseline(flags.baseline);
  const remeasured = settleSuspects(
    compareToBaseline(baseline, config, measured, flags.tolerance),
    measured,
    (name, meter) =>
      new RatioSampler(
        () => metered(SubjectNames.reference, meter, makers.get(SubjectNames.reference)!()),
        () => metered(name, meter, makers.get(name)!()),
        commands,
        flags.warmup,
      ),
    flags,
    log,
  );
  const comparison = compareToBaseline(baseline, config, measured, flags.tolerance);

  printHeader(
    flags,
    `${instruments[instrument]?.symbol}(${instrument})`,
    flow,
    host,
    clockNs,
    generationSeconds,
    othersDuringRounds,
  );
  printResults(results, flags.repeat);
  const checks = checkTargets(results, MATCHING_TARGETS);
  printTargets(checks, results, flow.outcome.trades);

  log("journal: appends, group commit, recovery");
  const journal = runJournalBench({
    appends: Math.min(flags.count, 2_000_000),
    groupCommitRecords: Math.max(flags.count, 100_000) * 2,
    recovery: { instruments, commands },
    // Journaling's cost through the rings, from alternating runs: one run
    // of each, as in the table, swings with the machine more than the
    // journal costs. New segment files every run, as with the default
    // retention (`all`).
    rings: {
      off: new RingsSubject(instruments),
      on: new RingsSubject(instruments, { journal: true }),
      commands,
      pairs: flags.journalPairs,
    },
  });
  const journalChecks = checkJournal(journal, results, SubjectNames.rings);
  printJournal(journal, journalChecks);

  const marketData = runMarketDataBench({
    instruments,
    commands,
    instrument,
    repeat: flags.repeat,
    log,
  });
  const marketDataChecks = checkTargets(marketDataResults(marketData), MARKET_DATA_TARGETS);
  printMarketData(marketData);
  for (const c of marketDataChecks) console.log(`  ${c.status} ${c.target.label}: ${c.detail}`);
  console.log();

  let gateway: GatewayFigures | undefined;
  let gatewayChecks: TargetCheck[] = [];
  if (flags.gateway) {
    log("gateway: a core and its clients as child processes on 127.0.0.1");
    gateway = await runGatewayBench({ ...gatewayConfig(flags.quick), log });
    gatewayChecks = checkTargets(gatewayResults(gateway), GATEWAY_TARGETS);
    printGateway(gateway);
    for (const c of gatewayChecks) console.log(`  ${c.status} ${c.target.label}: ${c.detail}`);
    console.log();
  }

  let edge: EdgeFigures | undefined;
  let edgeChecks: TargetCheck[] = [];
  if (flags.edge) {
    log("edge: quote GET under wrk, then freshness against a core (child processes on 127.0.0.1)");
    edge = await runEdgeBench({ ...edgeConfig(flags.quick), log });
    const measured = edgeResults(edge);
    edgeChecks = checkTargets(measured, EDGE_TARGETS);
    printEdge(edge);
    for (const c of edgeChecks) console.log(`  ${c.status} ${c.target.label}: ${c.detail}`);
    if (edge.load?.ok) {
      const l = edge.load.value;
      const fields = l.edge.responseHeaders.filter(([name]) =>
        name !== "date" && name !== "content-length" // Deno's own, on every answer
      ).length;
      console.log(
        `  INFO second reference, a bare Deno.serve sending the edge's ${fields} header fields: ` +
          `${formatRatio(l.headersRatio)} of the bare one` +
          (l.headersRatio < 0.5 ? ", so no server sending them reaches 0.5 here" : "") +
          `; the quote GET is ${formatRatio(l.ratioToHeaders)} of it`,
      );
    }
    console.log();
  }

  let terminal: TerminalFigures | undefined;
  let terminalChecks: TargetCheck[] = [];
  if (flags.terminal) {
    log("terminal: the trader terminal in headless Chromium (a child process, 127.0.0.1)");
    terminal = await runTerminalBench({ ...terminalConfig(flags.quick), log });
    terminalChecks = checkTargets(terminalResults(terminal), TERMINAL_TARGETS);
    console.log();
    for (const line of terminalLines(terminal)) console.log(line);
    for (const c of terminalChecks) console.log(`  ${c.status} ${c.target.label}: ${c.detail}`);
    console.log();
  }

  const reference = results.find((r) => r.name === SubjectNames.reference);
  if (reference === undefined || reference.error !== undefined) {
    console.log(`FAILED: the reference subject could not be measured, so no ratio can be taken`);
    return 2;
  }
  printComparison(comparison, baseline, flags, remeasured);

  if (flags.updateBaseline) {
    const next = makeBaseline(SubjectNames.reference, config, measured, {
      ...host,
      date: new Date().toISOString().slice(0, 10),
    }, baseline);
    Deno.writeTextFileSync(flags.baseline, JSON.stringify(next, null, 2) + "\n");
    console.log(`baseline updated: ${Object.keys(next.subjects).join(", ")}`);
  }
  if (flags.json !== undefined) {
    const report = {
      config,
      machine: host,
      flow,
      results,
      targets: checks,
      journal: { figures: journal, targets: journalChecks },
      marketData: { figures: marketData, targets: marketDataChecks },
      ...(gateway === undefined ? {} : { gateway: { figures: gateway, targets: gatewayChecks } }),
      ...(edge === undefined ? {} : { edge: { figures: edge, targets: edgeChecks } }),
      ...(terminal === undefined
        ? {}
        : { terminal: { figures: terminal, targets: terminalChecks } }),
      baseline: { ...comparison, remeasured: Object.fromEntries(remeasured) },
    };
    Deno.writeTextFileSync(flags.json, JSON.stringify(report, null, 2) + "\n");
    console.log(`figures written to ${flags.json}`);
  }

  const targetFailed = [
    ...checks,
    ...journalChecks,
    ...marketDataChecks,
    ...gatewayChecks,
    ...edgeChecks,
    ...terminalChecks,
  ].some((c) => c.status === "FAIL");
  if (comparison.regressions.length > 0 && flags.gate) return 1;
  if (targetFailed && flags.gateTargets && flags.gate) return 1;
  if (comparison.regressions.length > 0) console.log("regressions ignored (--no-gate)");
  return 0;
}

function printJournal(f: JournalFigures, checks: readonly JournalCheck[]): void {
  const a = f.append;
  console.log();
  console.log("journal (64-byte records, 64 MiB preallocated mmap segments)");
  console.log(
    `  append, process-crash mode: p50 ${formatNs(a.p50)}, p99 ${formatNs(a.p99)}, p99.9 ${
      formatNs(a.p999)
    }, max ${formatNs(a.max)} over ${a.samples.toLocaleString("en-US")} appends (${
      (f.appendRecordsPerSecond / 1e6).toFixed(1)
    } M records/s)`,
  );
  console.log(
    `  group commit: ${
      (f.groupCommit.recordsPerSecond / 1e6).toFixed(2)
    } M records/s with a real sync every ${f.groupCommit.batch} records (${f.groupCommit.syncs} syncs)`,
  );
  if (f.recovery) {
    console.log(
      `  recovery: ${(f.recovery.commandsPerSecond / 1e6).toFixed(2)} M commands/s replaying ${
        f.recovery.replayed.toLocaleString("en-US")
      } commands (no snapshot)`,
    );
  }
  if (f.rings) {
    const list = (v: readonly number[]) => v.map((r) => (r / 1e6).toFixed(2)).join(" ");
    console.log(
      `  through the rings, alternating runs (M commands/s): ${f.rings.offName} ${
        list(f.rings.off)
      }; ${f.rings.onName} ${list(f.rings.on)}`,
    );
  }
  for (const c of checks) console.log(`  ${c.status} ${c.label}: ${c.figure}`);
}

if (import.meta.main) {
  Deno.exitCode = await main(Deno.args);
}
