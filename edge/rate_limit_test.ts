import { TokenBuckets } from "./rate_limit.ts";
import assert from "node:assert";

Deno.test("a bucket refills continuously up to its size; a refusal says when a token is back", () => {
  let now = 0;
  const b = new TokenBuckets({ limit: 4, windowSeconds: 8 }, () => now); // 0.5 a second
  const takes = () => {
    const t = b.take("a");
    return [t.allowed, t.remaining, t.resetSeconds, t.retryAfterSeconds];
  };
  assert.deepStrictEqual(takes(), [true, 3, 2, 0]);
  assert.deepStrictEqual(takes(), [true, 2, 4, 0]);
  assert.deepStrictEqual(takes(), [true, 1, 6, 0]);
  assert.deepStrictEqual(takes(), [true, 0, 8, 0]);
  assert.deepStrictEqual(takes(), [false, 0, 8, 2]);
  now = 1_000; // half a token
  assert.deepStrictEqual(takes(), [false, 0, 7, 1]);
  now = 2_000;
  assert.deepStrictEqual(takes(), [true, 0, 8, 0]);
  now = 1_000_000; // long idle: full, never more
  assert.deepStrictEqual(takes(), [true, 3, 2, 0]);
});

Deno.test("a full table forgets refilled buckets, and new addresses share one overflow bucket", () => {
  let now = 0;
  const b = new TokenBuckets({ limit: 2, windowSeconds: 2, maxClients: 3 }, () => now);
  for (const key of ["a", "b", "c"]) b.take(key);
  assert.deepStrictEqual(b.size, 3);
  // Full, nothing refilled: d and e share the overflow bucket (2 tokens).
  assert.deepStrictEqual([b.take("d").allowed, b.take("e").allowed, b.take("f").allowed], [
    true,
    true,
    false,
  ]);
  assert.deepStrictEqual(b.size, 3);
  // Known addresses keep their own buckets meanwhile.
  assert.deepStrictEqual(b.take("a").allowed, true);
  now = 5_000; // everything refilled: the next newcomer's sweep frees the table
  assert.deepStrictEqual(b.take("g").allowed, true);
  assert.deepStrictEqual(b.size, 1);
});
