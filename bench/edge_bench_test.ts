import assert from "node:assert";
import { Child } from "./_child.ts";
import { Running } from "./_parts.ts";
import type { WrkResult } from "./_wrk.ts";
import { parseStatusLine, readyLine } from "../schemas/status_line.ts";
import {
  type EdgeFigures,
  edgeResults,
  EdgeSubjects,
  type LoadFigures,
  matchSightings,
  printEdge,
  type ServerFigures,
  startServer,
} from "./edge_bench.ts";
import { medianIndex } from "./subject.ts";
import { checkTargets, EDGE_TARGETS } from "./targets.ts";

Deno.test("matchSightings: trade k is visible at the first sighting counting before + k trades", () => {
  // Trades at 100, 110, 120 and 400; the day had 10 trades before them.
  const v = matchSightings([100, 110, 120, 400], 10, [
    { at: 50, trades: 10, updated: 40 }, // the state before: counts none
    { at: 180, trades: 12, updated: 150 }, // counts the first two
    { at: 260, trades: 13, updated: 230 }, // the third
    { at: 300, trades: 13, updated: 230 }, // a repeat: nothing new
    { at: 470, trades: 14, updated: 440 },
  ]);
  assert.deepStrictEqual(v, {
    tradeToVisible: [80, 70, 140, 70],
    tradeToSnapshot: [50, 40, 110, 40],
    snapshotToVisible: [30, 30, 30, 30],
    unseen: 0,
  });
});

Deno.test("matchSightings counts the trades no sighting reached as unseen", () => {
  const v = matchSightings([100, 200, 300], 0, [{ at: 250, trades: 2, updated: 240 }]);
  assert.deepStrictEqual([v.tradeToVisible, v.unseen], [[150, 50], 1]);
  assert.deepStrictEqual(matchSightings([100], 0, []).unseen, 1);
  assert.deepStrictEqual(matchSightings([], 0, []), {
    tradeToVisible: [],
    tradeToSnapshot: [],
    snapshotToVisible: [],
    unseen: 0,
  });
});

/** A wrk result with a rate and p99, the rest plausible. */
function wrk(requestsPerSecond: number, p99Ms: number): WrkResult {
  return {
    requests: requestsPerSecond * 2,
    seconds: 2,
    requestsPerSecond,
    latency: { mean: 5e5, max: p99Ms * 2e6, p50: 5e5, p75: 6e5, p90: 7e5, p99: p99Ms * 1e6 },
    non2xx: 0,
    socketErrors: { connect: 0, read: 0, write: 0, timeout: 0 },
  };
}

function server(label: string, rates: number[], p99Ms: number): ServerFigures {
  const rounds = rates.map((r) => wrk(r, p99Ms));
  return {
    label,
    responseHeaders: [["content-type", "application/json"]],
    bodyBytes: 361,
    rounds,
    cpu: rates.map(() => 1),
    median: rounds[medianIndex(rates)]!,
  };
}

const LOAD: LoadFigures = {
  wrk: "wrk debian/4.1.0-3+b2 [epoll] Copyright (C) 2012 Will Glozer",
  path: "/api/v1/quotes/AAPL",
  bare: server("bare Deno.serve", [180_000, 190_000, 185_000], 0.7),
  headers: server("bare + edge headers", [60_000, 58_000, 61_000], 1.4),
  edge: server("edge", [48_000, 47_000, 49_000], 1.8),
  ratio: 0.26,
  ratioToHeaders: 0.8,
  headersRatio: 0.32,
  rewrites: 200,
};

const FRESH = {
  cadenceMs: 100,
  pollMs: 50,
  trades: 300,
  seen: 300,
  events: 80,
  seconds: 7.8,
  tradeToVisible: { p50: 80e6, p90: 120e6, p99: 140e6, p999: 150e6, max: 150e6, samples: 300 },
  tradeToSnapshot: { p50: 50e6, p90: 90e6, p99: 99e6, p999: 100e6, max: 100e6, samples: 300 },
  snapshotToVisible: { p50: 30e6, p90: 45e6, p99: 52e6, p999: 52e6, max: 52e6, samples: 300 },
  lastTradeTimeAgrees: true,
};

Deno.test("edgeResults: the quote's ratio, p99 and the freshness are checked against the targets", () => {
  const figures: EdgeFigures = {
    config: {},
    seconds: 30,
    load: { ok: true, value: LOAD },
    freshness: { ok: true, value: FRESH },
  };
  const results = edgeResults(figures);
  assert.deepStrictEqual(results.map((r) => r.name), [
    EdgeSubjects.bare,
    EdgeSubjects.headers,
    EdgeSubjects.quote,
    EdgeSubjects.freshness,
  ]);
  const quote = results.find((r) => r.name === EdgeSubjects.quote)!;
  assert.deepStrictEqual([quote.commandsPerSecond, quote.ratio, quote.latency?.p99], [
    48_000,
    0.26,
    1.8e6,
  ]);
  const checks = checkTargets(results, EDGE_TARGETS);
  assert.deepStrictEqual(checks.map((c) => [c.status, c.detail]), [
    ["FAIL", "0.260×"],
    ["PASS", "1.80 ms"],
    ["PASS", "140.00 ms"],
  ]);
});

