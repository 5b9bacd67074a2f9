/**
 * The trader terminal's paint budget in headless Chromium (Debian's, driven
 * by playwright-core): with ~1,000 market-data messages a second for the
 * watched symbol, over 10 s,
 *
 * - the **longest task** on the page's main thread (`PerformanceObserver`,
 *   `longtask`: only tasks over 50 ms are reported, so "none" means every
 *   task took 50 ms or less); target: none;
 * - **message → paint**: from a socket message's arrival to the end of the
 *   first frame rendered after it (performance marks: `tc:message` as the
 *   message event fires, `tc:frame` at each animation frame, `tc:paint` at
 *   the first task after that frame's rendering); target p99 ≤ 20 ms.
 *
 * The page is the committed bundle served by the edge under its real CSP,
 * fed by a stub core sending recorded core frames at a fixed rate
 * (`_terminal_page.ts` says how, and why not a real core). It also reports
 * the page's CSP violations and script errors, which fail the run, and
 * whether the charts drew.
 *
 * Skipped, saying why, where there is no Chromium at `/usr/bin/chromium`
 * (`CHROMIUM_PATH` names another; `apt-get install chromium`).
 *
 * # Known limitations
 *
 * - `tc:paint` is when the main thread is free again after the frame's
 *   rendering steps, not when the compositor showed the pixels (a headless
 *   browser has no screen); it is what the page's own work costs.
 * - The browser, the edge and the stub share the machine's CPUs.
 *
 * @module
 */

import os from "node:os";
import { CHROMIUM } from "../ui/_testing/chromium.ts";
import { attempt, type Outcome } from "./_parts.ts";
import { Child } from "./_child.ts";
import type { SubjectResult } from "./matching_bench.ts";
import { formatNs, type Percentiles, percentiles } from "./subject.ts";

/** The subjects the terminal's targets name. */
export const TerminalSubjects = {
  /** Message → paint latency. */
  paint: "terminal-message-to-paint",
  /** Long tasks (over 50 ms) during the run; `count` is how many. */
  longTasks: "terminal-long-tasks",
} as const;

/** The run's configuration. */
export interface TerminalBenchConfig {
  /** Messages a second for the watched symbol. */
  readonly rate: number;
  /** Measured seconds. */
  readonly seconds: number;
  /** Messages before the measurement (JIT, first paints), ms. */
  readonly warmupMs: number;
}

/**
 * The configuration: 1,000 messages a second over 10 s after 1 s of warm-up
 * (`--quick`: 3 s).
 *
 * @param quick A short run.
 * @returns The configuration.
 *
 * @example
 * ```ts
 * import { terminalConfig } from "./terminal_bench.ts";
 * if (terminalConfig(false).seconds !== 10) throw new Error();
 * ```
 */
export function terminalConfig(quick: boolean): TerminalBenchConfig {
  return { rate: 1_000, seconds: quick ? 3 : 10, warmupMs: 1_000 };
}

/** What the page recorded (ms since the page's time origin), as `_terminal_page.ts` prints it. */
export interface PageMarks {
  /** When measurement stopped. */
  readonly end: number;
  readonly messages: readonly number[];
  readonly frames: readonly number[];
  readonly paints: readonly number[];
  readonly longtasks: readonly { readonly start: number; readonly duration: number }[];
  readonly csp: readonly string[];
}

/** The child's report. */
export interface PageReport {
  readonly chromium: string;
  readonly rate: number;
  readonly seconds: number;
  readonly warmupMs: number;
  /** Messages the stub sent while the page measured. */
  readonly sentMeasured: number;
  /** The terminal bundle's size (bytes, not compressed). */
  readonly bundleBytes: number;
  readonly marks: PageMarks;
  /** What the charts drew at the end: canvases of the candle chart, path lengths. */
  readonly drawn: {
    readonly candles: number;
    readonly depth: number;
    readonly sparkline: number;
    readonly status: string;
  };
  readonly errors: readonly string[];
}

