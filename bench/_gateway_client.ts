/**
 * The gateway benchmarks' client side, run as a child process so that the
 * core's event loop is measured, not the clients': it opens WebSockets to
 * a running core and does one job. Private to `bench/` (see
 * `gateway_bench.ts`).
 *
 * # Protocol
 *
 * The parent writes one {@linkcode ClientJob} as a line of JSON on stdin.
 * The child answers with lines of JSON on stdout ({@linkcode ClientReport}):
 * `opened` once its sockets are open (and subscribed). It then waits for
 * the parent to write `start` (so that several client processes measure
 * the same window, and the parent can sample the core around it), says
 * `measuring` when its measured phase starts, then `result`; or `error` at
 * any point. After `result` it keeps its sockets open until the parent
 * writes `close` (or closes stdin, or the job's deadline passes), so that
 * the parent can look at the core with every socket still held; then it
 * closes them and exits.
 *
 * # Clocks
 *
 * Latencies between processes compare this process's wall clock
 * (`performance.timeOrigin + performance.now()`, µs resolution) with the
 * core's `engineTime` and `sentAt`, taken the same way on the same machine.
 *
 * @module
 */

import process from "node:process";
import { encodeClientMessage } from "../core/wire/client.ts";
import { BEARER_PREFIX, SUBPROTOCOL } from "../core/gateway/config.ts";
import { FrameProbe, Tag } from "./_frame_probe.ts";
import { type HistogramJson, LatencyHistogram } from "./latency_histogram.ts";

/** What every job says. */
interface JobBase {
  /** `ws://127.0.0.1:<port>/ws`. */
  readonly url: string;
  /** Socket `i` authenticates with `tokens[i % tokens.length]`. */
  readonly tokens: readonly string[];
  /** Sockets being opened at once (the rest wait their turn). */
  readonly openConcurrency: number;
  /** The longest a socket may take to open (and subscribe), ms. */
  readonly openTimeoutMs: number;
  /** The child exits (code 3) this long after it starts, whatever happens, ms. */
  readonly deadlineMs: number;
  /** Whole ms since the epoch that frame times are taken relative to. */
  readonly baseMs: number;
}

/** Subscribe every socket to one symbol, then time every market data frame. */
export interface SubscribeJob extends JobBase {
  readonly mode: "subscribe";
  readonly sockets: number;
  readonly symbol: string;
  /** Frames received during this long after the last subscription are not timed, ms. */
  readonly warmupMs: number;
  /** The measured window, ms. */
  readonly measureMs: number;
}

/** Open sockets and hold them, counting heartbeats. */
export interface IdleJob extends JobBase {
  readonly mode: "idle";
  readonly sockets: number;
  /** How long to hold them once all are open, ms. */
  readonly holdMs: number;
}

/** One socket: place an order and cancel it, over and over, timing each answer. */
export interface OrdersJob extends JobBase {
  readonly mode: "orders";
  readonly symbol: string;
  /** Orders to place (each is cancelled after its acceptance: twice as many requests). */
  readonly orders: number;
  /** Of which the first are not timed. */
  readonly warmup: number;
  /** Requests sent per second at most: the gateway closes a socket past its message rate. */
  readonly requestsPerSecond: number;
  /** The buy price (price units): far enough below the market to rest. */
  readonly price: number;
  /** The longest wait for an answer, ms. */
  readonly answerTimeoutMs: number;
}

/** A job for the client process. */
export type ClientJob = SubscribeJob | IdleJob | OrdersJob;

/** How opening the sockets went. */
export interface OpenFigures {
  readonly opened: number;
  readonly failed: number;
  /** The first failure's message. */
  readonly firstError?: string;
  /** From the first open to the last (and its subscription), ms. */
  readonly ms: number;
}