Deno.test("edgeResults: a part not measured skips its targets with the reason", () => {
  const figures: EdgeFigures = {
    config: {},
    seconds: 1,
    load: { ok: false, error: "wrk is not installed" },
    freshness: { ok: false, error: "the core did not start" },
  };
  const checks = checkTargets(edgeResults(figures), EDGE_TARGETS);
  assert.deepStrictEqual(checks.map((c) => c.status), ["SKIP", "SKIP", "SKIP"]);
  assert.deepStrictEqual(checks[0]?.detail, "edge-quote-get not measured: wrk is not installed");
  assert.deepStrictEqual(checks[2]?.detail, "edge-freshness not measured: the core did not start");
});

Deno.test("printEdge prints the configuration, each server's figures, and what was not measured", () => {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => void lines.push(args.join(" "));
  try {
    const config = {
      load: {
        symbol: "AAPL",
        threads: 1,
        connections: 50,
        warmupSeconds: 1,
        seconds: 2,
        rounds: 3,
        requestHeaders: [["Accept", "application/json"]] as const,
        rewriteEveryMs: 100,
        rateLimit: 1e9,
      },
      freshness: { symbol: "AAPL", trades: 300, minGapMs: 5, maxGapMs: 45, seed: 1 },
    };
    printEdge({
      config,
      seconds: 30,
      load: { ok: true, value: LOAD },
      freshness: { ok: true, value: FRESH },
    });
    const text = lines.join("\n");
    for (
      const part of [
        "1 thread(s), 50 connections",
        "body 361 bytes",
        "edge ÷ bare 0.260×",
        "48,000",
        "180,000 190,000 185,000",
        "trade → visible at the edge  p50 80.00 ms, p99 140.00 ms",
      ]
    ) assert(text.includes(part), `missing ${part} in\n${text}`);
    lines.length = 0;
    printEdge({ config, seconds: 1, load: { ok: false, error: "wrk is not installed" } });
    assert(
      lines.join("\n").includes("quote GET NOT MEASURED: wrk is not installed"),
      lines.join("\n"),
    );
  } finally {
    console.log = log;
  }
});

const HTTP_REFERENCE = new URL("./_http_reference.ts", import.meta.url).pathname;
const EDGE_SERVER = new URL("./_edge_server.ts", import.meta.url).pathname;

Deno.test("startServer() learns where the reference and the bench's edge listen from their ready status lines", async () => {
  const running = new Running();
  const dir = await Deno.makeTempDir({ prefix: "tc-edge-bench-" });
  try {
    const reference = await startServer(
      "reference",
      ["--allow-net=127.0.0.1", "--allow-env", HTTP_REFERENCE],
      { REFERENCE_BODY: "the reference", RUN_FOR_MS: "30000" },
      running,
    );
    assert.match(reference.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.strictEqual(await (await fetch(`${reference.url}/any`)).text(), "the reference");
    const edge = await startServer(
      "edge",
      ["--allow-net=127.0.0.1", "--allow-read", `--allow-write=${dir}`, "--allow-env", EDGE_SERVER],
      { KV_PATH: `${dir}/edge.kv`, RUN_FOR_MS: "30000" },
      running,
    );
    assert.match(edge.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const livez = await fetch(`${edge.url}/livez`);
    await livez.body?.cancel();
    assert.strictEqual(livez.status, 200);
  } finally {
    await running.stopAll();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the edge bench's servers say they stopped, and why, in a stopped status line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tc-edge-bench-" });
  try {
    for (
      const [script, permissions] of [
        [HTTP_REFERENCE, ["--allow-net=127.0.0.1", "--allow-env"]],
        [EDGE_SERVER, [
          "--allow-net=127.0.0.1",
          "--allow-read",
          `--allow-write=${dir}`,
          "--allow-env",
        ]],
      ] as const
    ) {
      const child = Child.spawn(script, Deno.execPath(), {
        args: ["run", "--quiet", ...permissions, script],
        env: { KV_PATH: `${dir}/edge.kv`, RUN_FOR_MS: "30000", NO_COLOR: "1" },
      });
      const lines: string[] = [];
      child.onLine((line) => lines.push(line));
      try {
        const ready = await child.waitFor(readyLine, 30_000, "its ready status line");
        assert.strictEqual(ready.pid, child.pid);
      } finally {
        await child.stop(5_000);
      }
      assert.deepStrictEqual(parseStatusLine(lines.at(-1) ?? ""), {
        ...(script === EDGE_SERVER ? { symbols: 0, version: 0 } : {}),
        event: "stopped",
        pid: child.pid,
        why: "SIGTERM",
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
