import assert from "node:assert";
import * as gen from "../../schemas/gen/gateway.ts";
import {
  buildClient,
  CAPNP_ES_TEXT,
  farPointer,
  framed,
  patched,
  rootData,
  structPointer,
  words,
} from "./_testing.ts";
import { decodeClientFrame, type DecodeResult, encodeClientMessage } from "./client.ts";
import type { FrameLimits } from "./frame.ts";
import type { ClientRequest, Reason, RequestType } from "./types.ts";
import { EVERY_REQUEST, ORDER } from "./_fixtures.ts";
import { MAX_TOKEN_BYTES } from "../../schemas/vocabulary/names.ts";

/** Decodes `frame`, which must fail with `reason` and a message containing `includes`. */
function refuse(
  frame: Uint8Array,
  reason: Reason,
  includes: string,
  more: { request?: RequestType; requestId?: bigint; clientOrderId?: bigint } = {},
  limits?: FrameLimits,
): void {
  const result = decodeClientFrame(frame, limits);
  if (result.ok) throw new Error(`expected ${reason}, got ${JSON.stringify(String(result))}`);
  assert.deepStrictEqual(result.reason, reason, result.message);
  assert(
    result.message.includes(includes),
    `message ${JSON.stringify(result.message)} lacks ${JSON.stringify(includes)}`,
  );
  if (more.request) assert.deepStrictEqual(result.request, more.request);
  if (more.requestId !== undefined) assert.deepStrictEqual(result.requestId, more.requestId);
  if (more.clientOrderId !== undefined) {
    assert.deepStrictEqual(result.clientOrderId, more.clientOrderId);
  }
}

Deno.test("decodeClientFrame() returns every request encodeClientMessage() wrote", () => {
  for (const request of EVERY_REQUEST) {
    assert.deepStrictEqual(decodeClientFrame(encodeClientMessage(request)), {
      ok: true,
      message: request,
    });
  }
});

Deno.test("decodeClientFrame() reads a frame inside a larger buffer and never writes to it", () => {
  // A root struct smaller than the schema's (an older client) makes capnp-es
  // resize it, which writes: it must write to its own copy.
  const old = framed(words(structPointer(0, 1, 0), 99n)); // requestId only
  for (const frame of [old, encodeClientMessage(ORDER)]) {
    const buffer = new Uint8Array(frame.byteLength + 24);
    buffer.set(frame, 16);
    const view = buffer.subarray(16, 16 + frame.byteLength);
    const before = buffer.slice();
    const whole = frame.slice();
    assert.deepStrictEqual(decodeClientFrame(view), decodeClientFrame(frame));
    assert.deepStrictEqual([...buffer], [...before]);
    assert.deepStrictEqual([...frame], [...whole]);
  }
});

Deno.test("decodeClientFrame() reads structs smaller or larger than its schema's", () => {
  // An older client: the root has requestId only, so the tag reads 0
  // (newOrder) with a null pointer: an order with every field missing.
  refuse(framed(words(structPointer(0, 1, 0), 99n)), "invalidOrder", "clientOrderId is missing", {
    request: "newOrder",
    requestId: 99n,
  });
  // A newer client: a root of 5 data words and 3 pointers, tag ping (8).
  const newer = framed(words(structPointer(0, 5, 3), 5n, 6n, 8n, 0xdeadn, 0xbeefn, 0n, 0n, 0n));
  assert.deepStrictEqual(decodeClientFrame(newer), {
    ok: true,
    message: { type: "ping", requestId: 5n, sentAt: 6n },
  });
});

Deno.test("decodeClientFrame() follows a far pointer into a second segment", () => {
  // Segment 0: the root pointer is a far pointer to a landing pad at word 0
  // of segment 1; the pad points at the root struct right after it.
  const frame = framed(
    words(farPointer(0, 1)),
    words(structPointer(0, 3, 1), 5n, 0n, 8n, 0n), // requestId 5, tag ping
  );
  assert.deepStrictEqual(decodeClientFrame(frame), {
    ok: true,
    message: { type: "ping", requestId: 5n, sentAt: 0n },
  });
  refuse(frame, "malformedFrame", "limit is 1", {}, { maxSegments: 1 });
});

