import assert from "node:assert";
import { CommandKind, OrderType, Side, TimeInForce } from "../matching/types.ts";
import type {
  ExecutionReportEvent,
  NewOrderRequest,
  PositionsEvent,
  ServerEvent,
} from "../wire/types.ts";
import { ReasonCode } from "../wire/types.ts";
import { rejectReasonText } from "../../schemas/vocabulary/reasons.ts";
import { show, type TestClient, withGateway } from "./_harness.ts";

let requestIds = 1000n;

/** A GTC limit order request for AAPL. */
function order(
  clientOrderId: bigint,
  side: "buy" | "sell",
  price: number,
  quantity: number,
  extra: Partial<NewOrderRequest> = {},
): NewOrderRequest {
  return {
    type: "newOrder",
    requestId: requestIds++,
    sentAt: 0n,
    clientOrderId,
    symbol: "AAPL",
    side,
    orderType: "limit",
    timeInForce: "gtc",
    postOnly: false,
    price,
    quantity,
    account: "",
    ...extra,
  };
}

const report = (c: TestClient) => c.nextOf("executionReport");

/** The report fields a test compares (without times). */
function brief(r: ExecutionReportEvent) {
  return {
    sequence: r.sequence,
    execType: r.execType,
    clientOrderId: r.clientOrderId,
    account: r.account,
    price: r.price,
    leaves: r.leavesQuantity,
    cum: r.cumQuantity,
    ...(r.execType === "trade"
      ? { last: [r.lastPrice, r.lastQuantity], liquidity: r.liquidity }
      : {}),
    ...(r.execType === "cancelled" ? { cancelReason: r.cancelReason } : {}),
    // Lots taken off the book: in cancelled and expired reports only.
    ...(r.execType === "cancelled" || r.execType === "expired" || r.cancelledQuantity
      ? { cancelled: r.cancelledQuantity }
      : {}),
    ...(r.replayed ? { replayed: true } : {}),
  };
}

Deno.test("orders: a new order is accepted with an execution report that echoes the request", async () => {
  await withGateway(async (h) => {
    const alice = await h.connect("ALICE");
    const request = order(7n, "buy", 18_900, 5);
    alice.send(request);
    const accepted = await report(alice);
    assert.deepStrictEqual(brief(accepted), {
      sequence: 1n,
      execType: "accepted",
      clientOrderId: 7n,
      account: "ALICE",
      price: 18_900,
      leaves: 5,
      cum: 0,
    });
    assert.deepStrictEqual(accepted.requestId, request.requestId);
    assert.deepStrictEqual([
      accepted.symbol,
      accepted.side,
      accepted.orderType,
      accepted.timeInForce,
    ], [
      "AAPL",
      "buy",
      "limit",
      "gtc",
    ]);
    assert(accepted.orderId > 0n && accepted.engineTime > 0n && accepted.sentAt! > 0n);
    assert.deepStrictEqual((await alice.sync()).executionSequence, 1n);
  });
});

Deno.test("orders: a cross between two sessions reports a trade to each, maker and taker", async () => {
  await withGateway(async (h) => {
    const alice = await h.connect("ALICE");
    const bob = await h.connect("BOB");
    alice.send(order(1n, "sell", 19_000, 10));
    await report(alice);
    bob.send(order(1n, "buy", 19_100, 4)); // same client id, other session: fine
    assert.deepStrictEqual(brief(await report(bob)).execType, "accepted");
    const taker = await report(bob);
    const maker = await report(alice);
    assert.deepStrictEqual(brief(taker), {
      sequence: 2n,
      execType: "trade",
      clientOrderId: 1n,
      account: "BOB",
      price: 19_100,
      leaves: 0,
      cum: 4,
      last: [19_000, 4],
      liquidity: "taker",
    });
    assert.deepStrictEqual(brief(maker), {
      sequence: 2n,
      execType: "trade",
      clientOrderId: 1n,
      account: "ALICE",
      price: 19_000,
      leaves: 6,
      cum: 4,
      last: [19_000, 4],
      liquidity: "maker",
    });
    assert.deepStrictEqual(taker.tradeId, maker.tradeId);
    assert.deepStrictEqual(maker.requestId, 0n, "the maker did not ask for this");
    // Nobody else's reports leak across sessions.
    await alice.sync();
    await bob.sync();
    assert.deepStrictEqual([alice.takeAll(), bob.takeAll()], [[], []]);
  });
});

