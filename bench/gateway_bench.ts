/**
 * The trader gateway over real sockets, against its targets: a real
 * core — `core/main.ts`, the production wiring, as a child process on a
 * free loopback port — and clients in other child processes, so that the
 * core's event loop is what is measured, not the clients'.
 *
 * 1. **Fan-out.** N WebSockets (viewer tokens) subscribe to one symbol
 *    while the core's synthetic market trades. Every market data frame
 *    (delta, trade, quote) each socket receives in a window is timed:
 *    *client receive time − the frame's `engineTime`* (the wall clock when
 *    the core's dispatcher read the command's events from the engine), both
 *    wall clocks on one machine. That bounds "engine event → socket write"
 *    from above: it adds the loopback and the client's own scheduling. The
 *    same clients also run, first, against a reference server — plain
 *    `Deno.serve` + `upgradeWebSocket` sending the same kind of frame at a
 *    similar rate — so the report shows what Deno's WebSockets cost on this
 *    machine and what the core adds.
 * 2. **Idle sockets.** N authenticated trader WebSockets, opened by one or
 *    two client processes, held with the core's heartbeats flowing: how
 *    many stay open (by the clients' count and by the core's), the core's
 *    resident memory before and after, and the time to open them.
 * 3. **Order round trip.** One trader socket places a resting limit order
 *    and cancels it, over and over, one request in flight, paced under the
 *    gateway's per-socket message rate: client send → the execution report
 *    answering it, with the synthetic market off and on.
 * 4. **Slow readers.** N viewer sockets (raw TCP, in this process) subscribe
 *    to every symbol and never read again, on a core with its default
 *    limits and the journal off (its mapped pages would count): the core's
 *    resident memory before, while they are held, and after they close
 *    (`_slow_readers.ts`, the measurement `core/gateway/slow_readers_test.ts`
 *    holds under a bound).
 *
 * Everything is bounded: every wait has a timeout, every child gets a
 * deadline of its own, and every child process and temporary folder is
 * removed whatever happens (SIGINT included).
 *
 * # Known limitations
 *
 * - Linux only: the processes' memory and CPU come from `/proc`.
 * - The clients share the machine with the core: on two cores their CPU
 *   (printed beside the figures) competes with the core's, and so does
 *   anything else running. The reference run, just before and with the
 *   same clients, is the yardstick for that.
 * - The core's `sentAt` on market data comes from `Date.now()` (whole ms),
 *   so engine → sentAt is reported only when it has finer resolution.
 *
 * @module
 */

import { attempt, type Outcome, Running } from "./_parts.ts";
import { loadInstruments } from "../core/matching/mod.ts";
import type { Instrument } from "../core/matching/types.ts";
import type { Role } from "../core/gateway/mod.ts";
import { Child } from "./_child.ts";
import { readyLine } from "../schemas/status_line.ts";
import { CoreProcess, type ProcessSample, sampleProcess } from "./_core_process.ts";
import { runSlowReaders, type SlowReadersRun } from "./_slow_readers.ts";
import type {
  ClientJob,
  ClientReport,
  IdleResult,
  OrdersResult,
  SubscribeResult,
} from "./_gateway_client.ts";
import { type HistogramJson, LatencyHistogram } from "./latency_histogram.ts";
import type { SubjectResult } from "./matching_bench.ts";
import { formatNs, type Percentiles } from "./subject.ts";

const CLIENT = new URL("./_gateway_client.ts", import.meta.url);
const REFERENCE = new URL("./_fanout_reference.ts", import.meta.url);
const CONFIG = new URL("../deno.json", import.meta.url);

/** Subject names of the gateway runs, as the targets name them. */
export const GatewaySubjects = {
  /** The core's fan-out to `n` subscribers. */
  fanout: (n: number): string => `gateway-fanout-${n}`,
  /** The reference server's fan-out to `n` subscribers. */
  reference: (n: number): string => `reference-fanout-${n}`,
  /** `n` idle authenticated sockets. */
  idle: (n: number): string => `gateway-idle-${n}`,
} as const;

/** The fan-out runs' configuration. */
export interface FanoutConfig {
  readonly subscribers: number;
  /** Client processes the subscribers are spread over. */
  readonly processes: number;
  /** The instrument subscribed to (its symbol is looked up in the table). */
  readonly instrument: number;
  /** The core's synthetic market, commands per second over the whole table. */
  readonly syntheticRate: number;
  /** The reference server's frames per second. */
  readonly referenceFramesPerSecond: number;
  /** Frames after the start signal that are not timed, ms. */
  readonly warmupMs: number;
  /** The measured window, ms. */
  readonly measureMs: number;
}

/** The idle sockets run's configuration. */
export interface IdleConfig {
  readonly sockets: number;
  readonly processes: number;
  /** Trader accounts the sockets log in as (round robin). */
  readonly accounts: number;
  /** How long all are held once open, ms. */
  readonly holdMs: number;
}

/** The order round trip runs' configuration. */
export interface OrdersConfig {
  /** Orders placed (and cancelled) per run, warm-up included. */
  readonly orders: number;
  readonly warmup: number;
  /** Requests per second at most (the gateway allows 1,000 per socket). */
  readonly requestsPerSecond: number;
}

/** The slow readers run's configuration. */
export interface SlowReadersConfig {
  /** Sockets that subscribe to every symbol and never read. */
  readonly clients: number;
  /** Viewer accounts they log in as (round robin; the default cap is 32 per account). */
  readonly accounts: number;
  /** How long they are held, ms. */
  readonly holdMs: number;
  /** The core's synthetic market, commands per second. */
  readonly syntheticRate: number;
}