Deno.test("decodeClientFrame() refuses frames over the size limit", () => {
  refuse(new Uint8Array(64 * 1024 + 8), "frameTooLarge", "65544 bytes, the limit is 65536");
  refuse(encodeClientMessage(ORDER), "frameTooLarge", "the limit is 64", {}, {
    maxFrameBytes: 64,
  });
  // Even a frame full of a valid message: the limit is on bytes, not content.
  const big = encodeClientMessage({ ...ORDER, account: "x".repeat(70_000) });
  refuse(big, "frameTooLarge", "the limit is 65536", { request: "unspecified" });
});

Deno.test("decodeClientFrame() refuses impossible segment tables before capnp-es sees them", () => {
  const frame = encodeClientMessage(ORDER);
  refuse(patched(frame, 0, 2 ** 31 - 1), "malformedFrame", "2147483648 segments");
  refuse(patched(frame, 0, 0xffff_ffff), "malformedFrame", "4294967296 segments");
  refuse(patched(frame, 0, 40), "malformedFrame", "41 segments, whose table alone");
  refuse(patched(frame, 4, 0x7fff_ffff), "malformedFrame", "truncated");
  refuse(patched(frame, 4, 0), "malformedFrame", "first segment is empty");
});

Deno.test("decodeClientFrame() refuses every truncation of a valid frame", () => {
  const frame = encodeClientMessage(ORDER);
  for (let n = 0; n < frame.byteLength; n++) {
    refuse(frame.subarray(0, n), "malformedFrame", "Cannot read frame");
  }
  const longer = new Uint8Array(frame.byteLength + 8);
  longer.set(frame);
  refuse(longer, "malformedFrame", "trailing bytes");
});

/** Decodes `frame`, which must be malformed, with exactly `message` and nothing of capnp-es. */
function unreadable(frame: Uint8Array, message: string): void {
  const result = decodeClientFrame(frame);
  assert(!result.ok, message);
  assert.deepStrictEqual([result.reason, result.message], ["malformedFrame", message]);
  assert(!CAPNP_ES_TEXT.test(result.message), result.message);
}

Deno.test("decodeClientFrame() refuses pointers capnp-es cannot follow, in its own words", () => {
  const frame = encodeClientMessage(ORDER);
  // The root pointer as a list pointer.
  unreadable(
    patched(frame, 8, 1),
    "Cannot read frame: the root pointer is not the kind of pointer the schema has there",
  );
  // The root pointer far past the end of its segment.
  for (const offset of [1000, -1000]) {
    unreadable(
      patched(frame, 8, offset << 2),
      "Cannot read frame: the root pointer points outside its segment",
    );
  }
  // A far pointer to a segment the frame does not have.
  unreadable(
    framed(words(farPointer(0, 7))),
    "Cannot read frame: the root pointer points into a segment the frame does not have",
  );
  // The newOrder pointer (right after the root's 3 data words) beyond the segment.
  const at = rootData(frame) + 24;
  refuse(patched(frame, at, 5000 << 2), "malformedFrame", "the newOrder pointer points outside", {
    request: "newOrder",
    requestId: 11n,
  });
  // The symbol text as a list of 2^29-1 bytes.
  const symbolPointer = rootData(frame) + 32 + 32; // newOrder's data words, then its pointers
  const text = new DataView(frame.buffer).getUint32(symbolPointer + 4, true);
  assert.deepStrictEqual(text & 7, 2, "the symbol pointer is a byte list");
  unreadable(
    patched(frame, symbolPointer + 4, 0xffff_fff8 | 2),
    "Cannot read frame: the symbol pointer points outside its segment",
  );
  // The symbol as a struct pointer.
  unreadable(
    patched(frame, symbolPointer, 0),
    "Cannot read frame: the symbol pointer is not the kind of pointer the schema has there",
  );
  // The account (the next pointer) as a struct pointer.
  unreadable(
    patched(frame, symbolPointer + 8, 0),
    "Cannot read frame: the account pointer is not the kind of pointer the schema has there",
  );
});

