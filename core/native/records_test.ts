import { assertEquals, assertThrows } from "../_testing/assert.ts";
import { MAX_ACCOUNT_BYTES } from "../matching/types.ts";
import { readDefineAccount, RECORD_BYTES, RECORD_WORDS, writeDefineAccount } from "./records.ts";

Deno.test("readDefineAccount() reads back what writeDefineAccount() wrote", () => {
  const u32 = new Uint32Array(RECORD_WORDS * 3);
  const names = ["A", "Zoë", "€".repeat(16), "x".repeat(MAX_ACCOUNT_BYTES)];
  names.forEach((name, i) => {
    writeDefineAccount(u32, RECORD_WORDS * (i % 3), 0xffff_fff0 + i, name);
    assertEquals(readDefineAccount(u32, RECORD_WORDS * (i % 3)), [0xffff_fff0 + i, name]);
  });
});

Deno.test("readDefineAccount() refuses a record that is not a well-formed definition", () => {
  const u32 = new Uint32Array(RECORD_WORDS);
  const bytes = new Uint8Array(u32.buffer);
  writeDefineAccount(u32, 0, 4, "AB");
  u32[0] = 2;
  assertThrows(() => readDefineAccount(u32, 0), RangeError, "kind 2 is not 65");
  writeDefineAccount(u32, 0, 4, "AB");
  bytes[8] = 0;
  assertThrows(() => readDefineAccount(u32, 0), RangeError, "account 4's name is 0 bytes");
  bytes[8] = RECORD_BYTES - 9 + 1;
  assertThrows(() => readDefineAccount(u32, 0), RangeError, "name is 56 bytes, not 1 to 48");
  writeDefineAccount(u32, 0, 4, "AB");
  bytes[9] = 0xff;
  assertThrows(() => readDefineAccount(u32, 0), RangeError, "account 4's name is not UTF-8");
});
