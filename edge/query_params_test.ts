import { parseSymbolsParam, parseVersion, parseVersionParam } from "./query_params.ts";
import assert from "node:assert";

function check(values: string[] | undefined, expected: string[] | undefined | string) {
  const r = parseSymbolsParam(values, 3);
  assert.deepStrictEqual(r.ok ? r.value : r.detail, expected, JSON.stringify(values));
}

Deno.test("parseSymbolsParam accepts 1 to max well-formed symbols and names what is wrong", () => {
  check(undefined, undefined);
  check([], undefined);
  check(["AAPL"], ["AAPL"]);
  check(["BRK.B,ES-FUT,X1"], ["BRK.B", "ES-FUT", "X1"]);
  check(["A,A,B"], ["A", "B"]);
  check([""], "Cannot read symbols: it is empty (leave it out for all)");
  check(["A", "B"], "Cannot read symbols: it is given more than once");
  check([",A"], "Cannot read symbols: entry 1 is empty");
  check(["A,B,C,D"], "Cannot read symbols: 4 entries, at most 3");
  check(["A, B"], 'Cannot read symbols: entry 2 (" B") is not 1 to 12 of [A-Z0-9.-]');
  check(
    ["ABCDEFGHIJKLM"],
    'Cannot read symbols: entry 1 ("ABCDEFGHIJKLM") is not 1 to 12 of [A-Z0-9.-]',
  );
  check(["a"], 'Cannot read symbols: entry 1 ("a") is not 1 to 12 of [A-Z0-9.-]');
});

Deno.test("parseVersionParam and parseVersion read non-negative safe integers only", () => {
  assert.deepStrictEqual(parseVersionParam("since", undefined), { ok: true, value: undefined });
  assert.deepStrictEqual(parseVersionParam("since", ["0"]), { ok: true, value: 0 });
  assert.deepStrictEqual(parseVersionParam("since", ["1", "2"]), {
    ok: false,
    detail: "Cannot read since: it is given more than once",
  });
  for (
    const bad of ["", "-1", "1.5", "1e3", " 1", "0x10", "9007199254740993", "12345678901234567"]
  ) {
    assert.deepStrictEqual(parseVersion(bad), undefined, bad);
  }
  assert.deepStrictEqual(parseVersion("9007199254740991"), 9007199254740991);
});
