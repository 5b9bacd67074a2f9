import { compareToBaseline, makeBaseline, parseBaseline, type StreamConfig } from "./baseline.ts";
import {
  formatNs,
  formatRate,
  formatRatio,
  medianIndex,
  percentiles,
  timerOverheadNs,
} from "./subject.ts";
import { assert, assertBetween, assertEquals, assertThrows } from "../core/_testing/assert.ts";

// --- percentiles and formatting ------------------------------------------------

Deno.test("percentiles() picks nearest-rank values from 1..1000", () => {
  const samples = Float64Array.from({ length: 1_000 }, (_, i) => 1_000 - i); // unsorted on purpose
  assertEquals(percentiles(samples), {
    p50: 500,
    p90: 900,
    p99: 990,
    p999: 999,
    max: 1_000,
    samples: 1_000,
  });
});

Deno.test("percentiles() does not reorder the caller's samples", () => {
  const samples = Float64Array.from([3, 1, 2]);
  percentiles(samples);
  assertEquals([...samples], [3, 1, 2]);
});

Deno.test("percentiles() of one sample is that sample everywhere", () => {
  const p = percentiles(Float64Array.of(42));
  assertEquals([p.p50, p.p90, p.p99, p.p999, p.max], [42, 42, 42, 42, 42]);
});

Deno.test("percentiles() of nothing is NaN, not a throw", () => {
  const p = percentiles(new Float64Array(0));
  assert(Number.isNaN(p.p50) && Number.isNaN(p.max), "expected NaN");
  assertEquals(p.samples, 0);
});

Deno.test("percentiles() sorts numerically, not as strings", () => {
  const p = percentiles(Float64Array.from([9, 10, 100, 2]));
  assertEquals(p.max, 100);
  assertEquals(p.p50, 9);
});

Deno.test("formatRate() prints millions per second with three significant digits", () => {
  assertEquals(formatRate(12_345_678), "12.3 M/s");
  assertEquals(formatRate(456_789), "0.457 M/s");
  assertEquals(formatRate(NaN), "-");
});

Deno.test("formatNs() picks the unit that keeps the figure short", () => {
  assertEquals(formatNs(87.4), "87 ns");
  assertEquals(formatNs(999), "999 ns");
  assertEquals(formatNs(1_250), "1.25 µs");
  assertEquals(formatNs(3_400_000), "3.40 ms");
  assertEquals(formatNs(2e9), "2.00 s");
  assertEquals(formatNs(Infinity), "-");
});

Deno.test("formatRatio() prints three significant digits and a times sign", () => {
  assertEquals(formatRatio(1), "1.00×");
  assertEquals(formatRatio(12.345), "12.3×");
  assertEquals(formatRatio(NaN), "-");
});

Deno.test("timerOverheadNs() measures a small, non-negative cost", () => {
  assertBetween(timerOverheadNs(2_000), 0, 100_000, "clock overhead (ns)");
});

// --- baseline comparison -------------------------------------------------------

const config: StreamConfig = { count: 1_000_000, seed: 1, depth: 500, instrument: 0 };
const baseline = makeBaseline("reference", config, [
  { name: "reference", ratio: 1, commandsPerSecond: 1.5e6 },
  { name: "native-kernel", ratio: 8, commandsPerSecond: 12e6 },
  { name: "nodejs-order-book", ratio: 0.2, commandsPerSecond: 0.3e6 },
]);

function verdicts(measured: { name: string; ratio: number }[], runConfig = config) {
  const result = compareToBaseline(baseline, runConfig, measured, 0.25);
  return {
    rows: Object.fromEntries(result.rows.map((r) => [r.subject, r.verdict])),
    regressions: result.regressions,
    comparable: result.comparable,
  };
}

Deno.test("compareToBaseline() flags a ratio that fell beyond tolerance", () => {
  const v = verdicts([
    { name: "reference", ratio: 1 },
    { name: "native-kernel", ratio: 5.9 }, // -26%
    { name: "nodejs-order-book", ratio: 0.2 },
  ]);
  assertEquals(v.rows["native-kernel"], "regressed");
  assertEquals(v.regressions, ["native-kernel"]);
});

Deno.test("compareToBaseline() tolerates a fall within tolerance", () => {
  const v = verdicts([{ name: "native-kernel", ratio: 6.1 }]); // -24%
  assertEquals(v.rows["native-kernel"], "ok");
  assertEquals(v.regressions, []);
});

Deno.test("compareToBaseline() never counts an improvement as a regression", () => {
  const v = verdicts([{ name: "native-kernel", ratio: 20 }, {
    name: "nodejs-order-book",
    ratio: 0.21,
  }]);
  assertEquals(v.rows["native-kernel"], "improved");
  assertEquals(v.rows["nodejs-order-book"], "ok");
  assertEquals(v.regressions, []);
});

Deno.test("compareToBaseline() reports missing and new subjects without failing", () => {
  const v = verdicts([{ name: "reference", ratio: 1 }, { name: "native-rings", ratio: 3 }]);
  assertEquals(v.rows, {
    "reference": "reference",
    "native-kernel": "missing",
    "nodejs-order-book": "missing",
    "native-rings": "new",
  });
  assertEquals(v.regressions, []);
});

Deno.test("compareToBaseline() does not gate a run of another configuration", () => {
  const v = verdicts([{ name: "native-kernel", ratio: 1 }], { ...config, count: 50_000 });
  assertEquals(v.rows["native-kernel"], "regressed");
  assertEquals(v.comparable, false);
  assertEquals(v.regressions, []);
});

Deno.test("compareToBaseline() with no baseline lists every subject as new", () => {
  const result = compareToBaseline(undefined, config, [{ name: "x", ratio: 2 }], 0.25);
  assertEquals(result.rows.map((r) => r.verdict), ["new"]);
  assertEquals(result.comparable, false);
});

Deno.test("compareToBaseline() refuses a nonsensical tolerance", () => {
  assertThrows(() => compareToBaseline(baseline, config, [], 1.5), RangeError);
});

Deno.test("makeBaseline() keeps unmeasured subjects only when the stream is unchanged", () => {
  const rerun = makeBaseline(
    "reference",
    config,
    [
      { name: "reference", ratio: 1, commandsPerSecond: 1.4e6 },
    ],
    {},
    baseline,
  );
  assertEquals(Object.keys(rerun.subjects).sort(), [
    "native-kernel",
    "nodejs-order-book",
    "reference",
  ]);
  const other = makeBaseline(
    "reference",
    { ...config, depth: 50 },
    [
      { name: "reference", ratio: 1, commandsPerSecond: 1.4e6 },
    ],
    {},
    baseline,
  );
  assertEquals(Object.keys(other.subjects), ["reference"]);
});

Deno.test("parseBaseline() round-trips makeBaseline() and rejects bad files", () => {
  assertEquals(parseBaseline(JSON.parse(JSON.stringify(baseline)), "test"), baseline);
  assertThrows(() => parseBaseline({ version: 2 }, "test"), TypeError);
  assertThrows(
    () =>
      parseBaseline({ ...baseline, subjects: { x: { ratio: 0, commandsPerSecond: 1 } } }, "test"),
    TypeError,
  );
});

Deno.test("medianIndex picks the median round, the lower middle of an even count", () => {
  assertEquals(medianIndex([5]), 0);
  assertEquals(medianIndex([30, 10, 20]), 2);
  assertEquals(medianIndex([4, 1, 3, 2]), 3); // sorted 1 2 3 4: the lower middle, 2
  assertEquals(medianIndex([7, 7, 7]), 1); // ties keep their order
  assertThrows(() => medianIndex([]), RangeError);
});
