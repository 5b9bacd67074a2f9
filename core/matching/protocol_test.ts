import fc from "fast-check";
import assert from "node:assert";
import { loadInstruments } from "./instruments.ts";
import {
  CommandParser,
  commandToJson,
  eventToJson,
  formatError,
  type ParsedLine,
} from "./protocol.ts";
import {
  type Command,
  CommandKind,
  type EngineEvent,
  EventKind,
  INVALID_PRICE,
  NO_PRICE,
  OrderType,
  Side,
  TimeInForce,
  UNKNOWN_INSTRUMENT,
} from "./types.ts";
import { MAX_ACCOUNT_BYTES } from "../../schemas/vocabulary/names.ts";

const instruments = loadInstruments();

/** Parses `fields` as one JSON line with a fresh parser. */
function parse(fields: Record<string, unknown>): ParsedLine {
  return new CommandParser(instruments).parse(JSON.stringify(fields));
}

/** The command of a line that must parse. */
function command(fields: Record<string, unknown>) {
  const parsed = parse(fields);
  if (!parsed.ok) throw new Error(`expected a command, got: ${parsed.message}`);
  return parsed.command;
}

const NEW = {
  op: "new",
  id: 7,
  account: "A1",
  symbol: "AAPL",
  side: "buy",
  type: "limit",
  price: 10050,
  qty: 100,
};

Deno.test("parse() reads a full new command", () => {
  assert.deepStrictEqual(
    command({ ...NEW, side: "sell", tif: "ioc", postOnly: true, symbol: "ES-FUT" }),
    {
      kind: CommandKind.PlaceOrder,
      id: 7,
      account: 0,
      instrument: 9,
      side: Side.Sell,
      type: OrderType.Limit,
      tif: TimeInForce.Ioc,
      postOnly: true,
      price: 10050,
      qty: 100,
    },
  );
});

Deno.test("parse() defaults tif to gtc and postOnly to false", () => {
  const parsed = command(NEW);
  assert.deepStrictEqual(parsed.kind === CommandKind.PlaceOrder && [parsed.tif, parsed.postOnly], [
    TimeInForce.Gtc,
    false,
  ]);
});

Deno.test("parse() reads cancel and replace, ignoring fields it does not know", () => {
  assert.deepStrictEqual(command({ op: "cancel", id: 0, extra: [1] }), {
    kind: CommandKind.CancelOrder,
    id: 0,
  });
  assert.deepStrictEqual(command({ op: "replace", id: 7, price: 10040, qty: 80 }), {
    kind: CommandKind.ReplaceOrder,
    id: 7,
    price: 10040,
    qty: 80,
  });
});

Deno.test("parse() numbers accounts in first-seen order, skipping lines that are not commands", () => {
  const parser = new CommandParser(instruments);
  const accounts = ["B", "A", "bad", "B", "C", "A"].map((account) => {
    const parsed = parser.parse(
      JSON.stringify(
        account === "bad" ? { ...NEW, account: "X", side: "up" } : { ...NEW, account },
      ),
    );
    return parsed.ok && parsed.command.kind === CommandKind.PlaceOrder
      ? parsed.command.account
      : -1;
  });
  assert.deepStrictEqual(accounts, [0, 1, -1, 0, 2, 1]);
});

Deno.test("parse() accepts an account of up to 48 bytes of UTF-8, however many characters", () => {
  for (const account of ["x".repeat(48), "é".repeat(24), "€".repeat(16), "😀".repeat(12), "a"]) {
    assert.deepStrictEqual(parse({ ...NEW, account }).ok, true, account);
  }
});

Deno.test("parse() refuses an account of more than 48 bytes, or one UTF-8 cannot encode", () => {
  const cases: [string, string][] = [
    ["x".repeat(49), ", not 49 bytes"],
    ["é".repeat(25), ", not 50 bytes"],
    ["😀".repeat(12) + "x", ", not 49 bytes"],
    ["€".repeat(100), ", not 300 bytes"],
    ["a\ud800b", ", and this one holds a lone surrogate, which UTF-8 cannot encode"],
  ];
  for (const [account, why] of cases) {
    assert.deepStrictEqual(parse({ ...NEW, account }), {
      ok: false,
      message: `field "account" must be a string of 1 to ${MAX_ACCOUNT_BYTES} bytes of UTF-8${why}`,
    });
  }
});

