import assert from "node:assert/strict";
import { compareToBaseline, makeBaseline, parseBaseline } from "./baseline.ts";

const config = { count: 1_000, seed: 1, depth: 10, instrument: 0 };
const baseline = makeBaseline("reference", config, [
  { name: "reference", ratio: 1, commandsPerSecond: 1e6 },
  { name: "rings", ratio: 7.43, commandsPerSecond: 7.43e6 },
  { name: "kernel", ratio: 12.5, commandsPerSecond: 12.5e6 },
]);

Deno.test("compareToBaseline() does not call a fall inside the ratio's spread regressed", () => {
  // native-rings' three rounds in the incident: 5.1, 5.6 and 9.3 M/s.
  const result = compareToBaseline(baseline, config, [
    { name: "reference", ratio: 1, samples: [1, 1, 1] },
    { name: "rings", ratio: 4.6, samples: [4.2, 4.6, 7.6] },
    { name: "kernel", ratio: 12.4, samples: [12.1, 12.4, 12.9] },
  ], 0.25);
  assert.deepEqual(result.regressions, []);
  const rings = result.rows.find((r) => r.subject === "rings")!;
  assert.equal(rings.verdict, "noisy");
  assert.equal(rings.needsSamples, true);
  assert.deepEqual([rings.interval?.low, rings.interval?.high], [4.2, 7.6]);
  const kernel = result.rows.find((r) => r.subject === "kernel")!;
  assert.equal(kernel.verdict, "ok");
  assert.equal(kernel.needsSamples, undefined);
});

Deno.test("compareToBaseline() gates a fall whose interval lies beyond the tolerance", () => {
  const steady = [4.4, 4.5, 4.6, 4.5, 4.4, 4.6, 4.5, 4.7, 4.5, 4.4, 4.6];
  const result = compareToBaseline(baseline, config, [
    { name: "rings", ratio: 4.5, samples: steady },
  ], 0.25);
  assert.deepEqual(result.regressions, ["rings"]);
  const row = result.rows.find((r) => r.subject === "rings")!;
  assert.equal(row.ratio, 4.5);
  assert.equal(row.change?.toFixed(3), (4.5 / 7.43 - 1).toFixed(3));
  assert.equal(result.rows.find((r) => r.subject === "kernel")?.verdict, "missing");
});

Deno.test("compareToBaseline() judges a ratio given without samples as exact, as before", () => {
  const result = compareToBaseline(baseline, config, [{ name: "rings", ratio: 5 }], 0.25);
  assert.deepEqual(result.regressions, ["rings"]);
  assert.equal(result.rows.find((r) => r.subject === "rings")?.interval?.spread, 0);
});

Deno.test("compareToBaseline() asks for no samples when the stream differs from the baseline's", () => {
  const other = { ...config, count: 50 };
  const result = compareToBaseline(baseline, other, [
    { name: "rings", ratio: 4.6, samples: [4.2, 4.6, 7.6] },
    { name: "peer", ratio: 2, samples: [1.9, 2, 2.2] },
  ], 0.25);
  assert.equal(result.comparable, false);
  assert.equal(result.rows.find((r) => r.subject === "rings")?.needsSamples, undefined);
  const peer = result.rows.find((r) => r.subject === "peer")!;
  assert.deepEqual([peer.verdict, peer.interval?.high], ["new", 2.2]);
});

Deno.test("makeBaseline() records each ratio's spread, which parseBaseline() accepts", () => {
  const b = makeBaseline("reference", config, [
    { name: "rings", ratio: 7, commandsPerSecond: 7e6, samples: [6.3, 7, 7.7] },
  ]);
  assert.equal(b.subjects.rings?.spread, 0.1);
  assert.equal(parseBaseline(JSON.parse(JSON.stringify(b)), "inline").subjects.rings?.spread, 0.1);
});
