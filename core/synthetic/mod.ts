/**
 * Synthetic order flow: a seeded PRNG, a multi-instrument synthetic market
 * that generates realistic flow so everything runs with no network, and the
 * single-symbol stream that `deno task bench` measures every matcher with.
 *
 * @example Run the synthetic market against the reference matcher
 * ```ts
 * import { SyntheticMarket } from "./mod.ts";
 * import { loadInstruments, ReferenceMatcher } from "../matching/mod.ts";
 *
 * const instruments = loadInstruments();
 * const market = new SyntheticMarket({ instruments, seed: 1 });
 * const matcher = new ReferenceMatcher(instruments);
 * for (let i = 0; i < 1_000; i++) market.observe(matcher.apply(market.next()));
 * matcher.close();
 * ```
 *
 * @example Make and describe the benchmark stream
 * ```ts
 * import { benchFlow, describeFlow } from "./mod.ts";
 *
 * const flow = describeFlow(benchFlow({ seed: 1, count: 10_000, depth: 100 }));
 * console.log(flow.mix, flow.book);
 * ```
 *
 * @module
 */

export * from "./rng.ts";
export * from "./market.ts";
export * from "./bench_flow.ts";
