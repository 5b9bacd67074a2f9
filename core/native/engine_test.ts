import assert from "node:assert";
import { loadInstruments } from "../matching/instruments.ts";
import { CommandKind, type EngineEvent, OrderType, Side, TimeInForce } from "../matching/types.ts";
import { NativeEngine } from "./engine.ts";
import { EV_CONTROL_APPLIED, eventFlags, eventKind, EVF_LAST, readEvent } from "./records.ts";

/** Drains until `count` commands have answered; control acks become "applied". */
function answers(engine: NativeEngine, count: number): (EngineEvent | "applied")[] {
  const out: (EngineEvent | "applied")[] = [];
  let done = 0;
  while (done < count) {
    engine.drain((u32, at) => {
      out.push(eventKind(u32, at) === EV_CONTROL_APPLIED ? "applied" : readEvent(u32, at));
      if (eventFlags(u32, at) & EVF_LAST) done++;
    });
  }
  return out;
}

const order = (id: number, account: number, qty: number) => ({
  kind: CommandKind.PlaceOrder,
  id,
  account,
  instrument: 0,
  side: Side.Buy,
  type: OrderType.Limit,
  tif: TimeInForce.Gtc,
  postOnly: false,
  price: 10_000,
  qty,
});

Deno.test("NativeEngine.pushRiskControl sets limits and switches the engine enforces through the rings", () => {
  const engine = NativeEngine.open(loadInstruments());
  try {
    engine.start();
    engine.pushRiskControl({ limit: "maxOrderQty", account: "all", value: 100 });
    engine.pushRiskControl({ killSwitch: true, account: 2 });
    engine.push(order(1, 1, 101));
    engine.push(order(2, 1, 100));
    engine.push(order(3, 2, 1));
    engine.pushRiskControl({ limit: "maxOrderQty", account: 1, instrument: 0, value: 10 });
    engine.push(order(4, 1, 11));
    engine.pushRiskControl({ limit: "maxOrderQty", account: 1, instrument: 0, value: "clear" });
    engine.push(order(5, 1, 11));
    engine.flush();
    const [limitSet, switchSet, tooBig, fine, killed, ...scoped] = answers(engine, 9);
    assert.deepStrictEqual([limitSet, switchSet], ["applied", "applied"]);
    assert.deepStrictEqual(tooBig, { kind: 2, id: 1, instrument: 0, reason: "max_order_qty" });
    assert.deepStrictEqual(fine, { kind: 1, id: 2, instrument: 0 });
    assert.deepStrictEqual(killed, { kind: 2, id: 3, instrument: 0, reason: "kill_switch" });
    assert.deepStrictEqual(scoped, [
      "applied",
      { kind: 2, id: 4, instrument: 0, reason: "max_order_qty" },
      "applied",
      // The account has no limit of its own: the defaults' 100 applies again.
      { kind: 1, id: 5, instrument: 0 },
    ]);
  } finally {
    engine.close();
  }
});

Deno.test("NativeEngine.openJournal with retention 'snapshots' releases what the kept snapshots cover", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tc-retention-" });
  const open = (retention: "all" | "snapshots") => {
    const engine = NativeEngine.open(loadInstruments());
    const report = engine.openJournal({
      dir,
      meta: "{}",
      segmentBytes: 64 * 1024,
      snapshotEvery: 500,
      retention,
    });
    return { engine, report };
  };
  try {
    const { engine } = open("snapshots");
    engine.start();
    // Orders that rest (ids 1..), each a 72-byte journal entry: ~290 KB in 64 KiB segments.
    let answered = 0;
    const count = (u32: Uint32Array, at: number) => {
      if (eventFlags(u32, at) & EVF_LAST) answered++;
    };
    for (let id = 1; id <= 4_000; id++) {
      while (!engine.push(order(id, 1, 1))) engine.drain(count);
    }
    engine.flush();
    while (answered < 4_000) engine.drain(count);
    engine.close();
    const { engine: again, report } = open("all");
    again.close();
    // The last command made a snapshot (at the journal's last record), and
    // the records before the older kept snapshot are gone.
    assert.deepStrictEqual(report.snapshot, report.journal.lastSeq);
    assert.deepStrictEqual(report.replayed, 0);
    assert.deepStrictEqual(
      (report.journal.firstSeq ?? 0) > 1,
      true,
      `first record ${report.journal.firstSeq}`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("NativeEngine.restingOrders lists a book bids then asks, best first, in time priority, with each order's client order id and placer", () => {
  const engine = NativeEngine.open(loadInstruments());
  try {
    const sell = (id: number, price: number, qty: number) => ({
      ...order(id, 3, qty),
      side: Side.Sell,
      price,
    });
    const commands = [
      { ...order(1, 1, 5), price: 9_900 },
      order(2, 2, 7),
      order(3, 1, 4),
      sell(4, 10_100, 2),
      { ...sell(5, 10_050, 9), postOnly: true },
    ];
    // Client order ids (the largest a uint64 holds included), and order 5
    // placed by account 0 for account 3; order 2 without either.
    const labels: [bigint, number | undefined][] = [
      [11n, undefined],
      [0n, undefined],
      [(1n << 64n) - 1n, undefined],
      [14n, undefined],
      [15n, 0],
    ];
    engine.start();
    commands.forEach((c, i) => engine.push(c, labels[i]![0], labels[i]![1]));
    // A replace that loses priority keeps the order's labels, not its own.
    engine.push({ kind: CommandKind.ReplaceOrder, id: 1, price: 9_900, qty: 6 }, 99n, 99);
    engine.flush();
    answers(engine, commands.length + 1);
    engine.stop();
    const resting = (id: number, account: number, side: Side, price: number, qty: number) => ({
      id,
      account,
      instrument: 0,
      side,
      postOnly: id === 5,
      price,
      qty,
    });
    assert.deepStrictEqual(engine.restingOrders(0), [
      { ...resting(2, 2, Side.Buy, 10_000, 7), clientOrderId: 0n, placer: null },
      { ...resting(3, 1, Side.Buy, 10_000, 4), clientOrderId: (1n << 64n) - 1n, placer: null },
      { ...resting(1, 1, Side.Buy, 9_900, 6), clientOrderId: 11n, placer: null },
      { ...resting(5, 3, Side.Sell, 10_050, 9), clientOrderId: 15n, placer: 0 },
      { ...resting(4, 3, Side.Sell, 10_100, 2), clientOrderId: 14n, placer: null },
    ]);
    assert.deepStrictEqual(engine.restingOrders(1), []);
  } finally {
    engine.close();
  }
});
