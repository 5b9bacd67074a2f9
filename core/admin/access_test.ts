import assert from "node:assert";
import { checkAccess } from "./access.ts";
import { hashPassword } from "./password.ts";
import { withStore } from "./_testing.ts";

const CHEAP = { n: 1024, r: 8, p: 1 } as const;

Deno.test("checkAccess refuses a token a logout ended (its jti listed), and only that token", async () => {
  await withStore(async (store) => {
    await store.createAccount({ name: "ALICE", role: "trader" });
    const claim = { account: "ALICE", role: "trader", epoch: 0 } as const;
    assert.strictEqual(
      await checkAccess(store, { ...claim, jti: "a" }, "Cannot log in"),
      undefined,
    );
    await store.revokeToken("a", "ALICE", Date.now() + 60_000);
    assert.deepStrictEqual(await checkAccess(store, { ...claim, jti: "a" }, "Cannot log in"), {
      status: 401,
      reason: "token_revoked",
      message: "Cannot log in: the token was ended by a logout; log in again",
    });
    assert.strictEqual(
      await checkAccess(store, { ...claim, jti: "b" }, "Cannot log in"),
      undefined,
    );
    assert.strictEqual(await checkAccess(store, claim, "Cannot log in"), undefined);
  });
});

Deno.test("setPassword stores the hash and moves the token epoch on: tokens of before are refused", async () => {
  await withStore(async (store, kv) => {
    await store.createAccount({ name: "ALICE", role: "trader" });
    const version = await store.version();
    const set = await store.setPassword("ALICE", await hashPassword("open sesame", CHEAP));
    assert(set.ok, JSON.stringify(set));
    assert.deepStrictEqual([set.value.after.tokenEpoch, set.value.after.revision], [1, 2]);
    assert.deepStrictEqual(await store.version(), version + 1, "the directory's poll sees it");
    const refused = await checkAccess(store, { account: "ALICE", role: "trader" }, "x");
    assert.deepStrictEqual(refused?.reason, "token_revoked");
    assert.strictEqual(
      await checkAccess(store, { account: "ALICE", role: "trader", epoch: 1 }, "x"),
      undefined,
    );
    // Not a hash, and no such account: refused, nothing written.
    const bad = await store.setPassword("ALICE", { algorithm: "md5" } as never);
    assert.deepStrictEqual(!bad.ok && bad.fault.reason, "bad_field");
    const missing = await store.setPassword("BOB", await hashPassword("open sesame", CHEAP));
    assert.deepStrictEqual(!missing.ok && missing.fault.reason, "account_not_found");
    assert.strictEqual(await store.passwordHash("BOB"), undefined);
    // The record is read back as stored; the account's public record holds no hash.
    assert.deepStrictEqual((await store.passwordHash("ALICE"))?.n, 1024);
    const record = await kv.get(["admin", "accounts", "ALICE"]);
    assert(!JSON.stringify(record.value).includes("scrypt"), "the hash is in the account record");
    await kv.set(["admin", "passwords", "ALICE"], { algorithm: "scrypt" });
    await assert.rejects(() => store.passwordHash("ALICE"), TypeError);
  });
});
