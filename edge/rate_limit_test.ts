import { TokenBuckets } from "./rate_limit.ts";
import { assertEquals } from "./_testing/assert.ts";

Deno.test("a bucket refills continuously up to its size; a refusal says when a token is back", () => {
  let now = 0;
  const b = new TokenBuckets({ limit: 4, windowSeconds: 8 }, () => now); // 0.5 a second
  const takes = () => {
    const t = b.take("a");
    return [t.allowed, t.remaining, t.resetSeconds, t.retryAfterSeconds];
  };
  assertEquals(takes(), [true, 3, 2, 0]);
  assertEquals(takes(), [true, 2, 4, 0]);
  assertEquals(takes(), [true, 1, 6, 0]);
  assertEquals(takes(), [true, 0, 8, 0]);
  assertEquals(takes(), [false, 0, 8, 2]);
  now = 1_000; // half a token
  assertEquals(takes(), [false, 0, 7, 1]);
  now = 2_000;
  assertEquals(takes(), [true, 0, 8, 0]);
  now = 1_000_000; // long idle: full, never more
  assertEquals(takes(), [true, 3, 2, 0]);
});

Deno.test("a full table forgets refilled buckets, and new addresses share one overflow bucket", () => {
  let now = 0;
  const b = new TokenBuckets({ limit: 2, windowSeconds: 2, maxClients: 3 }, () => now);
  for (const key of ["a", "b", "c"]) b.take(key);
  assertEquals(b.size, 3);
  // Full, nothing refilled: d and e share the overflow bucket (2 tokens).
  assertEquals([b.take("d").allowed, b.take("e").allowed, b.take("f").allowed], [
    true,
    true,
    false,
  ]);
  assertEquals(b.size, 3);
  // Known addresses keep their own buckets meanwhile.
  assertEquals(b.take("a").allowed, true);
  now = 5_000; // everything refilled: the next newcomer's sweep frees the table
  assertEquals(b.take("g").allowed, true);
  assertEquals(b.size, 1);
});
