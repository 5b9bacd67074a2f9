import assert from "node:assert";
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
  try {
    parseInstruments({ instruments }, "t.json");
  } catch (error) {
    assert.ok(error instanceof TypeError, String(error));
    return error.message;
  }
  assert.fail("parseInstruments() accepted the table");
}

Deno.test("loadInstruments() reads the repository's table in file order", () => {
  const instruments = loadInstruments();
  assert.deepStrictEqual(instruments.length, 10);
  assert.deepStrictEqual(instruments[0], PARSED_AAPL);
  assert.deepStrictEqual(instruments.map((i) => i.symbol).indexOf("ES-FUT"), 9);
  assert.deepStrictEqual(instruments[9]?.tickSize, 25);
  assert.deepStrictEqual(loadInstruments(DEFAULT_INSTRUMENTS_URL), instruments);
});

Deno.test("loadInstruments() names the file when it cannot be read or parsed", () => {
  assert.throws(() => loadInstruments("/nonexistent/x.json"), {
    message: /^Cannot load instruments: \/nonexistent\/x\.json: /,
  });
  const notJson = new URL("./STATE_HASH.md", import.meta.url);
  assert.throws(
    () => loadInstruments(notJson),
    (error: unknown) =>
      error instanceof SyntaxError &&
      error.message.includes(`Cannot load instruments: ${notJson.pathname}: not valid JSON`),
  );
});

Deno.test("parseInstruments() ignores $comment and keeps only known fields", () => {
  assert.deepStrictEqual(
    parseInstruments({ $comment: "x", instruments: [{ $comment: "y", ...AAPL }] }, "t.json"),
    [PARSED_AAPL],
  );
});

Deno.test("parseInstruments() says which instrument is wrong and why", () => {
  const four = ["A", "B", "C", "D"].map((symbol) => ({ ...AAPL, symbol }));
  assert.deepStrictEqual(
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
    assert.deepStrictEqual(
      failure([entry]),
      `Cannot load instruments: t.json: instrument 0 ${message}`,
    );
  }
  const odd = { ...AAPL, symbol: "BRK.B-1", name: "" };
  assert.deepStrictEqual(parseInstruments({ instruments: [odd] }, "t.json"), [
    { ...odd, maxOrderQty: DEFAULT_MAX_ORDER_QTY },
  ]);
});

Deno.test("parseInstruments() rejects repeated symbols", () => {
  assert.deepStrictEqual(
    failure([AAPL, { ...AAPL, name: "Other" }]),
    'Cannot load instruments: t.json: instrument 1 repeats symbol "AAPL"; symbols must be unique',
  );
});

Deno.test("parseInstruments() rejects a table that is not an object with a non-empty list", () => {
  for (const json of [[], null, {}, { instruments: [] }, { instruments: {} }]) {
    assert.throws(() => parseInstruments(json, "t.json"), {
      name: "TypeError",
      message: /Cannot load instruments: t\.json: /,
    });
  }
  assert.throws(() => parseInstruments({ instruments: [AAPL], extra: 1 }, "t.json"), {
    name: "TypeError",
    message: /unknown field "extra"/,
  });
});

Deno.test("parseInstruments() takes maxOrderQty from 1 to 2^21 - 1 and defaults it to 1,000,000", () => {
  const parsed = (maxOrderQty: number) =>
    parseInstruments({ instruments: [{ ...AAPL, maxOrderQty }] }, "t.json")[0]?.maxOrderQty;
  assert.deepStrictEqual([parsed(1), parsed(MAX_ORDER_QTY_CEILING)], [1, 2_097_151]);
  assert.deepStrictEqual(DEFAULT_MAX_ORDER_QTY, 1_000_000);
  // The ceiling keeps any sum of the quantities of fewer than 2^32 resting orders exact.
  assert.deepStrictEqual(2 ** 32 * MAX_ORDER_QTY_CEILING <= Number.MAX_SAFE_INTEGER, true);
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
    assert.deepStrictEqual(
      failure([{ ...AAPL, maxOrderQty: value }]),
      `Cannot load instruments: t.json: instrument 0 has maxOrderQty ${shown}; ${rule}`,
    );
  }
});

Deno.test("every instrument of the repository's table has a maximum order quantity", () => {
  for (const i of loadInstruments()) {
    assert.deepStrictEqual(
      Number.isSafeInteger(i.maxOrderQty) && i.maxOrderQty >= 1,
      true,
      i.symbol,
    );
    assert.deepStrictEqual(i.maxOrderQty <= MAX_ORDER_QTY_CEILING, true, i.symbol);
  }
});

Deno.test("the repository's table gives public names only: no notes in them, symbols and order kept", () => {
  const instruments = loadInstruments();
  assert.deepStrictEqual(
    instruments.map((i) => i.symbol),
    ["AAPL", "MSFT", "GOOGL", "AMZN", "NVDA", "TSLA", "SPY", "QQQ", "BRK.B", "ES-FUT"],
  );
  for (const { symbol, name } of instruments) {
    // A note for testers ("(quarter-point ticks)") is no part of a name.
    assert.deepStrictEqual(/[()[\]]|\btick/i.test(name), false, `${symbol}: ${name}`);
    assert.deepStrictEqual(name.trim() === name && name.length > 0, true, symbol);
  }
  assert.deepStrictEqual(instruments[9]?.name, "E-mini S&P 500 Future");
});
