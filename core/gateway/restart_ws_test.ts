/**
 * A trader's working orders across a core restart: the orders resting in
 * the recovered books are taken over by their accounts' sessions, so the
 * trader finds them with `requestOrders` and can cancel them.
 */

import { assertEquals } from "../_testing/assert.ts";
import type { ExecutionReportEvent } from "../wire/types.ts";
import { withLiveGateway } from "./_harness.ts";

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