/** What a subscribe job measured in its window. */
export interface SubscribeResult {
  readonly mode: "subscribe";
  readonly open: OpenFigures;
  /** The window's length as measured, ms. */
  readonly windowMs: number;
  /** Market data frames (delta, trade, quote) received in the window, over all sockets. */
  readonly frames: number;
  /** Distinct channel sequences seen in the window (frames the core published). */
  readonly sequences: number;
  /** client receive − engineTime, every frame on every socket, ns. */
  readonly engineToReceive: HistogramJson;
  /** sentAt − engineTime, ns (once per frame per socket). */
  readonly engineToSentAt: HistogramJson;
  /** client receive − sentAt, ns. */
  readonly sentAtToReceive: HistogramJson;
  /**
   * Per channel sequence seen in the window: `[sequence, sockets that
   * received it, first receive, last receive]` (ns since the base), for the
   * parent to merge across processes into the fan-out's spread.
   */
  readonly arrivals: readonly (readonly [number, number, number, number])[];
  /** Whether every sentAt seen was a whole ms (a clock of ms resolution). */
  readonly sentAtWholeMs: boolean;
  /** Resyncs, errors and sockets closed during the window. */
  readonly resyncs: number;
  readonly errors: number;
  readonly closed: number;
  /** This process's CPU time over the window ÷ the window. */
  readonly cpu: number;
}

/** What an idle job saw. */
export interface IdleResult {
  readonly mode: "idle";
  readonly open: OpenFigures;
  readonly holdMs: number;
  /** Sockets open at the end of the hold. */
  readonly stillOpen: number;
  /** Heartbeats received during the hold, in all. */
  readonly heartbeats: number;
  /** The fewest heartbeats one open socket received during the hold. */
  readonly minHeartbeats: number;
  /** Anything else received during the hold. */
  readonly otherFrames: number;
  readonly cpu: number;
}

/** What an orders job measured. */
export interface OrdersResult {
  readonly mode: "orders";
  readonly open: OpenFigures;
  /** Timed requests (new orders + cancels) and the seconds they took. */
  readonly timed: number;
  readonly seconds: number;
  /** client send → first execution report for the request, ns: new orders, cancels. */
  readonly newOrder: HistogramJson;
  readonly cancel: HistogramJson;
  /** Parts of every timed round trip: send → engineTime, engineTime → sentAt, sentAt → receive. */
  readonly sendToEngine: HistogramJson;
  readonly engineToSentAt: HistogramJson;
  readonly sentAtToReceive: HistogramJson;
  /** Requests answered by a reject instead of a report. */
  readonly rejects: number;
  /** Execution reports of kinds other than the one awaited (fills, if the market traded with us). */
  readonly otherReports: number;
}

/** One line the child prints. */
export type ClientReport =
  | { readonly type: "opened"; readonly open: OpenFigures }
  | { readonly type: "measuring" }
  | { readonly type: "result"; readonly result: SubscribeResult | IdleResult | OrdersResult }
  | { readonly type: "error"; readonly message: string };

function report(line: ClientReport): void {
  console.log(JSON.stringify(line));
}

/** This process's wall clock, in ns since `baseMs`. */
function clock(baseMs: number): () => number {
  const offsetMs = performance.timeOrigin - baseMs;
  return () => (performance.now() + offsetMs) * 1e6;
}

/** CPU seconds this process has used (user + system). */
function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Opens one socket, offering the token as a subprotocol; resolves once it
 * is open, and (when `ready` is given) once `ready` has seen the frame it
 * waits for.
 */
function openSocket(
  url: string,
  token: string,
  timeoutMs: number,
  onOpen?: (socket: WebSocket) => void,
  ready?: (data: ArrayBuffer) => boolean,
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, [SUBPROTOCOL, BEARER_PREFIX + token]);
    socket.binaryType = "arraybuffer";
    const timer = setTimeout(() => {
      fail(`timed out after ${timeoutMs} ms`);
      try {
        socket.close();
      } catch {
        // Not open yet: nothing to close.
      }
    }, timeoutMs);
    let settled = false;
    const done = () => {
      settled = true;
      clearTimeout(timer);
      socket.removeEventListener("error", onError);
    };
    const fail = (why: string) => {
      if (settled) return;
      done();
      reject(new Error(`Cannot open WebSocket: ${why}`));
    };
    const onError = () => fail("refused (error event)");
    socket.addEventListener("error", onError);
    socket.addEventListener("close", (e) => fail(`closed (${e.code} ${e.reason})`), {
      once: true,
    });
    socket.addEventListener("open", () => {
      onOpen?.(socket);
      if (ready === undefined) {
        done();
        resolve(socket);
        return;
      }
      const onMessage = (e: MessageEvent) => {
        if (settled || !(e.data instanceof ArrayBuffer) || !ready(e.data)) return;
        socket.removeEventListener("message", onMessage);
        done();
        resolve(socket);
      };
      socket.addEventListener("message", onMessage);
    }, { once: true });
  });
}

