import assert from "node:assert/strict";
import {
  type Command,
  CommandKind,
  loadInstruments,
  OrderType,
  Side,
  TimeInForce,
} from "../core/matching/mod.ts";
import { describeFlow } from "../core/synthetic/mod.ts";
import {
  encodePeerStream,
  ORDERBOOK_RS,
  OrderbookRsSubject,
  PEER_COMMAND_BYTES,
} from "./orderbook_rs_subject.ts";

const instruments = loadInstruments();

function place(
  id: number,
  account: number,
  side: Side,
  price: number,
  qty: number,
  extra: Partial<Command> = {},
): Command {
  return {
    kind: CommandKind.PlaceOrder,
    id,
    account,
    instrument: 0,
    side,
    type: OrderType.Limit,
    tif: TimeInForce.Gtc,
    postOnly: false,
    price,
    qty,
    ...extra,
  } as Command;
}

const market = { type: OrderType.Market, tif: TimeInForce.Ioc, price: 0 } as const;

/**
 * A stream whose fills do not depend on where the two books' semantics
 * differ: crossing limits, a market order, a cancel, a replace in place and
 * one that moves, a FOK that is killed, an IOC, a post-only that would
 * cross, and a self-trade (no fill in either).
 */
const stream: Command[] = [
  place(1, 0, Side.Sell, 100, 10),
  place(2, 0, Side.Sell, 101, 5),
  place(3, 1, Side.Buy, 101, 12), // 10 @ 100 and 2 @ 101: 2 fills
  place(4, 1, Side.Buy, 0, 2, market), // 2 @ 101: 1 fill, order 2 keeps 1
  { kind: CommandKind.CancelOrder, id: 2 },
  place(5, 2, Side.Sell, 102, 4),
  { kind: CommandKind.ReplaceOrder, id: 5, price: 102, qty: 3 },
  { kind: CommandKind.ReplaceOrder, id: 5, price: 101, qty: 3 },
  place(6, 1, Side.Buy, 101, 5, { tif: TimeInForce.Fok }), // only 3 there: killed
  place(7, 1, Side.Buy, 101, 1, { tif: TimeInForce.Ioc }), // 1 fill
  place(8, 1, Side.Buy, 101, 1, { postOnly: true }), // would cross: refused
  place(9, 3, Side.Buy, 99, 1),
  place(10, 3, Side.Sell, 0, 1, market), // its own bid only: self-trade, no fill
];

/** The same with two commands the peer cannot express, which it skips. */
const withSkipped: Command[] = [
  ...stream,
  place(11, 0, Side.Buy, 0, 1, { ...market, tif: TimeInForce.Fok }),
  place(12, 0, Side.Buy, 100, 1, { instrument: instruments.length }),
];

Deno.test("encodePeerStream writes one record per expressible command and counts the rest", () => {
  const s = encodePeerStream(withSkipped, instruments);
  assert.equal(s.skipped, 2);
  assert.equal(s.commands, stream.length);
  const header = 24 + 8 * instruments.length;
  assert.equal(s.bytes.length, header + s.commands * PEER_COMMAND_BYTES);
  assert.equal(new TextDecoder().decode(s.bytes.subarray(0, 8)), "TCOBPEER");
  const view = new DataView(s.bytes.buffer);
  // The cancel of order 2 (5th record) goes to order 2's book with its id.
  const cancel = header + 4 * PEER_COMMAND_BYTES;
  assert.equal(s.bytes[cancel], CommandKind.CancelOrder);
  assert.equal(view.getBigUint64(cancel + 8, true), 2n);
});

Deno.test("the orderbook-rs peer builds and reports the fills our matcher finds on a small stream", () => {
  const expected = describeFlow(stream, instruments).outcome.trades;
  assert.equal(expected, 4, "the stream was meant to make 4 fills in our matcher");
  const subject = new OrderbookRsSubject(instruments, { warmup: 5 });
  assert.equal(subject.name, ORDERBOOK_RS);
  try {
    subject.prepare(withSkipped);
    const result = subject.run(withSkipped);
    assert.equal(result.events, expected);
    assert.equal(result.skipped, 2);
    assert.equal(result.commands, stream.length);
    assert.ok(result.seconds > 0);
    const report = subject.lastReport!;
    assert.equal(report.crate, "orderbook-rs 0.15.3");
    assert.equal(report.warmup, 5);
    // The killed FOK, the post-only that would cross, and the market order
    // that self-trade prevention left with nothing to trade (an error there;
    // accepted then expired in ours). The rest succeed.
    assert.equal(report.refused, 3);
  } finally {
    subject.close();
  }
});

Deno.test("OrderbookRsSubject says to prepare first", () => {
  assert.throws(() => new OrderbookRsSubject(instruments).run([]), /prepare\(\) first/);
});
