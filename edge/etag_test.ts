import { ifNoneMatch, snapshotsEtag } from "./etag.ts";
import assert from "node:assert";
import { makeSnapshot } from "./_testing/kv.ts";

Deno.test("snapshotsEtag follows the newest version shown", () => {
  const a = makeSnapshot("A", { version: 3, updated: 1000 });
  const b = makeSnapshot("B", { version: 9, updated: 2000 });
  assert.deepStrictEqual(snapshotsEtag("q1", [a, b]), `"q1-9-${(2000).toString(36)}-2"`);
  // A list that lost a symbol is not the list before that symbol's last write.
  assert.deepStrictEqual(snapshotsEtag("q1", [b]), `"q1-9-${(2000).toString(36)}-1"`);
  assert.deepStrictEqual(snapshotsEtag("q1", [b, a]), snapshotsEtag("q1", [a, b]));
  assert.deepStrictEqual(snapshotsEtag("q1", []), '"q1-0"');
});

Deno.test("ifNoneMatch compares weakly, in lists, and * matches", () => {
  const cases: [string | null, boolean][] = [
    [null, false],
    ["", false],
    ['"x"', true],
    ['W/"x"', true],
    ['"y", W/"x"', true],
    ['"y","x"', true],
    ["*", true],
    ['"y"', false],
    ['"x', false],
    ["x", false],
  ];
  for (const [header, expected] of cases) {
    assert.deepStrictEqual(ifNoneMatch(header, '"x"'), expected, `${header}`);
  }
});
