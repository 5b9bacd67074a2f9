/**
 * Writes quote snapshots to a Deno KV the way the core's snapshotter does
 * (`schemas/quotes.ts`): every write sets the changed snapshots and the
 * version key in one atomic operation, each snapshot carrying the version it
 * was written with. The edge's and the ui's tests use it to feed an in-memory
 * KV (or the KV file of an edge child process) with valid and invalid values.
 * Test code only.
 *
 * @module
 */

import {
  type Alive,
  QUOTE_KEYS,
  type QuoteSnapshot,
  type SymbolInfo,
  type SymbolList,
} from "./quotes.ts";

/** The time the test snapshots are made at (2025-11-24T16:00:00Z), unless told. */
export const T0 = 1_764_000_000_000;

/**
 * A valid snapshot of `symbol` with a trade, both sides and day statistics;
 * `patch` overrides any field.
 *
 * @param symbol The symbol.
 * @param patch Fields to override.
 * @returns The snapshot (its `version` is set again when written).
 *
 * @example
 * ```ts
 * import { makeSnapshot } from "./_quotes_testing.ts";
 * const s = makeSnapshot("AAPL", { prevClose: null });
 * if (s.symbol !== "AAPL" || s.prevClose !== null) throw new Error("patch lost");
 * ```
 */
export function makeSnapshot(symbol: string, patch: Partial<QuoteSnapshot> = {}): QuoteSnapshot {
  return {
    format: 1,
    symbol,
    name: `${symbol} Inc.`,
    priceDecimals: 2,
    lastTrade: { price: 101.25, size: 3, time: T0 - 100 },
    bid: { price: 101.2, size: 10 },
    ask: { price: 101.3, size: 7 },
    day: { open: 100, high: 102, low: 99.5, close: 101.25, volume: 1200, vwap: 100.9, trades: 88 },
    prevClose: 100,
    change: 1.25,
    changePercent: 1.25,
    week52: null,
    sequence: 1,
    updated: T0,
    version: 0,
    ...patch,
  };
}

/**
 * The instrument list entry of `symbol`, as the core writes it.
 *
 * @param symbol The symbol.
 * @returns Its entry.
 */
export function makeSymbolInfo(symbol: string): SymbolInfo {
  return {
    symbol,
    name: `${symbol} Inc.`,
    priceDecimals: 2,
    tickSize: 0.01,
    lotSize: 1,
    maxOrderQty: LARGEST_ORDER,
  };
}

/** The fixtures' largest order, in lots. */
const LARGEST_ORDER = 5_000;

/** One write: snapshots (or raw values, valid or not) and, optionally, the instrument list. */
export interface SnapshotWrite {
  /** Snapshots to write; each gets the write's version. */
  readonly snapshots?: readonly QuoteSnapshot[];
  /** Raw values by symbol, written as given (to plant invalid ones). */
  readonly raw?: Readonly<Record<string, unknown>>;
  /** The instrument list (or any raw value under its key). */
  readonly symbols?: SymbolList | unknown;
  /** Symbols whose snapshot is deleted. */
  readonly delete?: readonly string[];
  /** Also set the writer's `alive` mark, made at this time (ms). */
  readonly aliveAt?: number;
}

/**
 * Writes one atomic change and bumps the version, as the snapshotter does.
 *
 * @param kv The KV.
 * @param write What to write.
 * @returns The new version.
 * @throws {Error} When the write keeps conflicting with another writer.
 *
 * @example
 * ```ts
 * import { makeSnapshot, writeSnapshots } from "./_quotes_testing.ts";
 * const kv = await Deno.openKv(":memory:");
 * const v = await writeSnapshots(kv, { snapshots: [makeSnapshot("AAPL")] });
 * const stored = await kv.get<{ version: number }>(["quotes", "symbol", "AAPL"]);
 * if (v !== 1 || stored.value?.version !== 1) throw new Error("not versioned");
 * kv.close();
 * ```
 */
export async function writeSnapshots(kv: Deno.Kv, write: SnapshotWrite): Promise<number> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const current = await kv.get<bigint>(QUOTE_KEYS.version);
    const version = Number(current.value ?? 0n) + 1;
    const op = kv.atomic().check(current);
    for (const s of write.snapshots ?? []) op.set(QUOTE_KEYS.symbol(s.symbol), { ...s, version });
    for (const [symbol, value] of Object.entries(write.raw ?? {})) {
      op.set(QUOTE_KEYS.symbol(symbol), value);
    }
    for (const symbol of write.delete ?? []) op.delete(QUOTE_KEYS.symbol(symbol));
    if (write.symbols !== undefined) op.set(QUOTE_KEYS.symbols, write.symbols);
    if (write.aliveAt !== undefined) {
      op.set(QUOTE_KEYS.alive, { format: 1, at: write.aliveAt, version } satisfies Alive);
    }
    op.set(QUOTE_KEYS.version, BigInt(version));
    if ((await op.commit()).ok) return version;
  }
  throw new Error("Cannot write snapshots: the version kept changing under the write");
}

/**
 * Fills a KV with an instrument list and a snapshot of each symbol, in one write.
 *
 * @param kv The KV.
 * @param symbols The symbols.
 * @returns The version written.
 */
export function seedSnapshots(kv: Deno.Kv, symbols: readonly string[]): Promise<number> {
  return writeSnapshots(kv, {
    symbols: { format: 1, symbols: symbols.map(makeSymbolInfo) } satisfies SymbolList,
    snapshots: symbols.map((s) => makeSnapshot(s)),
  });
}

/**
 * Sets the writer's `alive` mark without moving the version, as the
 * snapshotter does when no quote changed.
 *
 * @param kv The KV.
 * @param at When (ms).
 * @param value Another value to store instead (to plant an invalid one).
 */
export async function markAlive(kv: Deno.Kv, at: number, value?: unknown): Promise<void> {
  const version = Number((await kv.get<bigint>(QUOTE_KEYS.version)).value ?? 0n);
  await kv.set(QUOTE_KEYS.alive, value ?? ({ format: 1, at, version } satisfies Alive));
}