Deno.test("CommandParser numbers new accounts after the accounts it is given", () => {
  const parser = new CommandParser(instruments, { accounts: [[0, "A"], [3, "D"], [0, "A"]] });
  const account = (name: string) => {
    const parsed = parser.parse(JSON.stringify({ ...NEW, account: name }));
    return parsed.ok && parsed.command.kind === CommandKind.PlaceOrder && parsed.command.account;
  };
  assert.deepStrictEqual(["D", "E", "A", "F", "E"].map(account), [3, 4, 0, 5, 4]);
  assert.deepStrictEqual([0, 1, 3, 4, 5, 6].map((n) => parser.accountName(n)), [
    "A",
    undefined,
    "D",
    "E",
    "F",
    undefined,
  ]);
});

Deno.test("CommandParser refuses given accounts that conflict", () => {
  assert.throws(() => new CommandParser(instruments, { accounts: [[0, "A"], [1, "A"]] }), {
    name: "RangeError",
    message: /account 1 is "A", but "A" is already account 0/,
  });
  assert.throws(() => new CommandParser(instruments, { accounts: [[0, "A"], [0, "B"]] }), {
    name: "RangeError",
    message: /account 0 is "B", but account 0 is already "A"/,
  });
  assert.throws(() => new CommandParser(instruments, { accounts: [[-1, "A"]] }), {
    name: "RangeError",
    message: /is not an integer from 0 to 2\^32 - 1/,
  });
});

Deno.test("parse() maps unknown or non-string symbols to UNKNOWN_INSTRUMENT", () => {
  for (const symbol of [undefined, null, 5, "NOPE", "aapl", "toString"]) {
    const parsed = command({ ...NEW, symbol });
    assert.deepStrictEqual(
      parsed.kind === CommandKind.PlaceOrder && parsed.instrument,
      UNKNOWN_INSTRUMENT,
    );
  }
});

Deno.test("parse() passes a qty that is not a positive safe integer as 0", () => {
  for (const qty of [undefined, null, 0, -1, 1.5, "10", 2 ** 53, true]) {
    const parsed = command({ ...NEW, qty });
    assert.deepStrictEqual(parsed.kind === CommandKind.PlaceOrder && parsed.qty, 0, `qty ${qty}`);
  }
});

Deno.test("parse() passes a limit price that is not a positive safe integer as INVALID_PRICE", () => {
  for (const price of [undefined, null, 0, -5, 1.5, "100", 2 ** 53, false]) {
    const parsed = command({ ...NEW, price });
    assert.deepStrictEqual(parsed.kind === CommandKind.PlaceOrder && parsed.price, INVALID_PRICE);
  }
});

Deno.test("parse() gives a market order NO_PRICE when it has none, INVALID_PRICE when it has any", () => {
  const price = (fields: Record<string, unknown>) => {
    const parsed = command({ ...NEW, type: "market", ...fields });
    return parsed.kind === CommandKind.PlaceOrder && parsed.price;
  };
  const { price: _, ...withoutPrice } = NEW;
  assert.deepStrictEqual(command({ ...withoutPrice, type: "market" }).kind, CommandKind.PlaceOrder);
  assert.deepStrictEqual(
    [{ price: undefined }, { price: null }, { price: 100 }, { price: 0 }, { price: "x" }].map(
      price,
    ),
    [NO_PRICE, NO_PRICE, INVALID_PRICE, INVALID_PRICE, INVALID_PRICE],
  );
});

Deno.test("parse() passes a replace's invalid price as INVALID_PRICE and qty as 0", () => {
  assert.deepStrictEqual(command({ op: "replace", id: 1 }), {
    kind: CommandKind.ReplaceOrder,
    id: 1,
    price: INVALID_PRICE,
    qty: 0,
  });
  assert.deepStrictEqual(command({ op: "replace", id: 1, price: 1.5, qty: -2 }), {
    kind: CommandKind.ReplaceOrder,
    id: 1,
    price: INVALID_PRICE,
    qty: 0,
  });
});

