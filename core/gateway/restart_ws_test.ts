/**
 * A trader's working orders across a core restart: the orders resting in
 * the recovered books are taken over by their accounts' sessions, so the
 * trader finds them with `requestOrders` and can cancel them.
 */

import { assertEquals } from "../_testing/assert.ts";
import type { ExecutionReportEvent, PositionsEvent } from "../wire/types.ts";
import { type TestClient, withLiveGateway } from "./_harness.ts";

const isReport = (m: { type: string }) => m.type === "executionReport";

Deno.test("restart: a trader's resting order survives a core restart, is listed by requestOrders and can be cancelled", async () => {
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
      assertEquals([accepted.execType, accepted.clientOrderId], ["accepted", 7n]);
      engineId = accepted.orderId;
    }, { journalDir });

    await withLiveGateway(async (h) => {
      const alice = await h.connect("ALICE");
      alice.send({ type: "requestOrders", requestId: 2n, sentAt: 0n, sinceSequence: 0n });
      const listed = await alice.next<ExecutionReportEvent>(isReport);
      assertEquals(
        [listed.execType, listed.orderId, listed.clientOrderId, listed.replayed],
        ["accepted", engineId, engineId, true],
      );
      assertEquals([listed.symbol, listed.side, listed.price, listed.leavesQuantity], [
        "MSFT",
        "buy",
        41_000,
        3,
      ]);
      // Known by its engine id now: cancelled by it.
      alice.send({ type: "cancel", requestId: 3n, sentAt: 0n, clientOrderId: engineId });
      const cancelled = await alice.next<ExecutionReportEvent>(
        (m) => isReport(m) && (m as ExecutionReportEvent).execType === "cancelled",
      );
      assertEquals([cancelled.orderId, cancelled.leavesQuantity], [engineId, 0]);
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
      assertEquals(await positions(alice), [["MSFT", 3, 0, 0]]);
      assertEquals(await positions(bob), [["MSFT", -3, 0, 2]]);
    }, { journalDir });

    // After the restart the router has seen no fill: the engine's positions
    // are what the accounts hold, beside BOB's order still working.
    await withLiveGateway(async (h) => {
      const alice = await h.connect("ALICE");
      assertEquals(await positions(alice), [["MSFT", 3, 0, 0]]);
      const bob = await h.connect("BOB");
      assertEquals(await positions(bob), [["MSFT", -3, 0, 2]]);
      // And fills after the restart add to them.
      alice.send(order(3n, "buy", 1));
      await alice.next<ExecutionReportEvent>(
        (m) => isReport(m) && (m as ExecutionReportEvent).execType === "trade",
      );
      assertEquals(await positions(alice), [["MSFT", 4, 0, 0]]);
    }, { journalDir });
  } finally {
    await Deno.remove(journalDir, { recursive: true });
  }
});
