import { TokenBucket } from "./_rate.ts";
import { assertEquals, assertThrows } from "../_testing/assert.ts";

Deno.test("TokenBucket allows a burst, then the refill rate", () => {
  const bucket = new TokenBucket(10, 3, 0);
  assertEquals([0, 0, 0, 0].map(() => bucket.take(0)), [true, true, true, false]);
  assertEquals(bucket.take(50), false); // half a token
  assertEquals(bucket.take(100), true); // 100 ms at 10/s: one token
  assertEquals(bucket.take(100), false);
  assertEquals([0, 0, 0, 0].map(() => bucket.take(10_000)), [true, true, true, false]);
});

Deno.test("TokenBucket refuses a rate or burst that is not positive", () => {
  assertThrows(() => new TokenBucket(0, 1), RangeError, "must be positive");
  assertThrows(() => new TokenBucket(1, 0), RangeError, "must be positive");
  assertThrows(() => new TokenBucket(NaN, 1), RangeError, "must be positive");
});
