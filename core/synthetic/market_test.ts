import {
  type Command,
  CommandKind,
  type EngineEvent,
  EventKind,
  loadInstruments,
  OrderType,
  ReferenceMatcher,
  TimeInForce,
} from "../matching/mod.ts";
import { SyntheticMarket, type SyntheticMarketOptions } from "./market.ts";
import assert from "node:assert";
import { assertBetween } from "../_testing/between.ts";

const instruments = loadInstruments();

interface Run {
  readonly commands: Command[];
  readonly events: EngineEvent[][];
  readonly market: SyntheticMarket;
  readonly matcher: ReferenceMatcher;
}

/** Runs the market closed-loop against the reference matcher. */
function run(n: number, options: Partial<SyntheticMarketOptions> = {}): Run {
  const market = new SyntheticMarket({ instruments, seed: 1, ...options });
  const matcher = new ReferenceMatcher(instruments);
  const commands: Command[] = [];
  const events: EngineEvent[][] = [];
  for (let i = 0; i < n; i++) {
    const command = market.next();
    const result = matcher.apply(command);
    market.observe(result);
    commands.push(command);
    events.push(result);
  }
  return { commands, events, market, matcher };
}

// One long run shared by the tests that only read it: 50k commands through
// the reference matcher take well under a second, but there is no need to
// pay for it six times.
const long = run(50_000);

Deno.test("SyntheticMarket gives the same commands for the same seed", () => {
  const a = run(5_000, { seed: 99 }).commands;
  const b = run(5_000, { seed: 99 }).commands;
  assert.deepStrictEqual(a, b);
});

Deno.test("SyntheticMarket gives different commands for different seeds", () => {
  const a = run(200, { seed: 1 }).commands;
  const b = run(200, { seed: 2 }).commands;
  assert(JSON.stringify(a) !== JSON.stringify(b), "seeds 1 and 2 gave the same stream");
});

Deno.test("SyntheticMarket without observe() is deterministic too", () => {
  const a = new SyntheticMarket({ instruments, seed: 4 }).take(2_000);
  const b = new SyntheticMarket({ instruments, seed: 4 }).take(2_000);
  assert.deepStrictEqual(a, b);
});

Deno.test("SyntheticMarket numbers place-orders strictly upwards from firstId", () => {
  const { commands } = run(5_000, { firstId: 1_000_000 });
  let last = 999_999;
  const placed = new Set<number>();
  for (const c of commands) {
    if (c.kind === CommandKind.PlaceOrder) {
      assert(c.id > last, `id ${c.id} after ${last}`);
      last = c.id;
      placed.add(c.id);
    } else {
      assert(placed.has(c.id), `cancel/replace of id ${c.id} that was never placed`);
    }
  }
  assert.deepStrictEqual(commands.find((c) => c.kind === CommandKind.PlaceOrder)?.id, 1_000_000);
});

Deno.test("SyntheticMarket takes place-order ids from the nextId allocator when given one", () => {
  let next = 500;
  const handedOut: number[] = [];
  const allocate = () => {
    next += 3; // another source took the ids in between
    handedOut.push(next);
    return next;
  };
  const { commands } = run(2_000, { firstId: 7, nextId: allocate });
  const placed = commands.filter((c) => c.kind === CommandKind.PlaceOrder).map((c) => c.id);
  assert.deepStrictEqual(placed, handedOut);
  const ids = new Set(placed);
  for (const c of commands) {
    if (c.kind !== CommandKind.PlaceOrder) assert(ids.has(c.id), `unplaced id ${c.id}`);
  }
});

Deno.test("SyntheticMarket trades on every instrument in 50k commands", () => {
  const trades = new Array<number>(instruments.length).fill(0);
  for (const event of long.events.flat()) {
    if (event.kind === EventKind.OrderTraded) trades[event.instrument]!++;
  }
  trades.forEach((n, i) => assert(n > 100, `${instruments[i]!.symbol} traded only ${n} times`));
});

Deno.test("SyntheticMarket produces no unknown_symbol or invalid_* rejects", () => {
  const rejects: Record<string, number> = {};
  for (const event of long.events.flat()) {
    if (event.kind === EventKind.OrderRejected) {
      rejects[event.reason] = (rejects[event.reason] ?? 0) + 1;
    }
  }
  for (const reason of ["unknown_symbol", "invalid_qty", "invalid_price", "invalid_order"]) {
    assert.deepStrictEqual(rejects[reason] ?? 0, 0, reason);
  }
  // would_cross is allowed but should stay rare; duplicate_id never happens.
  assert.deepStrictEqual(rejects["duplicate_id"] ?? 0, 0, "duplicate_id");
  assertBetween(rejects["would_cross"] ?? 0, 0, 500, "would_cross rejects");
});

