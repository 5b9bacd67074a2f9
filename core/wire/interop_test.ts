/**
 * The core against the reference Cap'n Proto tool (Debian's `capnp`): any
 * implementation must be able to talk to it. Client messages are written as
 * Cap'n Proto text and encoded by `capnp encode`; server messages are encoded
 * here and printed by `capnp decode`.
 */

import assert from "node:assert";
import { EVERY_EVENT } from "./_fixtures.ts";
import { capnp, SCHEMA } from "./_testing.ts";
import { decodeClientFrame } from "./client.ts";
import { encodeServerMessage } from "./server.ts";
import type { ClientRequest, ServerEvent } from "./types.ts";

/** `capnp encode`s one text message; `segmentWords` makes it multi-segment. */
async function encode(text: string, segmentWords?: number): Promise<Uint8Array> {
  const flags = segmentWords ? [`--segment-size=${segmentWords}`] : [];
  return await capnp(["encode", ...flags, SCHEMA, "ClientMessage"], text);
}

/** `capnp decode --short`s one server frame. */
async function decode(frame: Uint8Array): Promise<string> {
  const out = await capnp(["decode", "--short", SCHEMA, "ServerMessage"], frame);
  return new TextDecoder().decode(out).trim();
}

const CLIENT_CASES: [text: string, expected: ClientRequest][] = [
  [
    `(requestId = 7, sentAt = 1700000000000000001, newOrder = (clientOrderId = 1,
      symbol = "AAPL", side = buy, orderType = limit, price = 10050, quantity = 100))`,
    {
      type: "newOrder",
      requestId: 7n,
      sentAt: 1_700_000_000_000_000_001n,
      clientOrderId: 1n,
      symbol: "AAPL",
      side: "buy",
      orderType: "limit",
      timeInForce: "gtc",
      postOnly: false,
      price: 10050,
      quantity: 100,
      account: "",
    },
  ],
  [
    `(newOrder = (clientOrderId = 18446744073709551615, symbol = "ES-FUT", side = sell,
      orderType = market, timeInForce = fok, quantity = 3, account = "desk-7"))`,
    {
      type: "newOrder",
      requestId: 0n,
      sentAt: 0n,
      clientOrderId: 18446744073709551615n,
      symbol: "ES-FUT",
      side: "sell",
      orderType: "market",
      timeInForce: "fok",
      postOnly: false,
      price: 0,
      quantity: 3,
      account: "desk-7",
    },
  ],
  [
    `(requestId = 8, cancel = (clientOrderId = 1))`,
    { type: "cancel", requestId: 8n, sentAt: 0n, clientOrderId: 1n },
  ],
  [
    `(requestId = 9, replace = (clientOrderId = 1, price = 10040, quantity = 80))`,
    { type: "replace", requestId: 9n, sentAt: 0n, clientOrderId: 1n, price: 10040, quantity: 80 },
  ],
  [`(cancelAll = ())`, { type: "cancelAll", requestId: 0n, sentAt: 0n, symbol: "" }],
  [
    `(cancelAll = (symbol = "BRK.B"))`,
    { type: "cancelAll", requestId: 0n, sentAt: 0n, symbol: "BRK.B" },
  ],
  [`(subscribe = (symbol = "SPY"))`, {
    type: "subscribe",
    requestId: 0n,
    sentAt: 0n,
    symbol: "SPY",
  }],
  [
    `(unsubscribe = (symbol = "SPY"))`,
    { type: "unsubscribe", requestId: 0n, sentAt: 0n, symbol: "SPY" },
  ],
  [
    `(requestSnapshot = (symbol = "QQQ"))`,
    { type: "requestSnapshot", requestId: 0n, sentAt: 0n, symbol: "QQQ" },
  ],
  [
    `(requestOrders = (sinceSequence = 41))`,
    { type: "requestOrders", requestId: 0n, sentAt: 0n, sinceSequence: 41n, maxReports: 0 },
  ],
  [
    `(requestOrders = (sinceSequence = 41, maxReports = 4294967295))`,
    {
      type: "requestOrders",
      requestId: 0n,
      sentAt: 0n,
      sinceSequence: 41n,
      maxReports: 4_294_967_295,
    },
  ],
  [`(requestId = 3, sentAt = -5, ping = ())`, { type: "ping", requestId: 3n, sentAt: -5n }],
  [
    `(requestId = 4, reauthenticate = (token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJBIn0.c2ln"))`,
    {
      type: "reauthenticate",
      requestId: 4n,
      sentAt: 0n,
      token: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJBIn0.c2ln",
    },
  ],
];

