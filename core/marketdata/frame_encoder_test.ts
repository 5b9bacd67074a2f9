import fc from "fast-check";
import assert from "node:assert";
import { decodeServerMessage, encodeServerMessage } from "../wire/server.ts";
import type {
  BookDeltaEvent,
  BookSnapshotEvent,
  QuoteEvent,
  ServerEvent,
  TradeEvent,
} from "../wire/types.ts";
import { capnpDecode, capnpTest } from "./_testing.ts";
import { encodeSymbol, FrameEncoder, withHeader } from "./frame_encoder.ts";

// ---------------------------------------------------------------------------
// Random messages, as the wire's plain values

const symbol = fc.stringMatching(/^[A-Z0-9.-]{1,12}$/);
/** Prices and quantities: any safe integer (the schema's Int64 holds negatives too). */
const int = fc.oneof(
  fc.integer({ min: -1000, max: 1_000_000 }),
  fc.maxSafeInteger(), // the whole safe range, despite its name
  fc.constantFrom(Number.MIN_SAFE_INTEGER, -1, 0, 2 ** 31, 2 ** 32 - 1, 2 ** 32, -(2 ** 32)),
);
const natural = fc.oneof(fc.nat(1_000_000), fc.nat({ max: Number.MAX_SAFE_INTEGER }));
const count = fc.oneof(fc.nat(1000), fc.constant(0xffff_ffff));
const time = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const side = fc.constantFrom("buy" as const, "sell" as const);

// Plain objects, as the decoder makes: by default fast-check makes some without a prototype.
const delta: fc.Arbitrary<BookDeltaEvent> = fc.record({
  type: fc.constant("bookDelta" as const),
  requestId: fc.constant(0n),
  sentAt: time,
  symbol,
  sequence: natural.map(BigInt),
  levels: fc.array(
    fc.record({ side, price: int, quantity: int, orderCount: count }, { noNullPrototype: true }),
    { maxLength: 40 },
  ),
  engineTime: time,
}, { noNullPrototype: true });

const trade: fc.Arbitrary<TradeEvent> = fc.record({
  type: fc.constant("trade" as const),
  requestId: fc.constant(0n),
  sentAt: time,
  symbol,
  sequence: natural.map(BigInt),
  tradeId: natural.map(BigInt),
  price: int,
  quantity: int,
  aggressorSide: side,
  engineTime: time,
}, { noNullPrototype: true });

const quote: fc.Arbitrary<QuoteEvent> = fc.record({
  type: fc.constant("quote" as const),
  requestId: fc.constant(0n),
  sentAt: time,
  symbol,
  sequence: natural.map(BigInt),
  bidPrice: int,
  bidQuantity: int,
  askPrice: int,
  askQuantity: int,
  engineTime: time,
}, { noNullPrototype: true });

const level = fc.record({ price: int, quantity: int, orderCount: count }, {
  noNullPrototype: true,
});
const snapshot: fc.Arbitrary<BookSnapshotEvent> = fc.record({
  type: fc.constant("bookSnapshot" as const),
  requestId: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  sentAt: time,
  symbol,
  sequence: natural.map(BigInt),
  bids: fc.array(level, { maxLength: 60 }),
  asks: fc.array(level, { maxLength: 60 }),
  engineTime: time,
}, { noNullPrototype: true });

const message = fc.oneof(delta, trade, quote, snapshot);

/**
 * Encodes `event` with the hot-path encoder (hot frames into `encoder`'s
 * slab, stamped with the event's `sentAt` at once).
 */