/** The run's figures. */
export interface TerminalRun {
  readonly chromium: string;
  readonly bundleBytes: number;
  /** Messages the page received while measuring, and how many of those a frame painted. */
  readonly messages: number;
  readonly painted: number;
  readonly sent: number;
  /** Frames a second. */
  readonly fps: number;
  /** Message → paint, ns. */
  readonly paint: Percentiles;
  /** Long tasks (over 50 ms) during the measurement, and the longest (ms; 0 when none). */
  readonly longTasks: number;
  readonly longestTaskMs: number;
  readonly csp: readonly string[];
  readonly errors: readonly string[];
  readonly drawn: PageReport["drawn"];
}

/** The bench's figures: skipped (no Chromium), or the run's outcome. */
export interface TerminalFigures {
  readonly config: TerminalBenchConfig;
  /** The machine's CPUs and 1-minute load average before and after the run (the bench shares it). */
  readonly machine?: { readonly cpus: number; readonly load: readonly [number, number] };
  readonly skipped?: string;
  readonly run?: Outcome<TerminalRun>;
}

/**
 * Each message's delay to paint: the first frame that started at or after
 * its arrival (messages are tasks, so none arrives during a frame's
 * callbacks), to that frame's paint mark. Frames and paints pair by index.
 * Messages after the last paired frame were never painted and are left out.
 *
 * @param messages Arrivals, ms, ascending.
 * @param frames Frame starts, ms, ascending.
 * @param paints Paint marks, ms, ascending (`paints[i]` ends `frames[i]`).
 * @returns The delays in ns, in arrival order.
 *
 * @example
 * ```ts
 * import { messageToPaint } from "./terminal_bench.ts";
 * const d = messageToPaint([1, 2, 17], [16.6, 33.3], [18, 35]);
 * if ([...d].join() !== "17000000,16000000,18000000") throw new Error([...d].join());
 * ```
 */
export function messageToPaint(
  messages: readonly number[],
  frames: readonly number[],
  paints: readonly number[],
): Float64Array {
  const pairs = Math.min(frames.length, paints.length);
  const out: number[] = [];
  let f = 0;
  for (const m of messages) {
    while (f < pairs && frames[f]! < m) f++;
    if (f >= pairs) break;
    out.push(Math.round((paints[f]! - m) * 1e6));
  }
  return Float64Array.from(out);
}

/**
 * The figures from the page's report.
 *
 * @param report What `_terminal_page.ts` printed.
 * @returns The figures.
 */
export function summarise(report: PageReport): TerminalRun {
  const m = report.marks;
  const delays = messageToPaint(m.messages, m.frames, m.paints);
  const span = (m.frames.at(-1) ?? 0) - (m.frames[0] ?? 0);
  return {
    chromium: report.chromium,
    bundleBytes: report.bundleBytes,
    messages: m.messages.length,
    painted: delays.length,
    sent: report.sentMeasured,
    fps: span > 0 ? ((m.frames.length - 1) * 1000) / span : 0,
    paint: percentiles(delays),
    longTasks: m.longtasks.length,
    longestTaskMs: m.longtasks.reduce((a, t) => Math.max(a, t.duration), 0),
    csp: m.csp,
    errors: report.errors,
    drawn: report.drawn,
  };
}

/**
 * The results targets read: message → paint latency, and the long tasks'
 * count. A run with CSP violations or script errors is not measured: its
 * page is broken.
 *
 * @param f The figures.
 * @returns The results (none when skipped).
 */
export function terminalResults(
  f: TerminalFigures,
): (SubjectResult & { readonly count?: number })[] {
  if (f.run === undefined) return [];
  const names = [TerminalSubjects.paint, TerminalSubjects.longTasks];
  if (!f.run.ok) return names.map((name) => ({ name, error: f.run!.ok ? "" : f.run!.error }));
  const r = f.run.value;
  const broken = [...r.csp.map((c) => `CSP refused ${c}`), ...r.errors];
  if (broken.length > 0) return names.map((name) => ({ name, error: broken.join("; ") }));
  if (r.painted === 0) return names.map((name) => ({ name, error: "no message was painted" }));
  return [
    { name: TerminalSubjects.paint, latency: r.paint },
    { name: TerminalSubjects.longTasks, count: r.longTasks },
  ];
}

