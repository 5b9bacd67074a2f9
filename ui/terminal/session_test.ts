import { deepStrictEqual, strictEqual } from "node:assert/strict";
import type { ExecutionReportEvent, PositionsEvent } from "../../schemas/wire/mod.ts";
import { formatAmount } from "./pnl.ts";
import { SessionStore } from "./session.ts";

function report(
  sequence: bigint,
  patch: Partial<ExecutionReportEvent> = {},
): ExecutionReportEvent {
  return {
    type: "executionReport",
    sequence,
    execType: "accepted",
    clientOrderId: 1n,
    orderId: 100n,
    account: "alice",
    symbol: "AAPL",
    side: "buy",
    orderType: "limit",
    timeInForce: "gtc",
    postOnly: false,
    price: 10000,
    leavesQuantity: 5,
    cumQuantity: 0,
    engineTime: 0n,
    ...patch,
  };
}
const fill = (sequence: bigint, lastQuantity: number, leaves: number, patch = {}) =>
  report(sequence, {
    execType: "trade",
    lastPrice: 10000,
    lastQuantity,
    tradeId: sequence,
    leavesQuantity: leaves,
    cumQuantity: 5 - leaves,
    liquidity: "maker",
    ...patch,
  });
const positions = (patch: Partial<PositionsEvent>): PositionsEvent => ({
  type: "positions",
  account: "alice",
  executionSequence: 0n,
  positions: [],
  ...patch,
});

Deno.test("session: orders work until filled or cancelled; fills move the position", () => {
  const s = new SessionStore();
  s.apply(report(1n));
  s.apply(report(2n, { clientOrderId: 2n, side: "sell", price: 10100 }));
  deepStrictEqual(s.orders.value.map((o) => o.clientOrderId), [1n, 2n]);
  s.apply(fill(3n, 2, 3));
  strictEqual(s.orders.value[0]?.leavesQuantity, 3);
  s.apply(fill(4n, 3, 0));
  deepStrictEqual(s.orders.value.map((o) => o.clientOrderId), [2n]);
  s.apply(report(5n, { clientOrderId: 2n, execType: "cancelled", leavesQuantity: 0 }));
  deepStrictEqual(s.orders.value, []);
  deepStrictEqual(s.fills.value.map((f) => [f.sequence, f.quantity]), [[4n, 3], [3n, 2]]);
  const aapl = s.positions.value.get("AAPL")!;
  deepStrictEqual([aapl.net, formatAmount(aapl.average!, 2)], [5, "100.00"]);
  strictEqual(s.executionSequence, 5n);
});

Deno.test("session: a report is applied once (a repeated sequence is ignored)", () => {
  const s = new SessionStore();
  s.apply(fill(1n, 2, 3));
  s.apply(fill(1n, 2, 3));
  strictEqual(s.fills.value.length, 1);
  strictEqual(s.positions.value.get("AAPL")?.net, 2);
});

Deno.test("session: rejects and unrequested cancels are shown in words", () => {
  const s = new SessionStore();
  s.apply({
    type: "reject",
    reason: "invalidPrice",
    message: "price 10001 is not a multiple of 5",
    request: "newOrder",
    clientOrderId: 9n,
  });
  s.apply(report(1n, { execType: "cancelled", cancelReason: "selfTrade", leavesQuantity: 0 }));
  s.apply(report(2n, { execType: "cancelled", cancelReason: "requested", leavesQuantity: 0 }));
  deepStrictEqual(s.notices.value.map((n) => n.text), [
    "Order cancelled: an order of the same account would have traded with it",
    "Cannot place order: the price is not a positive multiple of the tick size",
  ]);
});

Deno.test("session: a rebuild from requestOrders pages replaces the blotter at the last page", () => {
  const s = new SessionStore();
  s.apply(report(1n)); // order 1 works
  s.apply(report(2n, { clientOrderId: 2n })); // order 2 works
  // Disconnected: meanwhile order 2 was cancelled and order 3 placed (reports 3, 4).
  s.beginRebuild();
  strictEqual(s.rebuilding, true);
  s.apply(report(1n, { replayed: true }));
  s.apply(report(2n, { clientOrderId: 2n, replayed: true }));
  const page1 = s.apply(positions({ more: true, throughSequence: 2n, executionSequence: 4n }));
  deepStrictEqual(page1, { next: 2n });
  // The blotter on screen is intact while the pages arrive.
  deepStrictEqual(s.orders.value.map((o) => o.clientOrderId), [1n, 2n]);
  // A live report arrives between pages: shown at once, kept for the rebuilt copy.
  s.apply(fill(5n, 1, 4));
  strictEqual(s.orders.value[0]?.leavesQuantity, 4);
  s.apply(
    report(3n, { clientOrderId: 2n, execType: "cancelled", leavesQuantity: 0, replayed: true }),
  );
  s.apply(report(4n, { clientOrderId: 3n, replayed: true }));
  const last = s.apply(positions({
    executionSequence: 5n,
    oldestSequence: 1n,
    throughSequence: 4n,
    positions: [{
      symbol: "AAPL",
      netQuantity: 1,
      boughtQuantity: 1,
      soldQuantity: 0,
      boughtNotional: 10000n,
      soldNotional: 0n,
      openBuyQuantity: 9,
      openSellQuantity: 0,
    }],
  }));
  deepStrictEqual(last, { done: true });
  strictEqual(s.rebuilding, false);
  deepStrictEqual(s.orders.value.map((o) => [o.clientOrderId, o.leavesQuantity]), [[1n, 4], [
    3n,
    5,
  ]]);
  deepStrictEqual(s.fills.value.map((f) => f.sequence), [5n]);
  strictEqual(s.positions.value.get("AAPL")?.net, 1);
  strictEqual(s.executionSequence, 5n);
});

