import {
  type Command,
  CommandKind,
  loadInstruments,
  OrderType,
  ReferenceMatcher,
} from "../matching/mod.ts";
import { BENCH_MIX, benchFlow, describeFlow } from "./bench_flow.ts";
import assert from "node:assert";
import { assertBetween } from "../_testing/between.ts";

const instruments = loadInstruments();
// One 100k stream shared by the tests that only read it (about 0.3 s to make).
const stream = benchFlow({ seed: 1, count: 100_000 });
const flow = describeFlow(stream);

Deno.test("benchFlow() gives the same commands for the same seed", () => {
  assert.deepStrictEqual(
    benchFlow({ seed: 5, count: 20_000 }),
    benchFlow({ seed: 5, count: 20_000 }),
  );
});

Deno.test("benchFlow() gives different commands for different seeds", () => {
  const a = benchFlow({ seed: 1, count: 500 });
  const b = benchFlow({ seed: 2, count: 500 });
  assert(JSON.stringify(a) !== JSON.stringify(b), "seeds 1 and 2 gave the same stream");
});

Deno.test("benchFlow() holds the mix within ±2% of its target on 100k commands", () => {
  for (const kind of ["limit", "cancel", "market", "replace"] as const) {
    assertBetween(flow.mix[kind], BENCH_MIX[kind] - 0.02, BENCH_MIX[kind] + 0.02, `${kind} share`);
  }
  // Counted independently of describeFlow, in case it miscounts.
  const markets = stream.filter((c) =>
    c.kind === CommandKind.PlaceOrder && c.type === OrderType.Market
  );
  assert.deepStrictEqual(markets.length, flow.counts.market);
  assert.deepStrictEqual(flow.counts.limit, flow.counts.limitGtc, "every limit is GTC");
});

Deno.test("benchFlow() keeps about 1000 price levels (±20%)", () => {
  const levels = flow.book.bidLevels + flow.book.askLevels;
  assertBetween(levels, 800, 1200, "levels at the end");
  assertBetween(flow.book.meanBidLevels + flow.book.meanAskLevels, 800, 1200, "mean levels");
  assertBetween(flow.book.bidLevels / flow.book.askLevels, 0.8, 1.25, "bid/ask balance");
});

Deno.test("benchFlow() depth follows the depth option", () => {
  const small = describeFlow(benchFlow({ seed: 1, count: 30_000, depth: 50 }));
  assertBetween(small.book.bidLevels + small.book.askLevels, 80, 120, "levels at depth 50");
});

Deno.test("describeFlow() of a benchFlow() stream matches an independent replay", () => {
  // A copy is not in describeFlow's cache, so this replays the stream; the
  // figures must equal those gathered while generating it.
  const replayed = describeFlow([...stream], instruments);
  assert.deepStrictEqual(replayed, flow);
  // And the book view behind both agrees with the matcher's own book.
  const matcher = new ReferenceMatcher(instruments);
  for (const c of stream) matcher.apply(c);
  const book = matcher.snapshot(0);
  assert.deepStrictEqual(
    [book.bids.length, book.asks.length],
    [flow.book.bidLevels, flow.book.askLevels],
  );
  const resting = [...book.bids, ...book.asks].reduce((n, level) => n + level.orders.length, 0);
  assert.deepStrictEqual(resting, flow.book.restingOrders);
  matcher.close();
});

Deno.test("benchFlow() cancels and replaces hit live orders and nothing is invalid", () => {
  const misses = flow.outcome.rejects["unknown_order"] ?? 0;
  assertBetween(misses / (flow.counts.cancel + flow.counts.replace), 0, 0.01, "misses");
  for (const reason of Object.keys(flow.outcome.rejects)) {
    assert.deepStrictEqual(
      reason,
      "unknown_order",
      "only early cancels of nothing may be rejected",
    );
  }
});

Deno.test("benchFlow() trades, and self-trade prevention fires only occasionally", () => {
  assert(flow.outcome.trades > 10_000, `only ${flow.outcome.trades} trades`);
  assertBetween(flow.outcome.selfTradeCancels / flow.commands, 0.001, 0.05, "self-trade share");
  assert(flow.accounts > 4, `only ${flow.accounts} accounts`);
});

Deno.test("benchFlow() trades one instrument, numbering ids from firstId", () => {
  const commands = benchFlow({ seed: 3, count: 5_000, instrument: 9, firstId: 500 });
  const placed: Command[] = commands.filter((c) => c.kind === CommandKind.PlaceOrder);
  assert.deepStrictEqual(placed[0]?.id, 500);
  placed.forEach((c, i) => assert.deepStrictEqual(c.id, 500 + i, "ids are consecutive"));
  for (const c of placed) {
    if (c.kind !== CommandKind.PlaceOrder) continue;
    assert.deepStrictEqual(c.instrument, 9);
    // ES-FUT has a 25-unit tick.
    if (c.type === OrderType.Limit) assert.deepStrictEqual(c.price % 25, 0, "price on tick");
  }
  const described = describeFlow(commands);
  assert.deepStrictEqual(described.instruments, [9]);
  assert(described.outcome.trades > 0, "no trades on ES-FUT");
});

Deno.test("benchFlow() stays on positive prices for an instrument cheaper than its depth", () => {
  const cheap = [{ ...instruments[0]!, referencePrice: 10 }];
  const commands = benchFlow({ seed: 1, count: 20_000, depth: 100, instruments: cheap });
  const flow = describeFlow([...commands], cheap);
  assert.deepStrictEqual(
    Object.keys(flow.outcome.rejects).filter((r) => r !== "unknown_order"),
    [],
  );
  assertBetween(flow.book.bidLevels + flow.book.askLevels, 160, 240, "levels");
});

Deno.test("benchFlow() makes a million commands in a few seconds", () => {
  const start = performance.now();
  const commands = benchFlow({ seed: 2, count: 1_000_000 });
  const seconds = (performance.now() - start) / 1_000;
  assert.deepStrictEqual(commands.length, 1_000_000);
  assertBetween(seconds, 0, 10, "seconds for 1M commands");
});

Deno.test("benchFlow() refuses impossible options", () => {
  assert.throws(() => benchFlow({ seed: 1, count: -1 }), RangeError);
  assert.throws(() => benchFlow({ seed: 1, count: 10, depth: 0 }), RangeError);
  assert.throws(() => benchFlow({ seed: 1, count: 10, instrument: 99 }), RangeError);
});