Deno.test("orders: cancel, replace, and their rejects for orders that are not working", async () => {
  await withGateway(async (h) => {
    const alice = await h.connect("ALICE");
    alice.send(order(1n, "buy", 18_000, 10));
    await report(alice);
    alice.send({
      type: "replace",
      requestId: 50n,
      sentAt: 0n,
      clientOrderId: 1n,
      price: 18_100,
      quantity: 7,
    });
    const replaced = await report(alice);
    assert.deepStrictEqual(brief(replaced), {
      sequence: 2n,
      execType: "replaced",
      clientOrderId: 1n,
      account: "ALICE",
      price: 18_100,
      leaves: 7,
      cum: 0,
    });
    assert.deepStrictEqual(replaced.requestId, 50n);
    alice.send({ type: "cancel", requestId: 51n, sentAt: 0n, clientOrderId: 1n });
    const cancelled = await report(alice);
    assert.deepStrictEqual(brief(cancelled), {
      sequence: 3n,
      execType: "cancelled",
      clientOrderId: 1n,
      account: "ALICE",
      price: 18_100,
      leaves: 0,
      cum: 0,
      cancelReason: "requested",
      cancelled: 7,
    });
    alice.send({ type: "cancel", requestId: 52n, sentAt: 0n, clientOrderId: 1n });
    const again = await alice.nextOf("reject");
    assert.deepStrictEqual([again.reason, again.request, again.clientOrderId, again.requestId], [
      "unknownOrder",
      "cancel",
      1n,
      52n,
    ]);
    assert(again.message.includes("no longer working"), again.message);
    alice.send({
      type: "replace",
      requestId: 53n,
      sentAt: 0n,
      clientOrderId: 99n,
      price: 1,
      quantity: 1,
    });
    const unknown = await alice.nextOf("reject");
    assert.deepStrictEqual([unknown.reason, unknown.request], ["unknownOrder", "replace"]);
    // The engine's own refusal of a replace: a post-only order may not cross.
    const bob = await h.connect("BOB");
    bob.send(order(1n, "sell", 18_500, 1));
    await report(bob);
    alice.send(order(2n, "buy", 18_000, 1, { postOnly: true }));
    await report(alice);
    alice.send({
      type: "replace",
      requestId: 54n,
      sentAt: 0n,
      clientOrderId: 2n,
      price: 18_600,
      quantity: 1,
    });
    const crossing = await alice.nextOf("reject");
    assert.deepStrictEqual([crossing.reason, crossing.request, crossing.clientOrderId], [
      "wouldCross",
      "replace",
      2n,
    ]);
  });
});