function encodeFast(encoder: FrameEncoder, event: ServerEvent): Uint8Array {
  const sentAt = event.sentAt ?? 0n;
  const code = (s: "buy" | "sell") => (s === "buy" ? 0 : 1);
  let frame: Uint8Array;
  switch (event.type) {
    case "bookDelta":
      frame = encoder.bookDelta(
        encodeSymbol(event.symbol),
        Number(event.sequence),
        event.engineTime,
        event.levels.map((l) => ({
          side: code(l.side),
          price: l.price,
          qty: l.quantity,
          count: l.orderCount,
        })),
      );
      break;
    case "trade":
      frame = encoder.trade(
        encodeSymbol(event.symbol),
        Number(event.sequence),
        Number(event.tradeId),
        event.price,
        event.quantity,
        code(event.aggressorSide),
        event.engineTime,
      );
      break;
    case "quote":
      frame = encoder.quote(
        encodeSymbol(event.symbol),
        Number(event.sequence),
        event.bidPrice,
        event.bidQuantity,
        event.askPrice,
        event.askQuantity,
        event.engineTime,
      );
      break;
    case "bookSnapshot": {
      const levels = (ls: typeof event.bids) =>
        ls.map((l) => ({ price: l.price, qty: l.quantity, count: l.orderCount }));
      const plain = encoder.bookSnapshot(
        encodeSymbol(event.symbol),
        Number(event.sequence),
        event.engineTime,
        levels(event.bids),
        levels(event.asks),
      );
      return withHeader(plain, event.requestId ?? 0n, sentAt);
    }
    default:
      throw new TypeError(`No fast encoder for ${event.type}`);
  }
  encoder.stampSentAt(sentAt);
  return frame;
}

Deno.test("FrameEncoder frames decode with capnp-es to exactly the message encoded", () => {
  // A small slab: frames land at many offsets, across many slabs, some larger than a slab.
  const encoder = new FrameEncoder(512);
  fc.assert(
    fc.property(message, (event) => {
      assert.deepStrictEqual(decodeServerMessage(encodeFast(encoder, event)), event);
    }),
    { numRuns: 2000 },
  );
});

Deno.test("FrameEncoder frames stay intact while later frames are written", () => {
  const encoder = new FrameEncoder(1024);
  const events = fc.sample(fc.oneof(delta, trade, quote), { numRuns: 500, seed: 7 });
  // Encode all, stamping once at the end, as a flush does; then decode all.
  const stamp = 1_700_000_000_000_000_000n;
  const frames = events.map((event) => {
    const { type } = event;
    const frame = encodeFast(encoder, { ...event, sentAt: 0n });
    return { frame, type };
  });
  encoder.stampSentAt(stamp);
  frames.forEach(({ frame }, i) => {
    assert.deepStrictEqual(decodeServerMessage(frame), { ...events[i]!, sentAt: 0n }, `frame ${i}`);
  });
  // Stamping again touches only frames encoded since.
  const later = encoder.quote(encodeSymbol("AAPL"), 1, 2, 3, 4, 5, 6n);
  encoder.stampSentAt(stamp);
  assert.deepStrictEqual(decodeServerMessage(later).sentAt, stamp);
  assert.deepStrictEqual(decodeServerMessage(frames[0]!.frame).sentAt, 0n);
});

Deno.test("stampSentAt() stamps every frame since the last stamp, across slabs, and no other", () => {
  // 256-byte slabs: a few frames each, some frames alone in a larger slab.
  const encoder = new FrameEncoder(256);
  const batch = (sentAt: bigint) => {
    const events = fc.sample(fc.oneof(delta, trade, quote), { numRuns: 60, seed: Number(sentAt) });
    const frames = events.map((event) => {
      // Encode without stamping (encodeFast stamps each frame at once).
      const text = encodeSymbol(event.symbol);
      if (event.type === "trade") {
        return encoder.trade(text, 1, 2, 3, 4, 0, 5n);
      } else if (event.type === "quote") {
        return encoder.quote(text, 1, 2, 3, 4, 5, 6n);
      }
      const levels = event.levels.map(() => ({ side: 0 as const, price: 1, qty: 1, count: 1 }));
      return encoder.bookDelta(text, 1, 2n, levels);
    });
    encoder.stampSentAt(sentAt);
    return frames;
  };
  const first = batch(-7n);
  const second = batch(2n ** 62n + 3n);
  for (const frame of first) assert.deepStrictEqual(decodeServerMessage(frame).sentAt, -7n);
  for (const frame of second) {
    assert.deepStrictEqual(decodeServerMessage(frame).sentAt, 2n ** 62n + 3n);
  }
});

