import { AccountStore } from "../admin/mod.ts";
import { accountAuthorizer } from "./login.ts";
import assert from "node:assert";

Deno.test("accountAuthorizer lets registered, enabled accounts in with their own role only", async () => {
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
    assert.deepStrictEqual(reasons, [
      "ok",
      "ok",
      "403 account_disabled",
      "403 role_mismatch",
      "403 role_mismatch",
      "403 unknown_account",
    ]);
    assert.deepStrictEqual(
      (await authorize("ALICE", "admin"))?.message,
      'Cannot accept connection: the token says admin, but account "ALICE" is a trader; ' +
        "mint a new token",
    );
  } finally {
    kv.close();
  }
});

Deno.test("accountAuthorizer refuses a token minted before the account was disabled, even once re-enabled", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const store = new AccountStore(kv);
    await store.createAccount({ name: "ALICE", role: "trader" });
    const authorize = accountAuthorizer(store);
    assert.deepStrictEqual(await authorize("ALICE", "trader", { epoch: 0 }), undefined);
    assert.deepStrictEqual(
      await authorize("ALICE", "trader", {}),
      undefined,
      "no epoch claim: epoch 0",
    );
    await store.updateAccount("ALICE", { enabled: false });
    assert.deepStrictEqual(
      (await authorize("ALICE", "trader", { epoch: 0 }))?.reason,
      "account_disabled",
    );
    await store.updateAccount("ALICE", { enabled: true });
    const refusal = await authorize("ALICE", "trader", { epoch: 0 });
    assert.deepStrictEqual([refusal?.status, refusal?.reason], [401, "token_revoked"]);
    assert.deepStrictEqual(
      refusal?.message,
      'Cannot accept connection: the token was minted before account "ALICE"\'s role or enabled ' +
        "last changed (token epoch 0, the account's 2); mint a new token",
    );
    // A token minted now carries the account's epoch, and works.
    assert.deepStrictEqual(await authorize("ALICE", "trader", { epoch: 2 }), undefined);
    assert.deepStrictEqual(
      (await authorize("ALICE", "trader", { epoch: 3 }))?.reason,
      "token_revoked",
    );
  } finally {
    kv.close();
  }
});
