/**
 * A trader's working orders across a core restart: the orders resting in
 * the recovered books are taken over by the sessions that placed them,
 * under the client order ids they were placed with, so the trader finds
 * them with `requestOrders` and can cancel them, and an admin's order for
 * an account stays the admin's.
 */

import assert from "node:assert";
import type { ExecutionReportEvent, PositionsEvent } from "../wire/types.ts";
import { type TestClient, withLiveGateway } from "./_harness.ts";

const isReport = (m: { type: string }) => m.type === "executionReport";

Deno.test("restart: a trader's resting order survives a core restart with its clientOrderId, is listed by requestOrders and can be cancelled by it", async () => {
  const journalDir = await Deno.makeTempDir({ prefix: "tc-restart-ws-" });
  try {
    let engineId = 0n;
    await withLiveGateway(async (h) => {
      const alice = await h.connect("ALICE");
      alice.send({
        type: "newOrder",
        requestId: 1n,
        sentAt: 0n,
        clientOrderId: 7n,
        symbol: "MSFT",
        side: "buy",
        orderType: "limit",
        timeInForce: "gtc",
        postOnly: false,
        price: 41_000,
        quantity: 3,
        account: "",
      });
      const accepted = await alice.next<ExecutionReportEvent>(isReport);
      assert.deepStrictEqual([accepted.execType, accepted.clientOrderId], ["accepted", 7n]);
      engineId = accepted.orderId;
    }, { journalDir });

    await withLiveGateway(async (h) => {
      const alice = await h.connect("ALICE");
      alice.send({ type: "requestOrders", requestId: 2n, sentAt: 0n, sinceSequence: 0n });
      const listed = await alice.next<ExecutionReportEvent>(isReport);
      assert.deepStrictEqual(
        [listed.execType, listed.orderId, listed.clientOrderId, listed.replayed],
        ["accepted", engineId, 7n, true],
      );
      assert.deepStrictEqual([listed.symbol, listed.side, listed.price, listed.leavesQuantity], [
        "MSFT",
        "buy",
        41_000,
        3,
      ]);
      // Still known by the id it was placed with: cancelled by it.
      alice.send({ type: "cancel", requestId: 3n, sentAt: 0n, clientOrderId: 7n });
      const cancelled = await alice.next<ExecutionReportEvent>(
        (m) => isReport(m) && (m as ExecutionReportEvent).execType === "cancelled",
      );
      assert.deepStrictEqual(
        [cancelled.orderId, cancelled.clientOrderId, cancelled.leavesQuantity],
        [
          engineId,
          7n,
          0,
        ],
      );
    }, { journalDir });
  } finally {
    await Deno.remove(journalDir, { recursive: true });
  }
});

Deno.test("restart: an account's positions after a restart are the engine's, not only its open orders", async () => {
  const journalDir = await Deno.makeTempDir({ prefix: "tc-restart-positions-" });
  const order = (requestId: bigint, side: "buy" | "sell", quantity: number) => ({
    type: "newOrder" as const,
    requestId,
    sentAt: 0n,
    clientOrderId: requestId,
    symbol: "MSFT",
    side,
    orderType: "limit" as const,
    timeInForce: "gtc" as const,
    postOnly: false,
    price: 41_000,
    quantity,
    account: "",
  });
  const positions = async (client: TestClient) => {
    client.send({ type: "requestOrders", requestId: 99n, sentAt: 0n, sinceSequence: 0n });
    const answer = await client.next<PositionsEvent>((m) => m.type === "positions");
    return answer.positions.map((
      p,
    ) => [p.symbol, p.netQuantity, p.openBuyQuantity, p.openSellQuantity]);
  };
  try {
    await withLiveGateway(async (h) => {
      const bob = await h.connect("BOB");
      bob.send(order(1n, "sell", 5));
      await bob.next<ExecutionReportEvent>(isReport);
      const alice = await h.connect("ALICE");
      alice.send(order(2n, "buy", 3)); // fills 3 of BOB's 5
      await alice.next<ExecutionReportEvent>(
        (m) => isReport(m) && (m as ExecutionReportEvent).execType === "trade",
      );
      assert.deepStrictEqual(await positions(alice), [["MSFT", 3, 0, 0]]);
      assert.deepStrictEqual(await positions(bob), [["MSFT", -3, 0, 2]]);
    }, { journalDir });

    // After the restart the router has seen no fill: the engine's positions
    // are what the accounts hold, beside BOB's order still working.
    await withLiveGateway(async (h) => {
      const alice = await h.connect("ALICE");
      assert.deepStrictEqual(await positions(alice), [["MSFT", 3, 0, 0]]);
      const bob = await h.connect("BOB");
      assert.deepStrictEqual(await positions(bob), [["MSFT", -3, 0, 2]]);
      // And fills after the restart add to them.
      alice.send(order(3n, "buy", 1));
      await alice.next<ExecutionReportEvent>(
        (m) => isReport(m) && (m as ExecutionReportEvent).execType === "trade",
      );
      assert.deepStrictEqual(await positions(alice), [["MSFT", 4, 0, 0]]);
    }, { journalDir });
  } finally {
    await Deno.remove(journalDir, { recursive: true });
  }
});

