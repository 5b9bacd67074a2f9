import assert from "node:assert";
import type { Fault, FaultReason, Result } from "./fault.ts";
import { RiskAdmin } from "./risk_admin.ts";
import type { AccountStore } from "./store.ts";
import { NO_LIMITS } from "./types.ts";
import { FakePort, INSTRUMENTS, withStore } from "./_testing.ts";

function value<T>(result: Result<T>): T {
  assert(result.ok, result.ok ? "" : `${result.fault.reason}: ${result.fault.message}`);
  return result.value;
}

function refused<T>(result: Result<T>, reason: FaultReason): Fault {
  assert(!result.ok, `accepted, expected ${reason}`);
  assert.deepStrictEqual(result.fault.reason, reason, result.fault.message);
  return result.fault;
}

/** An admin over a fresh store and a fake port, with ALICE created and the log cleared. */
async function withAdmin(
  fn: (admin: RiskAdmin, port: FakePort, store: AccountStore) => Promise<void>,
  options: { engineTimeoutMs?: number } = {},
): Promise<void> {
  await withStore(async (store) => {
    const port = new FakePort();
    const admin = new RiskAdmin({ store, port, instruments: INSTRUMENTS, ...options });
    value(await admin.createAccount({ name: "ALICE", role: "trader" }));
    port.log.length = 0;
    await fn(admin, port, store);
  });
}

Deno.test("RiskAdmin defines a new account and sends its whole state", async () => {
  await withStore(async (store) => {
    const port = new FakePort();
    const admin = new RiskAdmin({ store, port, instruments: INSTRUMENTS });
    const created = value(
      await admin.createAccount({ name: "BOB", role: "viewer", enabled: false }),
    );
    assert.deepStrictEqual([created.name, created.enabled], ["BOB", false]);
    assert.deepStrictEqual(port.log, [
      "define BOB=1",
      "kill BOB on",
      "set BOB * maxOrderQty=0",
      "set BOB * maxNotional=0",
      "set BOB * position=0",
      "set BOB * openOrders=0",
      "set BOB * ordersPerSecond=0",
      "set BOB * collarBps=0",
    ]);
  });
});

Deno.test("RiskAdmin applies each change to the engine before reporting it", async () => {
  await withAdmin(async (admin, port) => {
    value(await admin.setLimit("ALICE", "maxOrderQty", 500));
    value(await admin.setLimits("ALICE", { ...NO_LIMITS, maxOrderQty: 500, position: 20 }));
    value(await admin.setOverrides("ALICE", "MSFT", { position: 5, collarBps: 10 }));
    value(await admin.setOverride("ALICE", "MSFT", "collarBps", undefined));
    value(await admin.setKillSwitch("ALICE", true));
    value(await admin.updateAccount("ALICE", { enabled: false }));
    value(await admin.setKillSwitch("ALICE", false));
    value(await admin.updateAccount("ALICE", { enabled: true, role: "admin" }));
    assert.deepStrictEqual(value(await admin.setGlobalKillSwitch(true)), true);
    assert.deepStrictEqual(port.log, [
      "set ALICE * maxOrderQty=500",
      "set ALICE * position=20",
      "set ALICE #1 position=5",
      "set ALICE #1 collarBps=10",
      "clear ALICE #1 collarBps",
      "kill ALICE on",
      // Disabled while killed, then un-killed while disabled: the engine's switch stays on.
      "kill ALICE off",
      "kill all on",
    ]);
    assert.deepStrictEqual(port.effective("ALICE", 1, "position"), 5);
    assert.deepStrictEqual(port.effective("ALICE", 0, "position"), 20);
  });
});

Deno.test("RiskAdmin sends nothing for a change that changes nothing", async () => {
  await withAdmin(async (admin, port) => {
    value(await admin.setKillSwitch("ALICE", false));
    value(await admin.setGlobalKillSwitch(false));
    value(await admin.updateAccount("ALICE", { role: "viewer" }));
    assert.deepStrictEqual(port.log, []);
  });
});

Deno.test("RiskAdmin undoes a change the engine refused, in the store and the engine", async () => {
  await withAdmin(async (admin, port) => {
    value(await admin.setLimits("ALICE", { ...NO_LIMITS, maxOrderQty: 10, position: 10 }));
    port.log.length = 0;
    port.refuse = (command) =>
      command === "set ALICE * position=20" ? "reject 8: malformed control command" : undefined;
    const fault = refused(
      await admin.setLimits("ALICE", { ...NO_LIMITS, maxOrderQty: 20, position: 20 }),
      "engine_refused",
    );
    assert.deepStrictEqual(
      fault.message,
      'Cannot set limits: the engine refused to set position to 20 for "ALICE" on all ' +
        "instruments: reject 8: malformed control command; the stored state was restored; " +
        "the engine holds the old values",
    );
    assert.deepStrictEqual(port.log, [
      "set ALICE * maxOrderQty=20",
      "set ALICE * maxOrderQty=10",
      "set ALICE * position=10",
    ]);
    const stored = value(await admin.getAccount("ALICE"));
    assert.deepStrictEqual([stored.limits.maxOrderQty, stored.limits.position], [10, 10]);
  });
});

