/**
 * Prometheus metrics of the edge (text exposition format 0.0.4).
 *
 * | metric | type | labels | what |
 * | --- | --- | --- | --- |
 * | `http_requests_total` | counter | `route`, `status` | answers, errors included |
 * | `http_request_duration_seconds` | histogram | `route` | time to the response (headers, for streams) |
 * | `http_cache_hits_total` | counter | `route` | 304 answers |
 * | `market_data_freshness_seconds` | gauge | `symbol` | now − the snapshot's `updated` |
 * | `market_data_snapshot_version` | gauge | | the KV version the cache reflects |
 * | `market_data_alive_age_seconds` | gauge | | now − the writer's `alive` mark (absent without one) |
 * | `market_data_symbols` | gauge | | snapshots held |
 * | `market_data_invalid_snapshots_total` | counter | `key` (`quote`, `symbols`, `version`, `alive`) | values refused, once per write |
 * | `market_data_polls_total` | counter | | polls of the version key |
 * | `market_data_poll_errors_total` | counter | | polls that failed |
 * | `market_data_reads_total` | counter | | polls that found the version moved |
 * | `edge_sse_connections` | gauge | | open event streams |
 * | `edge_sse_coalesced_total` | counter | | snapshots replaced before a slow client read them |
 *
 * `route` is the route pattern (`/api/v1/quotes/:symbol`), or `unmatched`
 * for paths no route knows, so a flood of made-up paths adds no series.
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";
import type { EdgeEnv } from "./_env.ts";
import type { EventStreams } from "./event_stream.ts";
import type { SnapshotCache } from "./snapshot_cache.ts";

/** The histogram's upper bounds, in seconds. */
export const DURATION_BUCKETS: readonly number[] = [
  0.0001,
  0.00025,
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
];

/** Statuses counted in an array slot each; any other (none is expected) goes to a map. */
const MAX_INDEXED_STATUS = 600;

/**
 * The counters of one route: answers by status, the duration histogram and
 * 304s. Get one from {@linkcode HttpMetrics.route} and keep it: counting
 * through it allocates nothing and looks nothing up (the quote fast path
 * counts every answer this way).
 *
 * @example
 * ```ts
 * import { HttpMetrics } from "./metrics.ts";
 * const metrics = new HttpMetrics();
 * const quote = metrics.route("/api/v1/quotes/:symbol");
 * quote.observe(304, 0.0001);
 * if (quote.cacheHits !== 1 || metrics.count("/api/v1/quotes/:symbol", 304) !== 1) {
 *   throw new Error("not counted");
 * }
 * ```
 */
export class RouteMetrics {
  /** Answers by status, indexed by status. */
  readonly #byStatus: number[] = new Array<number>(MAX_INDEXED_STATUS).fill(0);
  /** Statuses in the order first seen (the text lists them so). */
  readonly #statuses: number[] = [];
  /** Statuses outside the array, should any come. */
  readonly #otherStatuses = new Map<number, number>();
  /** Per bucket (not cumulative): answers no slower than its bound and slower than the one before. */
  readonly #buckets: number[] = DURATION_BUCKETS.map(() => 0);
  #sum = 0;
  #count = 0;
  #cacheHits = 0;
  readonly #register: () => void;

  /**
   * @param route The route pattern, or "unmatched".
   * @param register Adds this route to the text, on its first answer.
   */
  constructor(readonly route: string, register: () => void) {
    this.#register = register;
  }

