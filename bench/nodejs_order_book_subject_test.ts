import {
  type Command,
  CommandKind,
  loadInstruments,
  OrderType,
  Side,
  TimeInForce,
} from "../core/matching/mod.ts";
import { benchFlow } from "../core/synthetic/mod.ts";
import { NodejsOrderBookSubject } from "./nodejs_order_book_subject.ts";
import assert from "node:assert";

const instruments = loadInstruments();

function order(id: number, overrides: Partial<Command> = {}): Command {
  return {
    kind: CommandKind.PlaceOrder,
    id,
    account: id % 3,
    instrument: 0,
    side: Side.Buy,
    type: OrderType.Limit,
    tif: TimeInForce.Gtc,
    postOnly: false,
    price: 100,
    qty: 5,
    ...overrides,
  } as Command;
}

Deno.test("NodejsOrderBookSubject replays the benchmark stream with nothing skipped", () => {
  const commands = benchFlow({ seed: 4, count: 20_000, depth: 100 });
  const subject = new NodejsOrderBookSubject(instruments);
  subject.prepare(commands);
  const result = subject.run(commands);
  assert.deepStrictEqual(result.skipped, 0);
  assert.deepStrictEqual(result.commands, commands.length);
  // At least one outcome per command, plus fills.
  assert(result.events > commands.length, `only ${result.events} outcomes`);
  subject.close();
});

Deno.test("NodejsOrderBookSubject skips only what the library cannot express", () => {
  const commands: Command[] = [
    order(1, { side: Side.Sell }),
    order(2, { type: OrderType.Market, price: 0, tif: TimeInForce.Fok }), // market FOK: skipped
    order(3, { instrument: 99 }), // unknown instrument: skipped
    order(4, { tif: TimeInForce.Ioc, price: 100, qty: 2 }), // IOC: fills against 1
    order(5, { postOnly: true, price: 90 }), // post-only rests
    { kind: CommandKind.ReplaceOrder, id: 5, price: 95, qty: 3 },
    { kind: CommandKind.CancelOrder, id: 5 },
    { kind: CommandKind.CancelOrder, id: 42 }, // never placed: the library misses it
  ];
  const subject = new NodejsOrderBookSubject(instruments, { latencyEvery: 1 });
  subject.prepare(commands);
  const result = subject.run(commands);
  assert.deepStrictEqual(result.skipped, 2);
  assert.deepStrictEqual(result.commands, 6);
  assert.deepStrictEqual(result.latenciesNs?.length, 6);
});

Deno.test("NodejsOrderBookSubject starts every prepared run from empty books", () => {
  const commands = [order(1, { side: Side.Sell }), order(2)];
  const subject = new NodejsOrderBookSubject(instruments);
  subject.prepare(commands);
  const first = subject.run(commands);
  subject.prepare(commands);
  const second = subject.run(commands);
  // With stale books the second buy would meet the first run's leftovers
  // or be refused as a duplicate id; either changes the outcome count.
  assert.deepStrictEqual(second.events, first.events);
});
