import assert from "node:assert";
import { AttemptLimiter } from "./attempt_limiter.ts";

Deno.test("AttemptLimiter allows a burst, then one attempt per refill, and says how long to wait", () => {
  const limiter = new AttemptLimiter({ perMinute: 5, burst: 3 });
  const taken = [0, 0, 0, 0].map(() => limiter.take("ALICE", 0).ok);
  assert.deepStrictEqual(taken, [true, true, true, false]);
  assert.deepStrictEqual(limiter.take("ALICE", 1_000), { ok: false, retryAfterSeconds: 11 });
  assert.deepStrictEqual(limiter.take("ALICE", 12_000), { ok: true });
  assert.deepStrictEqual(limiter.take("ALICE", 12_000).ok, false);
});

Deno.test("AttemptLimiter holds at most maxKeys: past it the least recently used goes (and starts again full)", () => {
  const limiter = new AttemptLimiter({ perMinute: 6, burst: 1, maxKeys: 2 });
  assert.deepStrictEqual([limiter.take("a", 0).ok, limiter.take("b", 0).ok], [true, true]);
  assert.deepStrictEqual(limiter.take("a", 0).ok, false); // a is now the most recent
  assert.deepStrictEqual(limiter.take("c", 0).ok, true); // b goes
  assert.deepStrictEqual(limiter.size, 2);
  assert.deepStrictEqual(limiter.take("a", 0).ok, false, "a was dropped instead of b");
  assert.deepStrictEqual(limiter.take("b", 0).ok, true, "b was kept past the bound");
  assert.deepStrictEqual(limiter.size, 2);
});

Deno.test("AttemptLimiter drops every refilled bucket when it needs room (they mean no bucket)", () => {
  const limiter = new AttemptLimiter({ perMinute: 6, burst: 1, maxKeys: 3 });
  for (const key of ["a", "b", "c"]) limiter.take(key, 0);
  limiter.take("d", 10_000); // all three have refilled
  assert.deepStrictEqual(limiter.size, 1);
  assert.throws(() => new AttemptLimiter({ perMinute: 0 }), RangeError);
  assert.throws(() => new AttemptLimiter({ perMinute: 1, maxKeys: 0 }), RangeError);
});
