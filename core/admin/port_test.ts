import assert from "node:assert";
import {
  type ControlOp,
  describeOp,
  instrumentIndex,
  planChange,
  planState,
  runControls,
} from "./port.ts";
import { type AccountState, NO_LIMITS } from "./types.ts";
import { FakePort, INSTRUMENTS } from "./_testing.ts";

const INDEX = instrumentIndex(INSTRUMENTS);

const ALICE: AccountState = {
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

/** Plans `before` → `after` and compares the ops' descriptions. */
function check(before: AccountState | undefined, after: AccountState, expected: string[]) {
  assert.deepStrictEqual(planChange(before, after, INDEX).ops.map(describeOp), expected);
}

Deno.test("planChange() sends only the limits that changed", () => {
  check(ALICE, { ...ALICE, limits: { ...NO_LIMITS, position: 10, collarBps: 25 } }, [
    'set position to 10 for "ALICE" on all instruments',
    'set collarBps to 25 for "ALICE" on all instruments',
  ]);
  check(ALICE, { ...ALICE, role: "admin" }, []);
});

Deno.test("planChange() sets, changes and clears overrides per symbol and limit", () => {
  const before = {
    ...ALICE,
    overrides: { AAPL: { position: 5, maxNotional: 2 }, SPY: { position: 1 } },
  };
  const after = { ...ALICE, overrides: { AAPL: { position: 6 }, MSFT: { maxOrderQty: 0 } } };
  check(before, after, [
    'remove the maxNotional override of "ALICE" on AAPL',
    'set position to 6 for "ALICE" on AAPL',
    'set maxOrderQty to 0 for "ALICE" on MSFT',
    'remove the position override of "ALICE" on SPY',
  ]);
});

Deno.test("planChange() turns a kill switch on first and off last", () => {
  const tighter = { ...ALICE, limits: { ...NO_LIMITS, maxOrderQty: 1 } };
  check(ALICE, { ...tighter, killSwitch: true }, [
    'turn the kill switch of "ALICE" on',
    'set maxOrderQty to 1 for "ALICE" on all instruments',
  ]);
  check({ ...ALICE, enabled: false }, { ...tighter, enabled: true }, [
    'set maxOrderQty to 1 for "ALICE" on all instruments',
    'turn the kill switch of "ALICE" off',
  ]);
  // Disabled and killed: the engine's switch stays on whichever of the two goes.
  check({ ...ALICE, enabled: false, killSwitch: true }, { ...ALICE, enabled: false }, []);
});

Deno.test("planChange() sends a new account's whole state after defining it", () => {
  check(undefined, { ...ALICE, enabled: false, overrides: { MSFT: { position: 3 } } }, [
    'define account "ALICE"',
    'turn the kill switch of "ALICE" on',
    'set maxOrderQty to 0 for "ALICE" on all instruments',
    'set maxNotional to 0 for "ALICE" on all instruments',
    'set position to 0 for "ALICE" on all instruments',
    'set openOrders to 0 for "ALICE" on all instruments',
    'set ordersPerSecond to 0 for "ALICE" on all instruments',
    'set collarBps to 0 for "ALICE" on all instruments',
    'set position to 3 for "ALICE" on MSFT',
  ]);
});

Deno.test("planChange() leaves out, and reports, overrides on symbols the table lacks", () => {
  const plan = planChange(ALICE, { ...ALICE, overrides: { GONE: { position: 1 } } }, INDEX);
  assert.deepStrictEqual(plan, { ops: [], skipped: [{ account: "ALICE", symbol: "GONE" }] });
});

Deno.test("planState() sends the global switch first when on and last when off", () => {
  const state = { version: 3, killSwitch: false, accounts: [ALICE] };
  const off = planState(state, INDEX).ops.map((op) => op.kind);
  assert.deepStrictEqual([off[0], off.at(-1), off.length], [
    "defineAccount",
    "globalKillSwitch",
    9,
  ]);
  const on = planState({ ...state, killSwitch: true }, INDEX).ops.map((op) => op.kind);
  assert.deepStrictEqual([on[0], on.at(-1)], ["globalKillSwitch", "killSwitch"]);
});

Deno.test("instrumentIndex() numbers symbols by position and refuses duplicates", () => {
  assert.deepStrictEqual([...INDEX], [["AAPL", 0], ["MSFT", 1], ["SPY", 2]]);
  assert.throws(() => instrumentIndex([{ symbol: "A" }, { symbol: "A" }]), {
    name: "RangeError",
    message: /Cannot index instruments: "A" appears twice/,
  });
});

Deno.test("runControls() defines each account once and passes instrument numbers", async () => {
  const port = new FakePort();
  const accounts = new Map<string, number>();
  const ops: ControlOp[] = [
    { kind: "setLimit", account: "ALICE", limit: "position", value: 5 },
    { kind: "setLimit", account: "ALICE", symbol: "SPY", limit: "position", value: 2 },
    { kind: "clearLimit", account: "BOB", symbol: "MSFT", limit: "openOrders" },
    { kind: "killSwitch", account: "ALICE", on: true },
    { kind: "globalKillSwitch", on: false },
  ];
  const result = await runControls(port, ops, { accounts, index: INDEX, timeoutMs: 1000 });
  assert.deepStrictEqual([result.ok, result.done], [true, 5]);
  assert.deepStrictEqual(port.log, [
    "define ALICE=1",
    "set ALICE * position=5",
    "set ALICE #2 position=2",
    "define BOB=2",
    "clear BOB #1 openOrders",
    "kill ALICE on",
    "kill all off",
  ]);
  assert.deepStrictEqual([...accounts], [["ALICE", 1], ["BOB", 2]]);
});

Deno.test("runControls() stops at the first refusal and keeps the engine's reason", async () => {
  const port = new FakePort();
  port.refuse = (command) => command.startsWith("kill") ? "the engine halted" : undefined;
  const ops: ControlOp[] = [
    { kind: "setLimit", account: "ALICE", limit: "position", value: 5 },
    { kind: "killSwitch", account: "ALICE", on: true },
    { kind: "setLimit", account: "ALICE", limit: "position", value: 6 },
  ];
  const result = await runControls(port, ops, {
    accounts: new Map(),
    index: INDEX,
    timeoutMs: 1000,
  });
  assert(!result.ok, "no refusal");
  assert.deepStrictEqual([result.done, result.fault], [1, {
    reason: "engine_refused",
    message: 'the engine refused to turn the kill switch of "ALICE" on: the engine halted',
  }]);
  assert.deepStrictEqual(port.log, ["define ALICE=1", "set ALICE * position=5"]);
});

Deno.test("runControls() gives up on an acknowledgement that does not come in time", async () => {
  const port = new FakePort();
  port.hang = (command) => command.startsWith("set");
  const result = await runControls(
    port,
    [{ kind: "setLimit", account: "ALICE", limit: "position", value: 5 }],
    { accounts: new Map(), index: INDEX, timeoutMs: 20 },
  );
  assert(!result.ok, "no timeout");
  assert.deepStrictEqual(result.fault, {
    reason: "engine_timeout",
    message: 'the engine did not acknowledge "set position to 5 for "ALICE" on all instruments" ' +
      "within 20 ms (it may still apply it)",
  });
});

Deno.test("runControls() refuses an account number that is not one", async () => {
  const port = new FakePort();
  port.defineAccount = () => Promise.resolve(-1);
  const result = await runControls(port, [{ kind: "defineAccount", account: "ALICE" }], {
    accounts: new Map(),
    index: INDEX,
    timeoutMs: 1000,
  });
  assert(!result.ok && result.fault.reason === "engine_refused", "accepted -1");
  assert(result.fault.message.includes("with -1, not an account number"), result.fault.message);
});

Deno.test("runControls() turns a port that throws instead of rejecting into a refusal", async () => {
  const port = new FakePort();
  port.setKillSwitch = () => {
    throw new Error("ring full");
  };
  const result = await runControls(port, [{ kind: "globalKillSwitch", on: true }], {
    accounts: new Map(),
    index: INDEX,
    timeoutMs: 1000,
  });
  assert(!result.ok, "no refusal");
  assert.deepStrictEqual(
    result.fault.message,
    "the engine refused to turn the global kill switch on: ring full",
  );
});

Deno.test("runControls() throws on a symbol outside the table (plans never send one)", async () => {
  let error: unknown;
  try {
    await runControls(
      new FakePort(),
      [{ kind: "clearLimit", account: "A", symbol: "GONE", limit: "position" }],
      { accounts: new Map(), index: INDEX, timeoutMs: 1000 },
    );
  } catch (e) {
    error = e;
  }
  assert(error instanceof RangeError, String(error));
  assert.deepStrictEqual(
    error.message,
    'Cannot remove the position override of "A" on GONE: the instrument table has no GONE',
  );
});