Deno.test("decodeClientFrame() reads what `capnp encode` writes from text, one segment or many", async () => {
  for (const [text, expected] of CLIENT_CASES) {
    for (const segmentWords of [undefined, 1, 3]) {
      const frame = await encode(text, segmentWords);
      if (segmentWords === 1) assert(new DataView(frame.buffer).getUint32(0, true) > 0, text);
      assert.deepStrictEqual(decodeClientFrame(frame), { ok: true, message: expected }, text);
    }
  }
});

Deno.test("decodeClientFrame() refuses bad requests that `capnp encode` writes from text", async () => {
  const cases: [string, string, string][] = [
    [
      `(requestId = 4, newOrder = (clientOrderId = 2, symbol = "AAPL", side = buy,
       orderType = limit, price = 10050))`,
      "invalidQty",
      "quantity must be in 1..2^53-1",
    ],
    [
      `(newOrder = (clientOrderId = 2, symbol = "AAPL", orderType = limit, price = 1, quantity = 1))`,
      "invalidOrder",
      "side is missing",
    ],
    [
      `(newOrder = (clientOrderId = 2, symbol = "aapl", side = buy, orderType = limit, price = 1, quantity = 1))`,
      "unknownSymbol",
      "symbol",
    ],
    [
      `(newOrder = (clientOrderId = 2, symbol = "AAPL", side = buy, orderType = market, price = 1, quantity = 1))`,
      "invalidOrder",
      "market order carries no price",
    ],
    [
      `(newOrder = (clientOrderId = 2, symbol = "AAPL", side = buy, orderType = limit, price = -1, quantity = 1))`,
      "invalidPrice",
      "got -1",
    ],
    [`(cancel = ())`, "unknownOrder", "clientOrderId is missing"],
    [`(subscribe = (symbol = "WAY-TOO-LONG-SYMBOL"))`, "unknownSymbol", "1 to 12"],
    [`(reauthenticate = ())`, "notAuthorised", "the token is missing"],
    [`(reauthenticate = (token = "${"a".repeat(4097)}"))`, "notAuthorised", "over 4096 bytes"],
  ];
  for (const [text, reason, includes] of cases) {
    const result = decodeClientFrame(await encode(text));
    assert(!result.ok, text);
    assert.deepStrictEqual(result.reason, reason, text);
    assert(result.message.includes(includes), `${text}: ${result.message}`);
  }
});

