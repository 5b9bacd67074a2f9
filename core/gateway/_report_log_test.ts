import fc from "fast-check";
import assert from "node:assert";
import { ReportLog } from "./_report_log.ts";

Deno.test("ReportLog keeps the latest reports, by sequence, and says which it keeps", () => {
  const log = new ReportLog<{ sequence: bigint }>(3);
  assert.deepStrictEqual([log.oldest, log.latest, log.size], [1, 0, 0], "empty: nothing lost yet");
  assert.deepStrictEqual(log.at(0), undefined);
  assert.deepStrictEqual(log.at(1), undefined);
  for (let i = 1n; i <= 7n; i++) log.append({ sequence: i });
  assert.deepStrictEqual([log.oldest, log.latest, log.size], [5, 7, 3]);
  assert.deepStrictEqual([4, 5, 6, 7, 8].map((s) => log.at(s)?.sequence), [
    undefined,
    5n,
    6n,
    7n,
    undefined,
  ]);
});

Deno.test("ReportLog refuses a report out of sequence, and a count kept below 1", () => {
  const log = new ReportLog<{ sequence: bigint }>(2);
  assert.throws(() => log.append({ sequence: 2n }), {
    name: "RangeError",
    message: /the next sequence is 1/,
  });
  log.append({ sequence: 1n });
  assert.throws(() => log.append({ sequence: 1n }), {
    name: "RangeError",
    message: /the next sequence is 2/,
  });
  assert.throws(() => new ReportLog(0), { name: "RangeError", message: /positive integer/ });
});

Deno.test("ReportLog holds what a plain array's tail holds, whatever the count kept", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 20 }), fc.nat({ max: 100 }), (capacity, count) => {
      const log = new ReportLog<{ sequence: bigint }>(capacity);
      const all: { sequence: bigint }[] = [];
      for (let i = 1; i <= count; i++) {
        const report = { sequence: BigInt(i) };
        log.append(report);
        all.push(report);
      }
      const kept = all.slice(-capacity);
      assert.deepStrictEqual(log.size, kept.length);
      assert.deepStrictEqual(log.oldest, count - kept.length + 1);
      for (let s = 0; s <= count + 1; s++) {
        assert.deepStrictEqual(log.at(s), kept.find((r) => r.sequence === BigInt(s)), `at(${s})`);
      }
    }),
    { numRuns: 300 },
  );
});
