/**
 * The edge's in-memory copy of the quote snapshots (`schemas/quotes.ts`),
 * kept fresh by polling the KV version key, so that no request ever waits on
 * KV.
 *
 * # How it reads
 *
 * Every poll (default every 50 ms) reads the version key, the instrument
 * list and the writer's `alive` mark in one `getMany` (one KV read,
 * ~100 µs). Only when the version key's
 * versionstamp moved does it `list` the snapshot keys (one range read for up
 * to 1,000 symbols) and parse the entries whose versionstamp changed; the
 * others are kept as they are. `kv.watch` would be simpler, but it does not
 * see writes made by another process on a local KV file.
 *
 * The version is read before the snapshots, so the cache holds at least
 * every snapshot written up to {@linkcode SnapshotCache.version} (some may be
 * newer). The event stream relies on that for `Last-Event-ID`.
 *
 * # Invariants
 *
 * - A value that {@linkcode parseQuoteSnapshot} refuses (or whose symbol is
 *   not its key's) is never served: it is counted once per versionstamp and
 *   the last good snapshot of that symbol is kept.
 * - A failed poll changes nothing; the next one tries again.
 *
 * # Known limitations
 *
 * The contract names no changed-symbols index, so a version move reads
 * every snapshot key (parsing only the changed ones): ~5 ms for 1,200
 * symbols on this machine, ~0.2 ms for a few dozen.
 *
 * @module
 */

import {
  type Alive,
  type EngineState,
  parseAlive,
  parseQuoteSnapshot,
  parseSymbolList,
  QUOTE_KEYS,
  type QuoteSnapshot,
  type SymbolInfo,
} from "../schemas/quotes.ts";
import { SYMBOL_PATTERN } from "../schemas/vocabulary/names.ts";

/** The default {@linkcode SnapshotCacheOptions.pollIntervalMs}. */
export const DEFAULT_POLL_INTERVAL_MS = 50;

/** Options of {@linkcode SnapshotCache}. */
export interface SnapshotCacheOptions {
  /** The KV the core writes snapshots to. */
  readonly kv: Deno.Kv;
  /** How often to read the version key (default 50 ms). */
  readonly pollIntervalMs?: number;
  /** Where failed polls and throwing listeners are reported (default `console.error`). */
  readonly onError?: (message: string, error: unknown) => void;
}

/** Counters of a {@linkcode SnapshotCache}, for metrics. */
export interface SnapshotCacheStats {
  /** Polls that read KV successfully. */
  polls: number;
  /** Polls that failed. */
  pollErrors: number;
  /** Polls that found the version moved and read the snapshots. */
  reads: number;
  /** Invalid values seen, each once per versionstamp, by key. */
  readonly invalid: { quote: number; symbols: number; version: number; alive: number };
}

/**
 * Called after a refresh with the snapshots that changed (in version order)
 * and the cache's new version.
 */
export type SnapshotListener = (changed: readonly QuoteSnapshot[], version: number) => void;

interface Entry {
  /** The versionstamp of the value last read under this key (good or not). */
  stamp: string;
  /** The last good snapshot. */
  snapshot: QuoteSnapshot | undefined;
}

const LIST_BATCH = 1000; // Deno KV's maximum: one consistent range read up to 1,000 symbols.

/**
 * Holds every symbol's latest valid snapshot in memory.
 *
 * @example
 * ```ts
 * import { SnapshotCache } from "./snapshot_cache.ts";
 * import { makeSnapshot, writeSnapshots } from "./_testing/kv.ts";
 * const kv = await Deno.openKv(":memory:");
 * const cache = new SnapshotCache({ kv });
 * await writeSnapshots(kv, { snapshots: [makeSnapshot("AAPL")] });
 * await cache.refresh();
 * if (cache.get("AAPL")?.version !== 1) throw new Error("not loaded");
 * await cache.close();
 * kv.close();
 * ```
 */
export class SnapshotCache {
  readonly #kv: Deno.Kv;
  readonly #pollIntervalMs: number;
  readonly #onError: (message: string, error: unknown) => void;
  readonly #entries = new Map<string, Entry>();
  readonly #listeners = new Set<SnapshotListener>();
  readonly #closeListeners = new Set<() => void>();
  #versionStamp: string | null = null;
  #symbolsStamp: string | null = null;
  #aliveStamp: string | null = null;
  #alive: Alive | undefined;
  #version = 0;
  #symbols: readonly SymbolInfo[] = [];
  #all: readonly QuoteSnapshot[] = [];
  #newest: number | undefined;
  #loaded = false;
  #closed = false;
  #failing = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #inflight: Promise<boolean> | undefined;
  /** Counters, for metrics. */
  readonly stats: SnapshotCacheStats = {
    polls: 0,
    pollErrors: 0,
    reads: 0,
    invalid: { quote: 0, symbols: 0, version: 0, alive: 0 },
  };