Deno.test("parse() says why a line is not a command, checking fields in order", () => {
  const parser = new CommandParser(instruments);
  const cases: [string, string][] = [
    ["", "it is not valid JSON"],
    ['{"op":"new"', "it is not valid JSON"],
    ["[]", "it is not a JSON object"],
    ['"new"', "it is not a JSON object"],
    ["null", "it is not a JSON object"],
    ['{"op":"NEW","id":-1}', 'field "op" must be "new", "cancel" or "replace"'],
    ['{"op":"cancel","id":-1}', 'field "id" must be a non-negative safe integer'],
    ['{"op":"replace","id":null}', 'field "id" must be a non-negative safe integer'],
    [
      '{"op":"new","id":1,"side":"x"}',
      'field "account" must be a string of 1 to 48 bytes of UTF-8',
    ],
    [
      JSON.stringify({ ...NEW, account: "" }),
      'field "account" must be a string of 1 to 48 bytes of UTF-8',
    ],
    [
      JSON.stringify({ ...NEW, account: 7 }),
      'field "account" must be a string of 1 to 48 bytes of UTF-8',
    ],
    [JSON.stringify({ ...NEW, side: "Buy", type: "x" }), 'field "side" must be "buy" or "sell"'],
    [JSON.stringify({ ...NEW, side: "toString" }), 'field "side" must be "buy" or "sell"'],
    [
      JSON.stringify({ ...NEW, type: "stop", tif: "x" }),
      'field "type" must be "limit" or "market"',
    ],
    [
      JSON.stringify({ ...NEW, tif: "GTC", postOnly: 1 }),
      'field "tif" must be "gtc", "ioc" or "fok" when present',
    ],
    [
      JSON.stringify({ ...NEW, postOnly: null }),
      'field "postOnly" must be true or false when present',
    ],
  ];
  assert.deepStrictEqual(
    cases.map(([line]) => parser.parse(line)),
    cases.map(([, message]) => ({ ok: false, message })),
  );
});

Deno.test("eventToJson() puts ev first, then the named fields, then the symbol", () => {
  const events: EngineEvent[] = [
    { kind: EventKind.OrderAccepted, id: 1, instrument: 0 },
    { kind: EventKind.OrderRejected, id: 2, instrument: 9, reason: "invalid_price" },
    { kind: EventKind.OrderTraded, instrument: 1, taker: 3, maker: 1, price: 100, qty: 5 },
    { kind: EventKind.OrderCancelled, id: 1, instrument: 0, leaves: 5, reason: "requested" },
    { kind: EventKind.OrderCancelled, id: 1, instrument: 0, leaves: 5, reason: "self_trade" },
    { kind: EventKind.OrderExpired, id: 4, instrument: 8, leaves: 2 },
    { kind: EventKind.OrderReplaced, id: 5, instrument: 0, price: 99, qty: 3 },
    {
      kind: EventKind.OrderRejected,
      id: 6,
      instrument: UNKNOWN_INSTRUMENT,
      reason: "unknown_order",
    },
  ];
  assert.deepStrictEqual(events.map((event) => JSON.stringify(eventToJson(event, instruments))), [
    '{"ev":"accepted","id":1,"symbol":"AAPL"}',
    '{"ev":"rejected","id":2,"reason":"invalid_price","symbol":"ES-FUT"}',
    '{"ev":"trade","taker":3,"maker":1,"price":100,"qty":5,"symbol":"MSFT"}',
    '{"ev":"cancelled","id":1,"leaves":5,"symbol":"AAPL"}',
    '{"ev":"cancelled","id":1,"leaves":5,"reason":"self_trade","symbol":"AAPL"}',
    '{"ev":"expired","id":4,"leaves":2,"symbol":"BRK.B"}',
    '{"ev":"replaced","id":5,"price":99,"qty":3,"symbol":"AAPL"}',
    '{"ev":"rejected","id":6,"reason":"unknown_order"}',
  ]);
});

Deno.test("formatError() names the line in both fields", () => {
  assert.deepStrictEqual(
    JSON.stringify(formatError(12, "it is not valid JSON")),
    JSON.stringify({
      ev: "error",
      line: 12,
      message: "Cannot read line 12: it is not valid JSON",
    }),
  );
});