Deno.test("decodeClientFrame() refuses union members it does not know", () => {
  const frame = encodeClientMessage({ type: "ping", requestId: 77n, sentAt: 0n });
  const tag = rootData(frame) + 16;
  assert.deepStrictEqual(new DataView(frame.buffer).getUint16(tag, true), gen.ClientMessage.PING);
  for (const unknown of [10, 11, 42, 0xffff]) {
    refuse(patched(frame, tag, unknown, 2), "unknownMessage", `member ${unknown}`, {
      request: "unspecified",
      requestId: 77n,
    });
  }
});

Deno.test("decodeClientFrame() treats a missing (null) request struct as all defaults", () => {
  for (
    const [request, reason, includes] of [
      ["newOrder", "invalidOrder", "Cannot place order: clientOrderId is missing"],
      ["cancel", "unknownOrder", "Cannot cancel order: clientOrderId is missing"],
      ["replace", "unknownOrder", "Cannot replace order: clientOrderId is missing"],
      ["subscribe", "unknownSymbol", "Cannot subscribe: symbol is missing"],
      ["unsubscribe", "unknownSymbol", "Cannot unsubscribe: symbol is missing"],
      ["requestSnapshot", "unknownSymbol", "Cannot send a snapshot: symbol is missing"],
      ["reauthenticate", "notAuthorised", "Cannot reauthenticate: the token is missing"],
    ] as const
  ) {
    const tag = [
      "newOrder",
      "cancel",
      "replace",
      "subscribe",
      "unsubscribe",
      "requestSnapshot",
      "reauthenticate",
    ].indexOf(request);
    const code = [0, 1, 2, 4, 5, 6, 9][tag]!;
    refuse(framed(words(structPointer(0, 3, 1), 3n, 0n, BigInt(code), 0n)), reason, includes, {
      request,
      requestId: 3n,
    });
  }
  // Null is a valid cancelAll (every symbol), requestOrders (from 0) and ping.
  const nullOf = (code: bigint) => framed(words(structPointer(0, 3, 1), 3n, 0n, code, 0n));
  assert.deepStrictEqual(decodeClientFrame(nullOf(3n)), {
    ok: true,
    message: { type: "cancelAll", requestId: 3n, sentAt: 0n, symbol: "" },
  });
  assert.deepStrictEqual(decodeClientFrame(nullOf(7n)), {
    ok: true,
    message: { type: "requestOrders", requestId: 3n, sentAt: 0n, sinceSequence: 0n, maxReports: 0 },
  });
  assert.deepStrictEqual(decodeClientFrame(nullOf(8n)), {
    ok: true,
    message: { type: "ping", requestId: 3n, sentAt: 0n },
  });
});

