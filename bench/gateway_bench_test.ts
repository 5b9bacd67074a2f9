import assert from "node:assert";
import { Child } from "./_child.ts";
import { Running } from "./_parts.ts";
import { parseStatusLine, readyLine } from "../schemas/status_line.ts";
import type { SubscribeResult } from "./_gateway_client.ts";
import {
  fileLimitProblem,
  gatewayResults,
  GatewaySubjects,
  mergeFanout,
  referenceServer,
  runGatewayBench,
} from "./gateway_bench.ts";
import { LatencyHistogram } from "./latency_histogram.ts";
import { checkTargets, GATEWAY_TARGETS } from "./targets.ts";

/** One client process's subscribe result: `opened` sockets, some latencies and arrivals. */
function result(
  opened: number,
  latencies: number[],
  arrivals: [number, number, number, number][],
  closed = 0,
): SubscribeResult {
  const h = new LatencyHistogram();
  for (const x of latencies) h.record(x);
  const empty = new LatencyHistogram().toJSON();
  return {
    mode: "subscribe",
    open: { opened, failed: 0, ms: 10 * opened },
    windowMs: 2_000,
    frames: latencies.length,
    sequences: arrivals.length,
    engineToReceive: h.toJSON(),
    engineToSentAt: empty,
    sentAtToReceive: h.toJSON(),
    arrivals,
    sentAtWholeMs: true,
    resyncs: 1,
    errors: 0,
    closed,
    cpu: 0.25,
  };
}

Deno.test("mergeFanout() adds the processes up and spreads a frame over every held subscriber", () => {
  const a = result(2, [1_000, 2_000, 3_000, 4_000], [[1, 2, 100, 300], [2, 2, 500, 600]]);
  // Frame 3 reached b's socket only: it has no spread over all three.
  const b = result(1, [5_000, 6_000], [[1, 1, 50, 50], [2, 1, 900, 900], [3, 1, 1000, 1000]]);
  const run = mergeFanout("core", "AAPL", 500, 3, [a, b], 0.5, 1 << 20);
  assert.deepStrictEqual(
    [run.open.opened, run.open.ms, run.held, run.processes, run.resyncs],
    [3, 20, 3, 2, 2],
  );
  assert.deepStrictEqual([run.spread.samples, run.spread.max], [2, 400]); // frame 1: 50 → 300; frame 2: 500 → 900
  assert.deepStrictEqual([run.engineToReceive.samples, run.engineToReceive.max], [6, 6_000]);
  assert.deepStrictEqual(run.framesPerSecond, 1.5); // three sequences in 2 s
  assert.deepStrictEqual(run.deliveriesPerSecond, 3);
  assert.deepStrictEqual(run.engineToSentAt, undefined); // sentAt of whole ms only: not reported
  assert.deepStrictEqual(run.clientCpu, [0.25, 0.25]);
});

Deno.test("mergeFanout() holds only the subscribers still open at the end of the window", () => {
  const run = mergeFanout("core", "AAPL", 500, 2, [result(2, [1], [[7, 1, 0, 5]], 1)], 0, 0);
  assert.deepStrictEqual([run.held, run.spread.samples, run.spread.max], [1, 1, 5]);
});

Deno.test("fileLimitProblem() asks for room for the core's sockets and its own files", () => {
  const check = (sockets: number, processes: number, soft: number, hard: number, ok: boolean) =>
    assert.deepStrictEqual(fileLimitProblem(sockets, processes, { soft, hard }) === undefined, ok);
  check(10_000, 2, 20_000, 20_000, true);
  check(10_000, 2, 10_000, 20_000, false);
  check(10_000, 1, 10_256, 10_256, true);
  check(1_000, 1, 1_024, 4_096, false);
  check(1_000, 1, Infinity, Infinity, true);
  const message = fileLimitProblem(10_000, 2, { soft: 1_024, hard: 4_096 })!;
  assert(
    message.startsWith("Cannot hold 10,000 sockets: the open-file limit (ulimit -n) is 1,024"),
  );
  assert(message.includes("the hard limit is 4,096, so as root"), message);
});

