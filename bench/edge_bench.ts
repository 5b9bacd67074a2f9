/**
 * The edge's performance, against its targets, over real sockets on
 * loopback, every server a child process of its own:
 *
 * 1. **Quote GET under load.** wrk (Debian's) sends `GET
 *    /api/v1/quotes/{symbol}` to three servers with the same settings:
 *    - `bare`: a bare `Deno.serve` answering a constant JSON of the same
 *      size (the edge's own quote body, copied from it) with
 *      `content-type` only;
 *    - `bare + edge headers`: the same server sending every header the
 *      edge's answer carries (copied from one: security, CORS, caching,
 *      rate limit), to show what the headers alone cost in Deno;
 *    - `edge`: the edge as `edge/main.ts` wires it (`_edge_server.ts`,
 *      the rate limit raised so that wrk's one address is never refused;
 *      every request still takes a token and gets its `RateLimit` fields),
 *      reading a KV file the bench writes as the core's snapshotter does,
 *      the symbol's snapshot rewritten every 100 ms during the runs.
 *
 *    Each server is warmed up, then the rounds are interleaved (bare,
 *    headers, edge, bare, …) so that a drift of the machine hits all alike.
 *    Each server reports its median round; the ratio is the median over
 *    rounds of edge ÷ bare in the same round (as the matching bench takes
 *    its ratios). A run with a non-2xx answer or a socket error is refused.
 * 2. **Freshness.** A real core (`core/main.ts`, synthetic market off, see
 *    `_core_process.ts`) and a real edge (`edge/main.ts`) reading its KV.
 *    Two trader sockets trade through the gateway: one resting sell, then
 *    IOC buys of 1 lot at seeded random gaps, each filling at once. A
 *    trade's time is the core's: its execution report's `engineTime`, the
 *    time the snapshot's `lastTrade.t` is taken from. The bench reads the
 *    edge's event stream of the symbol, which the edge sends from the
 *    refresh that makes a snapshot answerable, and takes trade k as
 *    visible at the first event whose day's trade count (`day.n`) counts
 *    it. Each trade's delay is split at the snapshot's `updated` time (when
 *    the core wrote it, ms resolution): trade → snapshot, snapshot → edge.
 *
 * Every wait is bounded, and every child process and temporary folder is
 * removed whatever happens (SIGINT included).
 *
 * # Known limitations
 *
 * - wrk is closed-loop: each connection sends its next request when the
 *   previous answer arrives, so the latency percentiles are at the load
 *   each server sustains, not at one fixed rate (wrk2, which holds a rate,
 *   is not in Debian).
 * - wrk and the server share the machine (two cores on the bench
 *   machine): wrk's thread takes about one. All three servers alike.
 * - Freshness compares the wall clocks of two processes on one machine. It
 *   is measured at the stream; a `GET` would see the same snapshot at the
 *   same moment plus its own round trip (~0.1 ms on loopback).
 * - The core's writes (every 100 ms) and the edge's polls (every 50 ms)
 *   are two timers whose phase hardly moves within a run, so the
 *   snapshot → edge part is much the same for every trade of a run and
 *   differs from run to run (0 to 50 ms). The trades' random gaps spread
 *   them over the core's cadence, not over that phase.
 *
 * @module
 */

import { attempt, type Outcome, Running } from "./_parts.ts";
import { BEARER_PREFIX, SUBPROTOCOL } from "../core/gateway/config.ts";
import { loadInstruments } from "../core/matching/mod.ts";
import type { Instrument } from "../core/matching/types.ts";
import { DEFAULT_SNAPSHOT_CADENCE_MS } from "../core/snapshotter/mod.ts";
import { encodeClientMessage } from "../core/wire/client.ts";
import type { ClientRequest } from "../core/wire/types.ts";
import { DEFAULT_POLL_INTERVAL_MS } from "../edge/snapshot_cache.ts";
import { EDGE_ENVIRONMENT } from "../edge/main.ts";
import { readyLine } from "../schemas/status_line.ts";
import { makeSnapshot, writeSnapshots } from "../edge/_testing/kv.ts";
import { SseReader } from "../edge/_testing/sse.ts";
import { Child } from "./_child.ts";
import { CoreProcess, sampleProcess } from "./_core_process.ts";
import { FrameProbe, Tag } from "./_frame_probe.ts";
import { runWrk, WRK_MISSING, type WrkResult, wrkVersion } from "./_wrk.ts";
import type { SubjectResult } from "./matching_bench.ts";
import { formatNs, formatRatio, medianIndex, type Percentiles, percentiles } from "./subject.ts";
import { mulberry32 } from "../core/synthetic/rng.ts";

const ROOT = new URL("..", import.meta.url);
const CONFIG = new URL("../deno.json", import.meta.url);
const EDGE_SERVER = new URL("./_edge_server.ts", import.meta.url);
const REFERENCE = new URL("./_http_reference.ts", import.meta.url);
const EDGE_MAIN = new URL("../edge/main.ts", import.meta.url);

