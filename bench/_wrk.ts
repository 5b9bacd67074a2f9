/**
 * Runs wrk (Debian's `wrk`, 4.x) and reads what it prints. Private to
 * `bench/` (see `edge_bench.ts`).
 *
 * wrk is a closed-loop load generator: each connection sends its next
 * request when the previous answer arrives, so its throughput is the
 * server's at that concurrency, and its latency percentiles (`--latency`)
 * are per request at that load (p50, p75, p90, p99; wrk prints no p99.9).
 *
 * @module
 */

import { everyCpu } from "./_child.ts";

/** How wrk is run. */
export interface WrkConfig {
  readonly url: string;
  /** wrk's threads (`-t`). */
  readonly threads: number;
  /** Open connections over all threads (`-c`). */
  readonly connections: number;
  /** Seconds (`-d`); whole seconds, as wrk takes them. */
  readonly durationSeconds: number;
  /** Request headers added to every request (`-H`), besides wrk's own `Host`. */
  readonly headers?: readonly (readonly [string, string])[];
  /** A request unanswered for this long counts as a timeout (`--timeout`), seconds. Default 2. */
  readonly timeoutSeconds?: number;
}

/** What wrk measured. Times in nanoseconds. */
export interface WrkResult {
  /** Answers received. */
  readonly requests: number;
  /** The run's length as wrk measured it, seconds. */
  readonly seconds: number;
  /** wrk's `Requests/sec`. */
  readonly requestsPerSecond: number;
  /** Latency: wrk's mean and max, and its percentiles. */
  readonly latency: {
    readonly mean: number;
    readonly max: number;
    readonly p50: number;
    readonly p75: number;
    readonly p90: number;
    readonly p99: number;
  };
  /** Answers with a status outside 2xx and 3xx. */
  readonly non2xx: number;
  /** Socket errors by kind (all 0 when wrk printed no such line). */
  readonly socketErrors: {
    readonly connect: number;
    readonly read: number;
    readonly write: number;
    readonly timeout: number;
  };
}

/**
 * wrk's arguments for a run.
 *
 * @param config The run.
 * @returns The arguments after `wrk`.
 * @throws {RangeError} When a count or the duration is not a positive integer.
 *
 * @example
 * ```ts
 * import { wrkArgs } from "./_wrk.ts";
 * const args = wrkArgs({ url: "http://127.0.0.1:8000/", threads: 1, connections: 50, durationSeconds: 5 });
 * if (args.join(" ") !== "-t1 -c50 -d5s --timeout 2s --latency http://127.0.0.1:8000/") {
 *   throw new Error(args.join(" "));
 * }
 * ```
 */
export function wrkArgs(config: WrkConfig): string[] {
  const { threads, connections, durationSeconds } = config;
  const timeout = config.timeoutSeconds ?? 2;
  for (const [name, value] of Object.entries({ threads, connections, durationSeconds, timeout })) {
    if (!(Number.isSafeInteger(value) && value > 0)) {
      throw new RangeError(`Cannot run wrk: ${name} must be a positive integer, not ${value}`);
    }
  }
  if (connections < threads) {
    throw new RangeError(`Cannot run wrk: ${connections} connections for ${threads} threads`);
  }
  return [
    `-t${threads}`,
    `-c${connections}`,
    `-d${durationSeconds}s`,
    "--timeout",
    `${timeout}s`,
    ...(config.headers ?? []).flatMap(([name, value]) => ["-H", `${name}: ${value}`]),
    "--latency",
    config.url,
  ];
}

