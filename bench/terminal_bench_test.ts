import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { CHROMIUM } from "../ui/_testing/chromium.ts";
import {
  messageToPaint,
  type PageReport,
  runTerminalBench,
  summarise,
  terminalLines,
  terminalResults,
  TerminalSubjects,
} from "./terminal_bench.ts";
import { checkTargets, TERMINAL_TARGETS } from "./targets.ts";

Deno.test("messageToPaint() takes each message to the paint of the first frame starting after it", () => {
  const frames = [10, 26.7, 43.3];
  const paints = [12, 29, 45];
  deepStrictEqual(
    [...messageToPaint([1, 10, 11, 26, 30, 50], frames, paints)],
    // 1 and 10 (at the frame's start: before its callbacks) → frame 0;
    // 11, 26 → frame 1; 30 → frame 2; 50 never painted: left out.
    [11e6, 2e6, 18e6, 3e6, 15e6],
  );
});

Deno.test("messageToPaint() pairs frames and paints by index and ignores a frame without its paint", () => {
  deepStrictEqual([...messageToPaint([5], [10, 20], [11])], [6e6]);
  deepStrictEqual([...messageToPaint([15], [10, 20], [11])], []);
});

function report(
  patch: Partial<PageReport> = {},
  marks: Partial<PageReport["marks"]> = {},
): PageReport {
  // 120 messages 1 ms apart from t=1000; frames every 16 ms; paint 2 ms after each frame.
  const messages = Array.from({ length: 120 }, (_, i) => 1000 + i);
  const frames = Array.from({ length: 8 }, (_, i) => 1000 + i * 16);
  return {
    chromium: "1.0",
    rate: 1000,
    seconds: 0.1,
    warmupMs: 0,
    sentMeasured: 120,
    bundleBytes: 300_000,
    marks: {
      end: 1130,
      messages,
      frames,
      paints: frames.map((f) => f + 2),
      longtasks: [],
      csp: [],
      ...marks,
    },
    drawn: { candles: 7, depth: 100, sparkline: 50, status: "connected" },
    errors: [],
    ...patch,
  };
}

Deno.test("summarise() reports percentiles of message → paint and the frame rate", () => {
  const run = summarise(report());
  // Frames at 1000, 1016, …, 1112: the 7 messages after 1112 are not painted.
  strictEqual(run.painted, 113);
  strictEqual(run.messages, 120);
  // A message just after a frame waits the whole frame: 16 ms + 2 ms paint, minus 1 ms.
  strictEqual(run.paint.max, 17e6);
  // One at a frame's start is painted 2 ms later.
  ok(run.paint.p50 > 2e6 && run.paint.p50 < 17e6);
  strictEqual(Math.round(run.fps), 63); // 7 intervals over 112 ms
  strictEqual(run.longTasks, 0);
  strictEqual(run.longestTaskMs, 0);
});

Deno.test("terminalResults() gives the targets the p99 and the long tasks' count", () => {
  const run = summarise(report({}, { longtasks: [{ start: 1050, duration: 72 }] }));
  const results = terminalResults({
    config: { rate: 1000, seconds: 0.1, warmupMs: 0 },
    run: { ok: true, value: run },
  });
  strictEqual(results.find((r) => r.name === TerminalSubjects.paint)?.latency?.p99, run.paint.p99);
  strictEqual(
    results.find((r) => r.name === TerminalSubjects.longTasks)?.count,
    1,
  );
  strictEqual(run.longestTaskMs, 72);
});

Deno.test("terminalResults() refuses a run whose page broke: a CSP violation or a script error", () => {
  const config = { rate: 1000, seconds: 0.1, warmupMs: 0 };
  for (
    const r of [
      report({}, { csp: ["style-src-elem inline"] }),
      report({ errors: ["pageerror: boom"] }),
    ]
  ) {
    const results = terminalResults({ config, run: { ok: true, value: summarise(r) } });
    strictEqual(results.length, 2);
    ok(
      results.every((x) => x.error !== undefined && x.latency === undefined),
      JSON.stringify(results),
    );
  }
  const lines = terminalLines({
    config,
    run: { ok: true, value: summarise(report({}, { csp: ["style-src-elem inline"] })) },
  });
  ok(lines.some((l) => l.includes("CSP VIOLATION: style-src-elem inline")), lines.join("\n"));
});

Deno.test("terminalLines() prints the configuration and the figures", () => {
  const run = summarise(report());
  const text = terminalLines({
    config: { rate: 1000, seconds: 10, warmupMs: 1000 },
    machine: { cpus: 2, load: [1.5, 2.25] },
    run: { ok: true, value: run },
  }).join("\n");
  ok(text.includes("1,000 messages/s"), text);
  ok(text.includes("2 CPUs, load average (1 min) 1.50 before, 2.25 after"), text);
  ok(text.includes("10 s measured after 1000 ms"), text);
  ok(text.includes("message → paint: p50 "), text);
  ok(text.includes("p99 "), text);
  ok(text.includes("long tasks (> 50 ms): 0"), text);
});

Deno.test("TERMINAL_TARGETS: PASS within a frame and no long task; FAIL on one long task or a slow p99", () => {
  const config = { rate: 1000, seconds: 0.1, warmupMs: 0 };
  const statuses = (r: PageReport) =>
    checkTargets(
      terminalResults({ config, run: { ok: true, value: summarise(r) } }),
      TERMINAL_TARGETS,
    )
      .map((c) => c.status);
  deepStrictEqual(statuses(report()), ["PASS", "PASS"]);
  deepStrictEqual(statuses(report({}, { longtasks: [{ start: 1010, duration: 51 }] })), [
    "FAIL",
    "PASS",
  ]);
  // Every paint 30 ms after its frame: p99 over 20 ms.
  const frames = Array.from({ length: 8 }, (_, i) => 1000 + i * 16);
  deepStrictEqual(statuses(report({}, { frames, paints: frames.map((f) => f + 30) })), [
    "PASS",
    "FAIL",
  ]);
  // Skipped (no Chromium): no result, so SKIP, never PASS.
  deepStrictEqual(
    checkTargets(terminalResults({ config, skipped: "no Chromium" }), TERMINAL_TARGETS).map((c) =>
      c.status
    ),
    ["SKIP", "SKIP"],
  );
});

const chromiumFound = await Deno.stat(CHROMIUM).then(() => true, () => false);
if (!chromiumFound) {
  console.warn(`bench/terminal_bench_test.ts: page run skipped: no Chromium at ${CHROMIUM}`);
}

Deno.test({
  name:
    "the bench's page in Chromium: the charts draw under the terminal's CSP, with no violation or error",
  ignore: !chromiumFound,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    // One short run of the real thing, at a low rate: nothing here depends on speed.
    const figures = await runTerminalBench({ rate: 200, seconds: 1, warmupMs: 500, log: () => {} });
    ok(figures.run?.ok, JSON.stringify(figures.run));
    const run = figures.run.value;
    deepStrictEqual([run.csp, run.errors], [[], []]);
    ok(run.drawn.candles > 0, "the candle chart drew no canvas");
    ok(run.drawn.depth > 0, "the depth chart drew no path");
    ok(run.drawn.sparkline > 0, "the sparkline drew no line");
    strictEqual(run.drawn.status, "connected");
    ok(run.painted > 0 && run.messages > 0, JSON.stringify(run));
  },
});