/** Subject names of the edge runs, as the targets name them. */
export const EdgeSubjects = {
  /** The edge's quote GET under wrk. */
  quote: "edge-quote-get",
  /** A bare Deno.serve answering a constant JSON of the same size. */
  bare: "bare-deno-serve",
  /** The bare server sending the edge's headers too. */
  headers: "bare-deno-serve+edge-headers",
  /** Trade in the core → visible at the edge. */
  freshness: "edge-freshness",
} as const;

/** The quote GET load runs' configuration. */
export interface LoadConfig {
  /** The symbol whose quote is asked for. */
  readonly symbol: string;
  /** wrk's threads, connections, and seconds per run. */
  readonly threads: number;
  readonly connections: number;
  /** A run per server before the rounds, not reported (JIT, caches), seconds. */
  readonly warmupSeconds: number;
  readonly seconds: number;
  /** Measured runs per server, interleaved. */
  readonly rounds: number;
  /** Request headers wrk sends besides `Host`. */
  readonly requestHeaders: readonly (readonly [string, string])[];
  /** The symbol's snapshot is rewritten this often during the runs, ms (0: never). */
  readonly rewriteEveryMs: number;
  /** The edge's bucket per address: more than wrk asks for in a run. */
  readonly rateLimit: number;
}

/** The freshness run's configuration. */
export interface FreshnessConfig {
  /** The symbol traded. */
  readonly symbol: string;
  /** Trades, each an IOC buy of 1 lot against the resting sell. */
  readonly trades: number;
  /** The gap before each trade is drawn uniformly from [min, max] ms (seeded). */
  readonly minGapMs: number;
  readonly maxGapMs: number;
  readonly seed: number;
}