Deno.test("decodeClientFrame() refuses new orders with missing or out-of-range fields", () => {
  const order = (fill: (o: gen.NewOrder) => void) =>
    buildClient((root) => {
      root.requestId = 5n;
      const o = root._initNewOrder();
      o.clientOrderId = 9n;
      o.symbol = "AAPL";
      o.side = gen.Side.BUY;
      o.orderType = gen.OrderType.LIMIT;
      o.price = 10050n;
      o.quantity = 10n;
      fill(o);
    });
  const ids = { request: "newOrder", requestId: 5n } as const;
  assert(decodeClientFrame(order(() => {})).ok, "the base order is valid");
  const cases: [string, (o: gen.NewOrder) => void, Reason, string][] = [
    ["clientOrderId 0", (o) => o.clientOrderId = 0n, "invalidOrder", "clientOrderId is missing"],
    ["side missing", (o) => o.side = gen.Side.UNSPECIFIED, "invalidOrder", "side is missing"],
    ["side unknown", (o) => o.side = 9 as gen.Side, "invalidOrder", "or unknown (9)"],
    ["type missing", (o) => o.orderType = 0 as gen.OrderType, "invalidOrder", "orderType"],
    ["type unknown", (o) => o.orderType = 7 as gen.OrderType, "invalidOrder", "unknown (7)"],
    ["tif unknown", (o) => o.timeInForce = 3 as gen.TimeInForce, "invalidOrder", "timeInForce"],
    ["account 49 bytes", (o) => o.account = "é".repeat(24) + "x", "invalidOrder", "48 bytes"],
    ["symbol empty", (o) => o.symbol = "", "unknownSymbol", "symbol is missing"],
    ["symbol lower case", (o) => o.symbol = "aapl", "unknownSymbol", '"aapl"'],
    ["symbol 13 long", (o) => o.symbol = "ABCDEFGHIJKLM", "unknownSymbol", "1 to 12"],
    ["symbol with NUL", (o) => o.symbol = "AA\0PL", "unknownSymbol", "1 to 12"],
    ["symbol with space", (o) => o.symbol = "AA PL", "unknownSymbol", "1 to 12"],
    ["quantity 0", (o) => o.quantity = 0n, "invalidQty", "got 0"],
    ["quantity negative", (o) => o.quantity = -5n, "invalidQty", "got -5"],
    ["quantity 2^53", (o) => o.quantity = 2n ** 53n, "invalidQty", "got 9007199254740992"],
    ["quantity 2^63-1", (o) => o.quantity = 2n ** 63n - 1n, "invalidQty", "1..2^53-1 lots"],
    ["limit price 0", (o) => o.price = 0n, "invalidPrice", "got 0"],
    ["limit price negative", (o) => o.price = -1n, "invalidPrice", "got -1"],
    ["limit price 2^53", (o) => o.price = 2n ** 53n, "invalidPrice", "1..2^53-1 price units"],
    [
      "market with a price",
      (o) => o.orderType = gen.OrderType.MARKET,
      "invalidOrder",
      "a market order carries no price, got 10050",
    ],
    [
      "post-only IOC",
      (o) => {
        o.postOnly = true;
        o.timeInForce = gen.TimeInForce.IOC;
      },
      "invalidOrder",
      "post-only is for GTC limit orders only",
    ],
    [
      "post-only market",
      (o) => {
        o.postOnly = true;
        o.orderType = gen.OrderType.MARKET;
        o.price = 0n;
      },
      "invalidOrder",
      "post-only",
    ],
  ];
  for (const [name, fill, reason, includes] of cases) {
    const result = decodeClientFrame(order(fill));
    assert(!result.ok, `${name}: decoded`);
    assert.deepStrictEqual([name, result.reason], [name, reason], result.message);
    assert(result.message.startsWith("Cannot place order: "), result.message);
    assert(result.message.includes(includes), `${name}: ${result.message}`);
    assert.deepStrictEqual(result.request, ids.request);
    assert.deepStrictEqual(result.requestId, ids.requestId);
    assert.deepStrictEqual(result.clientOrderId, name === "clientOrderId 0" ? 0n : 9n);
  }
});

Deno.test("decodeClientFrame() checks new orders in the engine's order: symbol, qty, price", () => {
  const frame = buildClient((root) => {
    const o = root._initNewOrder();
    o.clientOrderId = 1n;
    o.side = gen.Side.SELL;
    o.orderType = gen.OrderType.LIMIT;
    o.symbol = "?";
    o.quantity = 0n;
    o.price = -1n;
  });
  refuse(frame, "unknownSymbol", "symbol");
});

