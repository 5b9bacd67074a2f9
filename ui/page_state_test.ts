import { deepStrictEqual, ok, throws } from "node:assert/strict";
import { type PageState, parseState, serializeState, streamUrl } from "./page_state.ts";
import { makeSnapshot } from "./_testing/fixtures.ts";

Deno.test("serializeState() leaves nothing that could end or confuse the script element", () => {
  const state: PageState = {
    page: "overview",
    since: 3,
    quotes: [makeSnapshot("X", { name: "</script><!-- <script>&\u2028\u2029" })],
  };
  const json = serializeState(state);
  ok(!/[<>&\u2028\u2029]/.test(json), json);
  deepStrictEqual(parseState(json), state);
});

Deno.test("parseState() refuses what is not a page state", () => {
  for (
    const text of [
      "{}",
      '{"page":"quote","since":1,"quotes":[]}',
      '{"page":"quote","symbol":"lower","since":1,"quotes":[]}',
      '{"page":"chart","since":1,"quotes":[]}',
      '{"page":"overview","since":"1","quotes":[]}',
      "null",
    ]
  ) {
    throws(() => parseState(text), TypeError, text);
  }
  throws(() => parseState("{"), SyntaxError);
});

Deno.test("streamUrl() asks for the page's symbol, or all on the overview, since a version", () => {
  deepStrictEqual(
    [
      streamUrl({ page: "quote", symbol: "ES-FUT", since: 1, quotes: [] }, 12),
      streamUrl({ page: "overview", since: 1, quotes: [] }, 0),
    ],
    ["/api/v1/stream?symbols=ES-FUT&since=12", "/api/v1/stream?since=0"],
  );
});
