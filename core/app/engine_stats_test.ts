import assert from "node:assert";
import { CommandKind, loadInstruments, OrderType, Side, TimeInForce } from "../matching/mod.ts";
import { NativeEngine } from "../native/mod.ts";
import { Dispatcher } from "./dispatcher.ts";
import { EngineStats } from "./engine_stats.ts";
import { MarketLoop } from "./market_loop.ts";

Deno.test("EngineStats counts a trader's orders beside the synthetic market's, with their trades and volume", async () => {
  const instruments = loadInstruments();
  const engine = NativeEngine.open(instruments);
  engine.start();
  const dispatcher = new Dispatcher({ engine });
  const stats = new EngineStats(dispatcher, instruments);
  const loop = new MarketLoop({ instruments, dispatcher, rate: 0, seed: 1 });
  try {
    loop.step(2_000);
    const before = { ...stats.totals, volume: stats.totals.perInstrument[0]!.volume };
    assert.deepStrictEqual(before.commands, loop.stats.commands);
    assert.deepStrictEqual(before.events, loop.stats.events);
    assert.deepStrictEqual(before.trades, loop.stats.trades);
    // A trader's market buy of 5 on instrument 0 takes the makers' offers.
    const trader = { source: "gateway" };
    dispatcher.submit({
      kind: CommandKind.PlaceOrder,
      id: dispatcher.allocateOrderId(),
      account: 100,
      instrument: 0,
      side: Side.Buy,
      type: OrderType.Market,
      tif: TimeInForce.Ioc,
      postOnly: false,
      price: 0,
      qty: 5,
    }, trader);
    dispatcher.settle();
    const after = stats.totals;
    assert.deepStrictEqual(after.commands, before.commands + 1);
    assert.deepStrictEqual([...after.bySource], [["synthetic", 2_000], ["gateway", 1]]);
    assert(after.trades > before.trades, "the trader's order traded");
    assert.deepStrictEqual(after.perInstrument[0]!.volume, before.volume + 5);
    // The market loop's own counters never saw it.
    assert.deepStrictEqual(loop.stats.commands, 2_000);
    assert.deepStrictEqual(loop.stats.trades, before.trades);
  } finally {
    stats.close();
    await dispatcher.stop();
    engine.close();
  }
});
