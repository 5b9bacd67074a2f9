import assert from "node:assert";
import { MAX_ACCOUNT_BYTES } from "../../schemas/vocabulary/names.ts";
import { RiskLimit } from "../../schemas/vocabulary/risk_limits.ts";
import {
  ALL_ACCOUNTS,
  CMD_SET_KILL_SWITCH,
  CMD_SET_REFERENCE_PRICE,
  CMD_SET_RISK_LIMIT,
  readDefineAccount,
  RECORD_BYTES,
  RECORD_WORDS,
  writeDefineAccount,
  writeKillSwitch,
  writeReferencePrice,
  writeSetRiskLimit,
} from "./records.ts";

Deno.test("readDefineAccount() reads back what writeDefineAccount() wrote", () => {
  const u32 = new Uint32Array(RECORD_WORDS * 3);
  const names = ["A", "Zoë", "€".repeat(16), "x".repeat(MAX_ACCOUNT_BYTES)];
  names.forEach((name, i) => {
    writeDefineAccount(u32, RECORD_WORDS * (i % 3), 0xffff_fff0 + i, name);
    assert.deepStrictEqual(readDefineAccount(u32, RECORD_WORDS * (i % 3)), [0xffff_fff0 + i, name]);
  });
});

Deno.test("readDefineAccount() refuses a record that is not a well-formed definition", () => {
  const u32 = new Uint32Array(RECORD_WORDS);
  const bytes = new Uint8Array(u32.buffer);
  writeDefineAccount(u32, 0, 4, "AB");
  u32[0] = 2;
  assert.throws(() => readDefineAccount(u32, 0), {
    name: "RangeError",
    message: /kind 2 is not 65/,
  });
  writeDefineAccount(u32, 0, 4, "AB");
  bytes[8] = 0;
  assert.throws(() => readDefineAccount(u32, 0), {
    name: "RangeError",
    message: /account 4's name is 0 bytes/,
  });
  bytes[8] = RECORD_BYTES - 9 + 1;
  assert.throws(() => readDefineAccount(u32, 0), {
    name: "RangeError",
    message: /name is 56 bytes, not 1 to 48/,
  });
  writeDefineAccount(u32, 0, 4, "AB");
  bytes[9] = 0xff;
  assert.throws(() => readDefineAccount(u32, 0), {
    name: "RangeError",
    message: /account 4's name is not UTF-8/,
  });
});

Deno.test("writeSetRiskLimit() puts the limit's id, scope and value where record.rs reads them", () => {
  const u32 = new Uint32Array(RECORD_WORDS);
  writeSetRiskLimit(u32, 0, { account: 7, limit: RiskLimit.collarBps, instrument: 2, value: -1 });
  // kind; the limit id in `instrument`; instrument + 1 in `price`; -1 (clear) in `qty`; account.
  assert.deepStrictEqual([u32[0], u32[1], u32[4], u32[5], u32[6], u32[7], u32[8]], [
    CMD_SET_RISK_LIMIT,
    6,
    3,
    0,
    0xffff_ffff,
    0xffff_ffff,
    7,
  ]);
  writeSetRiskLimit(u32, 0, { account: ALL_ACCOUNTS, limit: RiskLimit.position, value: 50 });
  assert.deepStrictEqual(
    [u32[1], u32[4], u32[6], u32[8]],
    [3, 0, 50, ALL_ACCOUNTS],
    "every instrument",
  );
});

Deno.test("the kill switch and the reference price records carry their values", () => {
  const u32 = new Uint32Array(RECORD_WORDS);
  writeKillSwitch(u32, 0, 4, true);
  assert.deepStrictEqual([u32[0], u32[6], u32[8]], [CMD_SET_KILL_SWITCH, 1, 4]);
  writeKillSwitch(u32, 0, 4, false);
  assert.deepStrictEqual([u32[0], u32[6], u32[8]], [CMD_SET_KILL_SWITCH, 0, 4]);
  writeReferencePrice(u32, 0, 2, 12_345);
  assert.deepStrictEqual([u32[0], u32[1], u32[4], u32[6], u32[8]], [
    CMD_SET_REFERENCE_PRICE,
    2,
    12_345,
    0,
    0,
  ]);
});
