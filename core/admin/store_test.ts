import assert from "node:assert";
import type { Fault, FaultReason, Result } from "./fault.ts";
import { AccountStore, KEYS } from "./store.ts";
import { NO_LIMITS, type RiskLimits } from "./types.ts";
import { withStore } from "./_testing.ts";

const NOW = new Date("2026-11-25T10:00:00Z");

function refused<T>(result: Result<T>, reason: FaultReason, includes: string): Fault {
  assert(!result.ok, `accepted, expected ${reason}`);
  assert.deepStrictEqual(result.fault.reason, reason, result.fault.message);
  assert(
    result.fault.message.includes(includes),
    `${JSON.stringify(result.fault.message)} lacks ${JSON.stringify(includes)}`,
  );
  assert(result.fault.message.startsWith("Cannot "), result.fault.message);
  return result.fault;
}

function value<T>(result: Result<T>): T {
  assert(result.ok, result.ok ? "" : `${result.fault.reason}: ${result.fault.message}`);
  return result.value;
}

Deno.test("createAccount() stores an enabled account with no limits at revision 1", async () => {
  await withStore(async (store) => {
    const change = value(
      await store.createAccount({ name: "ALICE", role: "trader" }, { now: NOW }),
    );
    const expected = {
      name: "ALICE",
      role: "trader",
      enabled: true,
      killSwitch: false,
      createdAt: "2026-11-25T10:00:00.000Z",
      revision: 1,
      tokenEpoch: 0,
      limits: NO_LIMITS,
      overrides: {},
    };
    assert.deepStrictEqual(change.after, expected);
    assert.deepStrictEqual([change.before ?? null, change.changed], [null, true]);
    assert.deepStrictEqual(value(await store.getAccount("ALICE")), expected);
  });
});

Deno.test("createAccount() refuses each bad input with its reason", async () => {
  await withStore(async (store) => {
    const cases: [Parameters<typeof store.createAccount>[0], FaultReason, string][] = [
      [{ name: "", role: "trader" }, "bad_account_name", "its name must not be empty"],
      [{ name: "é".repeat(25), role: "trader" }, "bad_account_name", "not 50"],
      [{ name: 3 as unknown as string, role: "trader" }, "bad_account_name", "not number"],
      [{ name: "..", role: "trader" }, "bad_account_name", 'must not be "." or ".."'],
      [{ name: ".", role: "trader" }, "bad_account_name", "which a URL path cannot hold"],
      [{ name: "EVE\u0000", role: "trader" }, "bad_account_name", "printable characters only"],
      [{ name: "EVE\r\n", role: "trader" }, "bad_account_name", "not U+000D at character 4"],
      [
        { name: "\u001b]0;x\u0007", role: "trader" },
        "bad_account_name",
        "not U+001B at character 1",
      ],
      [
        { name: "A", role: "root" as "admin" },
        "bad_role",
        'one of trader, viewer, admin, not "root"',
      ],
      [{ name: "A", role: "trader", enabled: "yes" as unknown as boolean }, "bad_field", "enabled"],
    ];
    for (const [input, reason, includes] of cases) {
      refused(await store.createAccount(input), reason, includes);
    }
    assert.deepStrictEqual(await store.listAccounts(), []);
  });
});

Deno.test("createAccount() refuses a name that is taken, whatever the role", async () => {
  await withStore(async (store) => {
    value(await store.createAccount({ name: "ALICE", role: "trader" }));
    refused(
      await store.createAccount({ name: "ALICE", role: "admin" }),
      "account_exists",
      'an account named "ALICE" exists',
    );
  });
});

Deno.test("getAccount() says why it found nothing", async () => {
  await withStore(async (store) => {
    refused(await store.getAccount("BOB"), "account_not_found", 'no account is named "BOB"');
    refused(await store.getAccount(""), "bad_account_name", "must not be empty");
  });
});

Deno.test("the keys are laid out as the module documentation says", async () => {
  await withStore(async (store, kv) => {
    value(await store.createAccount({ name: "ALICE", role: "trader" }, { now: NOW }));
    value(await store.setLimit("ALICE", "position", 10));
    value(await store.setOverride("ALICE", "AAPL", "position", 5));
    value(await store.setGlobalKillSwitch(true));
    const keys: unknown[] = [];
    for await (const e of kv.list({ prefix: [] })) keys.push(e.key);
    assert.deepStrictEqual(keys, [
      ["admin", "accounts", "ALICE"],
      ["admin", "global"],
      ["admin", "limits", "ALICE"],
      ["admin", "overrides", "ALICE", "AAPL"],
      ["admin", "version"],
    ]);
    assert.deepStrictEqual((await kv.get(KEYS.override("ALICE", "AAPL"))).value, { position: 5 });
    assert.deepStrictEqual((await kv.get(KEYS.global)).value, { killSwitch: true, revision: 1 });
    assert.deepStrictEqual((await kv.get<Deno.KvU64>(KEYS.version)).value?.value, 4n);
  });
});