/** What {@linkcode runEdgeBench} runs; a part left out is not run. */
export interface EdgeBenchOptions {
  readonly load?: LoadConfig;
  readonly freshness?: FreshnessConfig;
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

/**
 * The default configuration, or a reduced one.
 *
 * @param quick The reduced configuration (`--quick`): one round of 1 s per
 *   server and 80 trades, instead of three rounds of 2 s and 300 trades.
 * @returns The configuration.
 *
 * @example
 * ```ts
 * import { edgeConfig } from "./edge_bench.ts";
 * const full = edgeConfig(false);
 * console.log(full.load?.connections, full.freshness?.trades); // 50 300
 * ```
 */
export function edgeConfig(quick: boolean): EdgeBenchOptions {
  return {
    load: {
      symbol: "AAPL",
      // One wrk thread: on the two-core bench machine wrk takes one core
      // and the server the other. 50 connections keep the server busy
      // (each waits ~1 ms for its answer at the edge's rate).
      threads: 1,
      connections: 50,
      warmupSeconds: 1,
      seconds: quick ? 1 : 2,
      rounds: quick ? 1 : 3,
      requestHeaders: [["Accept", "application/json"]],
      rewriteEveryMs: DEFAULT_SNAPSHOT_CADENCE_MS,
      rateLimit: 1_000_000_000,
    },
    freshness: {
      symbol: "AAPL",
      trades: quick ? 80 : 300,
      // Gaps of a few ms up to half the snapshot cadence, so that trades
      // fall at every phase of the core's writes and the edge's polls.
      minGapMs: 5,
      maxGapMs: 45,
      seed: 1,
    },
  };
}

/** One server's load runs. */
export interface ServerFigures {
  /** What it is, for the report. */
  readonly label: string;
  /** The headers of its answer, as a client received them. */
  readonly responseHeaders: readonly (readonly [string, string])[];
  /** Its body's size, bytes. */
  readonly bodyBytes: number;
  /** Every measured round, in run order. */
  readonly rounds: readonly WrkResult[];
  /** The server process's CPU over each round (1 = one core busy). */
  readonly cpu: readonly number[];
  /** The round with the median requests/s. */
  readonly median: WrkResult;
}

/** The quote GET load runs. */
export interface LoadFigures {
  /** wrk's version line. */
  readonly wrk: string;
  readonly path: string;
  readonly bare: ServerFigures;
  readonly headers: ServerFigures;
  readonly edge: ServerFigures;
  /** Median over rounds of edge ÷ bare requests/s. */
  readonly ratio: number;
  /** Median over rounds of edge ÷ (bare + edge headers) requests/s. */
  readonly ratioToHeaders: number;
  /** Median over rounds of (bare + edge headers) ÷ bare. */
  readonly headersRatio: number;
  /** Snapshot writes during the runs. */
  readonly rewrites: number;
}

/** The freshness run. */
export interface FreshnessFigures {
  /** The core's snapshot cadence and the edge's poll interval, ms (their defaults). */
  readonly cadenceMs: number;
  readonly pollMs: number;
  readonly trades: number;
  /** Trades seen at the edge. */
  readonly seen: number;
  /** Events of the symbol the stream sent. */
  readonly events: number;
  /** Seconds the trading took. */
  readonly seconds: number;
  /** Trade (core engineTime) → first stream event that counts it, ns. */
  readonly tradeToVisible: Percentiles;
  /** Trade → the snapshot's `updated` (ms resolution), ns. */
  readonly tradeToSnapshot: Percentiles;
  /** The snapshot's `updated` → the event's arrival, ns. */
  readonly snapshotToVisible: Percentiles;
  /** Whether the edge's last trade time is the last execution report's engineTime, in ms. */
  readonly lastTradeTimeAgrees: boolean;
}

/** Everything {@linkcode runEdgeBench} measured. */
export interface EdgeFigures {
  readonly config: Omit<EdgeBenchOptions, "log">;
  readonly load?: Outcome<LoadFigures>;
  readonly freshness?: Outcome<FreshnessFigures>;
  /** Seconds the whole edge bench took. */
  readonly seconds: number;
}

/** When the edge showed the symbol: arrival, the day's trade count, the snapshot's time. */
export interface Sighting {
  /** Arrival at the bench, ns since the run's base. */
  readonly at: number;
  /** `day.n` (0 when `day` is null). */
  readonly trades: number;
  /** The snapshot's `updated`, ns since the run's base. */
  readonly updated: number;
}

/** Per trade seen: its delays, ns. */
export interface Visibility {
  /** Trade → visible, one per trade seen, in trade order. */
  readonly tradeToVisible: readonly number[];
  /** Trade → the snapshot that first counted it was written. */
  readonly tradeToSnapshot: readonly number[];
  /** That snapshot written → its arrival. */
  readonly snapshotToVisible: readonly number[];
  /** Trades no sighting counted. */
  readonly unseen: number;
}

/**
 * Matches trades to the first sighting that counts them: trade k (1-based,
 * in execution order) is visible at the first sighting whose trade count
 * is at least `before + k`. Sightings come in arrival order, and a
 * snapshot's count never falls within a UTC day.
 *
 * @param tradeTimes Each trade's time, ns since the base, in execution order.
 * @param before The symbol's trade count before the first trade.
 * @param sightings The edge's sightings, in arrival order.
 * @returns The delays of the trades seen, and how many were not.
 *
 * @example
 * ```ts
 * import { matchSightings } from "./edge_bench.ts";
 * const v = matchSightings([100, 200, 300], 5, [
 *   { at: 150, trades: 5, updated: 120 },
 *   { at: 350, trades: 7, updated: 320 },
 * ]);
 * console.log(v.tradeToVisible, v.unseen); // [ 250, 150 ] 1
 * ```
 */
export function matchSightings(
  tradeTimes: readonly number[],
  before: number,
  sightings: readonly Sighting[],
): Visibility {
  const tradeToVisible: number[] = [];
  const tradeToSnapshot: number[] = [];
  const snapshotToVisible: number[] = [];
  let j = 0;
  for (const [k, time] of tradeTimes.entries()) {
    while (j < sightings.length && sightings[j]!.trades < before + k + 1) j++;
    const s = sightings[j];
    if (s === undefined) {
      return {
        tradeToVisible,
        tradeToSnapshot,
        snapshotToVisible,
        unseen: tradeTimes.length - k,
      };
    }
    tradeToVisible.push(s.at - time);
    tradeToSnapshot.push(s.updated - time);
    snapshotToVisible.push(s.at - s.updated);
  }
  return { tradeToVisible, tradeToSnapshot, snapshotToVisible, unseen: 0 };
}

/** A server child: where it listens, how to sample and stop it. */
export interface Server {
  /** `http://<host>:<port>`, from its ready status line. */
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * Starts a Deno child (the edge, `_edge_server.ts`, `_http_reference.ts`)
 * and learns where it listens from its ready status line
 * (`schemas/status_line.ts`), never from the line it prints for people.
 *
 * @param name The child's name in error messages.
 * @param args `deno run`'s arguments after `--config`: permissions, script.
 * @param env Its environment, added to the bench's.
 * @param running Where its stop is registered (so an interrupted bench stops it).
 * @returns The running server.
 * @throws {Error} If it exits or prints no ready status line within 30 s.
 *
 * @example
 * ```ts ignore
 * const server = await startServer("bare", ["--allow-net=127.0.0.1", "--allow-env", REFERENCE.pathname], {}, running);
 * await fetch(server.url + "/");
 * await server.stop();
 * ```
 */
export async function startServer(
  name: string,
  args: readonly string[],
  env: Record<string, string>,
  running: Running,
): Promise<Server> {
  const child = Child.spawn(name, Deno.execPath(), {
    args: ["run", "--quiet", "--config", CONFIG.pathname, ...args],
    cwd: ROOT.pathname,
    env: { NO_COLOR: "1", ...env },
  });
  const stop = running.add(() => child.stop(5_000));
  try {
    const { addresses } = await child.waitFor(readyLine, 30_000, "its ready status line");
    return { url: addresses.http, pid: child.pid, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Runs the edge benchmarks; see the module documentation. A part that
 * fails (wrk missing, a process that does not start, a timeout) is
 * reported with its error and the other still runs.
 *
 * @param options What to run (default: nothing). See {@linkcode edgeConfig}.
 * @returns The figures; a part that failed carries its error instead.
 *
 * @example
 * ```ts ignore
 * const figures = await runEdgeBench({ ...edgeConfig(true), log: console.error });
 * printEdge(figures);
 * ```
 */
export async function runEdgeBench(options: EdgeBenchOptions): Promise<EdgeFigures> {
  const { log = () => {}, ...config } = options;
  const running = new Running();
  const interrupted = () => {
    console.error("bench: interrupted: stopping the edge bench's processes");
    running.stopAll().finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGINT", interrupted);
  const started = performance.now();
  let load: Outcome<LoadFigures> | undefined;
  let freshness: Outcome<FreshnessFigures> | undefined;
  try {
    if (config.load !== undefined) {
      const c = config.load;
      load = await attempt("quote GET load", log, () => loadRuns(c, running, log));
    }
    if (config.freshness !== undefined) {
      const c = config.freshness;
      freshness = await attempt("freshness", log, () => freshnessRun(c, running, log));
    }
  } finally {
    await running.stopAll();
    Deno.removeSignalListener("SIGINT", interrupted);
  }
  return {
    config,
    ...(load === undefined ? {} : { load }),
    ...(freshness === undefined ? {} : { freshness }),
    seconds: (performance.now() - started) / 1000,
  };
}

/** The instrument of a symbol in the core's table. */
function instrumentOf(symbol: string): Instrument {
  const instrument = loadInstruments().find((i) => i.symbol === symbol);
  if (instrument === undefined) {
    throw new RangeError(`Cannot bench the edge: ${symbol} is not in the instrument table`);
  }
  return instrument;
}

async function loadRuns(c: LoadConfig, running: Running, log: (line: string) => void) {
  const wrk = await wrkVersion();
  if (wrk === undefined) throw new Error(WRK_MISSING);
  const instruments = loadInstruments();
  const instrument = instrumentOf(c.symbol);
  const dir = await Deno.makeTempDir({ prefix: "tc-bench-edge-" });
  const kv = await Deno.openKv(`${dir}/edge.kv`);
  let writer: ReturnType<typeof setInterval> | undefined;
  try {
    // What the core's snapshotter writes: the instrument list and a
    // snapshot of each symbol, then the measured one again and again.
    const snapshot = (now: number) =>
      makeSnapshot(instrument.symbol, {
        name: instrument.name,
        updated: now,
        lastTrade: { price: 101.25, size: 3, time: now - 20 },
        sequence: Math.floor(now / 100) % 1_000_000,
      });
    await writeSnapshots(kv, {
      symbols: {
        format: 1,
        symbols: instruments.map((i) => ({
          symbol: i.symbol,
          name: i.name,
          priceDecimals: 2,
          tickSize: 0.01,
          lotSize: 1,
        })),
      },
      snapshots: instruments.map((i) =>
        i === instrument ? snapshot(Date.now()) : makeSnapshot(i.symbol, { name: i.name })
      ),
      aliveAt: Date.now(),
    });

    log(`edge load: starting the edge and two reference servers`);
    const edge = await startServer(
      "edge",
      [
        "--allow-net=127.0.0.1",
        "--allow-read",
        `--allow-write=${dir}`,
        "--allow-env",
        EDGE_SERVER.pathname,
      ],
      { KV_PATH: `${dir}/edge.kv`, EDGE_BENCH_RATE_LIMIT: String(c.rateLimit) },
      running,
    );
    const path = `/api/v1/quotes/${c.symbol}`;
    const sample = await fetch(edge.url + path, { headers: Object.fromEntries(c.requestHeaders) });
    const body = await sample.text();
    if (sample.status !== 200) {
      throw new Error(`Cannot bench the edge: GET ${path} answered ${sample.status}: ${body}`);
    }
    // What the edge sends, less what Deno.serve adds to every answer.
    const edgeHeaders = [...sample.headers].filter(([name]) =>
      name !== "content-length" && name !== "date"
    );
    const reference = (name: string, headers: Record<string, string>) =>
      startServer(name, ["--allow-net=127.0.0.1", "--allow-env", REFERENCE.pathname], {
        REFERENCE_BODY: body,
        REFERENCE_HEADERS: JSON.stringify(headers),
      }, running);
    const bare = await reference("bare", { "content-type": "application/json" });
    const withHeaders = await reference("headers", Object.fromEntries(edgeHeaders));
    const servers = { bare, headers: withHeaders, edge } as const;

    // Every response's headers, as a client receives them.
    const received: Record<keyof typeof servers, [string, string][]> = {
      bare: [],
      headers: [],
      edge: [],
    };
    for (const [name, server] of Object.entries(servers) as [keyof typeof servers, Server][]) {
      const res = await fetch(server.url + path);
      received[name] = [...res.headers];
      const text = await res.text();
      if (text.length !== body.length && name !== "edge") {
        throw new Error(
          `Cannot bench the edge: ${name} answered ${text.length} bytes, not ${body.length}`,
        );
      }
    }

    let rewrites = 0;
    if (c.rewriteEveryMs > 0) {
      let writing = false;
      writer = setInterval(() => {
        if (writing) return; // never two writes at once (as the snapshotter)
        writing = true;
        const now = Date.now();
        writeSnapshots(kv, { snapshots: [snapshot(now)], aliveAt: now })
          .then(() => rewrites++, (error) => log(`edge load: a snapshot write failed: ${error}`))
          .finally(() => (writing = false));
      }, c.rewriteEveryMs);
    }

    const wrkRun = async (server: Server, seconds: number) => {
      const before = await sampleProcess(server.pid);
      const result = await runWrk({
        url: server.url + path,
        threads: c.threads,
        connections: c.connections,
        durationSeconds: seconds,
        headers: c.requestHeaders,
      });
      const after = await sampleProcess(server.pid);
      const errors = Object.values(result.socketErrors).reduce((a, b) => a + b, 0);
      if (result.non2xx > 0 || errors > 0) {
        throw new Error(
          `Cannot bench the edge: ${server.url} gave ${result.non2xx} non-2xx answers and ` +
            `${errors} socket errors under load`,
        );
      }
      const cpu = (after.cpuSeconds - before.cpuSeconds) / ((after.at - before.at) / 1000);
      return { result, cpu };
    };
    const order = ["bare", "headers", "edge"] as const;
    if (c.warmupSeconds > 0) {
      log(`edge load: warming up each server for ${c.warmupSeconds} s`);
      for (const name of order) await wrkRun(servers[name], c.warmupSeconds);
    }
    const rounds: Record<(typeof order)[number], { result: WrkResult; cpu: number }[]> = {
      bare: [],
      headers: [],
      edge: [],
    };
    for (let r = 0; r < c.rounds; r++) {
      log(`edge load: round ${r + 1}/${c.rounds} (${c.seconds} s per server)`);
      for (const name of order) rounds[name].push(await wrkRun(servers[name], c.seconds));
    }
    const figures = (
      name: (typeof order)[number],
      label: string,
    ): ServerFigures => {
      const runs = rounds[name];
      const rates = runs.map((x) => x.result.requestsPerSecond);
      return {
        label,
        responseHeaders: received[name],
        bodyBytes: new TextEncoder().encode(body).length,
        rounds: runs.map((x) => x.result),
        cpu: runs.map((x) => x.cpu),
        median: runs[medianIndex(rates)]!.result,
      };
    };
    const ratioOf = (a: (typeof order)[number], b: (typeof order)[number]) => {
      const ratios = rounds[a].map((x, i) =>
        x.result.requestsPerSecond / rounds[b][i]!.result.requestsPerSecond
      );
      return ratios[medianIndex(ratios)]!;
    };
    return {
      wrk,
      path,
      bare: figures("bare", "bare Deno.serve"),
      headers: figures("headers", "bare + edge headers"),
      edge: figures("edge", "edge"),
      ratio: ratioOf("edge", "bare"),
      ratioToHeaders: ratioOf("edge", "headers"),
      headersRatio: ratioOf("headers", "bare"),
      rewrites,
    };
  } finally {
    clearInterval(writer);
    await running.stopAll();
    kv.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** The accounts the freshness run trades with. */
const MAKER = "BENCH-MAKER";
const TAKER = "BENCH-TAKER";

/** A trader's WebSocket, answering requests by their execution reports. */
class TraderSocket {
  readonly #socket: WebSocket;
  readonly #probe: FrameProbe;
  #waiter:
    | {
      id: number;
      execType: number;
      resolve: (engineTime: number) => void;
      reject: (e: Error) => void;
    }
    | undefined;
  #closed: string | undefined;

  private constructor(socket: WebSocket, baseMs: number) {
    this.#socket = socket;
    this.#probe = new FrameProbe(baseMs);
    socket.addEventListener("message", (e: MessageEvent) => {
      const f = e.data instanceof ArrayBuffer ? this.#probe.read(e.data) : undefined;
      const w = this.#waiter;
      if (f === undefined || w === undefined || f.requestId !== w.id) return;
      if (f.tag === Tag.reject) {
        this.#waiter = undefined;
        w.reject(new Error(`Cannot trade: request ${w.id} was rejected`));
      } else if (f.tag === Tag.executionReport && f.execType === w.execType) {
        this.#waiter = undefined;
        w.resolve(f.engineTime);
      }
    });
    socket.addEventListener("close", (e) => {
      this.#closed = `${e.code} ${e.reason}`;
      this.#waiter?.reject(new Error(`Cannot trade: the core closed the socket (${this.#closed})`));
      this.#waiter = undefined;
    });
  }

  /** Opens a socket with the account's token; resolves once it is open. */
  static open(url: string, token: string, baseMs: number): Promise<TraderSocket> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, [SUBPROTOCOL, BEARER_PREFIX + token]);
      socket.binaryType = "arraybuffer";
      const timer = setTimeout(() => {
        reject(new Error("Cannot open a trader socket: timed out after 10 s"));
        socket.close();
      }, 10_000);
      socket.addEventListener("open", () => {
        clearTimeout(timer);
        resolve(new TraderSocket(socket, baseMs));
      }, { once: true });
      socket.addEventListener("error", () => {
        clearTimeout(timer);
        reject(new Error("Cannot open a trader socket: refused"));
      }, { once: true });
    });
  }

  /**
   * Sends a request and waits for its execution report of `execType`.
   *
   * @returns The report's engineTime, ns since the base.
   */
  request(request: ClientRequest, execType: number, timeoutMs: number): Promise<number> {
    if (this.#closed !== undefined) {
      return Promise.reject(new Error(`Cannot trade: the socket closed (${this.#closed})`));
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        reject(
          new Error(`Cannot trade: request ${request.requestId} unanswered in ${timeoutMs} ms`),
        );
      }, timeoutMs);
      this.#waiter = {
        id: Number(request.requestId),
        execType,
        resolve: (t) => {
          clearTimeout(timer);
          resolve(t);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.#socket.send(encodeClientMessage(request));
    });
  }

  close(): void {
    this.#closed ??= "closed by the bench";
    try {
      this.#socket.close(1000, "bench done");
    } catch {
      // Already closed.
    }
  }
}

const EXEC_ACCEPTED = 0;
const EXEC_TRADE = 1;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function freshnessRun(
  c: FreshnessConfig,
  running: Running,
  log: (line: string) => void,
): Promise<FreshnessFigures> {
  const instrument = instrumentOf(c.symbol);
  log("freshness: starting core/main.ts (market off) and edge/main.ts on its KV");
  const core = await CoreProcess.start({
    syntheticRate: 0,
    accounts: [{ name: MAKER, role: "trader" }, { name: TAKER, role: "trader" }],
    runForMs: 120_000,
    statsIntervalMs: 1_000,
  });
  running.add(() => core.stop());
  const edge = await startServer(
    "edge",
    [
      "--allow-net=127.0.0.1",
      "--allow-read",
      `--allow-env=${EDGE_ENVIRONMENT.join(",")}`,
      `--allow-write=${core.dir}`,
      EDGE_MAIN.pathname,
    ],
    { EDGE_PORT: "0", KV_PATH: core.kvPath },
    running,
  );

  // The edge may have read the KV before the core's first snapshots: wait
  // until it answers the symbol.
  let before: number | undefined;
  for (let i = 0; i < 200 && before === undefined; i++) {
    const res = await fetch(`${edge.url}/api/v1/quotes/${c.symbol}`);
    if (res.status === 200) before = (await res.json()).ticker.day?.n ?? 0;
    else await res.body?.cancel();
    if (before === undefined) await sleep(50);
  }
  if (before === undefined) {
    throw new Error(`Cannot measure freshness: the edge never answered ${c.symbol}`);
  }

  const baseMs = Math.floor(Date.now());
  const offsetMs = performance.timeOrigin - baseMs;
  const now = () => (performance.now() + offsetMs) * 1e6;
  const stream = await fetch(`${edge.url}/api/v1/stream?symbols=${c.symbol}`);
  if (stream.status !== 200 || stream.body === null) {
    throw new Error(`Cannot measure freshness: the stream answered ${stream.status}`);
  }
  const reader = new SseReader(stream.body);
  const sightings: Sighting[] = [];
  let lastTradeTime: number | undefined;
  const target = before + c.trades;
  let reachedTarget: () => void = () => {};
  const reached = new Promise<void>((resolve) => (reachedTarget = resolve));
  const reading = (async () => {
    for (;;) {
      const message = await reader.next(60_000);
      if (message === undefined) return;
      if (message.event !== "quote" || message.data === undefined) continue;
      const at = now();
      const ticker = JSON.parse(message.data);
      if (ticker.ticker !== c.symbol) continue;
      const trades = ticker.day?.n ?? 0;
      sightings.push({ at, trades, updated: (ticker.updated - baseMs) * 1e6 });
      lastTradeTime = ticker.lastTrade?.t;
      if (trades >= target) reachedTarget();
    }
  })();
  reading.catch(() => {}); // ends with an error when the stream is cut at the end

  const maker = await TraderSocket.open(core.url, core.token(MAKER), baseMs);
  const taker = await TraderSocket.open(core.url, core.token(TAKER), baseMs);
  const tradeTimes: number[] = [];
  const started = performance.now();
  try {
    const price = Math.round(instrument.referencePrice / instrument.tickSize) *
      instrument.tickSize;
    const order = (side: "buy" | "sell", id: number, quantity: number): ClientRequest => ({
      type: "newOrder",
      requestId: BigInt(id),
      sentAt: 0n,
      clientOrderId: BigInt(id),
      symbol: c.symbol,
      side,
      orderType: "limit",
      timeInForce: side === "sell" ? "gtc" : "ioc",
      postOnly: false,
      price,
      quantity,
      account: "",
    });
    await maker.request(order("sell", 1, c.trades), EXEC_ACCEPTED, 5_000);
    log(`freshness: ${c.trades} trades of 1 lot, ${c.minGapMs}–${c.maxGapMs} ms apart`);
    const random = mulberry32(c.seed);
    for (let k = 1; k <= c.trades; k++) {
      await sleep(c.minGapMs + random() * (c.maxGapMs - c.minGapMs));
      tradeTimes.push(await taker.request(order("buy", k, 1), EXEC_TRADE, 5_000));
    }
    const seconds = (performance.now() - started) / 1000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([reached, new Promise((resolve) => (timer = setTimeout(resolve, 5_000)))]);
    clearTimeout(timer);
    const v = matchSightings(tradeTimes, before, sightings);
    if (v.unseen > 0) {
      throw new Error(
        `Cannot measure freshness: ${v.unseen} of ${c.trades} trades never showed at the edge ` +
          `within 5 s of the last one`,
      );
    }
    const p = (xs: readonly number[]) => percentiles(Float64Array.from(xs));
    const lastTrade = tradeTimes[tradeTimes.length - 1]!;
    return {
      cadenceMs: DEFAULT_SNAPSHOT_CADENCE_MS,
      pollMs: DEFAULT_POLL_INTERVAL_MS,
      trades: c.trades,
      seen: v.tradeToVisible.length,
      events: sightings.length,
      seconds,
      tradeToVisible: p(v.tradeToVisible),
      tradeToSnapshot: p(v.tradeToSnapshot),
      snapshotToVisible: p(v.snapshotToVisible),
      lastTradeTimeAgrees: lastTradeTime === Math.floor(baseMs + lastTrade / 1e6),
    };
  } finally {
    maker.close();
    taker.close();
    await reader.cancel().catch(() => {});
    await running.stopAll();
  }
}

/**
 * The runs as results for `checkTargets`: the edge's quote GET (its
 * requests/s, ratio to the bare server, latency), the two references, and
 * the freshness (trade → visible).
 *
 * @param f The figures.
 * @returns One result per measured part; a failed part carries its error.
 *
 * @example
 * ```ts
 * import { edgeResults } from "./edge_bench.ts";
 * const results = edgeResults({ config: {}, seconds: 0, load: { ok: false, error: "no wrk" } });
 * console.log(results.map((r) => r.error)); // [ "no wrk", "no wrk", "no wrk" ]
 * ```
 */
export function edgeResults(f: EdgeFigures): SubjectResult[] {
  const out: SubjectResult[] = [];
  if (f.load !== undefined) {
    const names = [EdgeSubjects.bare, EdgeSubjects.headers, EdgeSubjects.quote];
    if (!f.load.ok) {
      for (const name of names) out.push({ name, error: f.load.error });
    } else {
      const l = f.load.value;
      const result = (name: string, s: ServerFigures, ratio: number): SubjectResult => ({
        name,
        commandsPerSecond: s.median.requestsPerSecond,
        ratio,
        latency: wrkPercentiles(s.median),
      });
      out.push(result(EdgeSubjects.bare, l.bare, 1));
      out.push(result(EdgeSubjects.headers, l.headers, l.headersRatio));
      out.push(result(EdgeSubjects.quote, l.edge, l.ratio));
    }
  }
  if (f.freshness !== undefined) {
    const name = EdgeSubjects.freshness;
    out.push(
      f.freshness.ok
        ? { name, latency: f.freshness.value.tradeToVisible }
        : { name, error: f.freshness.error },
    );
  }
  return out;
}

/** wrk's figures as percentiles (wrk has no p99.9: NaN). */
function wrkPercentiles(r: WrkResult): Percentiles {
  return {
    p50: r.latency.p50,
    p90: r.latency.p90,
    p99: r.latency.p99,
    p999: NaN,
    max: r.latency.max,
    samples: r.requests,
  };
}

const num = (x: number) => Math.round(x).toLocaleString("en-US");
const cpu = (x: number) => `${(100 * x).toFixed(0)}%`;

/** "p50 1.20 ms, p99 3.40 ms, max …". */
function line(p: Percentiles): string {
  return `p50 ${formatNs(p.p50)}, p99 ${formatNs(p.p99)}, max ${formatNs(p.max)}`;
}

/**
 * Prints the configuration and the figures.
 *
 * @param f The figures.
 *
 * @example
 * ```ts ignore
 * printEdge(await runEdgeBench(edgeConfig(true)));
 * ```
 */
export function printEdge(f: EdgeFigures): void {
  console.log();
  console.log(
    `edge (servers as child processes on 127.0.0.1; ${f.seconds.toFixed(0)} s)`,
  );
  const c = f.config.load;
  if (c !== undefined && f.load !== undefined) {
    if (!f.load.ok) console.log(`  quote GET NOT MEASURED: ${f.load.error}`);
    else {
      const l = f.load.value;
      console.log(
        `  load      ${l.wrk.split(" Copyright")[0]}: ${c.threads} thread(s), ${c.connections} ` +
          `connections, ${c.warmupSeconds} s warm-up then ${c.rounds} round(s) of ${c.seconds} s ` +
          `per server, interleaved; each server its own process`,
      );
      console.log(
        `            GET ${l.path}, request headers Host, ${
          c.requestHeaders.map(([n, v]) => `${n}: ${v}`).join(", ")
        }; body ${num(l.edge.bodyBytes)} bytes (the edge's quote JSON; the references send ` +
          `the same bytes)`,
      );
      console.log(
        `            edge: edge/main.ts's wiring (bench/_edge_server.ts), rate limit raised to ` +
          `${num(c.rateLimit)} per address (each request still takes a token); ` +
          `${c.symbol}'s snapshot rewritten every ${c.rewriteEveryMs} ms (${l.rewrites} writes)`,
      );
      const head =
        `            ${"server".padEnd(20)} ${"requests/s".padStart(10)} ${"p50".padStart(9)} ${
          "p90".padStart(9)
        } ${"p99".padStart(9)} ${"max".padStart(9)} ${"cpu".padStart(5)}` +
        `  rounds (requests/s)`;
      console.log(head);
      for (const s of [l.bare, l.headers, l.edge]) {
        const m = s.median;
        console.log(
          `            ${s.label.padEnd(20)} ${num(m.requestsPerSecond).padStart(10)} ${
            formatNs(m.latency.p50).padStart(9)
          } ${formatNs(m.latency.p90).padStart(9)} ${formatNs(m.latency.p99).padStart(9)} ${
            formatNs(m.latency.max).padStart(9)
          } ${cpu(s.cpu[s.rounds.indexOf(m)] ?? NaN).padStart(5)}  ${
            s.rounds.map((r) => num(r.requestsPerSecond)).join(" ")
          }`,
        );
      }
      console.log(
        `            (each server's median round; cpu: the server process over that round, ` +
          `100% = one core)`,
      );
      console.log(
        `            edge ÷ bare ${formatRatio(l.ratio)}; edge ÷ (bare + edge headers) ${
          formatRatio(l.ratioToHeaders)
        }; the headers alone: (bare + edge headers) ÷ bare ${formatRatio(l.headersRatio)}`,
      );
      const names = (h: readonly (readonly [string, string])[]) =>
        h.map(([n]) => n).filter((n) => n !== "date" && n !== "content-length");
      console.log(
        `            response headers: bare ${names(l.bare.responseHeaders).join(", ")}; ` +
          `edge and bare + edge headers (${names(l.edge.responseHeaders).length}) ${
            names(l.edge.responseHeaders).join(", ")
          }; Deno adds content-length and date to all`,
      );
    }
  }
  const fc = f.config.freshness;
  if (fc !== undefined && f.freshness !== undefined) {
    if (!f.freshness.ok) console.log(`  freshness NOT MEASURED: ${f.freshness.error}`);
    else {
      const r = f.freshness.value;
      console.log(
        `  freshness core/main.ts (market off) and edge/main.ts on its KV; the core writes ` +
          `snapshots every ${r.cadenceMs} ms, the edge polls KV every ${r.pollMs} ms (defaults)`,
      );
      console.log(
        `            ${r.trades} ${fc.symbol} trades over the gateway (IOC buys of 1 lot against ` +
          `a resting sell, ${fc.minGapMs}–${fc.maxGapMs} ms apart, seed ${fc.seed}) in ` +
          `${r.seconds.toFixed(1)} s; ${r.events} stream events; the edge's last trade time ` +
          (r.lastTradeTimeAgrees ? "is the last report's engineTime" : "DIFFERS from the report's"),
      );
      console.log(
        `            trade → visible at the edge  ${line(r.tradeToVisible)} (${r.seen} trades)`,
      );
      console.log(`            trade → snapshot written     ${line(r.tradeToSnapshot)} (ms clock)`);
      console.log(`            snapshot → visible           ${line(r.snapshotToVisible)}`);
    }
  }
}
