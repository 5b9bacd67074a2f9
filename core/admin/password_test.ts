import assert from "node:assert";
import {
  DEFAULT_SCRYPT,
  hashPassword,
  MAX_PASSWORD_BYTES,
  needsRehash,
  parsePasswordHash,
  passwordProblem,
  passwordSizeProblem,
  verifyPassword,
} from "./password.ts";

/** Fast, weak parameters: tests of the logic, not of the cost. */
const CHEAP = { n: 1024, r: 8, p: 1 } as const;

Deno.test("hashPassword stores scrypt with its parameters and a fresh 16-byte salt; verifyPassword matches only the password", async () => {
  const a = await hashPassword("correct horse", CHEAP);
  const b = await hashPassword("correct horse", CHEAP);
  assert.deepStrictEqual([a.algorithm, a.n, a.r, a.p], ["scrypt", 1024, 8, 1]);
  assert.deepStrictEqual(atob(a.salt).length, 16);
  assert.deepStrictEqual(atob(a.hash).length, 32);
  assert.notDeepStrictEqual(a.salt, b.salt, "two hashes share a salt");
  assert.notDeepStrictEqual(a.hash, b.hash, "same password, same hash: no salt");
  assert.strictEqual(await verifyPassword("correct horse", a), true);
  assert.strictEqual(await verifyPassword("correct horse", b), true);
  for (const wrong of ["correct hors", "Correct horse", "correct horse ", ""]) {
    assert.strictEqual(await verifyPassword(wrong, a), false, JSON.stringify(wrong));
  }
  assert.strictEqual(await verifyPassword("x".repeat(MAX_PASSWORD_BYTES + 1), a), false);
});

Deno.test("the default cost is N=2^15, r=8, p=1, and a hash keeps verifying with the parameters it was made with", async () => {
  assert.deepStrictEqual({ ...DEFAULT_SCRYPT }, { n: 2 ** 15, r: 8, p: 1 });
  const strong = await hashPassword("open sesame");
  assert.deepStrictEqual([strong.n, strong.r, strong.p], [2 ** 15, 8, 1]);
  assert.strictEqual(await verifyPassword("open sesame", strong), true);
  const weak = await hashPassword("open sesame", CHEAP);
  assert.strictEqual(needsRehash(weak), true);
  assert.strictEqual(needsRehash(strong), false);
  // The same salt with other parameters is another key: the stored ones are used.
  const misread = { ...weak, n: 2048 };
  assert.strictEqual(await verifyPassword("open sesame", misread), false);
});

Deno.test("passwordProblem: 8 characters to 1 KiB of UTF-8; passwordSizeProblem only bounds the size", () => {
  const check = (value: unknown, expected: string | undefined) =>
    assert.deepStrictEqual(passwordProblem(value), expected, JSON.stringify(value));
  check("12345678", undefined);
  check("é".repeat(512), undefined); // 1024 bytes
  check("1234567", "must be at least 8 characters");
  check("😀".repeat(7), "must be at least 8 characters"); // 7 characters, 14 code units
  check("é".repeat(513), "must be at most 1024 bytes of UTF-8, not 1026");
  check(12345678, "must be a string");
  check("", "must not be empty");
  check("abcdefgh\ud800", "must be valid Unicode (it holds a lone surrogate)");
  assert.deepStrictEqual(passwordSizeProblem("short"), undefined);
  assert.deepStrictEqual(passwordSizeProblem(null), "must be a string");
});

Deno.test("parsePasswordHash refuses what is not a hash of ours, and out-of-range parameters", async () => {
  const good = await hashPassword("correct horse", CHEAP);
  assert.deepStrictEqual(parsePasswordHash(JSON.parse(JSON.stringify(good))), good);
  for (
    const bad of [
      null,
      "scrypt",
      { ...good, algorithm: "md5" },
      { ...good, n: 1000 },
      { ...good, n: 2 ** 21 },
      { ...good, r: 0 },
      { ...good, p: 17 },
      { ...good, salt: btoa("short") },
      { ...good, hash: 3 },
    ]
  ) {
    assert.strictEqual(parsePasswordHash(bad), undefined, JSON.stringify(bad));
  }
  await assert.rejects(
    () => verifyPassword("x", { ...good, n: 3 }),
    TypeError,
  );
  await assert.rejects(() => hashPassword("x".repeat(1025), CHEAP), RangeError);
  await assert.rejects(() => hashPassword("abcdefgh", { n: 1000, r: 8, p: 1 }), RangeError);
});