Deno.test("each change raises the account's revision by one and the version by one", async () => {
  await withStore(async (store) => {
    value(await store.createAccount({ name: "ALICE", role: "trader" }));
    const revisions: number[] = [];
    for (
      const step of [
        () => store.updateAccount("ALICE", { role: "admin" }),
        () => store.setLimits("ALICE", { ...NO_LIMITS, maxOrderQty: 9 }),
        () => store.setLimit("ALICE", "collarBps", 50),
        () => store.setOverrides("ALICE", "MSFT", { position: 1, maxNotional: 2 }),
        () => store.setOverride("ALICE", "MSFT", "position", undefined),
        () => store.setKillSwitch("ALICE", true),
      ]
    ) revisions.push(value(await step()).after.revision);
    assert.deepStrictEqual(revisions, [2, 3, 4, 5, 6, 7]);
    const state = await store.snapshot();
    assert.deepStrictEqual(state.version, 7);
    assert.deepStrictEqual(state.accounts[0], {
      name: "ALICE",
      role: "admin",
      enabled: true,
      killSwitch: true,
      createdAt: state.accounts[0]!.createdAt,
      revision: 7,
      tokenEpoch: 1,
      limits: { ...NO_LIMITS, maxOrderQty: 9, collarBps: 50 },
      overrides: { MSFT: { maxNotional: 2 } },
    });
  });
});

Deno.test("a change that changes nothing writes nothing and keeps the revision", async () => {
  await withStore(async (store) => {
    value(await store.createAccount({ name: "ALICE", role: "trader" }));
    const change = value(await store.setKillSwitch("ALICE", false));
    assert.deepStrictEqual([change.changed, change.after.revision], [false, 1]);
    const limit = value(await store.setLimit("ALICE", "position", 0));
    assert.deepStrictEqual([limit.changed, limit.after.revision], [false, 1]);
    const removal = value(await store.setOverride("ALICE", "AAPL", "position", undefined));
    assert.deepStrictEqual(removal.changed, false);
    assert.deepStrictEqual((await store.snapshot()).version, 1);
  });
});

Deno.test("changes refuse each bad input with its reason, before touching the account", async () => {
  await withStore(async (store) => {
    value(await store.createAccount({ name: "ALICE", role: "trader" }));
    const full: RiskLimits = { ...NO_LIMITS };
    const { collarBps: _, ...withoutCollar } = full;
    const cases: [Promise<Result<unknown>>, FaultReason, string][] = [
      [
        store.setLimit("ALICE", "maxOrderQty", -1),
        "bad_limit",
        "Cannot set limit: maxOrderQty must be a non-negative safe integer (0: no limit), not -1",
      ],
      [store.setLimit("ALICE", "maxOrderQty", 0.5), "bad_limit", "not 0.5"],
      [store.setLimit("ALICE", "size" as "position", 1), "unknown_limit", '"size" is not a limit'],
      [
        store.setLimits("ALICE", withoutCollar as unknown as RiskLimits),
        "missing_field",
        "collarBps is missing",
      ],
      [
        store.setLimits("ALICE", { ...full, extra: 1 } as unknown as RiskLimits),
        "unknown_limit",
        '"extra" is not a limit',
      ],
      [
        store.setLimits("ALICE", { ...full, position: "10" } as unknown as RiskLimits),
        "bad_limit",
        'position must be a non-negative safe integer (0: no limit), not "10"',
      ],
      [store.setLimits("ALICE", null as unknown as RiskLimits), "bad_field", "not null"],
      [store.setOverrides("ALICE", "aapl", {}), "bad_symbol", "the symbol must be 1 to 12"],
      [store.setOverrides("ALICE", "AAPL", { position: -2 }), "bad_limit", "not -2"],
      [store.setOverride("ALICE", "AAPL", "nope" as "position", 1), "unknown_limit", '"nope"'],
      [
        store.setOverride("ALICE", "AAPL", "nope" as "position", undefined),
        "unknown_limit",
        "Cannot remove override",
      ],
      [store.updateAccount("ALICE", {}), "empty_change", "name a role or enabled"],
      [store.updateAccount("ALICE", { role: "god" as "admin" }), "bad_role", '"god"'],
      [
        store.updateAccount("ALICE", { enabled: 1 as unknown as boolean }),
        "bad_field",
        "enabled must be a boolean, not number",
      ],
      [store.setKillSwitch("ALICE", "on" as unknown as boolean), "bad_field", "not string"],
      [store.setLimit("BOB", "position", 1), "account_not_found", 'no account is named "BOB"'],
      [store.setLimit("", "position", 1), "bad_account_name", "must not be empty"],
    ];
    for (const [result, reason, includes] of cases) refused(await result, reason, includes);
    assert.deepStrictEqual((await store.snapshot()).version, 1);
  });
});

