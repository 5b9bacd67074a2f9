import fc from "fast-check";
import assert from "node:assert";
import { RecentIds } from "./_recent_ids.ts";

Deno.test("RecentIds forgets the oldest id once full, and never holds more than its count", () => {
  const ids = new RecentIds(100);
  for (let i = 1n; i <= 10_000n; i++) ids.add(i);
  assert.deepStrictEqual(ids.size, 100);
  assert.deepStrictEqual([ids.has(9_900n), ids.has(9_901n), ids.has(10_000n)], [false, true, true]);
  assert.throws(() => new RecentIds(0), { name: "RangeError", message: /positive integer/ });
});

Deno.test("RecentIds holds the last distinct ids added, as a plain list does", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 200 }),
      fc.array(fc.bigInt({ min: 0n, max: 300n }), { maxLength: 600 }),
      (capacity, added) => {
        const ids = new RecentIds(capacity);
        const reference: bigint[] = [];
        for (const id of added) {
          ids.add(id);
          if (reference.includes(id)) continue;
          reference.push(id);
          if (reference.length > capacity) reference.shift();
        }
        assert.deepStrictEqual(ids.size, reference.length);
        for (let id = 0n; id <= 300n; id++) {
          assert.deepStrictEqual(ids.has(id), reference.includes(id), `${id}`);
        }
      },
    ),
    { numRuns: 200 },
  );
});
