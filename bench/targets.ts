/**
 * The performance targets (matching, market data, gateway, edge, terminal), checked
 * against a run's figures. Targets are absolute, so they depend on the
 * machine; they are reported as PASS/FAIL lines and gate the run only when
 * asked (`--gate-targets`), whereas the baseline's ratios always gate.
 *
 * @example
 * ```ts
 * import { checkTargets, MATCHING_TARGETS } from "./targets.ts";
 *
 * const checks = checkTargets([{ name: "native-kernel", commandsPerSecond: 12e6 }], MATCHING_TARGETS);
 * console.log(checks[0]?.status); // "PASS"
 * ```
 *
 * @module
 */

import { GatewaySubjects } from "./gateway_bench.ts";
import type { SubjectResult } from "./matching_bench.ts";
import { marketDataSubject } from "./marketdata_bench.ts";
import { EdgeSubjects } from "./edge_bench.ts";
import { TerminalSubjects } from "./terminal_bench.ts";
import { formatNs, formatRate, formatRatio, SubjectNames } from "./subject.ts";

/**
 * What a target bounds; `count` is a result's `count` (sockets held, say),
 * `ratio` its `ratio` (throughput ÷ a reference's in the same run).
 */
export type TargetMetric = "throughput" | "p50" | "p99" | "count" | "ratio";

/** A result as targets read it: a subject's result, and a count for `count` targets. */
export type TargetResult = SubjectResult & { readonly count?: number };

/** One performance target: `subject`'s `metric` must be `>= min` or `<= max`. */
export interface Target {
  /** Printed on the PASS/FAIL line. */
  readonly label: string;
  /** The subject whose figure is checked. */
  readonly subject: string;
  /** Which figure is checked. */
  readonly metric: TargetMetric;
  /** Lower bound (throughput, commands/s; a count; or a ratio). */
  readonly min?: number;
  /** Upper bound (latency, ns). */
  readonly max?: number;
}

/**
 * The native engine's matching targets.
 *
 * @example
 * ```ts
 * import { MATCHING_TARGETS } from "./targets.ts";
 * for (const t of MATCHING_TARGETS) console.log(t.label);
 * ```
 */
export const MATCHING_TARGETS: readonly Target[] = [
  {
    label: "kernel alone >= 10 M commands/s",
    subject: SubjectNames.kernel,
    metric: "throughput",
    min: 10e6,
  },
  {
    label: "through rings >= 4 M commands/s",
    subject: SubjectNames.rings,
    metric: "throughput",
    min: 4e6,
  },
  { label: "kernel latency p50 <= 200 ns", subject: SubjectNames.kernel, metric: "p50", max: 200 },
  { label: "kernel latency p99 <= 1 µs", subject: SubjectNames.kernel, metric: "p99", max: 1_000 },
];

/**
 * The market data publisher's target: book-delta frames produced per second
 * (apply to the L2 view, encode once, hand to every subscriber), with 10
 * subscribers; `marketDataResults` turns its runs into results.
 *
 * @example
 * ```ts
 * import { MARKET_DATA_TARGETS } from "./targets.ts";
 * for (const t of MARKET_DATA_TARGETS) console.log(t.label);
 * ```
 */
export const MARKET_DATA_TARGETS: readonly Target[] = [
  {
    label: "market data >= 1 M book-delta frames/s to 10 subscribers",
    subject: marketDataSubject(10),
    metric: "throughput",
    min: 1e6,
  },
];

/**
 * The gateway's targets, over real sockets on loopback: 1,000
 * subscribers to one busy symbol all held, with p99 from the engine event
 * to the client's receipt (an upper bound on engine event → socket write)
 * within 5 ms; 10,000 idle authenticated sockets held by one core.
 *
 * @example
 * ```ts
 * import { GATEWAY_TARGETS } from "./targets.ts";
 * for (const t of GATEWAY_TARGETS) console.log(t.label);
 * ```
 */
export const GATEWAY_TARGETS: readonly Target[] = [
  {
    label: "1,000 subscribers to one busy symbol all held",
    subject: GatewaySubjects.fanout(1_000),
    metric: "count",
    min: 1_000,
  },
  {
    label: "1,000 subscribers: p99 engine event → client receive <= 5 ms",
    subject: GatewaySubjects.fanout(1_000),
    metric: "p99",
    max: 5e6,
  },
  {
    label: "10,000 idle authenticated sockets held by one core",
    subject: GatewaySubjects.idle(10_000),
    metric: "count",
    min: 10_000,
  },
];

