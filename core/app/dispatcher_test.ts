import { Dispatcher, type Origin } from "./dispatcher.ts";
import { AccountRegistry } from "./accounts.ts";
import { MarketLoop } from "./market_loop.ts";
import { NativeEngine } from "../native/mod.ts";
import {
  type Command,
  CommandKind,
  type EngineEvent,
  EventKind,
  loadInstruments,
  OrderType,
  type PlaceOrder,
  ReferenceMatcher,
  Side,
  TimeInForce,
} from "../matching/mod.ts";
import { SyntheticMarket } from "../synthetic/mod.ts";
import assert from "node:assert";

const instruments = loadInstruments();

interface Delivery {
  readonly command: Command;
  readonly events: readonly EngineEvent[];
  readonly origin: Origin;
  readonly engineTime: bigint;
  readonly firstSeq: number;
}

/** An engine, started, with a dispatcher and a recorder; closed after `fn`. */
async function withDispatcher(
  fn: (d: Dispatcher, deliveries: Delivery[], engine: NativeEngine) => Promise<void> | void,
  ring = 1 << 10,
): Promise<void> {
  const engine = NativeEngine.open(instruments, { commandCapacity: ring, eventCapacity: ring });
  engine.start();
  const errors: unknown[] = [];
  const dispatcher = new Dispatcher({ engine, onError: (e) => errors.push(e) });
  const deliveries: Delivery[] = [];
  dispatcher.listen((command, events, origin, engineTime, firstSeq) =>
    deliveries.push({ command, events, origin, engineTime, firstSeq })
  );
  try {
    await fn(dispatcher, deliveries, engine);
    assert.deepStrictEqual(errors, []);
  } finally {
    await dispatcher.stop();
    engine.close();
  }
}

function limit(id: number, account: number, side: Side, price: number, qty: number): PlaceOrder {
  return {
    kind: CommandKind.PlaceOrder,
    id,
    account,
    instrument: 0,
    side,
    type: OrderType.Limit,
    tif: TimeInForce.Gtc,
    postOnly: false,
    price,
    qty,
  };
}

Deno.test("Dispatcher delivers each command's events, whole, in engine order, with its origin", async () => {
  await withDispatcher((d, deliveries) => {
    const market: Origin = { source: "synthetic" };
    const trader: Origin = { source: "gateway" };
    const a = d.allocateOrderId();
    const b = d.allocateOrderId();
    d.submit(limit(a, 1, Side.Sell, 19_000, 10), market);
    d.submit(limit(b, 2, Side.Buy, 19_000, 4), trader);
    d.submit({ kind: CommandKind.CancelOrder, id: a }, market);
    d.submit({ kind: CommandKind.CancelOrder, id: a }, trader);
    d.settle();
    assert.deepStrictEqual(deliveries.map((x) => [x.origin, x.command.kind, x.events]), [
      [market, 1, [{ kind: 1, id: a, instrument: 0 }]],
      [trader, 1, [
        { kind: 1, id: b, instrument: 0 },
        { kind: 3, instrument: 0, taker: b, maker: a, price: 19_000, qty: 4 },
      ]],
      [market, 2, [{ kind: 4, id: a, instrument: 0, leaves: 6, reason: "requested" }]],
      [trader, 2, [{ kind: 2, id: a, instrument: 0xffff_ffff, reason: "unknown_order" }]],
    ]);
    // Sequence numbers run on without gaps: command i+1 starts after command i's events.
    for (let i = 1; i < deliveries.length; i++) {
      const before = deliveries[i - 1]!;
      assert.deepStrictEqual(deliveries[i]!.firstSeq, before.firstSeq + before.events.length);
    }
    const now = BigInt(Date.now()) * 1_000_000n;
    for (const x of deliveries) {
      assert(now - x.engineTime < 60_000_000_000n && x.engineTime - now < 1_000_000_000n);
    }
  });
});