/** What {@linkcode runGatewayBench} runs; a part left out is not run. */
export interface GatewayBenchOptions {
  readonly fanout?: FanoutConfig;
  readonly idle?: IdleConfig;
  readonly orders?: OrdersConfig;
  readonly slowReaders?: SlowReadersConfig;
  /** Sockets each client process opens at once. Default 100. */
  readonly openConcurrency?: number;
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

/**
 * The default configuration: the targets' figures, or a reduced one.
 *
 * @param quick The reduced configuration (`--quick`): 100 subscribers,
 *   1,000 idle sockets, 300 orders, shorter windows.
 * @returns The configuration.
 *
 * @example
 * ```ts
 * import { gatewayConfig } from "./gateway_bench.ts";
 * const full = gatewayConfig(false);
 * console.log(full.fanout?.subscribers, full.idle?.sockets); // 1000 10000
 * ```
 */
export function gatewayConfig(quick: boolean): GatewayBenchOptions {
  return {
    fanout: {
      subscribers: quick ? 100 : 1_000,
      processes: quick ? 1 : 2,
      instrument: 0,
      // About 95 frames/s on AAPL (one of the table's ten symbols): near
      // what one Deno process writes to 1,000 sockets on a 2-core machine
      // (the reference run shows that floor). The core's default, 2,000/s,
      // makes ~360 frames/s, and the core then falls so far behind that not
      // all 1,000 subscribers manage to connect.
      syntheticRate: 500,
      referenceFramesPerSecond: 100,
      warmupMs: quick ? 500 : 1_000,
      measureMs: quick ? 2_000 : 5_000,
    },
    idle: {
      sockets: quick ? 1_000 : 10_000,
      processes: quick ? 1 : 2,
      accounts: quick ? 10 : 100,
      holdMs: quick ? 2_000 : 5_000,
    },
    orders: {
      orders: quick ? 300 : 1_500,
      warmup: quick ? 50 : 100,
      requestsPerSecond: 800,
    },
    // The case that bounded the core's queues: 120 such clients took the
    // core from ~100 MiB to ~1.2 GiB before.
    slowReaders: {
      clients: 200,
      accounts: 8,
      holdMs: quick ? 10_000 : 15_000,
      syntheticRate: 3_000,
    },
  };
}

/** How the sockets of a run opened, over all its client processes. */
export interface OpenSummary {
  readonly requested: number;
  readonly opened: number;
  readonly failed: number;
  readonly firstError?: string;
  /** The slowest process's time to open (and subscribe) its share, ms. */
  readonly ms: number;
}

/** One fan-out run. */
export interface FanoutRun {
  /** Who served it. */
  readonly server: "core" | "reference";
  readonly symbol: string;
  readonly processes: number;
  /** The core's synthetic rate, or the reference's frames per second. */
  readonly rate: number;
  readonly open: OpenSummary;
  /** Subscribers open through the whole window. */
  readonly held: number;
  readonly windowMs: number;
  /** Distinct frames published on the symbol per second (its channel sequences). */
  readonly framesPerSecond: number;
  /** Frames received per second, over every subscriber. */
  readonly deliveriesPerSecond: number;
  /** client receive − engineTime, every frame on every subscriber, ns. */
  readonly engineToReceive: Percentiles;
  /** client receive − sentAt. */
  readonly sentAtToReceive: Percentiles;
  /** sentAt − engineTime; undefined when sentAt has 1 ms resolution (then it means nothing). */
  readonly engineToSentAt?: Percentiles;
  /** Per frame received by every subscriber: last receive − first receive, ns. */
  readonly spread: Percentiles;
  /** Samples where the client's clock read before engineTime (counted as 0). */
  readonly negatives: number;
  readonly resyncs: number;
  readonly errors: number;
  /** CPU time over the window ÷ the window: the server process (every thread), each client. */
  readonly serverCpu: number;
  readonly clientCpu: readonly number[];
  /** The server's resident memory at the end of the window, bytes. */
  readonly serverRssBytes: number;
}

/** The idle sockets run. */
export interface IdleRun {
  readonly processes: number;
  readonly accounts: number;
  readonly open: OpenSummary;
  readonly holdMs: number;
  /** Open at the end of the hold, by the clients' count. */
  readonly heldByClients: number;
  /** Open at the end of the hold, by the core's stats line (undefined if it printed none). */
  readonly heldByCore: number | undefined;
  readonly heartbeats: number;
  readonly minHeartbeats: number;
  readonly rssBeforeBytes: number;
  readonly rssAfterBytes: number;
  /** The core's CPU over the hold (heartbeats only), and each client's. */
  readonly coreCpu: number;
  readonly clientCpu: readonly number[];
}

/** One order round trip run. */
export interface OrdersRun {
  readonly syntheticRate: number;
  readonly symbol: string;
  /** The resting buy's price, in the instrument's units. */
  readonly price: string;
  readonly orders: number;
  readonly warmup: number;
  readonly requestsPerSecond: number;
  readonly timed: number;
  readonly seconds: number;
  /** client send → execution report, ns: new orders (accepted), cancels (cancelled), both. */
  readonly newOrder: Percentiles;
  readonly cancel: Percentiles;
  readonly all: Percentiles;
  /** Parts of every timed round trip. */
  readonly sendToEngine: Percentiles;
  readonly engineToSentAt: Percentiles;
  readonly sentAtToReceive: Percentiles;
  readonly rejects: number;
  readonly otherReports: number;
}

/** Everything {@linkcode runGatewayBench} measured. */
export interface GatewayFigures {
  readonly config: Omit<GatewayBenchOptions, "log">;
  readonly reference?: Outcome<FanoutRun>;
  readonly fanout?: Outcome<FanoutRun>;
  readonly idle?: Outcome<IdleRun>;
  readonly orders: readonly Outcome<OrdersRun>[];
  readonly slowReaders?: Outcome<SlowReadersRun>;
  /** Seconds the whole gateway bench took. */
  readonly seconds: number;
}

/** Starts a client process on `job`; it waits for `start` once its sockets are open. */
function spawnClient(name: string, job: ClientJob, running: Running) {
  const child = Child.spawn(name, Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--config",
      CONFIG.pathname,
      "--allow-net=127.0.0.1",
      "--allow-read",
      "--allow-env",
      CLIENT.pathname,
    ],
    stdin: true,
  });
  const stop = running.add(() => child.stop(5_000, false));
  const parse = (type: ClientReport["type"]) => (line: string) => {
    if (!line.startsWith("{")) return undefined;
    const report = JSON.parse(line) as ClientReport;
    if (report.type === "error") throw new Error(`${name}: ${report.message}`);
    return report.type === type ? report : undefined;
  };
  const sent = child.write(JSON.stringify(job));
  sent.catch(() => {}); // awaited by opened(); a child dead by then fails there
  return {
    child,
    stop,
    /** Resolves when its sockets are open. */
    async opened(timeoutMs: number) {
      await sent;
      const r = await child.waitFor(parse("opened"), timeoutMs, "its sockets to open");
      return (r as Extract<ClientReport, { type: "opened" }>).open;
    },
    async start() {
      await child.write("start");
    },
    async measuring(timeoutMs: number) {
      await child.waitFor(parse("measuring"), timeoutMs, "its measured phase");
    },
    async result<T>(timeoutMs: number): Promise<T> {
      const r = await child.waitFor(parse("result"), timeoutMs, "its result");
      return (r as Extract<ClientReport, { type: "result" }>).result as T;
    },
    /** Lets it close its sockets and exit. */
    async close() {
      await child.write("close").catch(() => {});
      await stop();
    },
  };
}