Deno.test("orders: cancelAll cancels the session's working orders, of one symbol or all", async () => {
  await withGateway(async (h) => {
    const alice = await h.connect("ALICE");
    alice.send(order(1n, "buy", 18_000, 3));
    alice.send(order(2n, "buy", 18_001, 2));
    alice.send(order(3n, "buy", 41_000, 4, { symbol: "MSFT" }));
    alice.send(order(4n, "sell", 20_000, 1, { timeInForce: "ioc" })); // expires at once
    for (let i = 0; i < 5; i++) await report(alice);
    alice.send({ type: "cancelAll", requestId: 60n, sentAt: 0n, symbol: "AAPL" });
    const first = [await report(alice), await report(alice)];
    assert.deepStrictEqual(
      first.map((r) => [r.execType, r.clientOrderId, r.requestId, r.cancelledQuantity]),
      [
        ["cancelled", 1n, 60n, 3],
        ["cancelled", 2n, 60n, 2],
      ],
    );
    await alice.sync();
    assert.deepStrictEqual(alice.takeAll(), []);
    alice.send({ type: "cancelAll", requestId: 61n, sentAt: 0n, symbol: "" });
    const rest = await report(alice);
    assert.deepStrictEqual(
      [rest.execType, rest.clientOrderId, rest.symbol, rest.cancelledQuantity],
      [
        "cancelled",
        3n,
        "MSFT",
        4,
      ],
    );
    alice.send({ type: "cancelAll", requestId: 62n, sentAt: 0n, symbol: "" });
    await alice.sync();
    assert.deepStrictEqual(alice.takeAll(), [], "nothing left to cancel");
    alice.send({ type: "cancelAll", requestId: 63n, sentAt: 0n, symbol: "ZZZZ" });
    assert.deepStrictEqual((await alice.nextOf("reject")).reason, "unknownSymbol");
  });
});

Deno.test("orders: a reused client order id is a duplicateId, even once the order is done", async () => {
  await withGateway(async (h) => {
    const alice = await h.connect("ALICE");
    alice.send(order(5n, "buy", 18_000, 1));
    await report(alice);
    alice.send({ type: "cancel", requestId: 1n, sentAt: 0n, clientOrderId: 5n });
    await report(alice);
    const submitted = h.dispatcher.stats.submitted;
    alice.send(order(5n, "sell", 20_000, 1));
    const duplicate = await alice.nextOf("reject");
    assert.deepStrictEqual([duplicate.reason, duplicate.request, duplicate.clientOrderId], [
      "duplicateId",
      "newOrder",
      5n,
    ]);
    // A second connection of the same account shares the session.
    const again = await h.connect("ALICE");
    again.send(order(5n, "sell", 20_000, 1));
    assert.deepStrictEqual((await again.nextOf("reject")).reason, "duplicateId");
    assert.deepStrictEqual(h.dispatcher.stats.submitted, submitted, "nothing reached the engine");
  });
});

Deno.test("orders: a trader trades its own account only; an admin trades any, and its owner hears", async () => {
  await withGateway(async (h) => {
    const alice = await h.connect("ALICE");
    const boss = await h.connect("BOSS", "admin");
    alice.send(order(1n, "buy", 18_000, 1, { account: "BOB" }));
    const refused = await alice.nextOf("reject");
    assert.deepStrictEqual([refused.reason, refused.request], ["notAuthorised", "newOrder"]);
    alice.send(order(2n, "buy", 18_000, 1, { account: "ALICE" })); // its own, named
    assert.deepStrictEqual((await report(alice)).sequence, 1n);
    boss.send(order(1n, "buy", 18_001, 2, { account: "ALICE" }));
    const toBoss = await report(boss);
    const toAlice = await report(alice);
    assert.deepStrictEqual([toBoss, toAlice].map((r) => [r.account, r.sequence, r.clientOrderId]), [
      ["ALICE", 2n, 1n],
      ["ALICE", 2n, 1n],
    ]);
    // The order is the admin's to cancel (its session's client id), not ALICE's.
    alice.send({ type: "cancel", requestId: 3n, sentAt: 0n, clientOrderId: 1n });
    assert.deepStrictEqual((await alice.nextOf("reject")).reason, "unknownOrder");
    boss.send({ type: "cancel", requestId: 4n, sentAt: 0n, clientOrderId: 1n });
    assert.deepStrictEqual((await report(alice)).execType, "cancelled");
    assert.deepStrictEqual((await report(boss)).execType, "cancelled");
  });
});