/** Opens `count` sockets, `concurrency` at a time; failures are counted, not thrown. */
async function openAll(
  job: JobBase,
  count: number,
  onOpen?: (socket: WebSocket) => void,
  ready?: (data: ArrayBuffer) => boolean,
): Promise<{ sockets: WebSocket[]; open: OpenFigures }> {
  const sockets: WebSocket[] = [];
  let next = 0;
  let failed = 0;
  let firstError: string | undefined;
  const start = performance.now();
  const worker = async () => {
    while (next < count) {
      const i = next++;
      try {
        const token = job.tokens[i % job.tokens.length]!;
        sockets.push(await openSocket(job.url, token, job.openTimeoutMs, onOpen, ready));
      } catch (error) {
        failed++;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(job.openConcurrency, count)) }, worker),
  );
  const ms = performance.now() - start;
  return {
    sockets,
    open: {
      opened: sockets.length,
      failed,
      ...(firstError === undefined ? {} : { firstError }),
      ms,
    },
  };
}

async function subscribe(job: SubscribeJob, started: Promise<void>): Promise<WebSocket[]> {
  const probe = new FrameProbe(job.baseMs);
  const now = clock(job.baseMs);
  const frame = encodeClientMessage({
    type: "subscribe",
    requestId: 1n,
    sentAt: 0n,
    symbol: job.symbol,
  });
  const { sockets, open } = await openAll(
    job,
    job.sockets,
    (socket) => socket.send(frame),
    (data) => probe.read(data)?.tag === Tag.bookSnapshot,
  );
  report({ type: "opened", open });
  if (sockets.length === 0) {
    throw new Error(`Cannot subscribe: no socket opened (${open.firstError})`);
  }

  const engineToReceive = new LatencyHistogram();
  const engineToSentAt = new LatencyHistogram();
  const sentAtToReceive = new LatencyHistogram();
  /** Per channel sequence: receives so far, first and last receive time. */
  const bySequence = new Map<number, { n: number; first: number; last: number }>();
  let measuring = false;
  let frames = 0;
  let resyncs = 0;
  let errors = 0;
  let closed = 0;
  let sentAtWholeMs = true;
  for (const socket of sockets) {
    socket.addEventListener("message", (e: MessageEvent) => {
      if (!measuring) return;
      const t = now();
      const f = e.data instanceof ArrayBuffer ? probe.read(e.data) : undefined;
      if (f === undefined) return;
      const tag = f.tag;
      if (tag === Tag.bookDelta || tag === Tag.trade || tag === Tag.quote) {
        frames++;
        engineToReceive.record(t - f.engineTime);
        if (!Number.isNaN(f.sentAt)) {
          engineToSentAt.record(f.sentAt - f.engineTime);
          sentAtToReceive.record(t - f.sentAt);
          // The base is a whole ms, so a whole-ms sentAt is one here too.
          if (sentAtWholeMs && f.sentAt % 1e6 !== 0) sentAtWholeMs = false;
        }
        const seen = bySequence.get(f.sequence);
        if (seen === undefined) bySequence.set(f.sequence, { n: 1, first: t, last: t });
        else {
          seen.n++;
          seen.last = t;
        }
      } else if (tag === Tag.resync) resyncs++;
      else if (tag === Tag.error) errors++;
    });
    socket.addEventListener("close", () => {
      if (measuring) closed++;
    });
  }
  await started;
  await sleep(job.warmupMs);
  report({ type: "measuring" });
  const cpu0 = cpuSeconds();
  const t0 = performance.now();
  measuring = true;
  await sleep(job.measureMs);
  measuring = false;
  const windowMs = performance.now() - t0;
  const cpu = (cpuSeconds() - cpu0) / (windowMs / 1000);
  const arrivals: [number, number, number, number][] = [];
  for (const [sequence, a] of bySequence) arrivals.push([sequence, a.n, a.first, a.last]);
  report({
    type: "result",
    result: {
      mode: "subscribe",
      open,
      windowMs,
      frames,
      sequences: bySequence.size,
      engineToReceive: engineToReceive.toJSON(),
      engineToSentAt: engineToSentAt.toJSON(),
      sentAtToReceive: sentAtToReceive.toJSON(),
      arrivals,
      sentAtWholeMs: sentAtWholeMs && engineToSentAt.count > 0,
      resyncs,
      errors,
      closed,
      cpu,
    },
  });
  return sockets;
}