  /**
   * Makes the cache; nothing is read until {@linkcode refresh} or {@linkcode start}.
   *
   * @param options The KV, the poll interval and the error reporter.
   * @throws {RangeError} When the poll interval is not a positive number.
   */
  constructor(options: SnapshotCacheOptions) {
    this.#kv = options.kv;
    this.#pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    if (!(this.#pollIntervalMs > 0)) {
      throw new RangeError(
        `Cannot make the snapshot cache: pollIntervalMs must be positive, not ${this.#pollIntervalMs}`,
      );
    }
    this.#onError = options.onError ?? ((message, error) => console.error(message, error));
  }

  /** Whether a poll has succeeded yet (before that, the cache knows nothing). */
  get loaded(): boolean {
    return this.#loaded;
  }

  /** The KV version the cache reflects at least (0 before the core's first write). */
  get version(): number {
    return this.#version;
  }

  /** The instrument list, in engine order (empty until the core writes one). */
  get symbols(): readonly SymbolInfo[] {
    return this.#symbols;
  }

  /** The versionstamp of the instrument list read last, or null without one. */
  get symbolsStamp(): string | null {
    return this.#symbolsStamp;
  }

  /** The newest snapshot's `updated` time (ms), or undefined with none. */
  get newestUpdate(): number | undefined {
    return this.#newest;
  }

  /**
   * When the writer last said it is alive (ms; the `alive` key), or
   * undefined when it has not (an older core writes no such key).
   */
  get aliveAt(): number | undefined {
    return this.#alive?.at;
  }

  /**
   * The core's matching engine as its last `alive` mark tells (running, or
   * halted with the cause's code), or undefined when the core does not say
   * (an older core, or no mark yet).
   */
  get engine(): EngineState | undefined {
    return this.#alive?.engine;
  }

  /**
   * The writer's last sign of life (ms): its newest snapshot's `updated` or
   * its `alive` mark, whichever is later; undefined with neither. A quiet
   * market moves no snapshot, but the writer still marks itself alive.
   */
  get lastSignOfLife(): number | undefined {
    const newest = this.#newest;
    const alive = this.#alive?.at;
    if (newest === undefined) return alive;
    return alive === undefined ? newest : Math.max(newest, alive);
  }

  /**
   * Every snapshot: the listed instruments in engine order, then any other
   * symbol alphabetically. The same array until something changes.
   *
   * @returns The snapshots.
   */
  all(): readonly QuoteSnapshot[] {
    return this.#all;
  }

  /**
   * One symbol's latest valid snapshot.
   *
   * @param symbol The symbol.
   * @returns Its snapshot, or undefined when there is none.
   */
  get(symbol: string): QuoteSnapshot | undefined {
    return this.#entries.get(symbol)?.snapshot;
  }

  /**
   * Calls `listener` after every refresh that changed snapshots, and
   * `onClose` when the cache closes.
   *
   * @param listener Gets the changed snapshots and the new version.
   * @param onClose Called once when the cache closes.
   * @returns A function that unsubscribes.
   */
  subscribe(listener: SnapshotListener, onClose?: () => void): () => void {
    this.#listeners.add(listener);
    if (onClose !== undefined) this.#closeListeners.add(onClose);
    return () => {
      this.#listeners.delete(listener);
      if (onClose !== undefined) this.#closeListeners.delete(onClose);
    };
  }

  /**
   * Starts polling: a poll now, then one every interval after the previous
   * one ends (polls never overlap). Failures are counted and reported once
   * per run of failures; polling goes on.
   */
  start(): void {
    if (this.#timer !== undefined || this.#closed) return;
    const tick = async () => {
      const started = performance.now();
      try {
        await this.refresh();
        this.#failing = false;
      } catch (error) {
        if (!this.#failing) this.#onError("snapshot cache: cannot read KV (will retry)", error);
        this.#failing = true;
      }
      if (this.#closed) return;
      const wait = Math.max(0, this.#pollIntervalMs - (performance.now() - started));
      this.#timer = setTimeout(tick, wait);
    };
    this.#timer = setTimeout(tick, 0);
  }

  /**
   * Polls once: reads the version key and, when it moved, the snapshots.
   * Concurrent calls share one poll.
   *
   * @returns Whether any snapshot or the instrument list changed.
   * @throws {Error} Whatever KV throws (the cache is left as it was).
   */
  refresh(): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    this.#inflight ??= this.#poll().finally(() => this.#inflight = undefined);
    return this.#inflight;
  }

  /**
   * Stops polling, waits for a poll in flight, and tells subscribers (event
   * streams end). The KV is the caller's to close.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#inflight?.catch(() => {});
    for (const onClose of [...this.#closeListeners]) onClose();
    this.#listeners.clear();
    this.#closeListeners.clear();
  }

  async #poll(): Promise<boolean> {
    let versionEntry, symbolsEntry, aliveEntry;
    try {
      [versionEntry, symbolsEntry, aliveEntry] = await this.#kv.getMany<
        [unknown, unknown, unknown]
      >([QUOTE_KEYS.version, QUOTE_KEYS.symbols, QUOTE_KEYS.alive]);
    } catch (error) {
      this.stats.pollErrors++;
      throw error;
    }
    // The alive mark moves without the version (a quiet market): read it on
    // every poll. It changes nothing a request is answered from.
    if (aliveEntry.versionstamp !== this.#aliveStamp && !this.#closed) {
      this.#aliveStamp = aliveEntry.versionstamp;
      if (aliveEntry.versionstamp === null) this.#alive = undefined;
      else {
        const parsed = parseAlive(aliveEntry.value);
        if (parsed.ok) this.#alive = parsed.alive;
        else this.stats.invalid.alive++;
      }
    }
    if (this.#loaded && versionEntry.versionstamp === this.#versionStamp) {
      this.stats.polls++;
      return false;
    }
    // The version moved (or this is the first poll): read every snapshot key.
    const listed: Deno.KvEntry<unknown>[] = [];
    try {
      for await (
        const entry of this.#kv.list({ prefix: ["quotes", "symbol"] }, { batchSize: LIST_BATCH })
      ) listed.push(entry);
    } catch (error) {
      this.stats.pollErrors++;
      throw error;
    }
    if (this.#closed) return false;
    this.stats.polls++;
    this.stats.reads++;

    if (versionEntry.versionstamp !== null) {
      const version = versionNumber(versionEntry.value);
      if (version === undefined) this.stats.invalid.version++;
      else this.#version = version;
    }
    this.#versionStamp = versionEntry.versionstamp;

    let listChanged = false;
    if (symbolsEntry.versionstamp !== this.#symbolsStamp) {
      this.#symbolsStamp = symbolsEntry.versionstamp;
      if (symbolsEntry.versionstamp === null) {
        this.#symbols = [];
        listChanged = true;
      } else {
        const parsed = parseSymbolList(symbolsEntry.value);
        if (parsed.ok) {
          this.#symbols = parsed.list.symbols;
          listChanged = true;
        } else this.stats.invalid.symbols++;
      }
    }

    const changed: QuoteSnapshot[] = [];
    const seen = new Set<string>();
    for (const { key, value, versionstamp } of listed) {
      const symbol = key[2];
      if (typeof symbol !== "string" || key.length !== 3 || !SYMBOL_PATTERN.test(symbol)) {
        // Not a key the contract defines: never served, so nothing to keep.
        continue;
      }
      seen.add(symbol);
      const entry = this.#entries.get(symbol);
      if (entry?.stamp === versionstamp) continue;
      const parsed = parseQuoteSnapshot(value);
      if (!parsed.ok || parsed.snapshot.symbol !== symbol) {
        this.stats.invalid.quote++;
        if (entry === undefined) {
          this.#entries.set(symbol, { stamp: versionstamp, snapshot: undefined });
        } else entry.stamp = versionstamp;
        continue;
      }
      this.#entries.set(symbol, { stamp: versionstamp, snapshot: parsed.snapshot });
      changed.push(parsed.snapshot);
    }
    let removed = false;
    for (const symbol of this.#entries.keys()) {
      if (!seen.has(symbol)) {
        removed ||= this.#entries.get(symbol)?.snapshot !== undefined;
        this.#entries.delete(symbol);
      }
    }

    const wasLoaded = this.#loaded;
    this.#loaded = true;
    if (changed.length === 0 && !removed && !listChanged && wasLoaded) return false;
    this.#rebuild();
    if (changed.length > 0) {
      changed.sort((a, b) => a.version - b.version);
      for (const listener of [...this.#listeners]) {
        try {
          listener(changed, this.#version);
        } catch (error) {
          this.#onError("snapshot cache: a listener threw", error);
        }
      }
    }
    return true;
  }

  #rebuild(): void {
    const all: QuoteSnapshot[] = [];
    const listed = new Set<string>();
    for (const { symbol } of this.#symbols) {
      const s = this.#entries.get(symbol)?.snapshot;
      if (s !== undefined && !listed.has(symbol)) all.push(s);
      listed.add(symbol);
    }
    const rest: QuoteSnapshot[] = [];
    for (const [symbol, { snapshot }] of this.#entries) {
      if (snapshot !== undefined && !listed.has(symbol)) rest.push(snapshot);
    }
    rest.sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
    all.push(...rest);
    this.#all = all;
    let newest: number | undefined;
    for (const s of all) if (newest === undefined || s.updated > newest) newest = s.updated;
    this.#newest = newest;
  }
}

/**
 * The version key's value as a number. The contract says `bigint`; a
 * `Deno.KvU64` is accepted too, since a writer that bumps the version with
 * `atomic().sum()` stores one.
 */
function versionNumber(value: unknown): number | undefined {
  if (value instanceof Deno.KvU64) value = value.value;
  if (typeof value === "bigint") {
    return value >= 0n && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : undefined;
  }
  return Number.isSafeInteger(value) && (value as number) >= 0 ? value as number : undefined;
}
