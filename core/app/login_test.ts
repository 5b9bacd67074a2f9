import { AccountStore } from "../admin/mod.ts";
import { accountAuthorizer } from "./login.ts";
import { assertEquals } from "../_testing/assert.ts";

Deno.test("accountAuthorizer lets registered accounts in with their own role only", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const store = new AccountStore(kv);
    await store.createAccount({ name: "ALICE", role: "trader" });
    await store.createAccount({ name: "VIC", role: "viewer" });
    await store.createAccount({ name: "OFF", role: "trader", enabled: false });
    const authorize = accountAuthorizer(store);
    const reasons = [];
    for (
      const [account, role] of [
        ["ALICE", "trader"],
        ["VIC", "viewer"],
        ["OFF", "trader"],
        ["ALICE", "admin"],
        ["VIC", "trader"],
        ["MALLORY", "trader"],
      ] as const
    ) {
      const refusal = await authorize(account, role);
      reasons.push(refusal === undefined ? "ok" : `${refusal.status} ${refusal.reason}`);
    }
    assertEquals(reasons, [
      "ok",
      "ok",
      "ok",
      "403 role_mismatch",
      "403 role_mismatch",
      "403 unknown_account",
    ]);
    assertEquals(
      (await authorize("ALICE", "admin"))?.message,
      'Cannot accept connection: the token says admin, but account "ALICE" is a trader; ' +
        "mint a new token",
    );
  } finally {
    kv.close();
  }
});
