import { AccountStore, KEYS } from "../admin/mod.ts";
import { AccountDirectory } from "./account_directory.ts";
import assert from "node:assert";

async function withDirectory(
  pollMs: number,
  fn: (
    store: AccountStore,
    directory: AccountDirectory,
    errors: unknown[],
    kv: Deno.Kv,
  ) => Promise<void>,
): Promise<void> {
  const kv = await Deno.openKv(":memory:");
  const store = new AccountStore(kv);
  await store.createAccount({ name: "ALICE", role: "trader" });
  const errors: unknown[] = [];
  const directory = await AccountDirectory.open(store, { pollMs, onError: (e) => errors.push(e) });
  try {
    await fn(store, directory, errors, kv);
  } finally {
    directory.close();
    kv.close();
  }
}

Deno.test("AccountDirectory lets an admin trade only for registered, enabled accounts, as refreshed", async () => {
  await withDirectory(0, async (store, directory) => {
    assert.deepStrictEqual(directory.tradeForProblem("ALICE"), undefined);
    assert.deepStrictEqual(
      directory.tradeForProblem("BOB"),
      'account "BOB" is not registered (an admin creates it first)',
    );
    await store.createAccount({ name: "BOB", role: "viewer" });
    await store.updateAccount("ALICE", { enabled: false });
    // Not polling: nothing changes until refreshed.
    assert.deepStrictEqual(directory.get("BOB"), undefined);
    await directory.refresh();
    assert.deepStrictEqual(directory.tradeForProblem("BOB"), undefined);
    assert.deepStrictEqual(directory.tradeForProblem("ALICE"), 'account "ALICE" is disabled');
    assert.deepStrictEqual(directory.get("ALICE")?.tokenEpoch, 1);
  });
});

Deno.test("AccountDirectory sees another writer's changes by polling the store's version", async () => {
  await withDirectory(5, async (store, directory) => {
    await store.createAccount({ name: "CAROL", role: "trader" });
    const deadline = performance.now() + 2000;
    while (directory.get("CAROL") === undefined && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.deepStrictEqual(directory.get("CAROL")?.role, "trader");
  });
});

Deno.test("AccountDirectory keeps its copy when a refresh fails, and says why", async () => {
  await withDirectory(0, async (store, directory, errors, kv) => {
    await kv.atomic().set(KEYS.account("BAD"), { name: 7 }).sum(KEYS.version, 1n).commit();
    await directory.refresh();
    assert.deepStrictEqual(errors.length, 1);
    assert(errors[0] instanceof TypeError, String(errors[0]));
    assert.deepStrictEqual(directory.tradeForProblem("ALICE"), undefined);
    await store.createAccount({ name: "DAVE", role: "trader" });
    await kv.delete(KEYS.account("BAD"));
    await directory.refresh();
    assert.deepStrictEqual(directory.get("DAVE")?.name, "DAVE");
  });
});

Deno.test("AccountDirectory reports each account whose token epoch moved on since its last copy, whoever changed it", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const store = new AccountStore(kv);
    await store.createAccount({ name: "ALICE", role: "trader" });
    await store.createAccount({ name: "BOB", role: "trader" });
    const seen: string[] = [];
    const errors: unknown[] = [];
    const directory = await AccountDirectory.open(store, {
      pollMs: 0,
      onError: (e) => errors.push(e),
      onAccessChange: (before, after) =>
        seen.push(`${after.name} ${before.tokenEpoch}->${after.tokenEpoch} ${after.enabled}`),
    });
    try {
      // A change that leaves the epoch (a limit), and a new account: nothing to report.
      await store.setLimit("ALICE", "maxOrderQty", 10);
      await store.createAccount({ name: "CAROL", role: "trader" });
      await directory.refresh();
      assert.deepStrictEqual(seen, []);
      // Another store over the same KV: as another process would write it.
      const other = new AccountStore(kv);
      await other.updateAccount("BOB", { enabled: false });
      await other.updateAccount("CAROL", { role: "viewer" });
      await directory.refresh();
      assert.deepStrictEqual(seen, ["BOB 0->1 false", "CAROL 0->1 true"]);
      // Reported once: a refresh with nothing new reports nothing.
      await directory.refresh();
      assert.deepStrictEqual(seen.length, 2);
      assert.deepStrictEqual(errors, []);
    } finally {
      directory.close();
    }
  } finally {
    kv.close();
  }
});
