import assert from "node:assert";
import { CAPNP_ES_TEXT, framed, patched, rootData, structPointer, words } from "./_testing.ts";
import { decodeServerMessage, encodeServerMessage } from "./server.ts";
import type { ServerEvent } from "./types.ts";
import { EVERY_EVENT, T } from "./_fixtures.ts";

Deno.test("decodeServerMessage() returns every message encodeServerMessage() wrote", () => {
  for (const event of EVERY_EVENT) {
    assert.deepStrictEqual(decodeServerMessage(encodeServerMessage(event)), event);
  }
});

Deno.test("encodeServerMessage() writes left-out optional fields as their defaults", () => {
  assert.deepStrictEqual(
    decodeServerMessage(encodeServerMessage({
      type: "executionReport",
      sequence: 1n,
      execType: "accepted",
      clientOrderId: 1n,
      orderId: 2n,
      account: "",
      symbol: "AAPL",
      side: "buy",
      orderType: "market",
      timeInForce: "gtc",
      postOnly: false,
      price: 0,
      leavesQuantity: 10,
      cumQuantity: 0,
      engineTime: 5n,
    })),
    {
      type: "executionReport",
      requestId: 0n,
      sentAt: 0n,
      sequence: 1n,
      execType: "accepted",
      clientOrderId: 1n,
      orderId: 2n,
      account: "",
      symbol: "AAPL",
      side: "buy",
      orderType: "market",
      timeInForce: "gtc",
      postOnly: false,
      price: 0,
      leavesQuantity: 10,
      cumQuantity: 0,
      lastPrice: 0,
      lastQuantity: 0,
      tradeId: 0n,
      liquidity: "unspecified",
      cancelReason: "requested",
      engineTime: 5n,
      replayed: false,
      cancelledQuantity: 0,
    },
  );
  assert.deepStrictEqual(
    decodeServerMessage(encodeServerMessage({
      type: "reject",
      reason: "invalidQty",
      message: "m",
      request: "replace",
    })),
    {
      type: "reject",
      requestId: 0n,
      sentAt: 0n,
      reason: "invalidQty",
      message: "m",
      request: "replace",
      clientOrderId: 0n,
      symbol: "",
    },
  );
  assert.deepStrictEqual(
    decodeServerMessage(
      encodeServerMessage({ type: "resync", symbol: "A", reason: "sequenceReset" }),
    ),
    {
      type: "resync",
      requestId: 0n,
      sentAt: 0n,
      symbol: "A",
      reason: "sequenceReset",
      message: "",
    },
  );
});

Deno.test("encodeServerMessage() writes empty books, deltas and position lists", () => {
  const events: ServerEvent[] = [
    {
      type: "bookSnapshot",
      requestId: 0n,
      sentAt: 0n,
      symbol: "AAPL",
      sequence: 0n,
      bids: [],
      asks: [],
      engineTime: 0n,
    },
    {
      type: "bookDelta",
      requestId: 0n,
      sentAt: 0n,
      symbol: "AAPL",
      sequence: 1n,
      levels: [],
      engineTime: 0n,
    },
    {
      type: "positions",
      requestId: 0n,
      sentAt: 0n,
      account: "",
      executionSequence: 0n,
      positions: [],
      oldestSequence: 0n,
      throughSequence: 0n,
      more: false,
      sinceTooOld: false,
    },
  ];
  for (const event of events) {
    assert.deepStrictEqual(decodeServerMessage(encodeServerMessage(event)), event);
  }
});

Deno.test("encodeServerMessage() writes a deep snapshot beyond capnp-es's first 4 KiB", () => {
  const levels = Array.from(
    { length: 1000 },
    (_, i) => ({ price: 10_000 + i, quantity: i + 1, orderCount: 1 + (i % 7) }),
  );
  const event: ServerEvent = {
    type: "bookSnapshot",
    requestId: 0n,
    sentAt: 0n,
    symbol: "SPY",
    sequence: 9n,
    bids: levels.toReversed(),
    asks: levels,
    engineTime: T,
  };
  const frame = encodeServerMessage(event);
  assert.deepStrictEqual(frame.byteLength > 48_000, true);
  assert.deepStrictEqual(decodeServerMessage(frame), event);
});

Deno.test("encodeServerMessage() refuses values its fields cannot hold", () => {
  const delta = (price: number, orderCount = 1): ServerEvent => ({
    type: "bookDelta",
    symbol: "AAPL",
    sequence: 1n,
    levels: [{ side: "buy", price, quantity: 1, orderCount }],
    engineTime: 0n,
  });
  assert.throws(() => encodeServerMessage(delta(1.5)), {
    name: "RangeError",
    message: /price must be a safe integer/,
  });
  assert.throws(() => encodeServerMessage(delta(2 ** 53)), {
    name: "RangeError",
    message: /price/,
  });
  assert.throws(() => encodeServerMessage(delta(NaN)), { name: "RangeError", message: /price/ });
  assert.throws(() => encodeServerMessage(delta(1, -1)), {
    name: "RangeError",
    message: /orderCount/,
  });
  assert.throws(() => encodeServerMessage(delta(1, 2 ** 32)), {
    name: "RangeError",
    message: /orderCount/,
  });
  assert.throws(() =>
    encodeServerMessage({
      type: "error",
      reason: "noSuchReason" as "halted",
      message: "",
    }), { name: "TypeError", message: /reason "noSuchReason" is unknown/ });
  assert.throws(() => encodeServerMessage({ type: "nope" } as unknown as ServerEvent), {
    name: "TypeError",
    message: /unknown type/,
  });
});

Deno.test("decodeServerMessage() refuses frames it cannot read", () => {
  const frame = encodeServerMessage(EVERY_EVENT[6]!);
  assert.throws(() => decodeServerMessage(frame.subarray(0, 16)), {
    name: "TypeError",
    message: /truncated/,
  });
  const tag = rootData(frame) + 16;
  assert.throws(() => decodeServerMessage(patched(frame, tag, 10_000, 2)), {
    name: "TypeError",
    message: /unknown ServerMessage member 10000/,
  });
  // An error whose reason is beyond the enumeration (a newer core's).
  const error = framed(
    words(structPointer(0, 3, 1), 0n, 0n, 9n, structPointer(0, 1, 1), 99n, 0n),
  );
  assert.throws(() => decodeServerMessage(error), {
    name: "TypeError",
    message: /reason 99 is unknown/,
  });
  // A list pointer at the root: said in the wire's words, not capnp-es's.
  const wrong =
    "Cannot decode server message: a pointer is not the kind of pointer the schema has there";
  assert(!CAPNP_ES_TEXT.test(wrong), wrong);
  assert.throws(() => decodeServerMessage(patched(frame, 8, 1)), {
    name: "TypeError",
    message: wrong,
  });
});
