import { strictEqual } from "node:assert/strict";
import {
  accountNameFault,
  accountNameProblem,
  MAX_ACCOUNT_BYTES,
  SYMBOL_PATTERN,
  SYMBOL_PATTERN_ANY_CASE,
  unprintableCharacter,
} from "./names.ts";

Deno.test("SYMBOL_PATTERN takes 1 to 12 of [A-Z0-9.-] and nothing else", () => {
  for (const symbol of ["A", "AAPL", "BRK.B", "ES-FUT", "X".repeat(12), "0.-9"]) {
    strictEqual(SYMBOL_PATTERN.test(symbol), true, symbol);
  }
  for (const symbol of ["", "X".repeat(13), "aapl", "AA PL", "AAPL\n", "AÄPL", "A_B", "A/B"]) {
    strictEqual(SYMBOL_PATTERN.test(symbol), false, JSON.stringify(symbol));
  }
});

Deno.test("SYMBOL_PATTERN_ANY_CASE is SYMBOL_PATTERN in either case of ASCII letters only", () => {
  // Every code point of the first planes, alone and as a symbol's tail.
  for (let code = 0; code < 0x3000; code++) {
    const c = String.fromCodePoint(code);
    const ascii = code < 0x80;
    const expected = SYMBOL_PATTERN.test(ascii ? c.toUpperCase() : c);
    strictEqual(SYMBOL_PATTERN_ANY_CASE.test(c), expected, `U+${code.toString(16)}`);
    strictEqual(SYMBOL_PATTERN_ANY_CASE.test(`AB${c}`), expected, `AB U+${code.toString(16)}`);
  }
  // The Kelvin sign and the long s fold to K and S under Unicode rules: not here.
  strictEqual(SYMBOL_PATTERN_ANY_CASE.test("\u212a"), false);
  strictEqual(SYMBOL_PATTERN_ANY_CASE.test("\u017f"), false);
  strictEqual(SYMBOL_PATTERN_ANY_CASE.test("x".repeat(13)), false);
});

Deno.test("accountNameFault() counts UTF-8 bytes up to MAX_ACCOUNT_BYTES and refuses lone surrogates", () => {
  for (const name of ["a", "x".repeat(48), "é".repeat(24), "€".repeat(16), "😀".repeat(12)]) {
    strictEqual(accountNameFault(name), undefined, name);
  }
  strictEqual(MAX_ACCOUNT_BYTES, 48);
  for (const [name, bytes] of [["x".repeat(49), 49], ["é".repeat(25), 50], ["€".repeat(17), 51]]) {
    strictEqual(accountNameFault(name as string)?.kind, "too_long");
    strictEqual((accountNameFault(name as string) as { bytes: number }).bytes, bytes);
  }
  strictEqual(accountNameFault("a\ud800")?.kind, "lone_surrogate");
  strictEqual(accountNameFault("\udc00a")?.kind, "lone_surrogate");
});

Deno.test("unprintableCharacter() names the first control, format or private-use character", () => {
  const cases: [string, string | undefined][] = [
    ["ALICE Smith", undefined],
    ["desk 7/α 😀", undefined],
    ["AL\nICE", "U+000A at character 3"],
    ["\u0000", "U+0000 at character 1"],
    ["😀\u202e", "U+202E at character 2"],
    ["a\u200db", "U+200D at character 2"],
    ["\u007f", "U+007F at character 1"],
    ["\u0085", "U+0085 at character 1"],
    ["\u2028", "U+2028 at character 1"],
    ["\ue000", "U+E000 at character 1"],
  ];
  for (const [text, expected] of cases) strictEqual(unprintableCharacter(text), expected, text);
});

Deno.test("accountNameProblem() is the engine's rule and printable characters only", () => {
  const cases: [string, string | undefined][] = [
    ["ALICE", undefined],
    ["é".repeat(24), undefined],
    ["", "must not be empty"],
    ["é".repeat(25), "must be 1 to 48 bytes of UTF-8, not 50 bytes"],
    ["a\ud800", "holds a lone surrogate, which UTF-8 cannot encode"],
    ["EVE\u001b[2J", "must hold printable characters only, not U+001B at character 4"],
  ];
  for (const [name, expected] of cases) strictEqual(accountNameProblem(name), expected, name);
});