async function idle(job: IdleJob, started: Promise<void>): Promise<WebSocket[]> {
  const probe = new FrameProbe(job.baseMs);
  const { sockets, open } = await openAll(job, job.sockets);
  report({ type: "opened", open });
  const heartbeats = new Map<WebSocket, number>();
  let holding = false;
  let otherFrames = 0;
  let closed = 0;
  for (const socket of sockets) {
    heartbeats.set(socket, 0);
    socket.addEventListener("message", (e: MessageEvent) => {
      if (!holding) return;
      const f = e.data instanceof ArrayBuffer ? probe.read(e.data) : undefined;
      if (f?.tag === Tag.heartbeat) heartbeats.set(socket, heartbeats.get(socket)! + 1);
      else otherFrames++;
    });
    socket.addEventListener("close", () => void closed++);
  }
  await started;
  report({ type: "measuring" });
  const cpu0 = cpuSeconds();
  const t0 = performance.now();
  holding = true;
  await sleep(job.holdMs);
  holding = false;
  const holdMs = performance.now() - t0;
  const cpu = (cpuSeconds() - cpu0) / (holdMs / 1000);
  let total = 0;
  let min = Infinity;
  for (const socket of sockets) {
    if (socket.readyState !== WebSocket.OPEN) continue;
    const n = heartbeats.get(socket)!;
    total += n;
    min = Math.min(min, n);
  }
  report({
    type: "result",
    result: {
      mode: "idle",
      open,
      holdMs,
      stillOpen: sockets.length - closed,
      heartbeats: total,
      minHeartbeats: Number.isFinite(min) ? min : 0,
      otherFrames,
      cpu,
    },
  });
  return sockets;
}

async function orders(job: OrdersJob, started: Promise<void>): Promise<WebSocket[]> {
  const probe = new FrameProbe(job.baseMs);
  const now = clock(job.baseMs);
  const { sockets, open } = await openAll(job, 1);
  report({ type: "opened", open });
  const socket = sockets[0];
  if (socket === undefined) throw new Error(`Cannot place orders: ${open.firstError}`);

  /** The request awaited: its id, and what answers it. */
  let awaited: { id: number; resolve: (answer: { t: number; ok: boolean }) => void } | undefined;
  const parts = {
    sendToEngine: new LatencyHistogram(),
    engineToSentAt: new LatencyHistogram(),
    sentAtToReceive: new LatencyHistogram(),
  };
  let sentAt = 0;
  let otherReports = 0;
  socket.addEventListener("message", (e: MessageEvent) => {
    const t = now();
    const f = e.data instanceof ArrayBuffer ? probe.read(e.data) : undefined;
    if (f === undefined || awaited === undefined) return;
    if (f.requestId !== awaited.id || (f.tag !== Tag.executionReport && f.tag !== Tag.reject)) {
      if (f.tag === Tag.executionReport) otherReports++;
      return;
    }
    if (f.tag === Tag.executionReport) {
      parts.sendToEngine.record(f.engineTime - sentAt);
      parts.engineToSentAt.record(f.sentAt - f.engineTime);
      parts.sentAtToReceive.record(t - f.sentAt);
    }
    const answered = awaited;
    awaited = undefined;
    answered.resolve({ t, ok: f.tag === Tag.executionReport });
  });
  let finished = false;
  socket.addEventListener("close", (e) => {
    if (finished) return;
    awaited?.resolve({ t: NaN, ok: false });
    report({ type: "error", message: `the core closed the socket: ${e.code} ${e.reason}` });
  });

  await started;
  report({ type: "measuring" });
  const newOrder = new LatencyHistogram();
  const cancel = new LatencyHistogram();
  let rejects = 0;
  let requestId = 0;
  const intervalMs = 1000 / job.requestsPerSecond;
  let slot = performance.now();
  let timedStart = 0;
  /** Sends one request and waits for its answer; returns its round trip in ns. */
  const roundTrip = async (frame: Uint8Array, id: number): Promise<number> => {
    const wait = slot - performance.now();
    if (wait > 0) await sleep(wait);
    slot = Math.max(slot + intervalMs, performance.now());
    const answer = new Promise<{ t: number; ok: boolean }>((resolve) => {
      awaited = { id, resolve };
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), job.answerTimeoutMs);
    });
    sentAt = now();
    socket.send(frame);
    const got = await Promise.race([answer, timeout]);
    clearTimeout(timer);
    if (got === undefined || Number.isNaN(got.t)) {
      throw new Error(
        `Cannot place orders: request ${id} not answered in ${job.answerTimeoutMs} ms`,
      );
    }
    if (!got.ok) rejects++;
    return got.t - sentAt;
  };
  for (let i = 0; i < job.orders; i++) {
    if (i === job.warmup) {
      // What the warm-up saw does not count.
      timedStart = performance.now();
      parts.sendToEngine = new LatencyHistogram();
      parts.engineToSentAt = new LatencyHistogram();
      parts.sentAtToReceive = new LatencyHistogram();
      rejects = 0;
      otherReports = 0;
    }
    const clientOrderId = BigInt(i + 1);
    const placeId = ++requestId;
    const placed = await roundTrip(
      encodeClientMessage({
        type: "newOrder",
        requestId: BigInt(placeId),
        sentAt: 0n,
        clientOrderId,
        symbol: job.symbol,
        side: "buy",
        orderType: "limit",
        timeInForce: "gtc",
        postOnly: false,
        price: job.price,
        quantity: 1,
        account: "",
      }),
      placeId,
    );
    const cancelId = ++requestId;
    const cancelled = await roundTrip(
      encodeClientMessage({
        type: "cancel",
        requestId: BigInt(cancelId),
        sentAt: 0n,
        clientOrderId,
      }),
      cancelId,
    );
    if (i >= job.warmup) {
      newOrder.record(placed);
      cancel.record(cancelled);
    }
  }
  finished = true;
  const seconds = (performance.now() - (timedStart || performance.now())) / 1000;
  report({
    type: "result",
    result: {
      mode: "orders",
      open,
      timed: newOrder.count + cancel.count,
      seconds,
      newOrder: newOrder.toJSON(),
      cancel: cancel.toJSON(),
      sendToEngine: parts.sendToEngine.toJSON(),
      engineToSentAt: parts.engineToSentAt.toJSON(),
      sentAtToReceive: parts.sentAtToReceive.toJSON(),
      rejects,
      otherReports,
    },
  });
  return sockets;
}