/**
 * The report's lines: configuration, then figures.
 *
 * @param f The figures.
 * @returns The lines.
 *
 * @example
 * ```ts
 * import { terminalLines } from "./terminal_bench.ts";
 * const lines = terminalLines({ config: { rate: 1000, seconds: 10, warmupMs: 1000 }, skipped: "no Chromium" });
 * if (!lines.at(-1)?.includes("SKIPPED: no Chromium")) throw new Error(lines.join("\n"));
 * ```
 */
export function terminalLines(f: TerminalFigures): string[] {
  const c = f.config;
  const lines = [
    `terminal in headless Chromium (${c.rate.toLocaleString("en-US")} messages/s for one symbol ` +
    `from a stub core sending recorded core frames; ${c.seconds} s measured after ` +
    `${c.warmupMs} ms of warm-up; the edge's /trade with the committed bundle and its CSP)`,
  ];
  if (f.machine !== undefined) {
    const [before, after] = f.machine.load;
    lines.push(
      `  machine: ${f.machine.cpus} CPUs, load average (1 min) ${before.toFixed(2)} before, ${
        after.toFixed(2)
      } after`,
    );
  }
  if (f.skipped !== undefined) return [...lines, `  SKIPPED: ${f.skipped}`];
  if (f.run === undefined) return lines;
  if (!f.run.ok) return [...lines, `  NOT MEASURED: ${f.run.error}`];
  const r = f.run.value;
  const p = r.paint;
  lines.push(
    `  Chromium ${r.chromium}; terminal bundle ${(r.bundleBytes / 1024).toFixed(0)} KiB`,
    `  ${r.messages.toLocaleString("en-US")} messages received (${
      r.sent.toLocaleString("en-US")
    } sent), ${r.painted.toLocaleString("en-US")} painted; ${r.fps.toFixed(1)} frames/s`,
    `  message → paint: p50 ${formatNs(p.p50)}, p90 ${formatNs(p.p90)}, p99 ${
      formatNs(p.p99)
    }, p99.9 ${formatNs(p.p999)}, max ${formatNs(p.max)}`,
    `  long tasks (> 50 ms): ${r.longTasks}${
      r.longTasks > 0 ? `, the longest ${r.longestTaskMs.toFixed(0)} ms` : ""
    }`,
    `  charts drawn: candle canvases ${r.drawn.candles}, depth path ${
      r.drawn.depth > 0 ? "yes" : "NO"
    }, sparkline ${r.drawn.sparkline > 0 ? "yes" : "NO"}; connection ${r.drawn.status}`,
  );
  for (const c of r.csp) lines.push(`  CSP VIOLATION: ${c}`);
  for (const e of r.errors) lines.push(`  PAGE ERROR: ${e}`);
  return lines;
}

/**
 * Runs the page in a child with all permissions (playwright-core needs
 * them as it loads) and reads its report; skipped when Chromium is missing.
 *
 * @param options The configuration and a progress log.
 * @returns The figures.
 */
export async function runTerminalBench(
  options: TerminalBenchConfig & { readonly log: (line: string) => void },
): Promise<TerminalFigures> {
  const config = { rate: options.rate, seconds: options.seconds, warmupMs: options.warmupMs };
  const found = await Deno.stat(CHROMIUM).then(() => true, () => false);
  if (!found) {
    return { config, skipped: `no Chromium at ${CHROMIUM} (apt-get install chromium)` };
  }
  const before = os.loadavg()[0] ?? NaN;
  const run = await attempt("terminal", options.log, async () => {
    const child = Child.spawn("terminal page", Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        "--no-prompt",
        new URL("./_terminal_page.ts", import.meta.url).pathname,
        "--seconds",
        String(config.seconds),
        "--rate",
        String(config.rate),
        "--warmup-ms",
        String(config.warmupMs),
      ],
      cwd: new URL("../", import.meta.url).pathname, // the project's deno.json
      env: { NO_COLOR: "1" },
    });
    try {
      const report = await child.waitFor(
        (line) =>
          line.startsWith('{"terminalBench"')
            ? (JSON.parse(line) as { terminalBench: PageReport }).terminalBench
            : undefined,
        60_000 + (config.seconds * 1000 + config.warmupMs) * 2,
        "the page's report",
      );
      return summarise(report);
    } finally {
      await child.stop();
    }
  });
  return {
    config,
    machine: { cpus: os.cpus().length, load: [before, os.loadavg()[0] ?? NaN] },
    run,
  };
}
