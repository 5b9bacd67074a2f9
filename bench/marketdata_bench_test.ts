import assert from "node:assert";
import { loadInstruments } from "../core/matching/instruments.ts";
import { ReferenceMatcher } from "../core/matching/reference_matcher.ts";
import { MarketData } from "../core/marketdata/mod.ts";
import { benchFlow } from "../core/synthetic/mod.ts";
import { marketDataResults, marketDataSubject, runMarketDataBench } from "./marketdata_bench.ts";
import { checkTargets, MARKET_DATA_TARGETS } from "./targets.ts";

const instruments = loadInstruments();
const commands = benchFlow({ seed: 3, count: 3_000, depth: 50, instruments });

Deno.test("runMarketDataBench() counts every frame of the channel once, with no drop and no resync", () => {
  // Small rings: frames wrap around them many times.
  const figures = runMarketDataBench({
    instruments,
    commands,
    instrument: 0,
    subscribers: [1, 3],
    batch: 7,
    repeat: 1,
    queueBytes: 64 * 1024,
  });
  // Every message of the channel is a delta, a trade or a quote: they add up to its sequence.
  const market = new MarketData({ instruments });
  const matcher = new ReferenceMatcher(instruments);
  for (const command of commands) market.apply(command, matcher.apply(command), 0n);
  assert.deepStrictEqual(
    BigInt(figures.deltas + figures.trades + figures.quotes),
    market.book(instruments[0]!.symbol)!.sequence,
  );
  assert(figures.deltas > 0 && figures.trades > 0 && figures.quotes > 0, "an empty stream");
  assert(figures.meanDeltaLevels >= 1, `${figures.meanDeltaLevels} levels per delta`);
  assert.deepStrictEqual(figures.runs.map((r) => [r.subscribers, r.dropped, r.resyncs]), [
    [1, 0, 0],
    [
      3,
      0,
      0,
    ],
  ]);
  for (const run of figures.runs) {
    assert(run.deltaFramesPerSecond > 0 && run.repetitions.length === 1, JSON.stringify(run));
    const deliveries = run.framesPerSecond * run.subscribers;
    assert(Math.abs(run.deliveriesPerSecond / deliveries - 1) < 1e-9, `${run.deliveriesPerSecond}`);
  }
});

Deno.test("the market data target names a run the bench makes by default", () => {
  const names = [1, 10, 100].map(marketDataSubject);
  for (const target of MARKET_DATA_TARGETS) assert(names.includes(target.subject), target.subject);
  const checks = checkTargets(
    marketDataResults({ runs: [{ subscribers: 10, deltaFramesPerSecond: 2e6 }] } as never),
    MARKET_DATA_TARGETS,
  );
  assert.deepStrictEqual(checks.map((c) => c.status), ["PASS"]);
});

Deno.test("runMarketDataBench() refuses a subscriber count below 1", () => {
  assert.throws(
    () => runMarketDataBench({ instruments, commands, instrument: 0, subscribers: [0] }),
    { name: "RangeError", message: /subscriber counts must be >= 1/ },
  );
});
