import { compareToBaseline, makeBaseline, parseBaseline, type StreamConfig } from "./baseline.ts";
import {
  formatNs,
  formatRate,
  formatRatio,
  medianIndex,
  percentiles,
  timerOverheadNs,
} from "./subject.ts";
import assert from "node:assert";
import { assertBetween } from "../core/_testing/between.ts";

// --- percentiles and formatting ------------------------------------------------

Deno.test("percentiles() picks nearest-rank values from 1..1000", () => {
  const samples = Float64Array.from({ length: 1_000 }, (_, i) => 1_000 - i); // unsorted on purpose
  assert.deepStrictEqual(percentiles(samples), {
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
  assert.deepStrictEqual([...samples], [3, 1, 2]);
});

Deno.test("percentiles() of one sample is that sample everywhere", () => {
  const p = percentiles(Float64Array.of(42));
  assert.deepStrictEqual([p.p50, p.p90, p.p99, p.p999, p.max], [42, 42, 42, 42, 42]);
});

Deno.test("percentiles() of nothing is NaN, not a throw", () => {
  const p = percentiles(new Float64Array(0));
  assert(Number.isNaN(p.p50) && Number.isNaN(p.max), "expected NaN");
  assert.deepStrictEqual(p.samples, 0);
});

Deno.test("percentiles() sorts numerically, not as strings", () => {
  const p = percentiles(Float64Array.from([9, 10, 100, 2]));
  assert.deepStrictEqual(p.max, 100);
  assert.deepStrictEqual(p.p50, 9);
});

Deno.test("formatRate() prints millions per second with three significant digits", () => {
  assert.deepStrictEqual(formatRate(12_345_678), "12.3 M/s");
  assert.deepStrictEqual(formatRate(456_789), "0.457 M/s");
  assert.deepStrictEqual(formatRate(NaN), "-");
});

Deno.test("formatNs() picks the unit that keeps the figure short", () => {
  assert.deepStrictEqual(formatNs(87.4), "87 ns");
  assert.deepStrictEqual(formatNs(999), "999 ns");
  assert.deepStrictEqual(formatNs(1_250), "1.25 µs");
  assert.deepStrictEqual(formatNs(3_400_000), "3.40 ms");
  assert.deepStrictEqual(formatNs(2e9), "2.00 s");
  assert.deepStrictEqual(formatNs(Infinity), "-");
});

Deno.test("formatRatio() prints three significant digits and a times sign", () => {
  assert.deepStrictEqual(formatRatio(1), "1.00×");
  assert.deepStrictEqual(formatRatio(12.345), "12.3×");
  assert.deepStrictEqual(formatRatio(NaN), "-");
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
  assert.deepStrictEqual(v.rows["native-kernel"], "regressed");
  assert.deepStrictEqual(v.regressions, ["native-kernel"]);
});

Deno.test("compareToBaseline() tolerates a fall within tolerance", () => {
  const v = verdicts([{ name: "native-kernel", ratio: 6.1 }]); // -24%
  assert.deepStrictEqual(v.rows["native-kernel"], "ok");
  assert.deepStrictEqual(v.regressions, []);
});

Deno.test("compareToBaseline() never counts an improvement as a regression", () => {
  const v = verdicts([{ name: "native-kernel", ratio: 20 }, {
    name: "nodejs-order-book",
    ratio: 0.21,
  }]);
  assert.deepStrictEqual(v.rows["native-kernel"], "improved");
  assert.deepStrictEqual(v.rows["nodejs-order-book"], "ok");
  assert.deepStrictEqual(v.regressions, []);
});

Deno.test("compareToBaseline() reports missing and new subjects without failing", () => {
  const v = verdicts([{ name: "reference", ratio: 1 }, { name: "native-rings", ratio: 3 }]);
  assert.deepStrictEqual(v.rows, {
    "reference": "reference",
    "native-kernel": "missing",
    "nodejs-order-book": "missing",
    "native-rings": "new",
  });
  assert.deepStrictEqual(v.regressions, []);
});

Deno.test("compareToBaseline() does not gate a run of another configuration", () => {
  const v = verdicts([{ name: "native-kernel", ratio: 1 }], { ...config, count: 50_000 });
  assert.deepStrictEqual(v.rows["native-kernel"], "regressed");
  assert.deepStrictEqual(v.comparable, false);
  assert.deepStrictEqual(v.regressions, []);
});

Deno.test("compareToBaseline() with no baseline lists every subject as new", () => {
  const result = compareToBaseline(undefined, config, [{ name: "x", ratio: 2 }], 0.25);
  assert.deepStrictEqual(result.rows.map((r) => r.verdict), ["new"]);
  assert.deepStrictEqual(result.comparable, false);
});

Deno.test("compareToBaseline() refuses a nonsensical tolerance", () => {
  assert.throws(() => compareToBaseline(baseline, config, [], 1.5), RangeError);
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
  assert.deepStrictEqual(Object.keys(rerun.subjects).sort(), [
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
  assert.deepStrictEqual(Object.keys(other.subjects), ["reference"]);
});

Deno.test("parseBaseline() round-trips makeBaseline() and rejects bad files", () => {
  assert.deepStrictEqual(parseBaseline(JSON.parse(JSON.stringify(baseline)), "test"), baseline);
  assert.throws(() => parseBaseline({ version: 2 }, "test"), TypeError);
  assert.throws(
    () =>
      parseBaseline({ ...baseline, subjects: { x: { ratio: 0, commandsPerSecond: 1 } } }, "test"),
    TypeError,
  );
});

Deno.test("medianIndex picks the median round, the lower middle of an even count", () => {
  assert.deepStrictEqual(medianIndex([5]), 0);
  assert.deepStrictEqual(medianIndex([30, 10, 20]), 2);
  assert.deepStrictEqual(medianIndex([4, 1, 3, 2]), 3); // sorted 1 2 3 4: the lower middle, 2
  assert.deepStrictEqual(medianIndex([7, 7, 7]), 1); // ties keep their order
  assert.throws(() => medianIndex([]), RangeError);
});