const TIME_UNITS_NS: Readonly<Record<string, number>> = {
  us: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/**
 * Reads one of wrk's times ("873.00us", "1.56ms", "2.00s", "1.00m").
 *
 * @param text The time as wrk prints it.
 * @returns Nanoseconds, or NaN when it is not one.
 *
 * @example
 * ```ts
 * import { parseWrkTime } from "./_wrk.ts";
 * if (parseWrkTime("1.56ms") !== 1_560_000 || parseWrkTime("873.00us") !== 873_000) throw new Error();
 * ```
 */
export function parseWrkTime(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (m === null) return NaN;
  return Number(m[1]) * TIME_UNITS_NS[m[2]!]!;
}

/**
 * Reads the report wrk prints with `--latency`.
 *
 * @param output wrk's standard output.
 * @returns The figures.
 * @throws {SyntaxError} When a figure every report has is missing (wrk
 *   failed: its output is in the message).
 *
 * @example
 * ```ts
 * import { parseWrk } from "./_wrk.ts";
 * const r = parseWrk(`Running 1s test @ http://127.0.0.1:8000/
 *   1 threads and 2 connections
 *   Thread Stats   Avg      Stdev     Max   +/- Stdev
 *     Latency    20.00us   10.00us   1.00ms   90.00%
 *     Req/Sec    90.00k     1.00k   95.00k    80.00%
 *   Latency Distribution
 *      50%   18.00us
 *      75%   21.00us
 *      90%   25.00us
 *      99%   60.00us
 *   90000 requests in 1.00s, 9.00MB read
 * Requests/sec:  90000.00
 * Transfer/sec:      9.00MB
 * `);
 * if (r.requestsPerSecond !== 90_000 || r.latency.p99 !== 60_000) throw new Error();
 * ```
 */
export function parseWrk(output: string): WrkResult {
  const fail = (what: string): never => {
    throw new SyntaxError(`Cannot read wrk's report: no ${what} in:\n${output.trim()}`);
  };
  const rate = /^Requests\/sec:\s+([\d.]+)\s*$/m.exec(output) ?? fail("Requests/sec line");
  const total = /^\s*(\d+) requests in ([\d.]+(?:us|ms|s|m|h)),/m.exec(output) ??
    fail("requests line");
  const stats = /^\s*Latency\s+(\S+)\s+(\S+)\s+(\S+)\s+\S+%\s*$/m.exec(output) ??
    fail("Latency thread stats");
  const percentile = (p: number) => {
    const m = new RegExp(`^\\s*${p}(?:\\.0+)?%\\s+(\\S+)\\s*$`, "m").exec(output) ??
      fail(`${p}% line (was --latency given?)`);
    return parseWrkTime(m[1]!);
  };
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(
    output,
  );
  return {
    requests: Number(total[1]),
    seconds: parseWrkTime(total[2]!) / 1e9,
    requestsPerSecond: Number(rate[1]),
    latency: {
      mean: parseWrkTime(stats[1]!),
      max: parseWrkTime(stats[3]!),
      p50: percentile(50),
      p75: percentile(75),
      p90: percentile(90),
      p99: percentile(99),
    },
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0),
    socketErrors: {
      connect: Number(errors?.[1] ?? 0),
      read: Number(errors?.[2] ?? 0),
      write: Number(errors?.[3] ?? 0),
      timeout: Number(errors?.[4] ?? 0),
    },
  };
}

/** What to tell someone whose machine has no wrk. */
export const WRK_MISSING = "wrk is not installed (Debian: apt-get install wrk; .ci/run " +
  "installs it), so nothing could load the edge";

/**
 * wrk's version line, or undefined when wrk is not installed.
 *
 * @returns e.g. `"wrk debian/4.1.0-3+b2 [epoll] …"`.
 * @throws {Error} When `wrk` exists but cannot be run.
 *
 * @example
 * ```ts ignore
 * if ((await wrkVersion()) === undefined) console.log(WRK_MISSING);
 * ```
 */
export async function wrkVersion(): Promise<string | undefined> {
  let out: Deno.CommandOutput;
  try {
    // `wrk --version` prints its version and usage and exits 1.
    out = await new Deno.Command("wrk", { args: ["--version"], stdout: "piped", stderr: "piped" })
      .output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return /^wrk .*$/m.exec(text)?.[0].trim() ?? text.split("\n")[0]?.trim();
}

/**
 * Runs wrk once and reads its report.
 *
 * @param config The run.
 * @returns The figures.
 * @throws {Deno.errors.NotFound} When wrk is not installed.
 * @throws {Error} When wrk fails (its output is in the message).
 *
 * @example
 * ```ts ignore
 * const r = await runWrk({ url, threads: 1, connections: 50, durationSeconds: 5 });
 * ```
 */
export async function runWrk(config: WrkConfig): Promise<WrkResult> {
  // On every CPU, whatever this thread is pinned to (see _child.ts).
  const command = everyCpu("wrk", wrkArgs(config));
  const out = await new Deno.Command(command.program, {
    args: command.args,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    const stderr = new TextDecoder().decode(out.stderr);
    throw new Error(`Cannot run wrk: it exited ${out.code}: ${(stderr + stdout).trim()}`);
  }
  return parseWrk(stdout);
}
