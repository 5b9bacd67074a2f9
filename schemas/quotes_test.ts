import {
  parseAlive,
  parseQuoteSnapshot,
  parseSymbolList,
  QUOTE_KEYS,
  type QuoteSnapshot,
} from "./quotes.ts";
import assert from "node:assert";

const GOOD: QuoteSnapshot = {
  format: 1,
  symbol: "BRK.B",
  name: "Berkshire Hathaway Inc. Class B",
  priceDecimals: 2,
  lastTrade: { price: 450.25, size: 3, time: 1_764_000_000_000 },
  bid: { price: 450.2, size: 10 },
  ask: null,
  day: { open: 449, high: 451, low: 448.5, close: 450.25, volume: 1200, vwap: 449.9, trades: 88 },
  prevClose: 448,
  change: 2.25,
  changePercent: 0.5022,
  week52: null,
  sequence: 4711,
  updated: 1_764_000_000_100,
  version: 93,
};

Deno.test("parseQuoteSnapshot accepts a whole snapshot and refuses each broken field", () => {
  assert.deepStrictEqual(parseQuoteSnapshot(GOOD), { ok: true, snapshot: GOOD });
  const broken: [Record<string, unknown>, string][] = [
    [{ format: 2 }, "format 2 is not 1"],
    [{ symbol: "brk.b" }, "symbol must be 1 to 12 of [A-Z0-9.-]"],
    [{ priceDecimals: -1 }, "priceDecimals must be an integer from 0 to 12"],
    [{ lastTrade: { price: 1, size: 1 } }, "lastTrade must be null or {price, size, time}"],
    [{ bid: { price: "1", size: 1 } }, "bid must be null or {price, size}"],
    [{ ask: { price: 1, size: 1.5 } }, "ask must be null or {price, size}"],
    [
      { day: { ...GOOD.day, vwap: NaN } },
      "day must be null or {open, high, low, close, volume, vwap, trades}",
    ],
    [{ change: "2" }, "change must be null or a number"],
    [{ week52: { high: 1 } }, "week52 must be null or {high, low}"],
    [{ sequence: -1 }, "sequence must be a non-negative integer"],
  ];
  for (const [patch, problem] of broken) {
    assert.deepStrictEqual(parseQuoteSnapshot({ ...GOOD, ...patch }), { ok: false, problem });
  }
  assert.deepStrictEqual(parseQuoteSnapshot([GOOD]), { ok: false, problem: "not an object" });
});

Deno.test("parseSymbolList checks every entry, and the keys are stable", () => {
  const entry = { symbol: "ES-FUT", name: "E-mini", priceDecimals: 2, tickSize: 0.25, lotSize: 1 };
  assert.deepStrictEqual(parseSymbolList({ format: 1, symbols: [entry] }).ok, true);
  assert.deepStrictEqual(parseSymbolList({ format: 1, symbols: [{ ...entry, lotSize: -1 }] }), {
    ok: false,
    problem: "symbols[0] must be {symbol, name, priceDecimals, tickSize, lotSize, maxOrderQty?}",
  });
  // The largest order is optional (lists written before it), but a count when given.
  assert.deepStrictEqual(
    parseSymbolList({ format: 1, symbols: [{ ...entry, maxOrderQty: 500 }] }).ok,
    true,
  );
  assert.deepStrictEqual(
    parseSymbolList({ format: 1, symbols: [{ ...entry, maxOrderQty: 1.5 }] }).ok,
    false,
  );
  assert.deepStrictEqual(
    [QUOTE_KEYS.version, QUOTE_KEYS.symbols, QUOTE_KEYS.symbol("AAPL"), QUOTE_KEYS.alive],
    [["quotes", "version"], ["quotes", "symbols"], ["quotes", "symbol", "AAPL"], [
      "quotes",
      "alive",
    ]],
  );
  assert.deepStrictEqual(parseAlive({ format: 1, at: -1, version: 1 }), {
    ok: false,
    problem: "at and version must be non-negative integers",
  });
});

Deno.test("parseAlive() takes the engine's state, running or halted with a code, and refuses any other shape", () => {
  const alive = { format: 1, at: 1_764_000_000_000, version: 3 };
  const check = (engine: unknown, problem: string | undefined) => {
    const parsed = parseAlive({ ...alive, engine });
    assert.deepStrictEqual(parsed.ok ? undefined : parsed.problem, problem, JSON.stringify(engine));
  };
  check({ state: "running", cause: null, since: null }, undefined);
  check({ state: "halted", cause: "ENOSPC", since: 1_764_000_000_000 }, undefined);
  check({ state: "halted", cause: "errno 200", since: 0 }, undefined);
  check({ state: "halted", cause: "unknown", since: 0 }, undefined);
  check("halted", "engine must be {state, cause, since}");
  check(
    { state: "stopped", cause: null, since: null },
    'engine.state must be "running" or "halted"',
  );
  check(
    { state: "running", cause: "ENOSPC", since: null },
    "a running engine has null cause and since",
  );
  check(
    { state: "halted", cause: "Engine halted: /data/journal is full", since: 0 },
    'a halted engine\'s cause must be an error code ("ENOSPC"), "errno N" or "unknown"',
  );
  check(
    { state: "halted", cause: "EIO", since: null },
    "a halted engine's since must be a non-negative integer",
  );
  // A writer that does not report its engine is still alive.
  assert.deepStrictEqual(parseAlive(alive), { ok: true, alive });
});