/** Commands as the parser makes them: every sentinel included, any instrument number. */
const commandArbitrary: fc.Arbitrary<Command> = fc.oneof(
  fc.record({
    kind: fc.constant(CommandKind.PlaceOrder),
    id: fc.nat(),
    account: fc.nat(5),
    instrument: fc.oneof(fc.nat(instruments.length + 2), fc.constant(UNKNOWN_INSTRUMENT)),
    side: fc.constantFrom(Side.Buy, Side.Sell),
    type: fc.constantFrom(OrderType.Limit, OrderType.Market),
    tif: fc.constantFrom(TimeInForce.Gtc, TimeInForce.Ioc, TimeInForce.Fok),
    postOnly: fc.boolean(),
    price: fc.oneof(fc.integer({ min: 1, max: 1e9 }), fc.constant(INVALID_PRICE)),
    qty: fc.oneof(fc.integer({ min: 1, max: 1e6 }), fc.constant(0)),
  }).map((c) => // The parser gives a limit a positive price or INVALID_PRICE, a market
  // order NO_PRICE or INVALID_PRICE, and an unknown symbol UNKNOWN_INSTRUMENT.
  ({
    ...c,
    price: c.type === OrderType.Market && c.price > 0 ? NO_PRICE : c.price,
    instrument: c.instrument < instruments.length ? c.instrument : UNKNOWN_INSTRUMENT,
  })),
  fc.record({ kind: fc.constant(CommandKind.CancelOrder), id: fc.nat() }),
  fc.record({
    kind: fc.constant(CommandKind.ReplaceOrder),
    id: fc.nat(),
    price: fc.oneof(fc.integer({ min: 1, max: 1e9 }), fc.constant(INVALID_PRICE)),
    qty: fc.oneof(fc.integer({ min: 1, max: 1e6 }), fc.constant(0)),
  }),
);

Deno.test("commandToJson() writes a line that parses to the same command", () => {
  const names = ["A", "Zoë", "€".repeat(16), "#1", "b", "x y"];
  const accounts = names.map((name, i) => [i, name] as const);
  fc.assert(
    fc.property(commandArbitrary, (command) => {
      const line = JSON.stringify(commandToJson(command, instruments, (n) => names[n]!));
      const parser = new CommandParser(instruments, { accounts });
      // fast-check's records have no prototype; the parser's commands are plain objects.
      assert.deepStrictEqual(parser.parse(line), { ok: true, command: { ...command } });
    }),
    { numRuns: 2000 },
  );
});

Deno.test("commandToJson() writes fields in the README's order, the sentinels as values", () => {
  const write = (command: Command) =>
    JSON.stringify(commandToJson(command, instruments, () => "A1"));
  const place = {
    kind: CommandKind.PlaceOrder,
    id: 7,
    account: 0,
    instrument: 0,
    side: Side.Buy,
    type: OrderType.Limit,
    tif: TimeInForce.Ioc,
    postOnly: true,
    price: 10050,
    qty: 100,
  } as const;
  assert.deepStrictEqual(
    [
      write(place),
      write({ ...place, instrument: UNKNOWN_INSTRUMENT, price: INVALID_PRICE, qty: 0 }),
      write({ ...place, type: OrderType.Market, price: NO_PRICE }),
      write({ ...place, type: OrderType.Market, price: INVALID_PRICE }),
      write({ kind: CommandKind.CancelOrder, id: 7 }),
      write({ kind: CommandKind.ReplaceOrder, id: 7, price: INVALID_PRICE, qty: 0 }),
    ],
    [
      '{"op":"new","id":7,"account":"A1","symbol":"AAPL","side":"buy","type":"limit","tif":"ioc","price":10050,"qty":100,"postOnly":true}',
      '{"op":"new","id":7,"account":"A1","symbol":"?","side":"buy","type":"limit","tif":"ioc","price":-1,"qty":0,"postOnly":true}',
      '{"op":"new","id":7,"account":"A1","symbol":"AAPL","side":"buy","type":"market","tif":"ioc","qty":100,"postOnly":true}',
      '{"op":"new","id":7,"account":"A1","symbol":"AAPL","side":"buy","type":"market","tif":"ioc","price":-1,"qty":100,"postOnly":true}',
      '{"op":"cancel","id":7}',
      '{"op":"replace","id":7,"price":-1,"qty":0}',
    ],
  );
});

Deno.test("commandToJson() refuses codes the line format has no name for", () => {
  const place = {
    kind: CommandKind.PlaceOrder,
    id: 7,
    account: 0,
    instrument: 0,
    side: Side.Buy,
    type: OrderType.Limit,
    tif: TimeInForce.Gtc,
    postOnly: false,
    price: 100,
    qty: 1,
  } as const;
  for (const [field, bad] of [["side", 2], ["type", 9], ["tif", 3]] as const) {
    assert.throws(
      () => commandToJson({ ...place, [field]: bad } as Command, instruments, () => "A"),
      (error: unknown) =>
        error instanceof RangeError &&
        error.message.includes(
          `Cannot write order 7 as a line: ${field} ${bad} has no name in the line format`,
        ),
    );
  }
});