Deno.test("Dispatcher never drops a command when the ring is full: the backlog keeps their order", async () => {
  await withDispatcher((d, deliveries, engine) => {
    const market = new SyntheticMarket({ instruments, seed: 9, nextId: () => d.allocateOrderId() });
    // The market gets no feedback, so it sends a stream it decided blind;
    // 5,000 commands against a 64-slot ring must all be applied, in order.
    const commands = market.take(5_000);
    const origin = { source: "synthetic" };
    for (const c of commands) d.submit(c, origin);
    assert(d.stats.backlog > 4_000, `expected a backlog, got ${JSON.stringify(d.stats)}`);
    d.settle();
    assert.deepStrictEqual(deliveries.map((x) => x.command), commands);
    assert.deepStrictEqual(d.stats.backlog, 0);
    assert.deepStrictEqual(d.stats.inflight, 0);
    const reference = new ReferenceMatcher(instruments);
    const expected = commands.map((c) => reference.apply(c));
    assert.deepStrictEqual(deliveries.map((x) => x.events), expected);
    engine.stop();
    assert.deepStrictEqual(engine.stateHash(), reference.stateHash());
  }, 64);
});

Deno.test("Dispatcher answers controls in order with commands: acks and rejects with the engine's reason", async () => {
  await withDispatcher(async (d, deliveries) => {
    const results = Promise.all([
      d.submitControl({ defineAccount: 7, name: "ALICE" }),
      d.submitControl({ limit: "maxOrderQty", account: 7, value: 100 }),
      d.submitControl({ limit: "maxOrderQty", account: 7, value: -1 }),
      d.submitControl({ referencePrice: 0, instrument: 0 }),
    ]);
    const origin = { source: "gateway" };
    d.submit(limit(d.allocateOrderId(), 7, Side.Buy, 19_000, 101), origin);
    const kill = d.submitControl({ killSwitch: true, account: 7 });
    d.submit(limit(d.allocateOrderId(), 7, Side.Buy, 19_000, 1), origin);
    d.settle();
    assert.deepStrictEqual(await results, [
      { ok: true },
      { ok: true },
      { ok: false, reason: "unknown_command" },
      { ok: false, reason: "invalid_price" },
    ]);
    assert.deepStrictEqual(await kill, { ok: true });
    assert.deepStrictEqual(deliveries.map((x) => x.events[0]), [
      { kind: 2, id: 1, instrument: 0, reason: "max_order_qty" },
      { kind: 2, id: 2, instrument: 0, reason: "kill_switch" },
    ]);
    assert.throws(() => d.submitControl({ defineAccount: 8, name: "" }), {
      name: "RangeError",
      message: /1 to 48 bytes/,
    });
  });
});

Deno.test("Dispatcher.queryStateHash answers after every earlier command", async () => {
  await withDispatcher(async (d) => {
    const market = new SyntheticMarket({ instruments, seed: 2, nextId: () => d.allocateOrderId() });
    const reference = new ReferenceMatcher(instruments);
    const origin = { source: "synthetic" };
    for (const c of market.take(500)) {
      d.submit(c, origin);
      reference.apply(c);
    }
    const hash = d.queryStateHash();
    d.settle();
    assert.deepStrictEqual(await hash, reference.stateHash());
  });
});

Deno.test("Dispatcher's pump delivers without settle, and stop() waits for it", async () => {
  await withDispatcher(async (d, deliveries) => {
    d.start();
    const origin = { source: "gateway" };
    const delivered = new Promise<void>((resolve) => {
      const done = d.onDrained(() => {
        if (deliveries.length === 3) {
          done();
          resolve();
        }
      });
    });
    for (let i = 0; i < 3; i++) {
      d.submit(limit(d.allocateOrderId(), 1, Side.Buy, 18_000 + i, 1), origin);
    }
    await delivered;
    assert.deepStrictEqual(deliveries.map((x) => x.events[0]!.kind), [1, 1, 1]);
    // Idle, then busy again: the pump wakes on the next submission.
    await new Promise((r) => setTimeout(r, 30));
    const late = d.submitControl({ limit: "openOrders", account: "all", value: 0 });
    assert.deepStrictEqual(await late, { ok: true });
  });
});

