import { riskControlPort } from "./risk_port.ts";
import { AccountRegistry } from "./accounts.ts";
import { Dispatcher } from "./dispatcher.ts";
import { NativeEngine } from "../native/mod.ts";
import {
  CommandKind,
  type EngineEvent,
  loadInstruments,
  OrderType,
  Side,
  TimeInForce,
} from "../matching/mod.ts";
import assert from "node:assert";

const instruments = loadInstruments();

Deno.test("riskControlPort: accounts, limits, overrides and kill switches reach the engine", async () => {
  const engine = NativeEngine.open(instruments);
  engine.start();
  const dispatcher = new Dispatcher({ engine });
  dispatcher.start();
  const answers = new Map<number, EngineEvent>();
  dispatcher.listen((command, events) => answers.set(command.id, events[0]!));
  const accounts = new AccountRegistry({ dispatcher });
  const port = riskControlPort(dispatcher, accounts);
  const buy = (account: number, instrument: number, qty: number) => {
    const id = dispatcher.allocateOrderId();
    dispatcher.submit({
      kind: CommandKind.PlaceOrder,
      id,
      account,
      instrument,
      side: Side.Buy,
      type: OrderType.Limit,
      tif: TimeInForce.Gtc,
      postOnly: false,
      price: instruments[instrument]!.referencePrice,
      qty,
    }, { source: "test" });
    dispatcher.settle();
    const answer = answers.get(id)!;
    return answer.kind === 2 ? answer.reason : "accepted";
  };
  try {
    const alice = await port.defineAccount("ALICE");
    assert.deepStrictEqual(await port.defineAccount("ALICE"), alice, "one number per name");
    await port.setLimit(alice, undefined, "maxOrderQty", 100);
    await port.setLimit(alice, 1, "maxOrderQty", 10);
    assert.deepStrictEqual([buy(alice, 0, 11), buy(alice, 1, 11), buy(alice, 1, 10)], [
      "accepted",
      "max_order_qty",
      "accepted",
    ]);
    await port.clearLimit(alice, 1, "maxOrderQty");
    assert.deepStrictEqual(buy(alice, 1, 11), "accepted");
    await port.setKillSwitch(alice, true);
    assert.deepStrictEqual(buy(alice, 0, 1), "kill_switch");
    await port.setKillSwitch(alice, false);
    await port.setKillSwitch("all", true);
    assert.deepStrictEqual(buy(alice, 0, 1), "kill_switch");
    // The engine refuses what it cannot hold, and the port says so.
    let refused = "";
    await port.setLimit(alice, 1, "ordersPerSecond", 5).catch((e: Error) => refused = e.message);
    assert.deepStrictEqual(
      refused,
      `Cannot set ordersPerSecond of account ${alice}: the engine refused (unknown_command)`,
    );
  } finally {
    await dispatcher.stop();
    engine.close();
  }
});