Deno.test("SyntheticMarket cancels and replaces mostly hit live orders", () => {
  let cancels = 0, cancelMisses = 0, replaces = 0, replaceMisses = 0;
  long.commands.forEach((c, i) => {
    const ack = long.events[i]![0]!;
    const missed = ack.kind === EventKind.OrderRejected;
    if (c.kind === CommandKind.CancelOrder) {
      cancels++;
      if (missed) cancelMisses++;
    } else if (c.kind === CommandKind.ReplaceOrder) {
      replaces++;
      if (missed) replaceMisses++;
    }
  });
  assert(cancels > 2_000, `only ${cancels} cancels`);
  assert(replaces > 2_000, `only ${replaces} replaces`);
  assertBetween(cancelMisses / cancels, 0, 0.1, "share of cancels rejected");
  assertBetween(replaceMisses / replaces, 0, 0.1, "share of replaces rejected");
});

Deno.test("SyntheticMarket's view of live orders matches the matcher's books", () => {
  let resting = 0;
  instruments.forEach((_, i) => {
    const book = long.matcher.snapshot(i);
    for (const level of [...book.bids, ...book.asks]) resting += level.orders.length;
  });
  assert.deepStrictEqual(long.market.liveOrders(), resting);
  assert(resting > 100, `only ${resting} orders rest`);
});

Deno.test("SyntheticMarket sends every kind of order, each well-formed", () => {
  const seen = new Set<string>();
  for (const c of long.commands) {
    if (c.kind !== CommandKind.PlaceOrder) {
      seen.add(c.kind === CommandKind.CancelOrder ? "cancel" : "replace");
      continue;
    }
    const tick = instruments[c.instrument]!.tickSize;
    assert(Number.isSafeInteger(c.qty) && c.qty > 0, `qty ${c.qty}`);
    if (c.type === OrderType.Market) {
      assert.deepStrictEqual(c.price, 0, "market price");
      seen.add("market");
    } else {
      assert(c.price > 0 && c.price % tick === 0, `price ${c.price} on tick ${tick}`);
      const tif = ["gtc", "ioc", "fok"][c.tif]!;
      seen.add(c.postOnly ? `post-only ${tif}` : `limit ${tif}`);
      if (c.postOnly) assert.deepStrictEqual(c.tif, TimeInForce.Gtc, "post-only tif");
    }
  }
  assert.deepStrictEqual([...seen].sort(), [
    "cancel",
    "limit fok",
    "limit gtc",
    "limit ioc",
    "market",
    "post-only gtc",
    "replace",
  ]);
});

Deno.test("SyntheticMarket keeps fair value above its floor on a falling market", () => {
  const cheap = [{ ...instruments[0]!, referencePrice: 10 }];
  const market = new SyntheticMarket({ instruments: cheap, seed: 5, driftTicks: -0.5 });
  const matcher = new ReferenceMatcher(cheap);
  for (let i = 0; i < 5_000; i++) {
    const events = matcher.apply(market.next());
    for (const e of events) {
      assert(e.kind !== EventKind.OrderRejected || e.reason === "would_cross", JSON.stringify(e));
    }
    market.observe(events);
    assert(market.fairValue(0) >= 5, `fair value ${market.fairValue(0)}`);
  }
});

Deno.test("SyntheticMarket trades only the instruments it is told to", () => {
  const { commands } = run(2_000, { trade: [2, 9] });
  const traded = new Set(
    commands.flatMap((c) => (c.kind === CommandKind.PlaceOrder ? [c.instrument] : [])),
  );
  assert.deepStrictEqual([...traded].sort((a, b) => a - b), [2, 9]);
});

Deno.test("SyntheticMarket names accounts by role, account number = index", () => {
  const market = new SyntheticMarket({
    instruments,
    seed: 1,
    accounts: { makers: 2, takers: 1, investors: 2 },
  });
  assert.deepStrictEqual(market.accountNames(), ["MM1", "MM2", "TK1", "IN1", "IN2"]);
  assert.deepStrictEqual([0, 2, 4].map((a) => market.roleOf(a)), ["maker", "taker", "investor"]);
  const accounts = new Set(
    market.take(2_000).flatMap((c) => (c.kind === CommandKind.PlaceOrder ? [c.account] : [])),
  );
  assert.deepStrictEqual([...accounts].sort(), [0, 1, 2, 3, 4]);
});

Deno.test("SyntheticMarket refuses impossible options", () => {
  assert.throws(() => new SyntheticMarket({ instruments: [], seed: 1 }), RangeError);
  assert.throws(() => new SyntheticMarket({ instruments, seed: 1, firstId: -1 }), RangeError);
  assert.throws(() => new SyntheticMarket({ instruments, seed: 1, trade: [10] }), RangeError);
  assert.throws(
    () => new SyntheticMarket({ instruments, seed: 1, accounts: { makers: 0 } }),
    RangeError,
  );
  assert.throws(() => new SyntheticMarket({ instruments, seed: 1 }).take(-1), RangeError);
});