/** What `capnp decode --short` prints for each of {@linkcode EVERY_EVENT}, by type. */
const SERVER_TEXT: Record<ServerEvent["type"], string> = {
  executionReport: "(requestId = 11, sentAt = 1700000000123456794, executionReport = (" +
    'sequence = 3, execType = trade, clientOrderId = 42, orderId = 9000000001, account = "desk-7", ' +
    'symbol = "BRK.B", side = sell, orderType = limit, timeInForce = ioc, postOnly = true, ' +
    "price = 10050, leavesQuantity = 60, cumQuantity = 40, lastPrice = 10049, lastQuantity = 15, " +
    "tradeId = 777, liquidity = taker, cancelReason = selfTrade, engineTime = 1700000000123456789, " +
    "replayed = true, cancelledQuantity = 25))",
  reject: "(requestId = 12, sentAt = 1700000000123456789, reject = (reason = notAuthorised, " +
    'message = "Cannot place order: account desk-9 is not yours", request = newOrder, ' +
    'clientOrderId = 43, symbol = "AAPL"))',
  bookSnapshot: "(requestId = 13, sentAt = 1700000000123456789, bookSnapshot = (" +
    'symbol = "ES-FUT", sequence = 1000, bids = [(price = 500025, quantity = 10, orderCount = 2), ' +
    "(price = 500000, quantity = 7, orderCount = 1)], asks = [(price = 500050, quantity = 3, " +
    "orderCount = 3)], engineTime = 1700000000123456789))",
  bookDelta: "(requestId = 0, sentAt = 1700000000123456789, bookDelta = (" +
    'symbol = "AAPL", sequence = 1001, levels = [(side = buy, price = 10050, quantity = 0, ' +
    "orderCount = 0), (side = sell, price = 10051, quantity = 250, orderCount = 4)], " +
    "engineTime = 1700000000123456789))",
  trade: "(requestId = 0, sentAt = 1700000000123456789, trade = (" +
    'symbol = "AAPL", sequence = 1002, tradeId = 778, price = 10051, quantity = 5, ' +
    "aggressorSide = buy, engineTime = 1700000000123456789))",
  quote: "(requestId = 0, sentAt = 1700000000123456789, quote = (" +
    'symbol = "AAPL", sequence = 1003, bidPrice = 10049, bidQuantity = 100, askPrice = 10051, ' +
    "askQuantity = 245, engineTime = 1700000000123456789))",
  heartbeat: "(requestId = 14, sentAt = 1700000000123456789, heartbeat = (" +
    "intervalMs = 1000, echoSentAt = 1700000000123455789, executionSequence = 3))",
  resync: "(requestId = 0, sentAt = 1700000000123456789, resync = (" +
    'symbol = "MSFT", reason = slowConsumer, ' +
    'message = "Your queue for MSFT overflowed; a snapshot follows"))',
  positions: "(requestId = 15, sentAt = 1700000000123456789, positions = (" +
    'account = "desk-7", executionSequence = 3, positions = [(symbol = "AAPL", ' +
    "netQuantity = -25, boughtQuantity = 15, soldQuantity = 40, boughtNotional = 150750, " +
    "soldNotional = 4611686018427387904, openBuyQuantity = 5, openSellQuantity = 60)], " +
    "oldestSequence = 2, throughSequence = 3, more = true, sinceTooOld = true))",
  error: "(requestId = 16, sentAt = 1700000000123456789, error = (reason = malformedFrame, " +
    'message = "Cannot read frame: 3 bytes is not a whole number of 8-byte words", ' +
    "closing = true))",
};

Deno.test("`capnp decode` prints every message encodeServerMessage() writes", async () => {
  assert.deepStrictEqual(EVERY_EVENT.map((e) => e.type).sort(), Object.keys(SERVER_TEXT).sort());
  for (const event of EVERY_EVENT) {
    assert.deepStrictEqual(
      await decode(encodeServerMessage(event)),
      SERVER_TEXT[event.type],
      event.type,
    );
  }
});

Deno.test("a request `capnp encode`d and answered by encodeServerMessage() round-trips through the reference tool", async () => {
  // What the gateway will do with a bad frame: decode, refuse, answer; the
  // answer must read back in the reference tool with the request's id.
  const result = decodeClientFrame(
    await encode(`(requestId = 99, replace = (clientOrderId = 5, price = 0, quantity = 1))`),
  );
  assert(!result.ok);
  const reply = encodeServerMessage({
    type: "reject",
    requestId: result.requestId,
    reason: result.reason,
    message: result.message,
    request: result.request,
    clientOrderId: result.clientOrderId,
  });
  assert.deepStrictEqual(
    await decode(reply),
    "(requestId = 99, sentAt = 0, reject = (reason = invalidPrice, " +
      'message = "Cannot replace order: price must be in 1..2^53-1 price units, got 0", ' +
      "request = replace, clientOrderId = 5))",
  );
});