Deno.test("FrameEncoder frames are whole words, framed as one segment of the size they claim", () => {
  const encoder = new FrameEncoder();
  for (const event of fc.sample(message, { numRuns: 300, seed: 3 })) {
    const frame = encodeFast(encoder, event);
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    assert.deepStrictEqual(frame.byteLength % 8, 0);
    assert.deepStrictEqual(view.getUint32(0, true), 0, "one segment");
    assert.deepStrictEqual(8 + view.getUint32(4, true) * 8, frame.byteLength, "segment size");
  }
});

Deno.test("withHeader() sets requestId and sentAt in a copy, leaving the cached frame as it was", () => {
  const plain = new FrameEncoder().bookSnapshot(encodeSymbol("AAPL"), 5, 9n, [], []);
  const copy = withHeader(plain, 2n ** 64n - 1n, -1n);
  const event = decodeServerMessage(copy);
  assert.deepStrictEqual([event.requestId, event.sentAt], [2n ** 64n - 1n, -1n]);
  assert.deepStrictEqual(decodeServerMessage(plain).requestId, 0n);
});

Deno.test("encodeSymbol() refuses what the schema's symbols exclude", () => {
  for (const bad of ["", "aapl", "WAY-TOO-LONG-SYM", "A B", "É"]) {
    assert.throws(() => encodeSymbol(bad), {
      name: "RangeError",
      message: /1 to 12 of \[A-Z0-9\.-\]/,
    });
  }
  assert.deepStrictEqual(encodeSymbol("ABCDEFGHIJKL").words, 2); // 12 bytes + NUL
  assert.deepStrictEqual(encodeSymbol("ABCDEFG").words, 1); // 7 bytes + NUL
});

Deno.test("FrameEncoder refuses a slab size that is not a positive multiple of 8", () => {
  for (const bad of [0, -8, 12, 1.5]) {
    assert.throws(() => new FrameEncoder(bad), { name: "RangeError", message: /multiple of 8/ });
  }
});

capnpTest("`capnp decode` prints FrameEncoder frames exactly as it prints capnp-es's", async () => {
  const encoder = new FrameEncoder(4096);
  const events = fc.sample(message, { numRuns: 400, seed: 11 });
  const fast = await capnpDecode(events.map((event) => encodeFast(encoder, event)));
  const reference = await capnpDecode(events.map((event) => encodeServerMessage(event)));
  for (let i = 0; i < events.length; i++) {
    assert.deepStrictEqual(fast[i], reference[i], `message ${i} (${events[i]!.type})`);
  }
  // A guard against a vacuous comparison: every kind was covered, with lists.
  assert.deepStrictEqual(new Set(events.map((e) => e.type)).size, 4);
  assert(fast.some((line) => line.includes("levels = [(side = sell")));
});

capnpTest("`capnp decode` reads one of each hot frame as the schema spells it", async () => {
  const encoder = new FrameEncoder();
  const aapl = encodeSymbol("AAPL");
  const t = 1_700_000_000_123_456_789n;
  const frames = [
    encoder.bookDelta(aapl, 1001, t, [
      { side: 0, price: 10050, qty: 0, count: 0 },
      { side: 1, price: 10051, qty: 250, count: 4 },
    ]),
    encoder.trade(aapl, 1002, 778, 10051, 5, 0, t),
    encoder.quote(aapl, 1003, 10049, 100, 10051, 245, t),
  ];
  encoder.stampSentAt(t);
  assert.deepStrictEqual(await capnpDecode(frames), [
    "(requestId = 0, sentAt = 1700000000123456789, bookDelta = (" +
    'symbol = "AAPL", sequence = 1001, levels = [(side = buy, price = 10050, quantity = 0, ' +
    "orderCount = 0), (side = sell, price = 10051, quantity = 250, orderCount = 4)], " +
    "engineTime = 1700000000123456789))",
    "(requestId = 0, sentAt = 1700000000123456789, trade = (" +
    'symbol = "AAPL", sequence = 1002, tradeId = 778, price = 10051, quantity = 5, ' +
    "aggressorSide = buy, engineTime = 1700000000123456789))",
    "(requestId = 0, sentAt = 1700000000123456789, quote = (" +
    'symbol = "AAPL", sequence = 1003, bidPrice = 10049, bidQuantity = 100, askPrice = 10051, ' +
    "askQuantity = 245, engineTime = 1700000000123456789))",
  ]);
});
