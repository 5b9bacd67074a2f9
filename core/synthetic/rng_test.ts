import { mulberry32, Rng } from "./rng.ts";
import assert from "node:assert";
import { assertBetween } from "../_testing/between.ts";

function draws(seed: number, n: number): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => rng.next());
}

Deno.test("Rng gives the same stream for the same seed", () => {
  assert.deepStrictEqual(draws(42, 1_000), draws(42, 1_000));
});

Deno.test("Rng gives unrelated streams for neighbouring seeds", () => {
  const a = draws(1, 100);
  const b = draws(2, 100);
  const same = a.filter((x, i) => x === b[i]).length;
  assert.deepStrictEqual(same, 0);
});

Deno.test("Rng distinguishes seeds that differ only above bit 32", () => {
  assert(draws(1, 4).join() !== draws(1 + 2 ** 32, 4).join());
});

Deno.test("Rng pins its first outputs, so streams never change across releases", () => {
  // If this fails, every recorded benchmark stream and failing seed changes
  // meaning: only update it deliberately.
  const rng = new Rng(1);
  const firsts = [rng.next(), rng.next(), rng.next()].map((x) => Math.floor(x * 2 ** 32));
  assert.deepStrictEqual(firsts, PINNED_SEED_1);
});
const PINNED_SEED_1 = [1130556604, 2591592147, 3014952990];

Deno.test("Rng.next() stays in [0, 1) and is roughly uniform", () => {
  const rng = new Rng(7);
  const buckets = new Array<number>(10).fill(0);
  const n = 100_000;
  for (let i = 0; i < n; i++) {
    const x = rng.next();
    assert(x >= 0 && x < 1, `next() returned ${x}`);
    buckets[Math.floor(x * 10)]!++;
  }
  // Chi-square with 9 degrees of freedom: 27.9 is the 0.1% critical value.
  const expected = n / 10;
  const chi2 = buckets.reduce((sum, k) => sum + (k - expected) ** 2 / expected, 0);
  assertBetween(chi2, 0, 27.9, "chi-square");
});

Deno.test("Rng.int() covers both ends of its closed range and nothing outside", () => {
  const rng = new Rng(3);
  const seen = new Set<number>();
  for (let i = 0; i < 10_000; i++) {
    const n = rng.int(-2, 2);
    assert(Number.isInteger(n) && n >= -2 && n <= 2, `int() returned ${n}`);
    seen.add(n);
  }
  assert.deepStrictEqual([...seen].sort((a, b) => a - b), [-2, -1, 0, 1, 2]);
  assert.deepStrictEqual(rng.int(5, 5), 5);
});

Deno.test("Rng.int() rejects reversed or fractional bounds", () => {
  const rng = new Rng(1);
  assert.throws(() => rng.int(2, 1), RangeError);
  assert.throws(() => rng.int(0.5, 3), RangeError);
});

Deno.test("Rng.normal() has mean 0 and standard deviation 1", () => {
  const rng = new Rng(11);
  const n = 200_000;
  let sum = 0;
  let squares = 0;
  for (let i = 0; i < n; i++) {
    const z = rng.normal();
    sum += z;
    squares += z * z;
  }
  const mean = sum / n;
  assertBetween(mean, -0.01, 0.01, "mean");
  assertBetween(Math.sqrt(squares / n - mean * mean), 0.99, 1.01, "standard deviation");
});

Deno.test("Rng.pick() returns every element and refuses an empty array", () => {
  const rng = new Rng(5);
  const seen = new Set<string>();
  for (let i = 0; i < 1_000; i++) seen.add(rng.pick(["a", "b", "c"]));
  assert.deepStrictEqual([...seen].sort(), ["a", "b", "c"]);
  assert.throws(() => rng.pick([]), RangeError);
});

Deno.test("Rng.chance() honours its probability", () => {
  const rng = new Rng(13);
  let hits = 0;
  for (let i = 0; i < 100_000; i++) if (rng.chance(0.25)) hits++;
  assertBetween(hits / 100_000, 0.24, 0.26, "hit rate");
});

Deno.test("Rng refuses a non-finite seed", () => {
  assert.throws(() => new Rng(Number.NaN), RangeError);
  assert.throws(() => new Rng(Infinity), RangeError);
});

Deno.test("mulberry32 is reproducible, in [0, 1), differs by seed, and its stream never changes", () => {
  const a = mulberry32(7);
  const b = mulberry32(7);
  const xs = Array.from({ length: 1_000 }, () => a());
  assert.deepStrictEqual(xs, Array.from({ length: 1_000 }, () => b()));
  assert(xs.every((x) => x >= 0 && x < 1), "out of range");
  assert(new Set(xs).size > 990, "repeats");
  assert(mulberry32(8)() !== mulberry32(7)(), "seed ignored");
  // Seeded streams in tests and benches depend on these exact values.
  const one = mulberry32(1);
  assert.deepStrictEqual(
    [one(), one(), one()],
    [0.6270739405881613, 0.002735721180215478, 0.5274470399599522],
  );
});
