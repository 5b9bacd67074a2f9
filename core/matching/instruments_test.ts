import { assertEquals, assertThrows } from "../_testing/assert.ts";
import {
  DEFAULT_INSTRUMENTS_URL,
  DEFAULT_MAX_ORDER_QTY,
  loadInstruments,
  MAX_ORDER_QTY_CEILING,
  parseInstruments,
} from "./instruments.ts";

const AAPL = {
  symbol: "AAPL",
  name: "Apple Inc.",
  tickSize: 1,
  lotSize: 1,
  priceScale: 100,
  referencePrice: 19000,
};

/** AAPL as parsed: the table gives no maxOrderQty, so it has the default. */
const PARSED_AAPL = { ...AAPL, maxOrderQty: DEFAULT_MAX_ORDER_QTY };

/** The message parseInstruments() throws for a table of `instruments`. */
function failure(instruments: unknown[]): string {
  return assertThrows(() => parseInstruments({ instruments }, "t.json"), TypeError).message;
}

Deno.test("loadInstruments() reads the repository's table in file order", () => {
  const instruments = loadInstruments();
  assertEquals(instruments.length, 10);
  assertEquals(instruments[0], PARSED_AAPL);
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
    [PARSED_AAPL],
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
  assertEquals(parseInstruments({ instruments: [odd] }, "t.json"), [
    { ...odd, maxOrderQty: DEFAULT_MAX_ORDER_QTY },
  ]);
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

Deno.test("parseInstruments() takes maxOrderQty from 1 to 2^21 - 1 and defaults it to 1,000,000", () => {
  const parsed = (maxOrderQty: number) =>
    parseInstruments({ instruments: [{ ...AAPL, maxOrderQty }] }, "t.json")[0]?.maxOrderQty;
  assertEquals([parsed(1), parsed(MAX_ORDER_QTY_CEILING)], [1, 2_097_151]);
  assertEquals(DEFAULT_MAX_ORDER_QTY, 1_000_000);
  // The ceiling keeps any sum of the quantities of fewer than 2^32 resting orders exact.
  assertEquals(2 ** 32 * MAX_ORDER_QTY_CEILING <= Number.MAX_SAFE_INTEGER, true);
  const rule = "it must be an integer from 1 to 2097151 (lots per order)";
  for (
    const [value, shown] of [
      [0, "0"],
      [-5, "-5"],
      [1.5, "1.5"],
      [MAX_ORDER_QTY_CEILING + 1, "2097152"],
      [Number.MAX_SAFE_INTEGER, "9007199254740991"],
      ["100", '"100"'],
      [null, "null"],
    ] as const
  ) {
    assertEquals(
      failure([{ ...AAPL, maxOrderQty: value }]),
      `Cannot load instruments: t.json: instrument 0 has maxOrderQty ${shown}; ${rule}`,
    );
  }
});

Deno.test("every instrument of the repository's table has a maximum order quantity", () => {
  for (const i of loadInstruments()) {
    assertEquals(Number.isSafeInteger(i.maxOrderQty) && i.maxOrderQty >= 1, true, i.symbol);
    assertEquals(i.maxOrderQty <= MAX_ORDER_QTY_CEILING, true, i.symbol);
  }
});

Deno.test("the repository's table gives public names only: no notes in them, symbols and order kept", () => {
  const instruments = loadInstruments();
  assertEquals(
    instruments.map((i) => i.symbol),
    ["AAPL", "MSFT", "GOOGL", "AMZN", "NVDA", "TSLA", "SPY", "QQQ", "BRK.B", "ES-FUT"],
  );
  for (const { symbol, name } of instruments) {
    // A note for testers ("(quarter-point ticks)") is no part of a name.
    assertEquals(/[()[\]]|\btick/i.test(name), false, `${symbol}: ${name}`);
    assertEquals(name.trim() === name && name.length > 0, true, symbol);
  }
  assertEquals(instruments[9]?.name, "E-mini S&P 500 Future");
});