Deno.test("Dispatcher hands out increasing ids from firstOrderId and refuses a bad one", async () => {
  await withDispatcher(() => {});
  const engine = NativeEngine.open(instruments);
  try {
    const d = new Dispatcher({ engine, firstOrderId: 1_000 });
    assert.deepStrictEqual([d.allocateOrderId(), d.allocateOrderId(), d.nextOrderId], [
      1_000,
      1_001,
      1_002,
    ]);
    for (const bad of [0, -1, 1.5, 2 ** 53]) {
      assert.throws(() => new Dispatcher({ engine, firstOrderId: bad }), {
        name: "RangeError",
        message: /firstOrderId/,
      });
    }
  } finally {
    engine.close();
  }
});

Deno.test("Dispatcher reports a throwing listener and still calls the others", async () => {
  const engine = NativeEngine.open(instruments);
  engine.start();
  const errors: unknown[] = [];
  const d = new Dispatcher({ engine, onError: (e) => errors.push(e) });
  const seen: number[] = [];
  d.listen(() => {
    throw new Error("listener bug");
  });
  d.listen((command) => void seen.push(command.id));
  d.listen(() => assert.throws(() => d.poll(), { message: /may not poll/ }));
  try {
    d.submit({ kind: CommandKind.CancelOrder, id: 5 }, { source: "test" });
    d.settle();
    assert.deepStrictEqual(seen, [5]);
    assert.deepStrictEqual(errors.map((e) => (e as Error).message), ["listener bug"]);
  } finally {
    await d.stop();
    engine.close();
  }
});

Deno.test("Dispatcher refuses submissions after stop() and settle() without a running engine", async () => {
  const engine = NativeEngine.open(instruments);
  try {
    const d = new Dispatcher({ engine });
    d.submit({ kind: CommandKind.CancelOrder, id: 1 }, { source: "test" });
    assert.throws(() => d.settle(), { message: /engine thread is not running/ });
    await d.stop(0);
    assert.throws(() => d.submit({ kind: CommandKind.CancelOrder, id: 2 }, { source: "test" }), {
      message: /dispatcher is stopped/,
    });
  } finally {
    engine.close();
  }
});

Deno.test("MarketLoop sees a trader's fill of its quote: both share one dispatcher and one id space", async () => {
  await withDispatcher(async (d, deliveries) => {
    const accounts = new AccountRegistry({ dispatcher: d });
    const loop = new MarketLoop({ instruments, dispatcher: d, rate: 0, seed: 5 });
    assert.deepStrictEqual(await loop.defineAccounts(accounts), 10);
    assert.deepStrictEqual(await loop.defineAccounts(accounts), 0);
    const alice = accounts.ensure("ALICE");
    assert.deepStrictEqual(alice, 10);
    loop.step(2_000);
    // A trader sweeps one side of the first instrument; the market's quotes
    // are the makers. Its next commands must not refer to filled quotes.
    const origin = { source: "gateway" };
    d.submit({
      kind: CommandKind.PlaceOrder,
      id: d.allocateOrderId(),
      account: alice,
      instrument: 0,
      side: Side.Buy,
      type: OrderType.Market,
      tif: TimeInForce.Ioc,
      postOnly: false,
      price: 0,
      qty: 200,
    }, origin);
    d.settle();
    const sweep = deliveries.at(-1)!;
    assert(sweep.events.some((e) => e.kind === EventKind.OrderTraded), "the sweep should trade");
    const before = loop.stats.rejects;
    loop.step(2_000);
    const ids = deliveries.filter((x) => x.command.kind === CommandKind.PlaceOrder)
      .map((x) => x.command.id);
    assert.deepStrictEqual(new Set(ids).size, ids.length, "ids are unique across sources");
    // Unknown-order rejects would mean the market missed the fills.
    const unknown = deliveries.slice(-2_000).flatMap((x) => x.events).filter((e) =>
      e.kind === EventKind.OrderRejected && e.reason === "unknown_order"
    );
    assert.deepStrictEqual(unknown, []);
    assert(loop.stats.rejects - before < 50, `rejects grew by ${loop.stats.rejects - before}`);
  });
});