Deno.test("runGatewayBench() measures a small gateway end to end over real sockets", async () => {
  const figures = await runGatewayBench({
    fanout: {
      subscribers: 6,
      processes: 2,
      instrument: 0,
      syntheticRate: 500,
      referenceFramesPerSecond: 100,
      warmupMs: 200,
      measureMs: 600,
    },
    idle: { sockets: 20, processes: 1, accounts: 3, holdMs: 1_200 },
    orders: { orders: 15, warmup: 5, requestsPerSecond: 500 },
    openConcurrency: 4,
  });
  const value = <T>(o: { ok: true; value: T } | { ok: false; error: string } | undefined) => {
    assert(o !== undefined && o.ok, JSON.stringify(o));
    return o.value;
  };
  for (const run of [value(figures.reference), value(figures.fanout)]) {
    assert.deepStrictEqual([run.open.opened, run.held, run.processes, run.errors], [6, 6, 2, 0]);
    assert(run.engineToReceive.samples > 0 && run.framesPerSecond > 0, JSON.stringify(run));
    assert(run.spread.samples > 0, "no frame reached every subscriber");
  }
  const idle = value(figures.idle);
  assert.deepStrictEqual([idle.open.opened, idle.heldByClients, idle.heldByCore], [20, 20, 20]);
  assert(idle.rssAfterBytes > 0 && idle.heartbeats > 0, JSON.stringify(idle));
  assert.deepStrictEqual(figures.orders.map((o) => value(o).syntheticRate), [0, 500]);
  for (const o of figures.orders) {
    const run = value(o);
    assert.deepStrictEqual([run.timed, run.newOrder.samples, run.cancel.samples, run.rejects], [
      20,
      10,
      10,
      0,
    ]);
  }
  // Its results name what the targets look for (at the targets' sizes).
  const results = gatewayResults(figures);
  assert.deepStrictEqual(results.map((r) => r.name), [
    GatewaySubjects.reference(6),
    GatewaySubjects.fanout(6),
    GatewaySubjects.idle(20),
  ]);
  assert.deepStrictEqual(results.map((r) => r.count), [6, 6, 20]);
  assert.deepStrictEqual(checkTargets(results, GATEWAY_TARGETS).map((c) => c.status), [
    "SKIP",
    "SKIP",
    "SKIP",
  ]);
});

Deno.test("the gateway targets pass and fail on the figures they name", () => {
  const latency = (p99: number) => ({ p50: 0, p90: 0, p99, p999: 0, max: 0, samples: 1 });
  const checks = checkTargets([
    { name: GatewaySubjects.fanout(1_000), count: 999, latency: latency(4e6) },
    { name: GatewaySubjects.idle(10_000), count: 10_000 },
  ], GATEWAY_TARGETS);
  assert.deepStrictEqual(checks.map((c) => [c.status, c.detail]), [
    ["FAIL", "999"],
    ["PASS", "4.00 ms"],
    ["PASS", "10,000"],
  ]);
});

Deno.test("referenceServer() learns the fan-out reference's WebSocket from its ready status line", async () => {
  const running = new Running();
  try {
    const server = await referenceServer(10, running);
    assert.match(server.url, /^ws:\/\/127\.0\.0\.1:\d+\/ws$/);
    const socket = new WebSocket(server.url);
    await new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = () => reject(new Error(`Cannot open ${server.url}`));
    });
    const closed = new Promise((resolve) => (socket.onclose = resolve));
    socket.close();
    await closed;
    await server.stop();
  } finally {
    await running.stopAll();
  }
});

Deno.test("the fan-out reference says it stopped, and why, in a stopped status line", async () => {
  const child = Child.spawn("reference", Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--allow-net=127.0.0.1",
      "--allow-read",
      "--allow-env",
      new URL("./_fanout_reference.ts", import.meta.url).pathname,
    ],
    env: { RUN_FOR_MS: "30000", NO_COLOR: "1" },
    stdin: true,
  });
  const lines: string[] = [];
  child.onLine((line) => lines.push(line));
  try {
    const ready = await child.waitFor(readyLine, 30_000, "its ready status line");
    assert.strictEqual(ready.pid, child.pid);
  } finally {
    await child.stop(5_000, false); // stdin closes: it stops on its own
  }
  assert.deepStrictEqual(parseStatusLine(lines.at(-1) ?? ""), {
    event: "stopped",
    pid: child.pid,
    why: "stdin closed",
  });
});