/** Reads stdin line by line: the job, then `start` and `close`. */
function watchParent(): { job: Promise<ClientJob>; started: Promise<void>; closed: Promise<void> } {
  let resolveJob!: (job: ClientJob) => void;
  let rejectJob!: (error: Error) => void;
  let resolveStarted!: () => void;
  let resolveClosed!: () => void;
  const job = new Promise<ClientJob>((resolve, reject) => {
    resolveJob = resolve;
    rejectJob = reject;
  });
  const started = new Promise<void>((resolve) => (resolveStarted = resolve));
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  (async () => {
    let buffer = "";
    let lines = 0;
    try {
      const decoder = new TextDecoder();
      for await (const chunk of Deno.stdin.readable) {
        buffer += decoder.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          if (lines++ === 0) {
            try {
              resolveJob(JSON.parse(line) as ClientJob);
            } catch (error) {
              rejectJob(new Error(`Cannot read job: ${error}`));
            }
          } else if (line === "start") resolveStarted();
          else if (line === "close") resolveClosed();
        }
      }
    } finally {
      // The parent closed stdin, or went away: stop.
      rejectJob(new Error("Cannot read job: stdin closed first"));
      resolveStarted();
      resolveClosed();
    }
  })();
  return { job, started, closed };
}

async function main(): Promise<number> {
  const parent = watchParent();
  let sockets: WebSocket[] = [];
  try {
    const job = await parent.job;
    setTimeout(() => {
      report({ type: "error", message: `deadline of ${job.deadlineMs} ms passed` });
      Deno.exit(3);
    }, job.deadlineMs);
    sockets = await (job.mode === "subscribe"
      ? subscribe(job, parent.started)
      : job.mode === "idle"
      ? idle(job, parent.started)
      : orders(job, parent.started));
  } catch (error) {
    report({ type: "error", message: error instanceof Error ? error.message : String(error) });
    return 1;
  }
  await parent.closed;
  // Close cleanly (the core sees 1000, not a reset), waiting a little for it.
  const closes = sockets.map((socket) =>
    new Promise<void>((resolve) => {
      if (socket.readyState === WebSocket.CLOSED) return resolve();
      socket.addEventListener("close", () => resolve(), { once: true });
      try {
        socket.close(1000, "bench done");
      } catch {
        resolve();
      }
    })
  );
  await Promise.race([Promise.all(closes), sleep(2_000)]);
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main());
}