type Client = ReturnType<typeof spawnClient>;

/** `n` split over `parts` as evenly as possible. */
function split(n: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(n / parts) + (i < n % parts ? 1 : 0))
    .filter((x) => x > 0);
}

function summarise(requested: number, opens: readonly SubscribeResult["open"][]): OpenSummary {
  const firstError = opens.find((o) => o.firstError !== undefined)?.firstError;
  return {
    requested,
    opened: opens.reduce((a, o) => a + o.opened, 0),
    failed: opens.reduce((a, o) => a + o.failed, 0),
    ...(firstError === undefined ? {} : { firstError }),
    ms: Math.max(...opens.map((o) => o.ms)),
  };
}

/** How long a wait for `sockets` to open may take: generous, but bounded. */
const openTimeout = (sockets: number) => 30_000 + sockets * 5;

/**
 * Merges the subscribe results of several client processes into one run.
 * A frame's spread (first to last receive) counts only when every held
 * subscriber, in whichever process, received it.
 *
 * @param server Who served the run.
 * @param symbol The symbol subscribed to.
 * @param rate The server's rate (synthetic commands/s, or frames/s).
 * @param requested Subscribers asked for.
 * @param results Each process's result.
 * @param serverCpu The server's CPU over the window (cores).
 * @param serverRssBytes The server's resident memory.
 * @returns The run.
 *
 * @example
 * ```ts ignore
 * const run = mergeFanout("core", "AAPL", 500, 1000, [a, b], 0.5, 300e6);
 * ```
 */
export function mergeFanout(
  server: FanoutRun["server"],
  symbol: string,
  rate: number,
  requested: number,
  results: readonly SubscribeResult[],
  serverCpu: number,
  serverRssBytes: number,
): FanoutRun {
  const histogram = (pick: (r: SubscribeResult) => HistogramJson) => {
    const h = new LatencyHistogram();
    for (const r of results) h.merge(pick(r));
    return h;
  };
  const engineToReceive = histogram((r) => r.engineToReceive);
  const held = results.reduce((a, r) => a + r.open.opened - r.closed, 0);
  // A frame's spread over every subscriber, whichever process holds it.
  const arrivals = new Map<number, [number, number, number]>();
  for (const r of results) {
    for (const [sequence, n, first, last] of r.arrivals) {
      const a = arrivals.get(sequence);
      if (a === undefined) arrivals.set(sequence, [n, first, last]);
      else arrivals.set(sequence, [a[0] + n, Math.min(a[1], first), Math.max(a[2], last)]);
    }
  }
  const spread = new LatencyHistogram();
  for (const [n, first, last] of arrivals.values()) if (n === held) spread.record(last - first);
  const windowMs = Math.max(...results.map((r) => r.windowMs));
  const frames = results.reduce((a, r) => a + r.frames, 0);
  const wholeMs = results.every((r) => r.sentAtWholeMs);
  return {
    server,
    symbol,
    processes: results.length,
    rate,
    open: summarise(requested, results.map((r) => r.open)),
    held,
    windowMs,
    framesPerSecond: arrivals.size / (windowMs / 1000),
    deliveriesPerSecond: frames / (windowMs / 1000),
    engineToReceive: engineToReceive.percentiles(),
    sentAtToReceive: histogram((r) => r.sentAtToReceive).percentiles(),
    ...(wholeMs ? {} : { engineToSentAt: histogram((r) => r.engineToSentAt).percentiles() }),
    spread: spread.percentiles(),
    negatives: engineToReceive.negatives,
    resyncs: results.reduce((a, r) => a + r.resyncs, 0),
    errors: results.reduce((a, r) => a + r.errors, 0),
    serverCpu,
    clientCpu: results.map((r) => r.cpu),
    serverRssBytes,
  };
}