Deno.test("orders: a resting order's fill caused by another source's command is reported as maker", async () => {
  await withGateway(async (h) => {
    const alice = await h.connect("ALICE");
    alice.send(order(1n, "sell", 19_000, 3));
    const accepted = await report(alice);
    // The synthetic market (or anyone not on the gateway) takes it.
    h.dispatcher.submit({
      kind: CommandKind.PlaceOrder,
      id: h.dispatcher.allocateOrderId(),
      account: h.accounts.ensure("MM1"),
      instrument: 0,
      side: Side.Buy,
      type: OrderType.Market,
      tif: TimeInForce.Ioc,
      postOnly: false,
      price: 0,
      qty: 5,
    }, { source: "synthetic" });
    const fill = await report(alice);
    assert.deepStrictEqual(brief(fill), {
      sequence: 2n,
      execType: "trade",
      clientOrderId: 1n,
      account: "ALICE",
      price: 19_000,
      leaves: 0,
      cum: 3,
      last: [19_000, 3],
      liquidity: "maker",
    });
    assert.deepStrictEqual(fill.orderId, accepted.orderId);
  });
});

Deno.test("orders: engine and risk rejects come back with the engine's reason code", async () => {
  await withGateway(async (h) => {
    const alice = await h.connect("ALICE");
    alice.send(order(1n, "buy", 560_010, 1, { symbol: "ES-FUT" })); // off the 25 tick
    const offTick = await alice.nextOf("reject");
    assert.deepStrictEqual([offTick.reason, offTick.clientOrderId, offTick.symbol], [
      "invalidPrice",
      1n,
      "ES-FUT",
    ]);
    const account = h.accounts.ensure("ALICE");
    assert.deepStrictEqual(
      await h.dispatcher.submitControl({ limit: "maxOrderQty", account, value: 10 }),
      { ok: true },
    );
    alice.send(order(2n, "buy", 18_000, 11));
    const tooBig = await alice.nextOf("reject");
    assert.deepStrictEqual([tooBig.reason, ReasonCode[tooBig.reason]], ["maxOrderQty", 11]);
    assert(tooBig.message.includes("max_order_qty"), tooBig.message);
    await h.dispatcher.submitControl({ killSwitch: true, account });
    alice.send(order(3n, "buy", 18_000, 1));
    const killed = await alice.nextOf("reject");
    assert.deepStrictEqual([killed.reason, ReasonCode[killed.reason]], ["killSwitch", 17]);
    // The words are the vocabulary's, for the engine's reason.
    assert.deepStrictEqual(
      killed.message,
      `Cannot place order 3: ${rejectReasonText("kill_switch")} (kill_switch)`,
    );
    alice.send(order(4n, "buy", 18_000, 1, { symbol: "NOPE" }));
    assert.deepStrictEqual((await alice.nextOf("reject")).reason, "unknownSymbol");
    await alice.sync();
    assert.deepStrictEqual(alice.takeAll().filter((m) => m.type === "executionReport"), []);
    assert.deepStrictEqual(
      (await alice.sync()).executionSequence,
      0n,
      "rejects are not executions",
    );
  });
});

Deno.test("orders: an IOC's rest expires, and self-trade prevention cancels the resting order", async () => {
  await withGateway(async (h) => {
    const alice = await h.connect("ALICE");
    const bob = await h.connect("BOB");
    bob.send(order(1n, "sell", 19_000, 2));
    await report(bob);
    alice.send(order(1n, "buy", 19_000, 5, { timeInForce: "ioc" }));
    const [accepted, fill, expired] = [
      await report(alice),
      await report(alice),
      await report(alice),
    ];
    assert.deepStrictEqual([
      accepted.execType,
      fill.execType,
      fill.cumQuantity,
      fill.leavesQuantity,
    ], [
      "accepted",
      "trade",
      2,
      3,
    ]);
    assert.deepStrictEqual(
      [expired.execType, expired.leavesQuantity, expired.cumQuantity, expired.cancelledQuantity],
      ["expired", 0, 2, 3],
      "the unfilled rest expired",
    );
    assert.deepStrictEqual(fill.cancelledQuantity, 0, "a trade takes nothing off by cancelling");
    alice.send(order(2n, "sell", 19_500, 4));
    await report(alice);
    alice.send(order(3n, "buy", 19_500, 1));
    const events = [await report(alice), await report(alice)];
    assert.deepStrictEqual(
      events.map((r) => [
        r.execType,
        r.clientOrderId,
        r.execType === "cancelled" ? r.cancelReason : "-",
        r.cancelledQuantity,
      ]),
      [
        ["accepted", 3n, "-", 0],
        ["cancelled", 2n, "selfTrade", 4],
      ],
    );
  });
});