Deno.test("setGlobalKillSwitch() refuses a non-boolean", async () => {
  await withStore(async (store) => {
    refused(
      await store.setGlobalKillSwitch(1 as unknown as boolean),
      "bad_field",
      "Cannot set the global kill switch: on must be a boolean, not number",
    );
  });
});

Deno.test("ifRevision refuses a change to an account at another revision", async () => {
  await withStore(async (store) => {
    value(await store.createAccount({ name: "ALICE", role: "trader" }));
    value(await store.setLimit("ALICE", "position", 5, { ifRevision: 1 }));
    refused(
      await store.setLimit("ALICE", "position", 6, { ifRevision: 1 }),
      "revision_mismatch",
      'account "ALICE" is at revision 2, not 1',
    );
    assert.deepStrictEqual(value(await store.getAccount("ALICE")).limits.position, 5);
  });
});

Deno.test("concurrent changes to one account are all kept, one revision each", async () => {
  await withStore(async (store) => {
    value(await store.createAccount({ name: "ALICE", role: "trader" }));
    const results = await Promise.all([
      store.setLimit("ALICE", "maxOrderQty", 1),
      store.setLimit("ALICE", "position", 2),
      store.setOverride("ALICE", "AAPL", "maxNotional", 3),
    ]);
    const revisions = results.map((r) => value(r).after.revision).sort();
    assert.deepStrictEqual(revisions, [2, 3, 4]);
    const after = value(await store.getAccount("ALICE"));
    assert.deepStrictEqual(
      [after.limits.maxOrderQty, after.limits.position, after.overrides.AAPL],
      [1, 2, { maxNotional: 3 }],
    );
  });
});

Deno.test("overrides are listed by symbol, and removing the last of a symbol's removes its key", async () => {
  await withStore(async (store, kv) => {
    value(await store.createAccount({ name: "ALICE", role: "trader" }));
    value(await store.setOverride("ALICE", "MSFT", "position", 1));
    value(await store.setOverride("ALICE", "AAPL", "position", 0));
    assert.deepStrictEqual(Object.keys(value(await store.getAccount("ALICE")).overrides), [
      "AAPL",
      "MSFT",
    ]);
    value(await store.setOverrides("ALICE", "MSFT", {}));
    assert.deepStrictEqual((await kv.get(KEYS.override("ALICE", "MSFT"))).versionstamp, null);
    assert.deepStrictEqual(value(await store.getAccount("ALICE")).overrides, {
      AAPL: { position: 0 },
    });
  });
});

Deno.test("revert() puts the account back at a new revision, or removes a created one", async () => {
  await withStore(async (store) => {
    const created = value(await store.createAccount({ name: "ALICE", role: "trader" }));
    value(await store.setOverride("ALICE", "AAPL", "position", 4));
    const change = value(
      await store.setOverrides("ALICE", "MSFT", { maxNotional: 9 }),
    );
    value(await store.revert(change));
    const after = value(await store.getAccount("ALICE"));
    assert.deepStrictEqual([after.revision, after.overrides], [4, { AAPL: { position: 4 } }]);
    // The creation can no longer be reverted: the account changed since.
    refused(await store.revert(created), "conflict", "it changed again since");
    const bob = value(await store.createAccount({ name: "BOB", role: "viewer" }));
    value(await store.revert(bob));
    refused(await store.getAccount("BOB"), "account_not_found", "BOB");
    assert.deepStrictEqual((await store.listAccounts()).map((a) => a.name), ["ALICE"]);
  });
});

