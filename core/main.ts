/**
 * `deno task start`: the colocated core. It starts the native engine on its
 * pinned thread, drives it with the synthetic market, and prints what it
 * does. Configuration is in `app/config.ts` (environment variables).
 *
 * @module
 */

import { readConfig } from "./app/config.ts";
import { MarketLoop } from "./app/market_loop.ts";
import { DEFAULT_INSTRUMENTS_URL, loadInstruments } from "./matching/mod.ts";
import {
  describePlacement,
  describeRecovery,
  journalMeta,
  NativeEngine,
  nativeLibrary,
  pinCurrentThread,
} from "./native/mod.ts";
import type { Instrument } from "./matching/types.ts";

const price = (units: number, instrument: Instrument) =>
  (units / instrument.priceScale).toFixed(Math.round(Math.log10(instrument.priceScale)));

function main(): void {
  const config = readConfig();
  const instruments = loadInstruments(config.instrumentsPath ?? DEFAULT_INSTRUMENTS_URL);
  const version = Deno.UnsafePointerView.getCString(nativeLibrary().native_version()!);
  console.log(`TradeCaptain core — ${version}, Deno ${Deno.version.deno}`);
  console.log(`instruments (${instruments.length}):`);
  for (const i of instruments) {
    console.log(
      `  ${i.symbol.padEnd(7)} ${i.name} — tick ${price(i.tickSize, i)}, lot ${i.lotSize}, ` +
        `reference ${price(i.referencePrice, i)}`,
    );
  }

  const engine = NativeEngine.open(instruments);
  let firstId = 1;
  const known = new Set<number>();
  if (config.journalDir === undefined) {
    console.log("journal: off (JOURNAL_DIR=none): nothing survives a restart");
  } else {
    Deno.mkdirSync(config.journalDir, { recursive: true });
    const report = engine.openJournal({
      dir: config.journalDir,
      meta: journalMeta(instruments),
      durability: config.durability,
      groupCommitDelayMs: config.groupCommitMs,
      snapshotEvery: config.snapshotEvery,
    });
    for (const line of describeRecovery(config.journalDir, config.durability, report)) {
      console.log(`journal: ${line}`);
    }
    console.log(`journal: state hash after recovery ${engine.stateHash()}`);
    firstId = (report.maxOrderId ?? 0) + 1;
    for (const [account] of report.accounts) known.add(account);
  }
  const placement = engine.start(config.engineCpu);
  for (const line of describePlacement(placement)) console.log(`engine: ${line}`);

  // Deno's own thread stays off the engine's CPU (where there is another).
  if (navigator.hardwareConcurrency > 1) {
    const cpu = placement.cpu === 0 ? 1 : 0;
    const refused = pinCurrentThread(cpu);
    console.log(
      refused
        ? `core: main thread not pinned (${refused})`
        : `core: main thread pinned to CPU ${cpu}`,
    );
  }

  const loop = new MarketLoop({
    instruments,
    engine,
    rate: config.syntheticRate,
    seed: config.syntheticSeed,
    firstId,
  });
  if (config.journalDir !== undefined) loop.defineAccounts(known);
  console.log(
    config.syntheticRate === 0
      ? "synthetic market: off (SYNTHETIC_RATE=0)"
      : `synthetic market: ${config.syntheticRate} commands/s, seed ${config.syntheticSeed}`,
  );
  console.log("listening: no network endpoint yet (the trader gateway and the edge come next)");
  loop.start();

  let previous = 0;
  const report = setInterval(() => {
    const s = loop.stats;
    const rate = ((s.commands - previous) * 1000) / config.statsIntervalMs;
    previous = s.commands;
    const tops = instruments
      .map((i, n) => ({ i, s: s.perInstrument[n]! }))
      .filter(({ s }) => s.lastPrice !== undefined)
      .map(({ i, s }) => `${i.symbol} ${price(s.lastPrice!, i)}×${s.volume}`)
      .join("  ");
    console.log(
      `${s.commands} commands (${rate.toFixed(0)}/s), ${s.events} events, ${s.trades} trades, ` +
        `${s.rejects} rejects | ${tops}`,
    );
  }, config.statsIntervalMs);

  let stopped = false;
  const shutdown = (why: string) => {
    if (stopped) return;
    stopped = true;
    loop.stop();
    clearInterval(report);
    engine.close();
    const s = loop.stats;
    console.log(`stopped (${why}): ${s.commands} commands, ${s.events} events, ${s.trades} trades`);
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", () => shutdown("SIGINT"));
  Deno.addSignalListener("SIGTERM", () => shutdown("SIGTERM"));
  if (config.runForMs > 0) {
    setTimeout(() => shutdown(`RUN_FOR_MS=${config.runForMs}`), config.runForMs);
  }
}

if (import.meta.main) {
  try {
    main();
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    Deno.exit(2);
  }
}