Deno.test("decodeClientFrame() refuses replaces, cancels and symbols out of range", () => {
  const replace = (id: bigint, price: bigint, quantity: bigint) =>
    buildClient((root) => {
      const r = root._initReplace();
      r.clientOrderId = id;
      r.price = price;
      r.quantity = quantity;
    });
  refuse(replace(0n, 1n, 1n), "unknownOrder", "Cannot replace order: clientOrderId is missing");
  refuse(replace(3n, 1n, 0n), "invalidQty", "Cannot replace order: quantity", {
    clientOrderId: 3n,
  });
  refuse(replace(3n, 1n, -1n), "invalidQty", "got -1");
  refuse(replace(3n, 0n, 1n), "invalidPrice", "Cannot replace order: price");
  refuse(replace(3n, 2n ** 60n, 1n), "invalidPrice", "got 1152921504606846976");
  refuse(
    encodeClientMessage({ type: "cancel", requestId: 1n, sentAt: 0n, clientOrderId: 0n }),
    "unknownOrder",
    "Cannot cancel order",
    { request: "cancel", requestId: 1n },
  );
  const symbols: [ClientRequest["type"], string][] = [
    ["subscribe", "Cannot subscribe"],
    ["unsubscribe", "Cannot unsubscribe"],
    ["requestSnapshot", "Cannot send a snapshot"],
    ["cancelAll", "Cannot cancel orders"],
  ];
  for (const [type, what] of symbols) {
    const frame = encodeClientMessage(
      { type, requestId: 2n, sentAt: 0n, symbol: "no good" } as ClientRequest,
    );
    refuse(frame, "unknownSymbol", `${what}: symbol must be 1 to 12`, {
      request: type,
      requestId: 2n,
    });
  }
  // A long symbol is shown cut short.
  const long = encodeClientMessage({
    type: "subscribe",
    requestId: 2n,
    sentAt: 0n,
    symbol: "X".repeat(5000),
  });
  const result = decodeClientFrame(long) as Extract<DecodeResult, { ok: false }>;
  assert(result.message.length < 120, result.message);
});

Deno.test("decodeClientFrame() refuses text that is not NUL-terminated, as the reference does", () => {
  const frame = encodeClientMessage({
    type: "subscribe",
    requestId: 4n,
    sentAt: 0n,
    symbol: "AAPL",
  });
  const view = new DataView(frame.buffer);
  // The symbol's pointer: a list pointer (tag 1) to 5 bytes ("AAPL" and NUL).
  let at = -1;
  for (let i = 8; i < frame.byteLength; i += 8) {
    if ((view.getUint32(i, true) & 3) === 1 && view.getUint32(i + 4, true) === (5 << 3 | 2)) at = i;
  }
  assert(at > 0, "found the symbol's pointer");
  // 4 bytes: "AAPL" without its NUL, which capnp-es alone would read as "AAP".
  refuse(patched(frame, at + 4, 4 << 3 | 2), "malformedFrame", "not NUL-terminated", {
    request: "subscribe",
    requestId: 4n,
  });
  refuse(patched(frame, at + 4, 0 << 3 | 2), "malformedFrame", "not NUL-terminated");
});

Deno.test("decodeClientFrame() reads a reauthenticate's token up to MAX_TOKEN_BYTES and refuses a missing or longer one", () => {
  const at = (token: string) =>
    encodeClientMessage({ type: "reauthenticate", requestId: 21n, sentAt: 0n, token });
  const longest = "a".repeat(MAX_TOKEN_BYTES);
  assert.deepStrictEqual(decodeClientFrame(at(longest)), {
    ok: true,
    message: { type: "reauthenticate", requestId: 21n, sentAt: 0n, token: longest },
  });
  const more = { request: "reauthenticate" as const, requestId: 21n };
  refuse(
    at(`${longest}a`),
    "notAuthorised",
    `Cannot reauthenticate: the token is over 4096 bytes`,
    more,
  );
  // Under 4096 characters, over 4096 bytes of UTF-8.
  refuse(at("é".repeat(2049)), "notAuthorised", "over 4096 bytes", more);
  refuse(at(""), "notAuthorised", "Cannot reauthenticate: the token is missing", more);
});
