import { assert, assertEquals, assertThrows } from "../_testing/assert.ts";
import { CAPNP_ES_TEXT, framed, patched, rootData, structPointer, words } from "./_testing.ts";
import { decodeServerMessage, encodeServerMessage } from "./server.ts";
import type { ServerEvent } from "./types.ts";
import { EVERY_EVENT, T } from "./_fixtures.ts";

Deno.test("decodeServerMessage() returns every message encodeServerMessage() wrote", () => {
  for (const event of EVERY_EVENT) {
    assertEquals(decodeServerMessage(encodeServerMessage(event)), event);
  }
});

Deno.test("encodeServerMessage() writes left-out optional fields as their defaults", () => {
  assertEquals(
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
  assertEquals(
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
  assertEquals(
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
  for (const event of events) assertEquals(decodeServerMessage(encodeServerMessage(event)), event);
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
  assertEquals(frame.byteLength > 48_000, true);
  assertEquals(decodeServerMessage(frame), event);
});

Deno.test("encodeServerMessage() refuses values its fields cannot hold", () => {
  const delta = (price: number, orderCount = 1): ServerEvent => ({
    type: "bookDelta",
    symbol: "AAPL",
    sequence: 1n,
    levels: [{ side: "buy", price, quantity: 1, orderCount }],
    engineTime: 0n,
  });
  assertThrows(() => encodeServerMessage(delta(1.5)), RangeError, "price must be a safe integer");
  assertThrows(() => encodeServerMessage(delta(2 ** 53)), RangeError, "price");
  assertThrows(() => encodeServerMessage(delta(NaN)), RangeError, "price");
  assertThrows(() => encodeServerMessage(delta(1, -1)), RangeError, "orderCount");
  assertThrows(() => encodeServerMessage(delta(1, 2 ** 32)), RangeError, "orderCount");
  assertThrows(
    () =>
      encodeServerMessage({
        type: "error",
        reason: "noSuchReason" as "halted",
        message: "",
      }),
    TypeError,
    'reason "noSuchReason" is unknown',
  );
  assertThrows(
    () => encodeServerMessage({ type: "nope" } as unknown as ServerEvent),
    TypeError,
    "unknown type",
  );
});

Deno.test("decodeServerMessage() refuses frames it cannot read", () => {
  const frame = encodeServerMessage(EVERY_EVENT[6]!);
  assertThrows(() => decodeServerMessage(frame.subarray(0, 16)), TypeError, "truncated");
  const tag = rootData(frame) + 16;
  assertThrows(
    () => decodeServerMessage(patched(frame, tag, 10_000, 2)),
    TypeError,
    "unknown ServerMessage member 10000",
  );
  // An error whose reason is beyond the enumeration (a newer core's).
  const error = framed(
    words(structPointer(0, 3, 1), 0n, 0n, 9n, structPointer(0, 1, 1), 99n, 0n),
  );
  assertThrows(() => decodeServerMessage(error), TypeError, "reason 99 is unknown");
  // A list pointer at the root: said in the wire's words, not capnp-es's.
  const wrong = assertThrows(() => decodeServerMessage(patched(frame, 8, 1)), TypeError);
  assertEquals(
    wrong.message,
    "Cannot decode server message: a pointer is not the kind of pointer the schema has there",
  );
  assert(!CAPNP_ES_TEXT.test(wrong.message), wrong.message);
});
