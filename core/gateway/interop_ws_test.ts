/**
 * The core against the reference Cap'n Proto tool (Debian's `capnp`), over
 * a real WebSocket: client messages written as Cap'n Proto text
 * and encoded by `capnp encode` go out as binary frames, and every frame the
 * core sends back is printed by `capnp decode`. Any Cap'n Proto
 * implementation must be able to talk to the core. Skipped with a message
 * without the tool, except in CI (`CI=true`), where it fails.
 */

import assert from "node:assert";
import { capnp, capnpTest, SCHEMA } from "../wire/_testing.ts";
import { withLiveGateway } from "./_harness.ts";

/** `capnp encode`s one `ClientMessage` from text; `segmentWords` splits it into segments. */
async function encode(text: string, segmentWords?: number): Promise<Uint8Array> {
  const flags = segmentWords === undefined ? [] : [`--segment-size=${segmentWords}`];
  return await capnp(["encode", ...flags, SCHEMA, "ClientMessage"], text);
}

/** `capnp decode --short`s frames, one run for all (the tool reads a stream): one line each. */
async function decode(frames: readonly Uint8Array[]): Promise<string[]> {
  const stream = new Uint8Array(frames.reduce((n, f) => n + f.byteLength, 0));
  let at = 0;
  for (const frame of frames) {
    stream.set(frame, at);
    at += frame.byteLength;
  }
  const text = new TextDecoder().decode(
    await capnp(["decode", "--short", SCHEMA, "ServerMessage"], stream),
  );
  const lines = text.trim().split("\n");
  assert.deepStrictEqual(lines.length, frames.length, `capnp decode printed:\n${text}`);
  return lines;
}

/** Times vary: `sentAt = T`, `engineTime = T`; trade ids too: `tradeId = ID` (0 stays). */
function normalise(line: string): string {
  return line
    .replace(/sentAt = \d+/g, "sentAt = T")
    .replace(/engineTime = \d+/g, "engineTime = T")
    .replace(/tradeId = [1-9]\d*/g, "tradeId = ID");
}

const REPORT = 'account = "ALICE", symbol = "AAPL", side = buy, orderType = limit, ' +
  "timeInForce = gtc, postOnly = false, price = 18990";

