import { MarketLoop } from "./market_loop.ts";
import { Dispatcher } from "./dispatcher.ts";
import { NativeEngine } from "../native/mod.ts";
import { loadInstruments, ReferenceMatcher } from "../matching/mod.ts";
import { assert, assertEquals } from "../_testing/assert.ts";
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
  assertEquals(sent.length, 20_000);
  assertEquals(loop.stats.events, events);
  assertEquals(engine.stateHash(), reference.stateHash());
  assert(loop.stats.perInstrument.every((s) => s.trades > 0), "every instrument should trade");
  engine.close();
});
