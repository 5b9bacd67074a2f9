import assert from "node:assert";
import { AccountStore } from "../admin/mod.ts";
import { AccountDirectory } from "../app/account_directory.ts";
import type { NewOrderRequest } from "../wire/types.ts";
import { type TestClient, withGateway } from "./_harness.ts";

let requestIds = 5000n;

/** A GTC limit buy of AAPL, for `account` ("" = the connection's own). */
function buy(clientOrderId: bigint, price: number, account = ""): NewOrderRequest {
  return {
    type: "newOrder",
    requestId: requestIds++,
    sentAt: 0n,
    clientOrderId,
    symbol: "AAPL",
    side: "buy",
    orderType: "limit",
    timeInForce: "gtc",
    postOnly: false,
    price,
    quantity: 1,
    account,
  };
}

const report = (c: TestClient) => c.nextOf("executionReport");

Deno.test("orders: an admin places orders only for registered, enabled accounts (notAuthorised otherwise)", async () => {
  const kv = await Deno.openKv(":memory:");
  const store = new AccountStore(kv);
  await store.createAccount({ name: "BOSS", role: "admin" });
  await store.createAccount({ name: "ALICE", role: "trader" });
  await store.createAccount({ name: "OFF", role: "trader", enabled: false });
  const directory = await AccountDirectory.open(store, { pollMs: 0 });
  try {
    await withGateway(async (h) => {
      const boss = await h.connect("BOSS", "admin");
      const submitted = h.dispatcher.stats.submitted;
      boss.send(buy(1n, 18_000, "GHOST"));
      const ghost = await boss.nextOf("reject");
      assert.deepStrictEqual([ghost.reason, ghost.request, ghost.clientOrderId, ghost.message], [
        "notAuthorised",
        "newOrder",
        1n,
        'Cannot place order: account "GHOST" is not registered (an admin creates it first)',
      ]);
      boss.send(buy(2n, 18_000, "OFF"));
      const off = await boss.nextOf("reject");
      assert.deepStrictEqual([off.reason, off.message], [
        "notAuthorised",
        'Cannot place order: account "OFF" is disabled',
      ]);
      await boss.sync();
      assert.deepStrictEqual(h.dispatcher.stats.submitted, submitted, "nothing reached the engine");
      assert.deepStrictEqual(h.accounts.number("GHOST"), undefined, "no engine account made up");
      // A registered, enabled account, and the admin's own: accepted.
      boss.send(buy(3n, 18_000, "ALICE"));
      assert.deepStrictEqual((await report(boss)).account, "ALICE");
      boss.send(buy(4n, 18_000));
      assert.deepStrictEqual((await report(boss)).account, "BOSS");
      // Disabled since: refused from the next refresh on.
      await store.updateAccount("ALICE", { enabled: false });
      await directory.refresh();
      boss.send(buy(5n, 18_000, "ALICE"));
      assert.deepStrictEqual(
        (await boss.nextOf("reject")).message,
        'Cannot place order: account "ALICE" is disabled',
      );
    }, { canTradeFor: (account) => directory.tradeForProblem(account) });
  } finally {
    directory.close();
    kv.close();
  }
});

Deno.test("orders: orders an admin placed on a trader's account are cancelled only by an admin; the trader's cancelAll leaves them", async () => {
  await withGateway(async (h) => {
    const alice = await h.connect("ALICE");
    const boss = await h.connect("BOSS", "admin");
    boss.send(buy(7n, 18_000, "ALICE"));
    boss.send(buy(8n, 18_001, "ALICE"));
    alice.send(buy(1n, 18_002));
    for (let i = 0; i < 3; i++) await report(alice); // two of the admin's, one of hers
    await report(boss);
    await report(boss);
    // The trader names the admin's order: not hers to cancel or replace.
    alice.send({ type: "cancel", requestId: 1n, sentAt: 0n, clientOrderId: 7n });
    assert.deepStrictEqual((await alice.nextOf("reject")).reason, "unknownOrder");
    alice.send({
      type: "replace",
      requestId: 2n,
      sentAt: 0n,
      clientOrderId: 8n,
      price: 1,
      quantity: 1,
    });
    assert.deepStrictEqual((await alice.nextOf("reject")).reason, "unknownOrder");
    // Her cancelAll cancels hers only.
    alice.send({ type: "cancelAll", requestId: 3n, sentAt: 0n, symbol: "" });
    const cancelled = await report(alice);
    assert.deepStrictEqual([cancelled.execType, cancelled.clientOrderId], ["cancelled", 1n]);
    await alice.sync();
    assert.deepStrictEqual(alice.takeAll(), [], "the admin's orders still work");
    // The admin's cancelAll cancels the admin's, and the trader hears.
    boss.send({ type: "cancelAll", requestId: 4n, sentAt: 0n, symbol: "" });
    const toAlice = [await report(alice), await report(alice)];
    assert.deepStrictEqual(toAlice.map((r) => [r.execType, r.clientOrderId]), [
      ["cancelled", 7n],
      ["cancelled", 8n],
    ]);
  });
});
