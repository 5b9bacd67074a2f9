import { MarketLoop } from "./market_loop.ts";
import { Dispatcher } from "./dispatcher.ts";
import { NativeEngine } from "../native/mod.ts";
import { AccountRegistry } from "./accounts.ts";
import {
  CommandKind,
  loadInstruments,
  OrderType,
  ReferenceMatcher,
  Side,
  TimeInForce,
} from "../matching/mod.ts";
import assert from "node:assert";
import type { Command } from "../matching/types.ts";

Deno.test("MarketLoop leaves the engine in the state a reference replay of its commands reaches", async () => {
  const instruments = loadInstruments();
  const engine = NativeEngine.open(instruments, { commandCapacity: 64, eventCapacity: 64 });
  engine.start();
  const dispatcher = new Dispatcher({ engine });
  const sent: Command[] = [];
  const loop = new MarketLoop({
    instruments,
    dispatcher,
    rate: 0,
    seed: 3,
    onCommand: (c) => void sent.push(c),
  });
  loop.step(20_000);
  await dispatcher.stop();
  engine.stop();
  const reference = new ReferenceMatcher(instruments);
  let events = 0;
  for (const c of sent) events += reference.apply(c).length;
  assert.deepStrictEqual(sent.length, 20_000);
  assert.deepStrictEqual(loop.stats.events, events);
  assert.deepStrictEqual(engine.stateHash(), reference.stateHash());
  assert(loop.stats.perInstrument.every((s) => s.trades > 0), "every instrument should trade");
  engine.close();
});

Deno.test("MarketLoop.cancelLeftovers() cancels the market's orders recovered after a restart, and leaves a trader's", async () => {
  const instruments = loadInstruments();
  const dir = await Deno.makeTempDir({ prefix: "tc-leftovers-" });
  /** One run of the core's wiring on the journal: engine, dispatcher, registry, loop. */
  const start = async () => {
    const engine = NativeEngine.open(instruments);
    const report = engine.openJournal({ dir, meta: "{}" });
    const resting = instruments.flatMap((_, i) => engine.restingOrders(i));
    engine.start();
    const dispatcher = new Dispatcher({ engine, firstOrderId: (report.maxOrderId ?? 0) + 1 });
    const accounts = new AccountRegistry({ dispatcher, known: report.accounts });
    const loop = new MarketLoop({ instruments, dispatcher, rate: 0, seed: 1 });
    await loop.defineAccounts(accounts);
    /** Stops the run; returns what rests in the books, as [id, account]. */
    const stop = async () => {
      await dispatcher.stop();
      engine.stop();
      const left = instruments.flatMap((_, i) => engine.restingOrders(i));
      engine.close();
      return left.map((o) => [o.id, o.account] as const);
    };
    return { dispatcher, accounts, loop, resting, stop };
  };
  const TRADER = 100;
  try {
    // First run: the market quotes; a trader rests a bid far from the market.
    const first = await start();
    first.loop.step(3_000);
    const defined = first.accounts.define(TRADER, "ALICE");
    first.dispatcher.settle();
    assert((await defined).ok);
    const traderOrder = first.dispatcher.allocateOrderId();
    first.dispatcher.submit({
      kind: CommandKind.PlaceOrder,
      id: traderOrder,
      account: TRADER,
      instrument: 0,
      side: Side.Buy,
      type: OrderType.Limit,
      tif: TimeInForce.Gtc,
      postOnly: false,
      price: instruments[0]!.tickSize,
      qty: 1,
    }, { source: "gateway" });
    first.dispatcher.settle();
    const left = (await first.stop()).filter(([, account]) => account !== TRADER);
    assert(left.length > 50, `the market should leave quotes resting, left ${left.length}`);

    // Restart: the journal brings them back; the market cancels its own, and only those.
    const second = await start();
    assert.deepStrictEqual(second.resting.length, left.length + 1);
    assert.deepStrictEqual(
      second.loop.cancelLeftovers(second.resting, second.accounts),
      left.length,
    );
    second.loop.step(3_000);
    const now = await second.stop();
    const old = new Set(left.map(([id]) => id));
    assert.deepStrictEqual(now.filter(([id]) => old.has(id)), []);
    assert(now.some(([id]) => id === traderOrder), "the trader's order still rests");

    // A third start finds only the second run's quotes (and the trader's): nothing piles up.
    const third = await start();
    assert.deepStrictEqual(third.resting.length, now.length);
    assert.deepStrictEqual(
      third.loop.cancelLeftovers(third.resting, third.accounts),
      now.length - 1,
    );
    await third.stop();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
