/**
 * Snapshots for the ui's tests, and a writer that puts them in a Deno KV
 * the way the core's snapshotter does (`schemas/quotes.ts`: the changed
 * snapshots and the version key in one atomic write, each snapshot carrying
 * the version it was written with). Private to `ui/`.
 *
 * @module
 */

import type { QuoteSnapshot, SymbolInfo, SymbolList } from "../../schemas/quotes.ts";
import {
  makeSnapshot as makeSharedSnapshot,
  T0,
  writeSnapshots as writeShared,
} from "../../schemas/_quotes_testing.ts";

export { T0 };

/**
 * A valid snapshot of `symbol` with a trade, both sides and day statistics
 * (written at version 1 unless `patch` says otherwise); `patch` overrides
 * any field.
 *
 * @param symbol The symbol.
 * @param patch Fields to override.
 * @returns The snapshot.
 *
 * @example
 * ```ts
 * import { makeSnapshot } from "./fixtures.ts";
 * if (makeSnapshot("AAPL", { change: null }).change !== null) throw new Error("patch lost");
 * ```
 */
export function makeSnapshot(symbol: string, patch: Partial<QuoteSnapshot> = {}): QuoteSnapshot {
  return makeSharedSnapshot(symbol, { version: 1, ...patch });
}

/**
 * An E-mini S&P 500 future: ticks of 0.25 with two decimals, so that every
 * price ends in .00, .25, .50 or .75 and must print with both decimals.
 *
 * @param patch Fields to override.
 * @returns The snapshot.
 */
export function esFutSnapshot(patch: Partial<QuoteSnapshot> = {}): QuoteSnapshot {
  return makeSnapshot("ES-FUT", {
    name: "E-mini S&P 500 Future",
    lastTrade: { price: 5432.5, size: 2, time: T0 - 100 },
    bid: { price: 5432.25, size: 14 },
    ask: { price: 5432.75, size: 9 },
    day: {
      open: 5440,
      high: 5441.25,
      low: 5428.75,
      close: 5432.5,
      volume: 18_250,
      vwap: 5434.5,
      trades: 4_100,
    },
    prevClose: 5434.25,
    change: -1.75,
    changePercent: -0.0322,
    ...patch,
  });
}

/**
 * The instrument list entry of a snapshot.
 *
 * @param s The snapshot.
 * @returns Its entry.
 */
export function symbolInfo(s: QuoteSnapshot): SymbolInfo {
  return {
    symbol: s.symbol,
    name: s.name,
    priceDecimals: s.priceDecimals,
    tickSize: s.symbol === "ES-FUT" ? 0.25 : 0.01,
    lotSize: 1,
  };
}

/**
 * Writes snapshots (and, when given, the instrument list) and bumps the
 * version, in one atomic operation, as the snapshotter does.
 *
 * @param kv The KV.
 * @param snapshots The snapshots; each is stored with the new version.
 * @param symbols The instrument list to store with them.
 * @returns The new version.
 * @throws {Error} When the write keeps conflicting with another writer.
 *
 * @example
 * ```ts
 * import { makeSnapshot, writeSnapshots } from "./fixtures.ts";
 * const kv = await Deno.openKv(":memory:");
 * if (await writeSnapshots(kv, [makeSnapshot("AAPL")]) !== 1) throw new Error("not version 1");
 * kv.close();
 * ```
 */
export function writeSnapshots(
  kv: Deno.Kv,
  snapshots: readonly QuoteSnapshot[],
  symbols?: readonly SymbolInfo[],
): Promise<number> {
  return writeShared(kv, {
    snapshots,
    ...(symbols === undefined ? {} : { symbols: { format: 1, symbols } satisfies SymbolList }),
  });
}