/**
 * The edge's targets, over real sockets on loopback: the quote
 * GET under wrk at half a bare `Deno.serve`'s rate at least (a constant JSON
 * of the same size, same wrk settings, same run) with p99 within 5 ms at
 * that load; a trade in the core visible in the edge's API within 250 ms at
 * p99.
 *
 * @example
 * ```ts
 * import { EDGE_TARGETS } from "./targets.ts";
 * for (const t of EDGE_TARGETS) console.log(t.label);
 * ```
 */
export const EDGE_TARGETS: readonly Target[] = [
  {
    label: "quote GET >= 0.5 × a bare Deno.serve answering a constant JSON of the same size",
    subject: EdgeSubjects.quote,
    metric: "ratio",
    min: 0.5,
  },
  {
    label: "quote GET p99 <= 5 ms at that load",
    subject: EdgeSubjects.quote,
    metric: "p99",
    max: 5e6,
  },
  {
    label: "a trade in the core visible in the edge's API within 250 ms at p99",
    subject: EdgeSubjects.freshness,
    metric: "p99",
    max: 250e6,
  },
];

/**
 * The trader terminal's targets in headless Chromium at 1,000 messages a
 * second for the watched symbol (`terminal_bench.ts`): no task over 50 ms,
 * and an update painted within about one frame.
 *
 * @example
 * ```ts
 * import { TERMINAL_TARGETS } from "./targets.ts";
 * for (const t of TERMINAL_TARGETS) console.log(t.label);
 * ```
 */
export const TERMINAL_TARGETS: readonly Target[] = [
  {
    label: "terminal: no long task (over 50 ms) in the run",
    subject: TerminalSubjects.longTasks,
    metric: "count",
    max: 0,
  },
  {
    label: "terminal: message → paint p99 <= 20 ms",
    subject: TerminalSubjects.paint,
    metric: "p99",
    max: 20e6,
  },
];

/** The outcome of one target. */
export interface TargetCheck {
  /** The target checked. */
  readonly target: Target;
  /** SKIP: the subject was not measured, or does not report that metric. */
  readonly status: "PASS" | "FAIL" | "SKIP";
  /** The measured figure (commands/s, ns, a count or a ratio). */
  readonly figure?: number;
  /** The figure formatted, or why the target was skipped. */
  readonly detail: string;
}

/**
 * Checks targets against results.
 *
 * @param results A run's results (only `name`, `commandsPerSecond`, `latency`, `count`,
 *   `ratio` and `error` are read).
 * @param targets The targets.
 * @returns One check per target, in order.
 *
 * @example
 * ```ts
 * import { checkTargets } from "./targets.ts";
 *
 * const [check] = checkTargets([], [{ label: "x", subject: "gone", metric: "throughput", min: 1 }]);
 * console.log(check?.status); // "SKIP"
 * ```
 */
export function checkTargets(
  results: readonly TargetResult[],
  targets: readonly Target[],
): TargetCheck[] {
  return targets.map((target): TargetCheck => {
    const result = results.find((r) => r.name === target.subject);
    if (result === undefined) {
      return { target, status: "SKIP", detail: `${target.subject} not measured in this run` };
    }
    if (result.error !== undefined) {
      return { target, status: "SKIP", detail: `${target.subject} not measured: ${result.error}` };
    }
    const figure = target.metric === "throughput"
      ? result.commandsPerSecond
      : target.metric === "p50"
      ? result.latency?.p50
      : target.metric === "p99"
      ? result.latency?.p99
      : target.metric === "ratio"
      ? result.ratio
      : result.count;
    if (figure === undefined || !Number.isFinite(figure)) {
      return { target, status: "SKIP", detail: `${target.subject} reports no ${target.metric}` };
    }
    const pass = (target.min === undefined || figure >= target.min) &&
      (target.max === undefined || figure <= target.max);
    const detail = target.metric === "throughput"
      ? formatRate(figure)
      : target.metric === "count"
      ? figure.toLocaleString("en-US")
      : target.metric === "ratio"
      ? formatRatio(figure)
      : formatNs(figure);
    return { target, status: pass ? "PASS" : "FAIL", figure, detail };
  });
}
