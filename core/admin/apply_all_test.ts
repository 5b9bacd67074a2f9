import fc from "fast-check";
import assert from "node:assert";
import { applyAll } from "./apply_all.ts";
import { RiskAdmin } from "./risk_admin.ts";
import { ACCOUNT_ROLES, LIMIT_NAMES, NO_LIMITS } from "./types.ts";
import { type EngineView, FakePort, INSTRUMENTS, withStore } from "./_testing.ts";

Deno.test("applyAll() pushes every account's whole state and returns the numbers", async () => {
  await withStore(async (store) => {
    await store.createAccount({ name: "ALICE", role: "trader" });
    await store.createAccount({ name: "BOB", role: "viewer", enabled: false });
    await store.setLimit("ALICE", "maxNotional", 1_000_000);
    await store.setOverride("ALICE", "SPY", "position", 0);
    await store.setGlobalKillSwitch(true);
    const port = new FakePort();
    const report = await applyAll(store, port, INSTRUMENTS);
    assert.deepStrictEqual(
      { ...report, accounts: [...report.accounts] },
      { accounts: [["ALICE", 1], ["BOB", 2]], version: 5, commands: 18, skipped: [] },
    );
    assert.deepStrictEqual(port.log, [
      "kill all on",
      "define ALICE=1",
      "set ALICE * maxOrderQty=0",
      "set ALICE * maxNotional=1000000",
      "set ALICE * position=0",
      "set ALICE * openOrders=0",
      "set ALICE * ordersPerSecond=0",
      "set ALICE * collarBps=0",
      "set ALICE #2 position=0",
      "kill ALICE off",
      "define BOB=2",
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

Deno.test("applyAll() overrides whatever a recovered engine held", async () => {
  await withStore(async (store) => {
    await store.createAccount({ name: "ALICE", role: "trader" });
    const port = new FakePort(new Map([["ALICE", 4]]));
    await port.setLimit(4, undefined, "position", 99);
    await port.setKillSwitch(4, true);
    await port.setKillSwitch("all", true);
    await applyAll(store, port, INSTRUMENTS);
    assert.deepStrictEqual(port.view(), { global: false, killed: [], limits: {} });
  });
});

Deno.test("applyAll() leaves out and reports overrides on symbols the table no longer lists", async () => {
  await withStore(async (store) => {
    await store.createAccount({ name: "ALICE", role: "trader" });
    await store.setOverride("ALICE", "TSLA", "position", 3);
    const report = await applyAll(store, new FakePort(), INSTRUMENTS);
    assert.deepStrictEqual(report.skipped, [{ account: "ALICE", symbol: "TSLA" }]);
  });
});

Deno.test("applyAll() throws, naming the command, when the engine refuses", async () => {
  await withStore(async (store) => {
    await store.createAccount({ name: "ALICE", role: "trader" });
    const port = new FakePort();
    port.refuse = (command) => command.includes("openOrders") ? "engine halted" : undefined;
    let message = "";
    try {
      await applyAll(store, port, INSTRUMENTS);
    } catch (error) {
      assert(error instanceof Error, String(error));
      message = error.message;
    }
    assert.deepStrictEqual(
      message,
      "Cannot apply the stored risk state (version 1): the engine refused to set openOrders to 0 " +
        'for "ALICE" on all instruments: engine halted, after 4 of 9 commands',
    );
  });
});

// One admin call, and the engine command of that call (counted from 0) to refuse, if any.
type Step = {
  readonly call: (admin: RiskAdmin) => Promise<unknown>;
  readonly refuseAt?: number | undefined;
};

const name = fc.constantFrom("ALICE", "BOB", "CAROL");
const symbol = fc.constantFrom("AAPL", "MSFT", "SPY");
const limit = fc.constantFrom(...LIMIT_NAMES);
const limitValue = fc.constantFrom(0, 1, 5, 100);
const some = fc.record(
  Object.fromEntries(LIMIT_NAMES.map((l) => [l, limitValue])),
  { requiredKeys: [] },
);
const call: fc.Arbitrary<Step["call"]> = fc.oneof(
  fc.tuple(name, fc.constantFrom(...ACCOUNT_ROLES), fc.boolean()).map(
    ([n, role, enabled]) => (admin: RiskAdmin) => admin.createAccount({ name: n, role, enabled }),
  ),
  fc.tuple(name, fc.boolean()).map(([n, enabled]) => (admin: RiskAdmin) =>
    admin.updateAccount(n, { enabled })
  ),
  fc.tuple(name, limit, limitValue).map(([n, l, v]) => (admin: RiskAdmin) =>
    admin.setLimit(n, l, v)
  ),
  fc.tuple(name, limitValue).map(([n, v]) => (admin: RiskAdmin) =>
    admin.setLimits(n, { ...NO_LIMITS, position: v, maxOrderQty: v })
  ),
  fc.tuple(name, symbol, limit, fc.option(limitValue, { nil: undefined })).map(
    ([n, s, l, v]) => (admin: RiskAdmin) => admin.setOverride(n, s, l, v),
  ),
  fc.tuple(name, symbol, some).map(([n, s, o]) => (admin: RiskAdmin) =>
    admin.setOverrides(n, s, o)
  ),
  fc.tuple(name, fc.boolean()).map(([n, on]) => (admin: RiskAdmin) => admin.setKillSwitch(n, on)),
  fc.boolean().map((on) => (admin: RiskAdmin) => admin.setGlobalKillSwitch(on)),
);
// Most changes send one to three commands: refusing the second or third
// leaves some applied, which only the undo takes back.
const step: fc.Arbitrary<Step> = fc.record({
  call,
  refuseAt: fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 2 },
    { arbitrary: fc.nat({ max: 3 }), weight: 3 },
  ),
});

/** Every run starts with the three accounts, so that most changes find theirs. */
const start: Step[] = ["ALICE", "BOB", "CAROL"].map((n) => ({
  call: (admin: RiskAdmin) => admin.createAccount({ name: n, role: "trader" }),
}));

/** The view restricted to stored accounts (a refused creation may leave engine traces). */
function restrict(view: EngineView, names: ReadonlySet<string>): EngineView {
  return {
    global: view.global,
    killed: view.killed.filter((n) => names.has(n)),
    limits: Object.fromEntries(
      Object.entries(view.limits).filter(([key]) => names.has(key.split(" ")[0]!)),
    ),
  };
}

Deno.test("after any changes, refused ones included, the engine holds what applyAll would push", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(step, { maxLength: 25 }), async (steps) => {
      await withStore(async (store) => {
        const live = new FakePort();
        const admin = new RiskAdmin({ store, port: live, instruments: INSTRUMENTS });
        for (const { call, refuseAt } of [...start, ...steps]) {
          // Refuse one command of this change; the undo that follows goes through.
          let sent = 0;
          live.refuse = () => (sent++ === refuseAt ? "refused by the test" : undefined);
          await call(admin);
        }
        live.refuse = () => undefined;
        const fresh = new FakePort();
        await applyAll(store, fresh, INSTRUMENTS);
        const names = new Set((await store.listAccounts()).map((a) => a.name));
        assert.deepStrictEqual(restrict(live.view(), names), restrict(fresh.view(), names));
      });
    }),
    { numRuns: 100 },
  );
});
