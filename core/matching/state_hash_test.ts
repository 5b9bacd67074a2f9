import fc from "fast-check";
import assert from "node:assert";
import { StateHasher } from "./state_hash.ts";

/** FNV-1a 64 over bytes, transcribed literally with BigInt: the independent oracle. */
function fnv1a64(bytes: Iterable<number>): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100000001b3n);
  return h;
}

/** STATE_HASH.md's `word(x)`: the 8 little-endian bytes of x as u64. */
function* wordBytes(words: readonly number[]): Generator<number> {
  for (const x of words) {
    const u = BigInt.asUintN(64, BigInt(x));
    for (let i = 0n; i < 8n; i++) yield Number((u >> (8n * i)) & 0xffn);
  }
}

function hash(words: readonly number[]): bigint {
  const h = new StateHasher();
  for (const x of words) h.word(x);
  return h.digest();
}

Deno.test("StateHasher starts at the FNV-1a 64 offset basis", () => {
  assert.deepStrictEqual(new StateHasher().digest(), 0xcbf29ce484222325n);
});

Deno.test("the BigInt oracle matches published FNV-1a 64 vectors", () => {
  const text = (s: string) => fnv1a64(new TextEncoder().encode(s));
  assert.deepStrictEqual(text(""), 0xcbf29ce484222325n);
  assert.deepStrictEqual(text("a"), 0xaf63dc4c8601ec8cn);
  assert.deepStrictEqual(text("foobar"), 0x85944171f73967e8n);
});

Deno.test("StateHasher agrees with a BigInt transcription of STATE_HASH.md", () => {
  const word = fc.oneof(
    fc.maxSafeNat(),
    fc.integer({ min: 0, max: 0xffff_ffff }),
    fc.constantFrom(0, 1, 0xff, 0x100, 0xffff_ffff, 0x1_0000_0000, Number.MAX_SAFE_INTEGER),
    fc.integer({ min: Number.MIN_SAFE_INTEGER, max: -1 }),
  );
  fc.assert(fc.property(fc.array(word, { maxLength: 64 }), (words) => {
    assert.deepStrictEqual(hash(words), fnv1a64(wordBytes(words)));
  }));
});

Deno.test("StateHasher takes negative words in two's complement", () => {
  assert.deepStrictEqual(hash([-1]), fnv1a64(new Array(8).fill(0xff)));
});

Deno.test("StateHasher depends on word order", () => {
  assert.deepStrictEqual(hash([1, 2]) === hash([2, 1]), false);
});

Deno.test("StateHasher.word() rejects what is not a safe integer", () => {
  for (const x of [1.5, NaN, Infinity, 2 ** 53]) {
    assert.throws(() => new StateHasher().word(x), {
      name: "RangeError",
      message: /not a safe integer/,
    });
  }
});

Deno.test("StateHasher hashes a million words quickly", () => {
  const h = new StateHasher();
  const start = performance.now();
  for (let i = 0; i < 1_000_000; i++) h.word(i * 7919);
  const elapsed = performance.now() - start;
  assert.deepStrictEqual(elapsed < 1000, true, `took ${elapsed.toFixed(0)} ms`);
});