  /**
   * Counts one answer.
   *
   * @param status The status answered.
   * @param seconds The time taken.
   */
  observe(status: number, seconds: number): void {
    if (this.#count === 0) this.#register();
    if (status >= 0 && status < MAX_INDEXED_STATUS) {
      if (this.#byStatus[status]!++ === 0) this.#statuses.push(status);
    } else {
      this.#otherStatuses.set(status, (this.#otherStatuses.get(status) ?? 0) + 1);
    }
    const bounds = DURATION_BUCKETS;
    for (let i = 0; i < bounds.length; i++) {
      if (seconds <= bounds[i]!) {
        this.#buckets[i]!++;
        break;
      }
    }
    this.#sum += seconds;
    this.#count++;
    if (status === 304) this.#cacheHits++;
  }

  /**
   * How many answers had a status.
   *
   * @param status The status.
   * @returns The count.
   */
  count(status: number): number {
    return status >= 0 && status < MAX_INDEXED_STATUS
      ? this.#byStatus[status]!
      : this.#otherStatuses.get(status) ?? 0;
  }

  /** Answers 304. */
  get cacheHits(): number {
    return this.#cacheHits;
  }

  /** `http_requests_total` lines. */
  requestLines(): string {
    const r = label(this.route);
    let out = "";
    for (const status of this.#statuses) {
      out += `http_requests_total{route="${r}",status="${status}"} ${this.#byStatus[status]}\n`;
    }
    for (const [status, n] of this.#otherStatuses) {
      out += `http_requests_total{route="${r}",status="${status}"} ${n}\n`;
    }
    return out;
  }

  /** `http_request_duration_seconds` lines. */
  durationLines(): string {
    const r = label(this.route);
    let out = "";
    let cumulative = 0;
    for (const [i, le] of DURATION_BUCKETS.entries()) {
      cumulative += this.#buckets[i]!;
      out += `http_request_duration_seconds_bucket{route="${r}",le="${le}"} ${cumulative}\n`;
    }
    return out +
      `http_request_duration_seconds_bucket{route="${r}",le="+Inf"} ${this.#count}\n` +
      `http_request_duration_seconds_sum{route="${r}"} ${this.#sum}\n` +
      `http_request_duration_seconds_count{route="${r}"} ${this.#count}\n`;
  }
}

/**
 * Request counters and durations by route.
 *
 * @example
 * ```ts
 * import { HttpMetrics } from "./metrics.ts";
 * const m = new HttpMetrics();
 * m.observe("/livez", 200, 0.0002);
 * if (!m.render().includes('http_requests_total{route="/livez",status="200"} 1')) {
 *   throw new Error("not counted");
 * }
 * ```
 */
export class HttpMetrics {
  /** Every route's counters, made on first use. */
  readonly #routes = new Map<string, RouteMetrics>();
  /** The routes that have answered, in the order of their first answer (the text's order). */
  readonly #answered: RouteMetrics[] = [];

  /**
   * One route's counters, to count through without looking the route up
   * each time. A route appears in the text from its first answer on.
   *
   * @param route The route pattern, or "unmatched".
   * @returns Its counters (the same object every call).
   */
  route(route: string): RouteMetrics {
    let m = this.#routes.get(route);
    if (m === undefined) {
      const made: RouteMetrics = new RouteMetrics(route, () => this.#answered.push(made));
      this.#routes.set(route, m = made);
    }
    return m;
  }

  /**
   * Counts one answer.
   *
   * @param route The route pattern, or "unmatched".
   * @param status The status answered.
   * @param seconds The time taken.
   */
  observe(route: string, status: number, seconds: number): void {
    this.route(route).observe(status, seconds);
  }

  /**
   * How many answers a route gave with a status.
   *
   * @param route The route pattern.
   * @param status The status.
   * @returns The count.
   */
  count(route: string, status: number): number {
    return this.#routes.get(route)?.count(status) ?? 0;
  }

  /**
   * The HTTP metrics in the text format.
   *
   * @returns The lines, each ending with a newline.
   */
  render(): string {
    let out = "# HELP http_requests_total Requests answered, by route pattern and status.\n" +
      "# TYPE http_requests_total counter\n";
    for (const m of this.#answered) out += m.requestLines();
    out += "# HELP http_request_duration_seconds Time to the response, by route pattern.\n" +
      "# TYPE http_request_duration_seconds histogram\n";
    for (const m of this.#answered) out += m.durationLines();
    out += "# HELP http_cache_hits_total Answers 304 Not Modified, by route pattern.\n" +
      "# TYPE http_cache_hits_total counter\n";
    for (const m of this.#answered) {
      if (m.cacheHits > 0) {
        out += `http_cache_hits_total{route="${label(m.route)}"} ${m.cacheHits}\n`;
      }
    }
    return out;
  }
}

/**
 * Hono middleware: counts and times every answer under its route pattern
 * (the `route` context variable, "unmatched" when unset).
 *
 * @param metrics Where to count.
 * @returns The middleware.
 */
export function httpMetrics(metrics: HttpMetrics): MiddlewareHandler<EdgeEnv> {
  return async function httpMetrics(c, next) {
    const started = performance.now();
    await next();
    metrics.observe(
      c.get("route") ?? "unmatched",
      c.res.status,
      (performance.now() - started) / 1000,
    );
  };
}

/**
 * The market data metrics in the text format.
 *
 * @param cache The snapshot cache.
 * @param streams The event streams.
 * @param now The time (ms), for freshness.
 * @returns The lines, each ending with a newline.
 *
 * @example
 * ```ts
 * import { marketMetrics } from "./metrics.ts";
 * import { EventStreams } from "./event_stream.ts";
 * import { SnapshotCache } from "./snapshot_cache.ts";
 * import { makeSnapshot, T0, writeSnapshots } from "./_testing/kv.ts";
 * const kv = await Deno.openKv(":memory:");
 * await writeSnapshots(kv, { snapshots: [makeSnapshot("AAPL")] });
 * const cache = new SnapshotCache({ kv });
 * await cache.refresh();
 * const text = marketMetrics(cache, new EventStreams(cache), T0 + 1500);
 * if (!text.includes('market_data_freshness_seconds{symbol="AAPL"} 1.5')) throw new Error(text);
 * await cache.close();
 * kv.close();
 * ```
 */
export function marketMetrics(cache: SnapshotCache, streams: EventStreams, now: number): string {
  const { stats } = cache;
  let out = "# HELP market_data_freshness_seconds Age of each symbol's snapshot.\n" +
    "# TYPE market_data_freshness_seconds gauge\n";
  for (const s of cache.all()) {
    out += `market_data_freshness_seconds{symbol="${label(s.symbol)}"} ${
      (now - s.updated) / 1000
    }\n`;
  }
  out += gauge("market_data_snapshot_version", "The KV version the cache reflects.", cache.version);
  const alive = cache.aliveAt;
  if (alive !== undefined) {
    out += gauge(
      "market_data_alive_age_seconds",
      "Age of the writer's last alive mark.",
      (now - alive) / 1000,
    );
  }
  const engine = cache.engine;
  if (engine !== undefined) {
    out += gauge(
      "market_data_engine_halted",
      "1 when the core says its matching engine has halted (quotes frozen).",
      engine.state === "halted" ? 1 : 0,
    );
    if (engine.state === "halted") {
      out += "# HELP market_data_engine_halt_info Why the core's engine halted (error code).\n" +
        "# TYPE market_data_engine_halt_info gauge\n" +
        `market_data_engine_halt_info{cause="${label(engine.cause ?? "unknown")}"} 1\n`;
    }
  }
  out += gauge("market_data_symbols", "Snapshots held.", cache.all().length);
  out += "# HELP market_data_invalid_snapshots_total Values refused by the validator.\n" +
    "# TYPE market_data_invalid_snapshots_total counter\n";
  for (const [key, n] of Object.entries(stats.invalid)) {
    out += `market_data_invalid_snapshots_total{key="${key}"} ${n}\n`;
  }
  out += counter("market_data_polls_total", "Polls of the version key.", stats.polls);
  out += counter("market_data_poll_errors_total", "Polls that failed.", stats.pollErrors);
  out += counter("market_data_reads_total", "Polls that read changed snapshots.", stats.reads);
  out += gauge("edge_sse_connections", "Open event streams.", streams.connections);
  out += counter(
    "edge_sse_coalesced_total",
    "Snapshots replaced before a slow client read them.",
    streams.coalesced,
  );
  return out;
}

const gauge = (name: string, help: string, value: number) =>
  `# HELP ${name} ${help}\n# TYPE ${name} gauge\n${name} ${value}\n`;
const counter = (name: string, help: string, value: number) =>
  `# HELP ${name} ${help}\n# TYPE ${name} counter\n${name} ${value}\n`;

/** Escapes a label value (backslash, double quote, newline). */
function label(value: string): string {
  return value.replace(/[\\"\n]/g, (ch) => (ch === "\n" ? "\\n" : `\\${ch}`));
}
