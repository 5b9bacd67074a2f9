import assert from "node:assert";
import { LatencyHistogram } from "./latency_histogram.ts";
import { percentiles } from "./subject.ts";
import { mulberry32 } from "../core/synthetic/rng.ts";

/** Long-tailed latencies from 0 ns to about 10 s. */
function samples(n: number, seed: number): Float64Array {
  const next = mulberry32(seed);
  return Float64Array.from({ length: n }, () => Math.floor(Math.exp(next() * 23)));
}

Deno.test("LatencyHistogram percentiles are within 0.4 % of the exact nearest-rank ones", () => {
  for (const seed of [1, 2, 3]) {
    const xs = samples(20_000, seed);
    const h = new LatencyHistogram();
    for (const x of xs) h.record(x);
    const exact = percentiles(xs);
    const got = h.percentiles();
    assert.deepStrictEqual([got.samples, got.max], [exact.samples, exact.max]);
    for (const key of ["p50", "p90", "p99", "p999"] as const) {
      const error = Math.abs(got[key] - exact[key]);
      assert(
        error <= Math.max(0.5, exact[key] * 0.004),
        `seed ${seed} ${key}: ${got[key]} vs exact ${exact[key]}`,
      );
    }
  }
});

Deno.test("LatencyHistogram is exact below 128 ns", () => {
  const h = new LatencyHistogram();
  for (let v = 0; v < 128; v++) h.record(v);
  assert.deepStrictEqual([h.quantile(0), h.quantile(0.5), h.quantile(1)], [0, 63, 127]);
  assert.deepStrictEqual(h.mean, 63.5);
});

Deno.test("LatencyHistogram merged from parts, or through JSON, equals one fed everything", () => {
  const xs = samples(5_000, 9);
  const whole = new LatencyHistogram();
  const a = new LatencyHistogram();
  const b = new LatencyHistogram();
  xs.forEach((x, i) => {
    whole.record(x);
    (i % 3 === 0 ? a : b).record(x);
  });
  const merged = LatencyHistogram.fromJSON(JSON.parse(JSON.stringify(a)));
  merged.merge(b.toJSON());
  assert.deepStrictEqual(merged.toJSON(), whole.toJSON());
  assert.deepStrictEqual(merged.percentiles(), whole.percentiles());
  // Merging an empty histogram changes nothing.
  merged.merge(new LatencyHistogram());
  assert.deepStrictEqual(merged.toJSON(), whole.toJSON());
});

Deno.test("LatencyHistogram counts negatives as 0, ignores NaN, and keeps huge values' max exact", () => {
  const h = new LatencyHistogram();
  h.record(-2_000);
  h.record(NaN);
  h.record(5e13); // beyond 2^40 ns: the last bucket
  h.record(1e9);
  assert.deepStrictEqual([h.count, h.negatives], [3, 1]);
  assert.deepStrictEqual([h.quantile(0), h.quantile(1)], [0, 5e13]);
  assert(Math.abs(h.quantile(0.6) / 1e9 - 1) < 0.004, `${h.quantile(0.6)}`);
});

Deno.test("LatencyHistogram reports NaN when empty and refuses quantiles outside [0, 1]", () => {
  const h = new LatencyHistogram();
  assert.deepStrictEqual(h.percentiles().samples, 0);
  assert(Number.isNaN(h.quantile(0.5)) && Number.isNaN(h.percentiles().p99));
  assert.throws(() => h.quantile(1.5), { name: "RangeError", message: /must be in \[0, 1\]/ });
  assert.throws(
    () => h.merge({ buckets: [[1e9, 1]], count: 1, min: 0, max: 0, sum: 0, negatives: 0 }),
    { name: "RangeError", message: /out of range/ },
  );
});
