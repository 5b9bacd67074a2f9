import assert from "node:assert";
import { RiskLimit } from "../../schemas/vocabulary/risk_limits.ts";
import {
  accountNameProblem,
  engineKillSwitch,
  isAccountRole,
  isLimitName,
  LIMIT_NAMES,
  limitValueProblem,
  symbolProblem,
} from "./types.ts";

function check(fn: (x: unknown) => string | undefined, cases: [unknown, string | undefined][]) {
  for (const [input, expected] of cases) {
    assert.deepStrictEqual(fn(input) ?? null, expected ?? null, `input ${String(input)}`);
  }
}

Deno.test("LIMIT_NAMES lists the engine's limits in the engine's order", () => {
  const engine = Object.entries(RiskLimit).sort(([, a], [, b]) => a - b).map(([name]) => name);
  assert.deepStrictEqual([...LIMIT_NAMES], engine);
});

Deno.test("limitValueProblem() accepts non-negative safe integers only", () => {
  const problem = (shown: string) =>
    `must be a non-negative safe integer (0: no limit), not ${shown}`;
  check(limitValueProblem, [
    [0, undefined],
    [1, undefined],
    [Number.MAX_SAFE_INTEGER, undefined],
    [-1, problem("-1")],
    [1.5, problem("1.5")],
    [NaN, problem("NaN")],
    [Infinity, problem("Infinity")],
    [2 ** 53, problem("9007199254740992")],
    ["5", problem('"5"')],
    [null, problem("null")],
    [true, problem("true")],
    [[1], problem("array")],
  ]);
});

Deno.test("accountNameProblem() follows the protocol's account rule", () => {
  check(accountNameProblem, [
    ["ALICE", undefined],
    ["desk 7/α", undefined],
    ["é".repeat(24), undefined],
    ["", "must not be empty"],
    ["é".repeat(25), "must be 1 to 48 bytes of UTF-8, not 50 bytes"],
    ["a\ud800", "holds a lone surrogate, which UTF-8 cannot encode"],
    [7, "must be a string, not number"],
  ]);
});

Deno.test("symbolProblem() follows the instrument table's symbol pattern", () => {
  check(symbolProblem, [
    ["AAPL", undefined],
    ["BRK.B", undefined],
    ["aapl", "must be 1 to 12 of A-Z, 0-9, '.' and '-'"],
    ["", "must be 1 to 12 of A-Z, 0-9, '.' and '-'"],
    ["ABCDEFGHIJKLM", "must be 1 to 12 of A-Z, 0-9, '.' and '-'"],
    [null, "must be a string, not null"],
  ]);
});

Deno.test("isLimitName() and isAccountRole() accept their lists only, not inherited names", () => {
  assert.deepStrictEqual(
    ["position", "toString", "__proto__", 3].map(isLimitName),
    [true, false, false, false],
  );
  assert.deepStrictEqual(
    ["trader", "viewer", "admin", "root", "constructor"].map(isAccountRole),
    [true, true, true, false, false],
  );
});

Deno.test("engineKillSwitch() is on when the account's switch is on or it is disabled", () => {
  const base = { name: "A", role: "trader", createdAt: "", revision: 1 } as const;
  const cases = [[true, false], [true, true], [false, false], [false, true]] as const;
  assert.deepStrictEqual(
    cases.map(([enabled, killSwitch]) => engineKillSwitch({ ...base, enabled, killSwitch })),
    [false, true, true, true],
  );
});