capnpTest(
  "interop: ClientMessages from `capnp encode` over a real WebSocket are answered with frames `capnp decode` reads",
  async () => {
    await withLiveGateway(async (h) => {
      const alice = await h.connect("ALICE");
      const bob = await h.connect("BOB");
      const frames: Uint8Array[] = [];
      alice.tap = (_event, _at, frame) => void (frame && frames.push(frame));

      alice.send(await encode("(requestId = 1, sentAt = 1700000000000000123, ping = ())"));
      await alice.next((m) => m.type === "heartbeat" && m.requestId === 1n);
      // The same request split into one-word segments: the core reads any valid framing.
      alice.send(await encode("(requestId = 2, sentAt = 42, ping = ())", 1));
      await alice.next((m) => m.type === "heartbeat" && m.requestId === 2n);
      alice.send(
        await encode(
          `(requestId = 3, newOrder = (clientOrderId = 7, symbol = "AAPL", side = buy,
          orderType = limit, price = 18990, quantity = 5))`,
        ),
      );
      await alice.nextOf("executionReport");
      alice.send(await encode(`(requestId = 4, subscribe = (symbol = "AAPL"))`));
      await alice.nextOf("bookSnapshot");
      // BOB sells 2 into ALICE's bid: ALICE gets her fill and the market data.
      bob.send({
        type: "newOrder",
        requestId: 1n,
        sentAt: 0n,
        clientOrderId: 1n,
        symbol: "AAPL",
        side: "sell",
        orderType: "limit",
        timeInForce: "ioc",
        postOnly: false,
        price: 18_990,
        quantity: 2,
        account: "",
      });
      await alice.nextOf("quote");
      alice.send(await encode("(requestId = 5, cancel = (clientOrderId = 7))"));
      await alice.nextOf("quote");
      alice.send(await encode(`(requestId = 6, subscribe = (symbol = "NOPE"))`));
      await alice.nextOf("reject");
      alice.send(
        await encode(
          `(requestId = 7, newOrder = (clientOrderId = 8, symbol = "AAPL", side = buy,
          orderType = limit, price = -1, quantity = 1))`,
        ),
      );
      await alice.nextOf("reject");

      const lines = (await decode(frames))
        // Idle heartbeats may come between (none is due in so short a test).
        .filter((line) => !/^\(requestId = 0, sentAt = \d+, heartbeat = /.test(line));
      const tradeIds = new Set(
        lines.flatMap((l) => [...l.matchAll(/tradeId = ([1-9]\d*)/g)]).map((m) => m[1]),
      );
      assert.deepStrictEqual(
        tradeIds.size,
        1,
        "the execution report and the trade name one trade id",
      );
      const expected = [
        "(requestId = 1, sentAt = T, heartbeat = (intervalMs = 1000, echoSentAt = 1700000000000000123, executionSequence = 0))",
        "(requestId = 2, sentAt = T, heartbeat = (intervalMs = 1000, echoSentAt = 42, executionSequence = 0))",
        `(requestId = 3, sentAt = T, executionReport = (sequence = 1, execType = accepted, clientOrderId = 7, orderId = 1, ${REPORT}, leavesQuantity = 5, cumQuantity = 0, lastPrice = 0, lastQuantity = 0, tradeId = 0, liquidity = unspecified, cancelReason = requested, engineTime = T, replayed = false, cancelledQuantity = 0))`,
        '(requestId = 4, sentAt = T, bookSnapshot = (symbol = "AAPL", sequence = 2, bids = [(price = 18990, quantity = 5, orderCount = 1)], asks = [], engineTime = T))',
        `(requestId = 0, sentAt = T, executionReport = (sequence = 2, execType = trade, clientOrderId = 7, orderId = 1, ${REPORT}, leavesQuantity = 3, cumQuantity = 2, lastPrice = 18990, lastQuantity = 2, tradeId = ID, liquidity = maker, cancelReason = requested, engineTime = T, replayed = false, cancelledQuantity = 0))`,
        '(requestId = 0, sentAt = T, bookDelta = (symbol = "AAPL", sequence = 3, levels = [(side = buy, price = 18990, quantity = 3, orderCount = 1)], engineTime = T))',
        '(requestId = 0, sentAt = T, trade = (symbol = "AAPL", sequence = 4, tradeId = ID, price = 18990, quantity = 2, aggressorSide = sell, engineTime = T))',
        '(requestId = 0, sentAt = T, quote = (symbol = "AAPL", sequence = 5, bidPrice = 18990, bidQuantity = 3, askPrice = 0, askQuantity = 0, engineTime = T))',
        `(requestId = 5, sentAt = T, executionReport = (sequence = 3, execType = cancelled, clientOrderId = 7, orderId = 1, ${REPORT}, leavesQuantity = 0, cumQuantity = 2, lastPrice = 0, lastQuantity = 0, tradeId = 0, liquidity = unspecified, cancelReason = requested, engineTime = T, replayed = false, cancelledQuantity = 3))`,
        '(requestId = 0, sentAt = T, bookDelta = (symbol = "AAPL", sequence = 6, levels = [(side = buy, price = 18990, quantity = 0, orderCount = 0)], engineTime = T))',
        '(requestId = 0, sentAt = T, quote = (symbol = "AAPL", sequence = 7, bidPrice = 0, bidQuantity = 0, askPrice = 0, askQuantity = 0, engineTime = T))',
        '(requestId = 6, sentAt = T, reject = (reason = unknownSymbol, message = "Cannot subscribe to NOPE: unknownSymbol", request = subscribe, clientOrderId = 0, symbol = "NOPE"))',
      ];
      assert.deepStrictEqual(lines.slice(0, -1).map(normalise), expected);
      // The bad price is refused with its reason, and nothing reached the engine.
      const last = normalise(lines.at(-1)!);
      assert(
        last.startsWith(
          '(requestId = 7, sentAt = T, reject = (reason = invalidPrice, message = "Cannot place order',
        ) && last.endsWith("request = newOrder, clientOrderId = 8))"),
        last,
      );
      assert.deepStrictEqual(h.errors, []);
    });
  },
);
