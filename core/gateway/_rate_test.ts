import { TokenBucket } from "./_rate.ts";
import assert from "node:assert";

Deno.test("TokenBucket allows a burst, then the refill rate", () => {
  const bucket = new TokenBucket(10, 3, 0);
  assert.deepStrictEqual([0, 0, 0, 0].map(() => bucket.take(0)), [true, true, true, false]);
  assert.deepStrictEqual(bucket.take(50), false); // half a token
  assert.deepStrictEqual(bucket.take(100), true); // 100 ms at 10/s: one token
  assert.deepStrictEqual(bucket.take(100), false);
  assert.deepStrictEqual([0, 0, 0, 0].map(() => bucket.take(10_000)), [true, true, true, false]);
});

Deno.test("TokenBucket refuses a rate or burst that is not positive", () => {
  assert.throws(() => new TokenBucket(0, 1), { name: "RangeError", message: /must be positive/ });
  assert.throws(() => new TokenBucket(1, 0), { name: "RangeError", message: /must be positive/ });
  assert.throws(() => new TokenBucket(NaN, 1), { name: "RangeError", message: /must be positive/ });
});