/** What a fan-out run needs of its server: where, and how to sample it. */
export interface FanoutServer {
  /** Its WebSocket's URL. */
  readonly url: string;
  readonly token: string;
  sample(): Promise<ProcessSample>;
}

/** Runs the subscribe clients against a server and merges what they saw. */
async function fanoutRun(
  server: FanoutServer,
  kind: FanoutRun["server"],
  rate: number,
  config: FanoutConfig,
  symbol: string,
  openConcurrency: number,
  running: Running,
  log: (line: string) => void,
): Promise<FanoutRun> {
  const baseMs = Math.floor(Date.now());
  const clients: Client[] = [];
  try {
    const shares = split(config.subscribers, config.processes);
    for (const [i, sockets] of shares.entries()) {
      clients.push(spawnClient(`subscribers ${i + 1}/${shares.length}`, {
        mode: "subscribe",
        url: server.url,
        tokens: [server.token],
        openConcurrency,
        openTimeoutMs: 10_000,
        deadlineMs: 120_000,
        baseMs,
        sockets,
        symbol,
        warmupMs: config.warmupMs,
        measureMs: config.measureMs,
      }, running));
    }
    const opens = await Promise.all(clients.map((c) => c.opened(openTimeout(config.subscribers))));
    log(
      `${kind} fan-out: ${opens.reduce((a, o) => a + o.opened, 0)} subscribers on ${symbol}, ` +
        `measuring ${config.measureMs} ms`,
    );
    await Promise.all(clients.map((c) => c.start()));
    await Promise.all(clients.map((c) => c.measuring(config.warmupMs + 10_000)));
    const before = await server.sample();
    const results = await Promise.all(
      clients.map((c) => c.result<SubscribeResult>(config.measureMs + 30_000)),
    );
    const after = await server.sample();
    const cpu = (after.cpuSeconds - before.cpuSeconds) / ((after.at - before.at) / 1000);
    return mergeFanout(kind, symbol, rate, config.subscribers, results, cpu, after.rssBytes);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}

/**
 * Starts the fan-out reference (`_fanout_reference.ts`) as a child process,
 * sampled through `/proc`, and learns its WebSocket's URL from its ready
 * status line (`schemas/status_line.ts`), never from the line it prints for
 * people.
 *
 * @param framesPerSecond The deltas it sends per second.
 * @param running Where its stop is registered.
 * @returns The running server and how to stop it.
 * @throws {Error} If it exits, or prints no ready status line with a `ws` address within 30 s.
 *
 * @example
 * ```ts ignore
 * const server = await referenceServer(100, running);
 * const socket = new WebSocket(server.url);
 * ```
 */
export async function referenceServer(
  framesPerSecond: number,
  running: Running,
): Promise<FanoutServer & { stop: () => Promise<void> }> {
  const child = Child.spawn("reference", Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--config",
      CONFIG.pathname,
      "--allow-net=127.0.0.1",
      "--allow-read",
      "--allow-env",
      REFERENCE.pathname,
    ],
    env: { REFERENCE_FRAMES_PER_SECOND: String(framesPerSecond), RUN_FOR_MS: "120000" },
    stdin: true,
  });
  const stop = running.add(() => child.stop(5_000));
  try {
    const { addresses } = await child.waitFor(readyLine, 30_000, "its ready status line");
    const url = addresses.ws;
    if (url === undefined) {
      throw new TypeError(
        "Cannot bench fan-out: the reference's ready status line names no ws address",
      );
    }
    return { url, token: "none", sample: () => sampleProcess(child.pid), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The open-file limit (soft, hard) that child processes get. */
async function fileLimit(): Promise<{ soft: number; hard: number }> {
  const out = await new Deno.Command("sh", {
    args: ["-c", "ulimit -Sn; ulimit -Hn"],
    stdout: "piped",
    stderr: "null",
  }).output();
  const [soft, hard] = new TextDecoder().decode(out.stdout).trim().split("\n").map((x) =>
    x === "unlimited" ? Infinity : Number(x)
  );
  return { soft: soft ?? NaN, hard: hard ?? NaN };
}

/**
 * Checks that the core and each client process may open enough files for
 * `sockets` sockets over `processes` client processes.
 *
 * @param sockets Sockets to hold.
 * @param processes Client processes.
 * @param limit The open-file limit, soft and hard.
 * @returns Undefined when it suffices, else what to do about it.
 *
 * @example
 * ```ts
 * import { fileLimitProblem } from "./gateway_bench.ts";
 * console.log(fileLimitProblem(10_000, 2, { soft: 1024, hard: 1024 })?.startsWith("Cannot")); // true
 * if (fileLimitProblem(10_000, 2, { soft: 20_000, hard: 20_000 }) !== undefined) throw new Error();
 * ```
 */
export function fileLimitProblem(
  sockets: number,
  processes: number,
  limit: { soft: number; hard: number },
): string | undefined {
  // The core's own files (journal, KV, the runtime's) and each client's, with room.
  const core = sockets + 256;
  const client = Math.ceil(sockets / processes) + 128;
  const need = Math.max(core, client);
  if (limit.soft >= need) return undefined;
  const n = (x: number) => x.toLocaleString("en-US");
  return `Cannot hold ${n(sockets)} sockets: the open-file limit (ulimit -n) is ${
    n(limit.soft)
  } per process, and the core needs about ${n(core)}. Raise it (ulimit -n ${n(need)}` +
    (limit.hard < need ? `; the hard limit is ${n(limit.hard)}, so as root` : "") +
    `) or run with --quick.`;
}

/**
 * Runs the gateway benchmarks; see the module documentation.
 *
 * In order: the reference fan-out; a core with the synthetic market on for
 * the fan-out and then order round trips while it trades; a core with the
 * market off for the idle sockets and then order round trips on a quiet
 * core. A part that fails (a core that does not start, a client that times
 * out) is reported with its error and the others still run.
 *
 * @param options What to run (default: nothing). See {@linkcode gatewayConfig}.
 * @returns The figures; a part that failed carries its error instead.
 *
 * @example
 * ```ts ignore
 * const figures = await runGatewayBench({ ...gatewayConfig(true), log: console.error });
 * printGateway(figures);
 * ```
 */
export async function runGatewayBench(options: GatewayBenchOptions): Promise<GatewayFigures> {
  const { log = () => {}, ...config } = options;
  const { fanout: f, idle: i, orders: o, slowReaders: sr } = options;
  const concurrency = options.openConcurrency ?? 100;
  const instrument = loadInstruments()[f?.instrument ?? 0];
  if (instrument === undefined) {
    throw new RangeError(`Cannot bench the gateway: no instrument ${f?.instrument}`);
  }
  const symbol = instrument.symbol;
  const running = new Running();
  const interrupted = () => {
    console.error("bench: interrupted: stopping the gateway bench's processes");
    running.stopAll().finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGINT", interrupted);
  const started = performance.now();
  let reference: Outcome<FanoutRun> | undefined;
  let fanout: Outcome<FanoutRun> | undefined;
  let idle: Outcome<IdleRun> | undefined;
  let slowReaders: Outcome<SlowReadersRun> | undefined;
  const orders: Outcome<OrdersRun>[] = [];
  try {
    if (f !== undefined) {
      reference = await attempt("reference fan-out", log, async () => {
        log(`reference fan-out: ${f.subscribers} subscribers, ${f.referenceFramesPerSecond}/s`);
        const server = await referenceServer(f.referenceFramesPerSecond, running);
        try {
          const rate = f.referenceFramesPerSecond;
          return await fanoutRun(server, "reference", rate, f, symbol, concurrency, running, log);
        } finally {
          await server.stop();
        }
      });
    }
    // A trading core: the fan-out, then round trips while it trades.
    if (f !== undefined || o !== undefined) {
      const rate = f?.syntheticRate ?? 500;
      const core = await attempt("core", log, () => startCore(rate, 0, running, log));
      if (!core.ok) {
        if (f !== undefined) fanout = core;
        if (o !== undefined) orders.push(core);
      } else {
        try {
          if (f !== undefined) {
            const server = { ...serverOf(core.value), token: core.value.token(VIEWER) };
            fanout = await attempt(
              "core fan-out",
              log,
              () => fanoutRun(server, "core", rate, f, symbol, concurrency, running, log),
            );
          }
          if (o !== undefined) {
            orders.push(
              await attempt(
                "order round trip",
                log,
                () => ordersRun(core.value, rate, o, instrument, running, log),
              ),
            );
          }
        } finally {
          await core.value.stop();
        }
      }
    }
    // A quiet core: the idle sockets, then round trips with nothing else going on.
    if (i !== undefined || o !== undefined) {
      const tooFew = i === undefined
        ? undefined
        : fileLimitProblem(i.sockets, i.processes, await fileLimit());
      const core = await attempt("core", log, () => startCore(0, i?.accounts ?? 0, running, log));
      if (!core.ok) {
        if (i !== undefined) idle = core;
        if (o !== undefined) orders.unshift(core);
      } else {
        try {
          if (i !== undefined) {
            idle = tooFew !== undefined
              ? { ok: false, error: tooFew }
              : await attempt("idle sockets", log, () =>
                idleRun(core.value, i, concurrency, running, log));
          }
          if (o !== undefined) {
            orders.unshift(
              await attempt(
                "order round trip",
                log,
                () => ordersRun(core.value, 0, o, instrument, running, log),
              ),
            );
          }
        } finally {
          await core.value.stop();
        }
      }
    }
    // A core with its default limits, and clients that never read.
    if (sr !== undefined) {
      slowReaders = await attempt("slow readers", log, () => slowReadersRun(sr, running, log));
    }
  } finally {
    await running.stopAll();
    Deno.removeSignalListener("SIGINT", interrupted);
  }
  return {
    config,
    ...(reference === undefined ? {} : { reference }),
    ...(fanout === undefined ? {} : { fanout }),
    ...(idle === undefined ? {} : { idle }),
    ...(slowReaders === undefined ? {} : { slowReaders }),
    orders,
    seconds: (performance.now() - started) / 1000,
  };
}

/** The registered accounts' names: the subscribers', the order client's, and the idle ones'. */
const VIEWER = "BENCH-VIEWER";
const TRADER = "BENCH-TRADER";
const idleAccount = (n: number) => `BENCH-IDLE-${n + 1}`;

/** A core as a fan-out server (the token is added by the caller). */
function serverOf(core: CoreProcess): Omit<FanoutServer, "token"> {
  return { url: core.url, sample: () => core.sample() };
}

/** How long `orders` place-and-cancel cycles may take at `perSecond` requests, with room. */
const ordersBudgetMs = (c: OrdersConfig) => 30_000 + ((c.orders * 2) / c.requestsPerSecond) * 3000;

async function ordersRun(
  core: CoreProcess,
  rate: number,
  config: OrdersConfig,
  instrument: Instrument,
  running: Running,
  log: (line: string) => void,
): Promise<OrdersRun> {
  log(`order round trip: ${config.orders} orders, synthetic market ${rate}/s`);
  // A buy 20 % under the reference price: it rests (no collar is set), and
  // the synthetic market does not come down that far within a run.
  const tick = instrument.tickSize;
  const price = Math.max(tick, Math.round((instrument.referencePrice * 0.8) / tick) * tick);
  const client = spawnClient("orders", {
    mode: "orders",
    url: core.url,
    tokens: [core.token(TRADER)],
    openConcurrency: 1,
    openTimeoutMs: 10_000,
    deadlineMs: ordersBudgetMs(config) + 10_000,
    baseMs: Math.floor(Date.now()),
    symbol: instrument.symbol,
    orders: config.orders,
    warmup: config.warmup,
    requestsPerSecond: config.requestsPerSecond,
    price,
    answerTimeoutMs: 5_000,
  }, running);
  try {
    await client.opened(30_000);
    await client.start();
    const r = await client.result<OrdersResult>(ordersBudgetMs(config));
    const p = (json: HistogramJson) => LatencyHistogram.fromJSON(json).percentiles();
    const all = LatencyHistogram.fromJSON(r.newOrder);
    all.merge(r.cancel);
    return {
      syntheticRate: rate,
      symbol: instrument.symbol,
      price: (price / instrument.priceScale).toFixed(Math.round(Math.log10(instrument.priceScale))),
      orders: config.orders,
      warmup: config.warmup,
      requestsPerSecond: config.requestsPerSecond,
      timed: r.timed,
      seconds: r.seconds,
      newOrder: p(r.newOrder),
      cancel: p(r.cancel),
      all: all.percentiles(),
      sendToEngine: p(r.sendToEngine),
      engineToSentAt: p(r.engineToSentAt),
      sentAtToReceive: p(r.sentAtToReceive),
      rejects: r.rejects,
      otherReports: r.otherReports,
    };
  } finally {
    await client.close();
  }
}

/** Starts a core with the viewer, the trader and `idleAccounts` idle traders registered. */
async function startCore(
  syntheticRate: number,
  idleAccounts: number,
  running: Running,
  log: (line: string) => void,
): Promise<CoreProcess> {
  log(`starting core/main.ts (synthetic market ${syntheticRate}/s)`);
  const accounts: { name: string; role: Role }[] = [
    { name: VIEWER, role: "viewer" },
    { name: TRADER, role: "trader" },
    ...Array.from({ length: idleAccounts }, (_, n) => ({
      name: idleAccount(n),
      role: "trader" as const,
    })),
  ];
  const core = await CoreProcess.start({
    syntheticRate,
    accounts,
    runForMs: 300_000,
    // Every socket of these runs comes from one address, and the fan-out's
    // from one viewer account: far past the default caps (256 per address,
    // 32 per account), which the slow readers run keeps.
    env: { GATEWAY_MAX_PER_ACCOUNT: "1000000", GATEWAY_MAX_PER_ADDRESS: "1000000" },
  });
  running.add(() => core.stop());
  return core;
}

/** The slow readers on a core of their own: default limits, journal off. */
async function slowReadersRun(
  config: SlowReadersConfig,
  running: Running,
  log: (line: string) => void,
): Promise<SlowReadersRun> {
  log(
    `slow readers: starting core/main.ts (synthetic market ${config.syntheticRate}/s, ` +
      `journal off, default limits)`,
  );
  const accounts = Array.from({ length: config.accounts }, (_, n) => ({
    name: `BENCH-SLOW-${n + 1}`,
    role: "viewer" as const,
  }));
  const core = await CoreProcess.start({
    syntheticRate: config.syntheticRate,
    accounts,
    runForMs: 300_000,
    env: { JOURNAL_DIR: "none" },
  });
  const stop = running.add(() => core.stop());
  try {
    return await runSlowReaders(core, {
      clients: config.clients,
      tokens: accounts.map((a) => core.token(a.name)),
      symbols: loadInstruments().map((i) => i.symbol),
      holdMs: config.holdMs,
      settleMs: 30_000,
      settleWithinBytes: 48 * 2 ** 20,
      log,
    });
  } finally {
    await stop();
  }
}

async function idleRun(
  core: CoreProcess,
  config: IdleConfig,
  openConcurrency: number,
  running: Running,
  log: (line: string) => void,
): Promise<IdleRun> {
  const tokens = Array.from(
    { length: config.accounts },
    (_, n) => core.token(`BENCH-IDLE-${n + 1}`),
  );
  // Let the core settle (journal, KV, first stats line) before its baseline memory.
  await core.waitForConnections(0, 5_000);
  const before = await core.sample();
  log(`idle sockets: opening ${config.sockets} (${config.processes} process(es))`);
  const clients: Client[] = [];
  try {
    const shares = split(config.sockets, config.processes);
    for (const [n, sockets] of shares.entries()) {
      clients.push(spawnClient(`idle ${n + 1}/${shares.length}`, {
        mode: "idle",
        url: core.url,
        tokens,
        openConcurrency,
        openTimeoutMs: 10_000,
        deadlineMs: 120_000,
        baseMs: Math.floor(Date.now()),
        sockets,
        holdMs: config.holdMs,
      }, running));
    }
    const opens = await Promise.all(clients.map((c) => c.opened(openTimeout(config.sockets))));
    const opened = opens.reduce((a, x) => a + x.opened, 0);
    log(`idle sockets: ${opened} open, holding ${config.holdMs} ms`);
    await Promise.all(clients.map((c) => c.start()));
    await Promise.all(clients.map((c) => c.measuring(10_000)));
    const holdStart = await core.sample();
    const results = await Promise.all(
      clients.map((c) => c.result<IdleResult>(config.holdMs + 30_000)),
    );
    // The core's count after the hold, from its GET /status.
    await core.waitForConnections(opened, 2_000);
    const after = await core.sample();
    return {
      processes: results.length,
      accounts: config.accounts,
      open: summarise(config.sockets, opens),
      holdMs: Math.min(...results.map((r) => r.holdMs)),
      heldByClients: results.reduce((a, r) => a + r.stillOpen, 0),
      heldByCore: await core.connections().catch(() => undefined),
      heartbeats: results.reduce((a, r) => a + r.heartbeats, 0),
      minHeartbeats: Math.min(...results.map((r) => r.minHeartbeats)),
      rssBeforeBytes: before.rssBytes,
      rssAfterBytes: after.rssBytes,
      coreCpu: (after.cpuSeconds - holdStart.cpuSeconds) / ((after.at - holdStart.at) / 1000),
      clientCpu: results.map((r) => r.cpu),
    };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}

/**
 * The runs as results for `checkTargets`: each fan-out's latency (client
 * receive − engineTime) and subscribers held, the idle sockets held.
 *
 * @param f The figures.
 * @returns One result per measured run; a failed run carries its error.
 *
 * @example
 * ```ts
 * import { gatewayResults } from "./gateway_bench.ts";
 * const results = gatewayResults({ orders: [], seconds: 0, config: {} });
 * console.log(results.length); // 0
 * ```
 */
export function gatewayResults(
  f: GatewayFigures,
): (SubjectResult & { readonly count?: number })[] {
  const out: (SubjectResult & { readonly count?: number })[] = [];
  const fanout = (name: string, run: Outcome<FanoutRun> | undefined) => {
    if (run === undefined) return;
    out.push(
      run.ok
        ? { name, latency: run.value.engineToReceive, count: run.value.held }
        : { name, error: run.error },
    );
  };
  const n = f.config.fanout?.subscribers ?? 0;
  fanout(GatewaySubjects.reference(n), f.reference);
  fanout(GatewaySubjects.fanout(n), f.fanout);
  if (f.idle !== undefined) {
    const name = GatewaySubjects.idle(f.config.idle?.sockets ?? 0);
    const run = f.idle;
    out.push(
      !run.ok
        ? { name, error: run.error }
        : run.value.heldByCore === undefined
        ? { name, error: "the core printed no connection count" }
        : { name, count: Math.min(run.value.heldByClients, run.value.heldByCore) },
    );
  }
  return out;
}

const num = (x: number) => Math.round(x).toLocaleString("en-US");
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const cpu = (x: number) => `${(100 * x).toFixed(0)}%`;

/** "p50 1.20 ms, p99 3.40 ms, p99.9 …, max …". */
function line(p: Percentiles, p999 = true): string {
  return `p50 ${formatNs(p.p50)}, p99 ${formatNs(p.p99)}` +
    (p999 ? `, p99.9 ${formatNs(p.p999)}` : "") + `, max ${formatNs(p.max)}`;
}

function printFanout(label: string, run: Outcome<FanoutRun> | undefined): void {
  if (run === undefined) return;
  if (!run.ok) {
    console.log(`  ${label.padEnd(9)} not measured: ${run.error}`);
    return;
  }
  const r = run.value;
  const o = r.open;
  console.log(
    `  ${label.padEnd(9)} ${num(o.opened)}/${num(o.requested)} subscribed in ${
      (o.ms / 1000).toFixed(2)
    } s` +
      (o.failed > 0 ? ` (${num(o.failed)} failed: ${o.firstError})` : "") +
      `, ${num(r.held)} held; ${r.symbol} ${r.framesPerSecond.toFixed(0)} frames/s → ` +
      `${num(r.deliveriesPerSecond)} deliveries/s over ${(r.windowMs / 1000).toFixed(1)} s`,
  );
  console.log(
    `            engine → receive  ${line(r.engineToReceive)} (${
      num(r.engineToReceive.samples)
    } samples)`,
  );
  console.log(`            sentAt → receive  ${line(r.sentAtToReceive)}`);
  console.log(
    r.engineToSentAt === undefined
      ? `            engine → sentAt   not reported: sentAt has 1 ms resolution (whole ms)`
      : `            engine → sentAt   ${line(r.engineToSentAt)}`,
  );
  console.log(
    `            spread            ${line(r.spread, false)} (first → last subscriber, ${
      num(r.spread.samples)
    } frames)`,
  );
  console.log(
    `            cpu               server ${cpu(r.serverCpu)}, clients ${
      r.clientCpu.map(cpu).join(" + ")
    } (of one core each); server RSS ${mb(r.serverRssBytes)}` +
      (r.resyncs + r.errors + r.negatives > 0
        ? `; ${r.resyncs} resyncs, ${r.errors} errors, ${r.negatives} negative samples`
        : ""),
  );
}

/**
 * Prints the configuration and the figures.
 *
 * @param f The figures.
 *
 * @example
 * ```ts ignore
 * printGateway(await runGatewayBench(gatewayConfig(true)));
 * ```
 */
export function printGateway(f: GatewayFigures): void {
  const c = f.config;
  console.log();
  console.log(
    `gateway (core/main.ts as a child process on 127.0.0.1, journal on; clients in child ` +
      `processes; ${f.seconds.toFixed(0)} s)`,
  );
  const fan = c.fanout;
  if (fan !== undefined) {
    const sockets = `${
      num(fan.subscribers)
    } viewer sockets over ${fan.processes} client process(es)`;
    const window = `${fan.warmupMs} ms warm-up, ${fan.measureMs} ms window`;
    console.log(`  fan-out   ${sockets}, each subscribed to one symbol; ${window}`);
    console.log(
      `            core: synthetic market ${num(fan.syntheticRate)} commands/s over the ` +
        `instrument table; reference: plain Deno.serve + upgradeWebSocket sending ` +
        `${fan.referenceFramesPerSecond} encoded deltas/s`,
    );
    console.log(
      `  measured  client receive time − the frame's engineTime (when the dispatcher read the ` +
        `engine's events), every delta/trade/quote on every socket; wall clocks of two processes ` +
        `on one machine: an upper bound on engine event → socket write`,
    );
    printFanout("reference", f.reference);
    printFanout("core", f.fanout);
  }
  const idle = c.idle;
  if (idle !== undefined && f.idle !== undefined) {
    if (!f.idle.ok) console.log(`  idle      not measured: ${f.idle.error}`);
    else {
      const r = f.idle.value;
      const added = r.rssAfterBytes - r.rssBeforeBytes;
      console.log(
        `  idle      ${num(r.open.opened)}/${num(r.open.requested)} trader sockets ` +
          `(${r.accounts} accounts, ${r.processes} client process(es) opening ` +
          `${c.openConcurrency ?? 100} at a time) opened in ${(r.open.ms / 1000).toFixed(2)} s` +
          (r.open.failed > 0 ? ` (${num(r.open.failed)} failed: ${r.open.firstError})` : ""),
      );
      console.log(
        `            held ${(r.holdMs / 1000).toFixed(1)} s with the synthetic market off: ` +
          `${num(r.heldByClients)} open by the clients' count, ${
            r.heldByCore === undefined ? "?" : num(r.heldByCore)
          } by the core's; ${
            num(r.heartbeats)
          } heartbeats (at least ${r.minHeartbeats} per socket)`,
      );
      console.log(
        `            core RSS ${mb(r.rssBeforeBytes)} → ${mb(r.rssAfterBytes)} ` +
          `(+${(added / Math.max(1, r.open.opened) / 1024).toFixed(1)} KiB per socket); ` +
          `core CPU while holding ${cpu(r.coreCpu)}, clients ${r.clientCpu.map(cpu).join(" + ")}`,
      );
    }
  }
  const slow = c.slowReaders;
  if (slow !== undefined && f.slowReaders !== undefined) {
    if (!f.slowReaders.ok) console.log(`  slow      not measured: ${f.slowReaders.error}`);
    else {
      const r = f.slowReaders.value;
      console.log(
        `  slow      ${num(r.opened)}/${
          num(r.clients)
        } viewer sockets (${slow.accounts} accounts) ` +
          `subscribed to every symbol and never reading, held ${(r.holdMs / 1000).toFixed(0)} s; ` +
          `synthetic market ${num(slow.syntheticRate)}/s, journal off, default limits` +
          (r.refused > 0 ? ` (${num(r.refused)} refused: ${r.firstRefusal})` : ""),
      );
      console.log(
        `            core RSS before ${mb(r.rssBeforeBytes)}, with them ${mb(r.rssPeakBytes)} ` +
          `(+${mb(r.rssPeakBytes - r.rssBeforeBytes)}), after they closed ${
            mb(r.rssAfterBytes)
          } (+${mb(r.rssAfterBytes - r.rssBeforeBytes)}, ${
            (r.settledMs / 1000).toFixed(1)
          } s after)`,
      );
    }
  }
  for (const run of f.orders) {
    if (!run.ok) {
      console.log(`  orders    not measured: ${run.error}`);
      continue;
    }
    const r = run.value;
    console.log(
      `  orders    market ${
        r.syntheticRate === 0 ? "off" : `on (${num(r.syntheticRate)} commands/s)`
      }: 1 trader socket, ${r.symbol} buy 1 @ ${r.price} (rests) then cancel, one request in ` +
        `flight, ≤ ${r.requestsPerSecond} requests/s; ${num(r.timed)} timed requests after ` +
        `${r.warmup} warm-up orders` + (r.rejects > 0 ? `; ${r.rejects} REJECTED` : ""),
    );
    console.log(`            new order → accepted   ${line(r.newOrder)}`);
    console.log(`            cancel → cancelled     ${line(r.cancel)}`);
    console.log(
      `            parts (p50/p99): send → engineTime ${formatNs(r.sendToEngine.p50)}/${
        formatNs(r.sendToEngine.p99)
      }, engineTime → sentAt ${formatNs(r.engineToSentAt.p50)}/${
        formatNs(r.engineToSentAt.p99)
      }, ` +
        `sentAt → receive ${formatNs(r.sentAtToReceive.p50)}/${formatNs(r.sentAtToReceive.p99)}`,
    );
  }
}
