import assert from "node:assert";
import { AccountStore, verifyPassword } from "../admin/mod.ts";
import { createDemoTrader } from "./demo_trader.ts";

const CHEAP = { n: 1024, r: 8, p: 1 } as const;

Deno.test("createDemoTrader makes an enabled trader whose random password logs in, only on a store with no account", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const store = new AccountStore(kv);
    const demo = await createDemoTrader(store, "DEMO", CHEAP);
    assert(demo !== undefined && /^[A-Za-z0-9_-]{16}$/.test(demo.password), JSON.stringify(demo));
    const account = await store.getAccount("DEMO");
    assert(account.ok && account.value.role === "trader" && account.value.enabled);
    assert.strictEqual(
      await verifyPassword(demo.password, (await store.passwordHash("DEMO"))!),
      true,
    );
    const other = await createDemoTrader(new AccountStore(kv), "OTHER", CHEAP);
    assert.strictEqual(other, undefined);
    assert.deepStrictEqual((await store.listAccounts()).map((a) => a.name), ["DEMO"]);
    // Two fresh stores, two different passwords.
    const kv2 = await Deno.openKv(":memory:");
    try {
      const again = await createDemoTrader(new AccountStore(kv2), "DEMO", CHEAP);
      assert.notDeepStrictEqual(again?.password, demo.password);
    } finally {
      kv2.close();
    }
  } finally {
    kv.close();
  }
});