Deno.test("revertGlobal() restores the switch unless it changed since", async () => {
  await withStore(async (store) => {
    const on = value(await store.setGlobalKillSwitch(true));
    value(await store.revertGlobal(on));
    assert.deepStrictEqual(await store.globalKillSwitch(), false);
    const again = value(await store.setGlobalKillSwitch(true));
    value(await store.setGlobalKillSwitch(false));
    refused(await store.revertGlobal(again), "conflict", "it changed again since");
  });
});

Deno.test("listAccounts() lists in key order without limits", async () => {
  await withStore(async (store) => {
    for (const name of ["carol", "ALICE", "Bob"]) {
      value(await store.createAccount({ name, role: "viewer" }, { now: NOW }));
    }
    const listed = await store.listAccounts();
    assert.deepStrictEqual(listed.map((a) => a.name), ["ALICE", "Bob", "carol"]);
    assert(!("limits" in listed[0]!), "limits listed");
  });
});

Deno.test("a malformed stored record is an error naming its key", async () => {
  await withStore(async (store, kv) => {
    await kv.set(KEYS.account("ALICE"), { name: "ALICE", role: "pirate" });
    let message = "";
    try {
      await store.getAccount("ALICE");
    } catch (error) {
      assert(error instanceof TypeError, String(error));
      message = error.message;
    }
    assert.deepStrictEqual(
      message,
      'Cannot read ["admin","accounts","ALICE"]: the stored value is not an account; ' +
        "was it written by another program?",
    );
  });
});

Deno.test("AccountStore refuses a per-symbol override of a limit that is the whole account's", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const store = new AccountStore(kv);
    await store.createAccount({ name: "ALICE", role: "trader" });
    const one = await store.setOverride("ALICE", "AAPL", "ordersPerSecond", 5);
    const many = await store.setOverrides("ALICE", "AAPL", { position: 5, openOrders: 3 });
    const cases: [typeof one, string][] = [[one, "Cannot set override"], [
      many,
      "Cannot set overrides",
    ]];
    for (const [result, what] of cases) {
      assert.deepStrictEqual(result.ok ? undefined : result.fault.reason, "bad_limit");
      assert(
        !result.ok && result.fault.message.startsWith(`${what}: `) &&
          result.fault.message.includes("applies to the whole account, not per symbol"),
      );
    }
    const fine = await store.setOverrides("ALICE", "AAPL", { position: 5, collarBps: 300 });
    assert(fine.ok);
  } finally {
    kv.close();
  }
});

Deno.test("the token epoch moves on with every change of role or enabled, and only then", async () => {
  await withStore(async (store, kv) => {
    value(await store.createAccount({ name: "ALICE", role: "trader" }));
    const epochs: number[] = [];
    for (
      const step of [
        () => store.setLimit("ALICE", "position", 10),
        () => store.setKillSwitch("ALICE", true),
        () => store.updateAccount("ALICE", { enabled: true }), // already enabled: no change
        () => store.updateAccount("ALICE", { enabled: false }),
        () => store.updateAccount("ALICE", { enabled: true }), // re-enabled: old tokens stay dead
        () => store.updateAccount("ALICE", { role: "viewer" }),
        () => store.updateAccount("ALICE", { role: "viewer", enabled: true }), // nothing
      ]
    ) epochs.push(value(await step()).after.tokenEpoch);
    assert.deepStrictEqual(epochs, [0, 0, 0, 1, 2, 3, 3]);
    // Stored with the account, and read back.
    assert.deepStrictEqual(
      (await kv.get<{ tokenEpoch: number }>(KEYS.account("ALICE"))).value?.tokenEpoch,
      3,
    );
    assert.deepStrictEqual(value(await store.getAccount("ALICE")).tokenEpoch, 3);
  });
});

Deno.test("an account record written before token epochs existed reads as epoch 0", async () => {
  await withStore(async (store, kv) => {
    const old = {
      name: "OLD",
      role: "trader",
      enabled: true,
      killSwitch: false,
      createdAt: "2026-11-25T10:00:00.000Z",
      revision: 1,
    };
    await kv.set(KEYS.account("OLD"), old);
    assert.deepStrictEqual(value(await store.getAccount("OLD")).tokenEpoch, 0);
    assert.deepStrictEqual((await store.listAccounts())[0]?.tokenEpoch, 0);
    await kv.set(KEYS.account("BAD"), { ...old, name: "BAD", tokenEpoch: -1 });
    let thrown: unknown;
    try {
      await store.getAccount("BAD");
    } catch (error) {
      thrown = error;
    }
    assert(thrown instanceof TypeError, String(thrown));
  });
});