Deno.test("RiskAdmin says the engine may hold part of a change when it refuses the undo too", async () => {
  await withAdmin(async (admin, port) => {
    let sent = 0;
    port.refuse = () => (sent++ >= 1 ? "engine halted: journal sync failed" : undefined);
    const fault = refused(
      await admin.setLimits("ALICE", { ...NO_LIMITS, maxOrderQty: 20, position: 20 }),
      "engine_refused",
    );
    assert(fault.message.includes("engine halted: journal sync failed"), fault.message);
    assert(
      fault.message.endsWith(
        "the engine may hold part of the change until the stored state is applied at the next start",
      ),
      fault.message,
    );
    assert.deepStrictEqual(value(await admin.getAccount("ALICE")).limits, NO_LIMITS);
  });
});

Deno.test("RiskAdmin undoes a change the engine did not acknowledge in time", async () => {
  await withAdmin(async (admin, port) => {
    port.hang = (command) => command === "kill ALICE on";
    const fault = refused(await admin.setKillSwitch("ALICE", true), "engine_timeout");
    assert(
      fault.message.startsWith("Cannot set kill switch: the engine did not acknowledge"),
      fault.message,
    );
    assert.deepStrictEqual(port.log, ["kill ALICE off"]);
    assert.deepStrictEqual(value(await admin.getAccount("ALICE")).killSwitch, false);
  }, { engineTimeoutMs: 20 });
});

Deno.test("RiskAdmin does not keep an account whose creation the engine refused", async () => {
  await withAdmin(async (admin, port) => {
    port.refuse = (command) => command.startsWith("define") ? "engine halted" : undefined;
    const fault = refused(
      await admin.createAccount({ name: "BOB", role: "trader" }),
      "engine_refused",
    );
    assert.deepStrictEqual(
      fault.message,
      'Cannot create account: the engine refused to define account "BOB": engine halted; ' +
        "the stored state was restored; the engine may keep the account's name and part of its " +
        "state, unused",
    );
    refused(await admin.getAccount("BOB"), "account_not_found");
  });
});

Deno.test("RiskAdmin undoes a global kill switch the engine refused", async () => {
  await withAdmin(async (admin, port) => {
    port.refuse = () => "engine halted";
    refused(await admin.setGlobalKillSwitch(true), "engine_refused");
    assert.deepStrictEqual((await admin.state()).killSwitch, false);
  });
});

Deno.test("RiskAdmin refuses an override on a symbol the instrument table lacks", async () => {
  await withAdmin(async (admin, port, store) => {
    const fault = refused(
      await admin.setOverride("ALICE", "TSLA", "position", 1),
      "unknown_symbol",
    );
    assert.deepStrictEqual(
      fault.message,
      'Cannot set override: the instrument table has no symbol "TSLA"',
    );
    refused(await admin.setOverrides("ALICE", "TSLA", { position: 1 }), "unknown_symbol");
    // One stored before the symbol left the table can still be removed, with nothing to send.
    value(await store.setOverride("ALICE", "TSLA", "position", 1));
    const after = value(await admin.setOverrides("ALICE", "TSLA", {}));
    assert.deepStrictEqual([after.overrides, port.log], [{}, []]);
  });
});

Deno.test("RiskAdmin passes the store's refusals through, sending nothing", async () => {
  await withAdmin(async (admin, port) => {
    refused(await admin.setLimit("ALICE", "position", -5), "bad_limit");
    refused(await admin.setLimit("NOBODY", "position", 5), "account_not_found");
    refused(await admin.setKillSwitch("ALICE", true, { ifRevision: 9 }), "revision_mismatch");
    refused(await admin.createAccount({ name: "ALICE", role: "trader" }), "account_exists");
    assert.deepStrictEqual(port.log, []);
  });
});

Deno.test("RiskAdmin runs changes one at a time, in the order the store records them", async () => {
  await withAdmin(async (admin, port) => {
    // The first answer is slow; without the queue the second change would reach the engine first.
    const slow = port.setLimit.bind(port);
    let first = true;
    port.setLimit = (a, i, limit, v) => {
      if (!first) return slow(a, i, limit, v);
      first = false;
      return new Promise((resolve) => setTimeout(resolve, 30)).then(() => slow(a, i, limit, v));
    };
    const [a, b] = await Promise.all([
      admin.setLimit("ALICE", "position", 1),
      admin.setLimit("ALICE", "position", 2),
    ]);
    assert.deepStrictEqual([value(a).revision, value(b).revision], [2, 3]);
    assert.deepStrictEqual(port.log, ["set ALICE * position=1", "set ALICE * position=2"]);
    assert.deepStrictEqual(port.effective("ALICE", 0, "position"), 2);
  });
});

Deno.test("RiskAdmin uses the account numbers it is given instead of defining again", async () => {
  await withStore(async (store) => {
    value(await store.createAccount({ name: "ALICE", role: "trader" }));
    const port = new FakePort(new Map([["ALICE", 7]]));
    port.defineAccount = () => Promise.reject(new Error("defined again"));
    const admin = new RiskAdmin({
      store,
      port,
      instruments: INSTRUMENTS,
      accountNumbers: new Map([["ALICE", 7]]),
    });
    value(await admin.setKillSwitch("ALICE", true));
    assert.deepStrictEqual(port.log, ["kill ALICE on"]);
  });
});

Deno.test("RiskAdmin refuses a bad timeout or instrument table when made", async () => {
  await withStore((store) => {
    const port = new FakePort();
    assert.throws(() => new RiskAdmin({ store, port, instruments: [], engineTimeoutMs: 0 }), {
      name: "RangeError",
      message: /engineTimeoutMs must be a positive number, not 0/,
    });
    assert.throws(
      () => new RiskAdmin({ store, port, instruments: [{ symbol: "A" }, { symbol: "A" }] }),
      { name: "RangeError", message: /appears twice/ },
    );
    return Promise.resolve();
  });
});
