import { assertEquals, assertThrows } from "../_testing/assert.ts";
import { DEFAULT_INSTRUMENTS_URL, loadInstruments, parseInstruments } from "./instruments.ts";

const AAPL = {
  symbol: "AAPL",
  name: "Apple Inc.",
  tickSize: 1,
  lotSize: 1,
  priceScale: 100,
  referencePrice: 19000,
};

/** The message parseInstruments() throws for a table of `instruments`. */
function failure(instruments: unknown[]): string {
  return assertThrows(() => parseInstruments({ instruments }, "t.json"), TypeError).message;
}

Deno.test("loadInstruments() reads the repository's table in file order", () => {
  const instruments = loadInstruments();
  assertEquals(instruments.length, 10);
  assertEquals(instruments[0], AAPL);
  assertEquals(instruments.map((i) => i.symbol).indexOf("ES-FUT"), 9);
  assertEquals(instruments[9]?.tickSize, 25);
  assertEquals(loadInstruments(DEFAULT_INSTRUMENTS_URL), instruments);
});

Deno.test("loadInstruments() names the file when it cannot be read or parsed", () => {
  const missing = assertThrows(() => loadInstruments("/nonexistent/x.json"), Error);
  assertEquals(missing.message.startsWith("Cannot load instruments: /nonexistent/x.json: "), true);
  const notJson = new URL("./STATE_HASH.md", import.meta.url);
  assertThrows(
    () => loadInstruments(notJson),
    SyntaxError,
    `Cannot load instruments: ${notJson.pathname}: not valid JSON`,
  );
});

Deno.test("parseInstruments() ignores $comment and keeps only known fields", () => {
  assertEquals(
    parseInstruments({ $comment: "x", instruments: [{ $comment: "y", ...AAPL }] }, "t.json"),
    [AAPL],
  );
});

Deno.test("parseInstruments() says which instrument is wrong and why", () => {
  const four = ["A", "B", "C", "D"].map((symbol) => ({ ...AAPL, symbol }));
  assertEquals(
    failure([...four.slice(0, 3), { ...four[3], tickSize: 0 }]),
    "Cannot load instruments: t.json: instrument 3 has tickSize 0; it must be a positive integer",
  );
  const symbolRule = 'it must be 1 to 12 of A-Z, 0-9, "." and "-"';
  const cases: [unknown, string][] = [
    [{ ...AAPL, symbol: "aapl" }, `has symbol "aapl"; ${symbolRule}`],
    [{ ...AAPL, symbol: "" }, `has symbol ""; ${symbolRule}`],
    [{ ...AAPL, symbol: "ABCDEFGHIJKLM" }, `has symbol "ABCDEFGHIJKLM"; ${symbolRule}`],
    [{ ...AAPL, symbol: undefined }, `has no symbol; ${symbolRule}`],
    [{ ...AAPL, name: 5 }, "has name 5; it must be a string"],
    [{ ...AAPL, lotSize: 1.5 }, "has lotSize 1.5; it must be a positive integer"],
    [{ ...AAPL, priceScale: "100" }, 'has priceScale "100"; it must be a positive integer'],
    [
      { ...AAPL, referencePrice: undefined },
      "has no referencePrice; it must be a positive integer",
    ],
    [{ ...AAPL, tickSize: 3 }, "has referencePrice 19000; it must be a multiple of tickSize 3"],
    [{ ...AAPL, ticksize: 1 }, 'has unknown field "ticksize"'],
    ["AAPL", "must be a JSON object"],
  ];
  for (const [entry, message] of cases) {
    assertEquals(failure([entry]), `Cannot load instruments: t.json: instrument 0 ${message}`);
  }
  const odd = { ...AAPL, symbol: "BRK.B-1", name: "" };
  assertEquals(parseInstruments({ instruments: [odd] }, "t.json"), [odd]);
});

Deno.test("parseInstruments() rejects repeated symbols", () => {
  assertEquals(
    failure([AAPL, { ...AAPL, name: "Other" }]),
    'Cannot load instruments: t.json: instrument 1 repeats symbol "AAPL"; symbols must be unique',
  );
});

Deno.test("parseInstruments() rejects a table that is not an object with a non-empty list", () => {
  for (const json of [[], null, {}, { instruments: [] }, { instruments: {} }]) {
    assertThrows(
      () => parseInstruments(json, "t.json"),
      TypeError,
      "Cannot load instruments: t.json: ",
    );
  }
  assertThrows(
    () => parseInstruments({ instruments: [AAPL], extra: 1 }, "t.json"),
    TypeError,
    'unknown field "extra"',
  );
});
