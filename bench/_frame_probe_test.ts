import assert from "node:assert";
import { encodeSymbol, FrameEncoder } from "../core/marketdata/mod.ts";
import { encodeServerMessage } from "../core/wire/server.ts";
import type { ServerEvent } from "../core/wire/types.ts";
import { FrameProbe, Tag } from "./_frame_probe.ts";

const BASE_MS = 1_790_000_000_000;
const at = (ns: number) => BigInt(BASE_MS) * 1_000_000n + BigInt(ns);

/** Probes `frame` and compares the fields that `expected` names. */
function check(frame: Uint8Array, expected: Record<string, number>): void {
  const probed = new FrameProbe(BASE_MS).read(frame);
  assert(probed !== undefined, "not read");
  const got: Record<string, number> = {};
  for (const key of Object.keys(expected)) got[key] = probed[key as keyof typeof probed];
  assert.deepStrictEqual(got, expected);
}

const report: ServerEvent = {
  type: "executionReport",
  requestId: 77n,
  sentAt: at(9_000),
  sequence: 4n,
  execType: "cancelled",
  clientOrderId: 12n,
  orderId: 99n,
  account: "BENCH1",
  symbol: "AAPL",
  side: "sell",
  orderType: "limit",
  timeInForce: "gtc",
  postOnly: false,
  price: 19000,
  leavesQuantity: 0,
  cumQuantity: 0,
  engineTime: at(8_123),
};

Deno.test("FrameProbe reads what capnp-es wrote, for every member it times", () => {
  check(encodeServerMessage(report), {
    tag: Tag.executionReport,
    requestId: 77,
    sentAt: 9_000,
    engineTime: 8_123,
    execType: 2,
  });
  check(
    encodeServerMessage({
      type: "bookDelta",
      sentAt: at(5),
      symbol: "GOOGL",
      sequence: 123_456n,
      levels: [{ side: "buy", price: 1, quantity: 2, orderCount: 1 }],
      engineTime: at(3),
    }),
    { tag: Tag.bookDelta, requestId: 0, sentAt: 5, sequence: 123_456, engineTime: 3 },
  );
  check(
    encodeServerMessage({
      type: "quote",
      sentAt: at(70),
      symbol: "AAPL",
      sequence: 8n,
      bidPrice: 1,
      bidQuantity: 2,
      askPrice: 3,
      askQuantity: 4,
      engineTime: at(60),
    }),
    { tag: Tag.quote, sentAt: 70, sequence: 8, engineTime: 60 },
  );
  check(
    encodeServerMessage({
      type: "heartbeat",
      requestId: 5n,
      sentAt: at(1),
      intervalMs: 1000,
      echoSentAt: 0n,
      executionSequence: 0n,
    }),
    { tag: Tag.heartbeat, requestId: 5, sentAt: 1, engineTime: NaN },
  );
});

Deno.test("FrameProbe reads the publisher's hand-encoded frames, after stamping", () => {
  const encoder = new FrameEncoder();
  const text = encodeSymbol("BRK.B");
  const delta = encoder.bookDelta(text, 41, at(1_000), [{ side: 0, price: 5, qty: 1, count: 1 }]);
  const trade = encoder.trade(text, 42, 7, 5, 1, 1, at(1_001));
  const quote = encoder.quote(text, 43, 5, 1, 0, 0, at(1_002));
  encoder.stampSentAt(at(2_000));
  check(delta, { tag: Tag.bookDelta, sequence: 41, engineTime: 1_000, sentAt: 2_000 });
  check(trade, { tag: Tag.trade, sequence: 42, engineTime: 1_001, sentAt: 2_000 });
  check(quote, { tag: Tag.quote, sequence: 43, engineTime: 1_002, sentAt: 2_000 });
});

Deno.test("FrameProbe gives times before the base as negative, and unset ones as NaN", () => {
  check(encodeServerMessage({ ...report, sentAt: 0n, engineTime: at(-1_500_000) } as ServerEvent), {
    sentAt: NaN,
    engineTime: -1_500_000,
  });
});

Deno.test("FrameProbe refuses what is not a single-segment message with a struct root", () => {
  const probe = new FrameProbe(BASE_MS);
  const frame = encodeServerMessage(report);
  const twoSegments = frame.slice();
  twoSegments[0] = 1;
  const truncated = frame.slice(0, frame.byteLength - 8);
  const nullRoot = frame.slice();
  nullRoot.fill(0, 8, 16);
  const listRoot = frame.slice();
  listRoot[8] = listRoot[8]! | 1;
  for (const bad of [new Uint8Array(0), new Uint8Array(12), twoSegments, truncated, listRoot]) {
    assert.deepStrictEqual(probe.read(bad), undefined);
  }
  assert.deepStrictEqual(probe.read(nullRoot), undefined);
  // An ArrayBuffer, as a WebSocket delivers it, reads the same as its bytes.
  assert.deepStrictEqual(probe.read(frame.slice().buffer)?.requestId, 77);
});