Deno.test("orders: after a reconnect, requestOrders re-sends the reports after a sequence, then positions", async () => {
  await withGateway(async (h) => {
    let alice = await h.connect("ALICE");
    const bob = await h.connect("BOB");
    alice.send(order(1n, "sell", 19_000, 10)); // 1 accepted
    alice.send(order(2n, "buy", 18_000, 4)); // 2 accepted
    await report(alice);
    await report(alice);
    bob.send(order(1n, "buy", 19_000, 3)); // alice 3: maker fill
    assert.deepStrictEqual((await report(alice)).sequence, 3n);
    await alice.close();
    // While ALICE is away, BOB takes more of her offer.
    bob.send(order(2n, "buy", 19_000, 2, { timeInForce: "ioc" })); // alice 4: maker fill
    await report(bob);
    await report(bob);
    await report(bob);
    await report(bob);
    alice = await h.connect("ALICE");
    assert.deepStrictEqual((await alice.sync()).executionSequence, 4n);
    alice.send({ type: "requestOrders", requestId: 70n, sentAt: 0n, sinceSequence: 2n });
    const replay = [await report(alice), await report(alice)];
    assert.deepStrictEqual(replay.map(brief), [
      {
        sequence: 3n,
        execType: "trade",
        clientOrderId: 1n,
        account: "ALICE",
        price: 19_000,
        leaves: 7,
        cum: 3,
        last: [19_000, 3],
        liquidity: "maker",
        replayed: true,
      },
      {
        sequence: 4n,
        execType: "trade",
        clientOrderId: 1n,
        account: "ALICE",
        price: 19_000,
        leaves: 5,
        cum: 5,
        last: [19_000, 2],
        liquidity: "maker",
        replayed: true,
      },
    ]);
    assert(replay.every((r) => r.requestId === 70n), show(replay));
    const positions = await alice.nextOf("positions") as PositionsEvent;
    assert.deepStrictEqual(positions, {
      type: "positions",
      requestId: 70n,
      sentAt: positions.sentAt,
      account: "ALICE",
      executionSequence: 4n,
      positions: [{
        symbol: "AAPL",
        netQuantity: -5,
        boughtQuantity: 0,
        soldQuantity: 5,
        boughtNotional: 0n,
        soldNotional: 95_000n,
        openBuyQuantity: 4,
        openSellQuantity: 5,
      }],
      oldestSequence: 1n,
      throughSequence: 4n,
      more: false,
      sinceTooOld: false,
    });
    // From the start, and past the end.
    alice.send({ type: "requestOrders", requestId: 71n, sentAt: 0n, sinceSequence: 0n });
    const all: ServerEvent[] = [];
    for (let i = 0; i < 5; i++) all.push(await alice.next());
    assert.deepStrictEqual(all.map((m) => m.type === "executionReport" ? m.sequence : m.type), [
      1n,
      2n,
      3n,
      4n,
      "positions",
    ]);
    alice.send({ type: "requestOrders", requestId: 72n, sentAt: 0n, sinceSequence: 99n });
    assert.deepStrictEqual((await alice.next()).type, "positions");
    // The session continues: the next report is 5, and old orders can be cancelled.
    alice.send({ type: "cancel", requestId: 73n, sentAt: 0n, clientOrderId: 2n });
    const cancelled = await report(alice);
    assert.deepStrictEqual([cancelled.sequence, cancelled.execType, cancelled.replayed ?? false], [
      5n,
      "cancelled",
      false,
    ]);
  });
});