Deno.test("restart: an order an admin placed for a trader stays the admin's: the trader cannot cancel it, its cancelAll leaves it, the admin cancels it by its clientOrderId", async () => {
  const journalDir = await Deno.makeTempDir({ prefix: "tc-restart-admin-" });
  const buy = (requestId: bigint, clientOrderId: bigint, account: string) => ({
    type: "newOrder" as const,
    requestId,
    sentAt: 0n,
    clientOrderId,
    symbol: "MSFT",
    side: "buy" as const,
    orderType: "limit" as const,
    timeInForce: "gtc" as const,
    postOnly: false,
    price: 40_000,
    quantity: 2,
    account,
  });
  const report = (c: TestClient) => c.nextOf("executionReport");
  try {
    let bossOrder = 0n;
    await withLiveGateway(async (h) => {
      const boss = await h.connect("BOSS", "admin");
      const alice = await h.connect("ALICE");
      // The admin's clientOrderId 5 for ALICE, and ALICE's own 5 and 6.
      boss.send(buy(1n, 5n, "ALICE"));
      const placed = await report(boss);
      assert.deepStrictEqual([placed.execType, placed.account, placed.clientOrderId], [
        "accepted",
        "ALICE",
        5n,
      ]);
      bossOrder = placed.orderId;
      await report(alice);
      alice.send(buy(2n, 5n, ""));
      alice.send(buy(3n, 6n, ""));
      await report(alice);
      await report(alice);
    }, { journalDir });

    await withLiveGateway(async (h) => {
      const alice = await h.connect("ALICE");
      // ALICE's 5 is her own order, not the admin's 5.
      alice.send({ type: "cancel", requestId: 4n, sentAt: 0n, clientOrderId: 5n });
      const own = await report(alice);
      assert.deepStrictEqual([own.execType, own.clientOrderId], ["cancelled", 5n]);
      assert.deepStrictEqual(own.orderId === bossOrder, false, "not the admin's order");
      // Her cancelAll takes her 6 and leaves the admin's order working.
      alice.send({ type: "cancelAll", requestId: 5n, sentAt: 0n, symbol: "" });
      const all = await report(alice);
      assert.deepStrictEqual([all.execType, all.clientOrderId], ["cancelled", 6n]);
      await alice.sync();
      assert.deepStrictEqual(alice.takeAll(), [], "the admin's order still works");
      alice.send({ type: "cancel", requestId: 6n, sentAt: 0n, clientOrderId: 5n });
      const gone = await alice.nextOf("reject");
      assert.deepStrictEqual([gone.reason, gone.clientOrderId], ["unknownOrder", 5n]);

      // The admin cancels it by the clientOrderId it placed it with; ALICE hears.
      const boss = await h.connect("BOSS", "admin");
      boss.send({ type: "cancel", requestId: 7n, sentAt: 0n, clientOrderId: 5n });
      const cancelled = await report(boss);
      assert.deepStrictEqual(
        [cancelled.execType, cancelled.orderId, cancelled.clientOrderId, cancelled.account],
        ["cancelled", bossOrder, 5n, "ALICE"],
      );
      const heard = await report(alice);
      assert.deepStrictEqual([heard.execType, heard.orderId], ["cancelled", bossOrder]);
    }, { journalDir });
  } finally {
    await Deno.remove(journalDir, { recursive: true });
  }
});