Deno.test("session: where the fills behind a position are gone, the core's totals win", () => {
  const s = new SessionStore();
  s.apply(fill(7n, 2, 3)); // the ledger knows 2 lots bought
  s.beginRebuild();
  // The core keeps reports from 9 on: the old fill is not re-sent.
  const done = s.apply(positions({
    executionSequence: 9n,
    oldestSequence: 9n,
    positions: [{
      symbol: "AAPL",
      netQuantity: 1,
      boughtQuantity: 3,
      soldQuantity: 2,
      boughtNotional: 30000n,
      soldNotional: 20400n,
      openBuyQuantity: 0,
      openSellQuantity: 0,
    }],
  }));
  deepStrictEqual(done, { done: true });
  const p = s.positions.value.get("AAPL")!;
  deepStrictEqual([p.net, formatAmount(p.realised, 2), formatAmount(p.average!, 2)], [
    1,
    "4.00",
    "100.00",
  ]);
  // The old fill stays in the list: the core no longer has it.
  deepStrictEqual(s.fills.value.map((f) => f.sequence), [7n]);
});

Deno.test("session: after the core restarted, the fills and P&L from before stay, the new ones on top", () => {
  const s = new SessionStore();
  s.apply(report(1n, { leavesQuantity: 2 }));
  s.apply(fill(2n, 2, 0, { cumQuantity: 2 })); // bought 2 @ 100.00
  s.apply(report(3n, { clientOrderId: 2n, side: "sell", price: 10100, leavesQuantity: 2 }));
  s.apply(fill(4n, 1, 1, { clientOrderId: 2n, side: "sell", lastPrice: 10100, cumQuantity: 1 }));
  s.apply(report(5n, { clientOrderId: 3n, price: 9900, leavesQuantity: 3 })); // rests
  // The core restarted: its reports start at 1 again, the working orders re-accepted.
  s.beginRebuild();
  s.apply(
    report(1n, {
      clientOrderId: 2n,
      side: "sell",
      price: 10100,
      leavesQuantity: 1,
      replayed: true,
    }),
  );
  s.apply(report(2n, { clientOrderId: 3n, price: 9900, leavesQuantity: 3, replayed: true }));
  s.apply(fill(3n, 1, 0, { clientOrderId: 2n, side: "sell", lastPrice: 10200, replayed: true }));
  const done = s.apply(positions({
    executionSequence: 3n,
    oldestSequence: 1n,
    throughSequence: 3n,
    // Net from the engine; totals only since the restart.
    positions: [{
      symbol: "AAPL",
      netQuantity: 0,
      boughtQuantity: 0,
      soldQuantity: 1,
      boughtNotional: 0n,
      soldNotional: 10200n,
      openBuyQuantity: 3,
      openSellQuantity: 0,
    }],
  }));
  deepStrictEqual(done, { done: true });
  deepStrictEqual(s.orders.value.map((o) => [o.clientOrderId, o.leavesQuantity]), [[3n, 3]]);
  // Newest first: the fill since the restart, then those from before.
  deepStrictEqual(s.fills.value.map((f) => [f.sequence, f.side]), [
    [3n, "sell"],
    [4n, "sell"],
    [2n, "buy"],
  ]);
  const p = s.positions.value.get("AAPL")!;
  // Bought 2 @ 100, sold 1 @ 101 and 1 @ 102: flat, 3.00 realised.
  deepStrictEqual([p.net, formatAmount(p.realised, 2)], [0, "3.00"]);
  strictEqual(s.executionSequence, 3n);
  // Reports after the restart apply as usual.
  s.apply(report(4n, { clientOrderId: 3n, execType: "cancelled", leavesQuantity: 0 }));
  deepStrictEqual(s.orders.value, []);
});
