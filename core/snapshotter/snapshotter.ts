/**
 * The snapshotter: writes the quote book's snapshots to Deno KV under the
 * keys of `schemas/quotes.ts`, at a set cadence, for the edge to serve.
 *
 * # Writes
 * At {@linkcode Snapshotter.start} it reads the version key, restores the
 * day statistics from the snapshots already stored (see
 * `QuoteBook.resume`), and writes the symbol list and every symbol's
 * snapshot. Then every `cadenceMs` it writes the snapshots of the symbols
 * that changed since the last write, and the version + 1, in one
 * `kv.atomic()` that checks the version key's versionstamp, with `alive`.
 * Nothing changed: only `alive`, once a second. {@linkcode Snapshotter.close} makes a last write.
 * `alive` carries the engine's state (see `EngineState` in
 * `schemas/quotes.ts`) when an `engine` source is given; a change of state
 * (a halt) sets `alive` at the next cadence, without waiting out the second.
 *
 * # Invariants
 * - **One writer.** The core is the only writer of these keys. Every write
 *   checks that the version key is as this snapshotter last left it; when the
 *   check fails, another process writes the same KV file: the snapshotter
 *   reports it and stops writing (the other process's snapshots stand)
 *   rather than interleave versions with it.
 * - **One write in flight.** A write that takes longer than the cadence
 *   delays the next one, which then carries everything that changed in
 *   between (changes coalesce into the newest state: a snapshot is made
 *   when written, never queued).
 * - **Never in the dispatcher's way.** Aggregation (`QuoteBook.apply`) is
 *   synchronous and cheap; making the snapshots happens on this timer, and
 *   the KV commit is awaited off the event loop's critical path.
 * - A write's snapshots carry the version it sets, so a reader that sees
 *   version `v` holds snapshots of versions ≤ `v`.
 *
 * # Errors
 * A commit that throws (KV I/O) leaves the symbols to be written again, is
 * reported once, and is retried at the next cadence; before retrying, the
 * version key is read back, since the failed commit may have landed.
 *
 * # Known limitations
 * - At most {@linkcode MAX_SNAPSHOT_SYMBOLS} symbols: one atomic write holds
 *   at most 1,000 mutations and 800 KiB, and one value 64 KiB (the symbol
 *   list). A larger table needs a sharded key space (a contract change).
 * - A quiet market moves no version: nothing but `alive` is written, at
 *   most every `ALIVE_EVERY_MS`, so readers can still tell it from a stopped
 *   core.
 *
 * @module
 */

import {
  type Alive,
  ALIVE_EVERY_MS,
  type EngineState,
  parseQuoteSnapshot,
  QUOTE_KEYS,
  QUOTES_FORMAT,
} from "../../schemas/quotes.ts";
import type { QuoteBook } from "./quote_book.ts";

/** How often the snapshotter writes unless told otherwise: every 100 ms. */
export const DEFAULT_SNAPSHOT_CADENCE_MS = 100;

/** The most symbols one snapshotter writes (see the known limitations). */
export const MAX_SNAPSHOT_SYMBOLS = 256;

/** Where the snapshotter reports. */
export interface SnapshotLogger {
  /** A write failed, or writing stopped. */
  error(message: string): void;
  /** Writing works again after failures. */
  info(message: string): void;
}

/** What the snapshotter needs of a KV store: a `Deno.Kv`. */
export type SnapshotStore = Pick<Deno.Kv, "get" | "getMany" | "atomic">;

/** Options of {@linkcode Snapshotter}. */
export interface SnapshotterOptions {
  /** The KV store (the core's `KV_PATH`). */
  readonly kv: SnapshotStore;
  /** The quote book, fed by the dispatcher. */
  readonly quotes: QuoteBook;
  /** Milliseconds between writes (default {@linkcode DEFAULT_SNAPSHOT_CADENCE_MS}). */
  readonly cadenceMs?: number;
  /** The clock, ms since the epoch (default `Date.now`). */
  readonly now?: () => number;
  /** Where failures are reported (default `console`). */
  readonly logger?: SnapshotLogger;
  /**
   * The engine's state, read at every write of `alive` (an `EngineWatch`'s
   * `state`); without it, `alive` carries no engine state.
   */
  readonly engine?: () => EngineState;
}

/** What {@linkcode Snapshotter.start} found and did. */
export interface StartReport {
  /** The version found in KV (0 when there was none). */
  readonly previousVersion: bigint;
  /** Symbols whose last trade and day statistics were restored from KV. */
  readonly resumed: number;
  /** The version after the first write (as previous when the write failed). */
  readonly version: bigint;
}

/** Counters since the snapshotter was made. */
export interface SnapshotterStats {
  /** The last version written (or found at start). */
  readonly version: bigint;
  /** Writes committed. */
  readonly writes: number;
  /** Symbol snapshots committed. */
  readonly snapshots: number;
  /** Writes that threw or failed their check. */
  readonly failures: number;
  /** Duration of the last committed write (making the snapshots and the commit), ms. */
  readonly lastWriteMs: number;
  /** The longest committed write, ms. */
  readonly maxWriteMs: number;
  /** Why writing stopped for good (another writer), or undefined while writing. */
  readonly halted: string | undefined;
}

const KEY_TEXT = JSON.stringify(QUOTE_KEYS.version);

const messageOf = (error: unknown) => error instanceof Error ? error.message : String(error);

/**
 * Writes quote snapshots to Deno KV at a cadence. See the module
 * documentation.
 *
 * @example
 * ```ts
 * import { QuoteBook, Snapshotter } from "./mod.ts";
 * import { loadInstruments } from "../matching/mod.ts";
 * import { QUOTE_KEYS } from "../../schemas/quotes.ts";
 * import assert from "node:assert";
 *
 * const kv = await Deno.openKv(":memory:");
 * const top = () => ({ bidPrice: 18990, bidSize: 5, askPrice: 19010, askSize: 3, sequence: 2 });
 * const quotes = new QuoteBook({ instruments: loadInstruments(), top });
 * const snapshotter = new Snapshotter({ kv, quotes, cadenceMs: 50 });
 * await snapshotter.start(); // the symbol list and every symbol, version 1
 * quotes.apply([{ kind: 3, instrument: 0, taker: 2, maker: 1, price: 19010, qty: 1 }], 0n);
 * await snapshotter.close(); // a last write: AAPL's trade, version 2
 * assert.deepStrictEqual((await kv.get(QUOTE_KEYS.version)).value, 2n);
 * const aapl = await kv.get<{ lastTrade: unknown }>(QUOTE_KEYS.symbol("AAPL"));
 * assert.deepStrictEqual(aapl.value?.lastTrade, { price: 190.1, size: 1, time: 0 });
 * kv.close();
 * ```
 */
export class Snapshotter {
  readonly #kv: SnapshotStore;
  readonly #quotes: QuoteBook;
  readonly #cadenceMs: number;
  readonly #now: () => number;
  readonly #logger: SnapshotLogger;
  readonly #engine: (() => EngineState) | undefined;
  /** The engine state last written in `alive` (JSON), to write a change at once. */
  #engineWritten = "";
  #version = 0n;
  #versionstamp: string | null = null;
  #listWritten = false;
  /** A commit threw: it may have landed; read the version back before the next. */
  #uncertain: bigint | undefined;
  #failing = 0;
  #writing: Promise<void> | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #started = false;
  /** The version key was read: writes may go. */
  #ready = false;
  #closing = false;
  #closed = false;
  #halted: string | undefined;
  #writes = 0;
  /** When `alive` was last set (ms since the epoch). */
  #aliveAt = 0;
  #snapshots = 0;
  #failures = 0;
  #lastWriteMs = 0;
  #maxWriteMs = 0;

  /**
   * Makes a snapshotter; {@linkcode Snapshotter.start} starts it.
   *
   * @param options The KV store, the quote book, the cadence, clock and logger.
   * @throws {RangeError} If the cadence is not an integer from 1 to 3,600,000
   *   ms, or the book has more than {@linkcode MAX_SNAPSHOT_SYMBOLS} symbols.
   *
   * @example
   * ```ts
   * import { QuoteBook, Snapshotter } from "./mod.ts";
   * import { loadInstruments } from "../matching/mod.ts";
   * import assert from "node:assert";
   *
   * const kv = await Deno.openKv(":memory:");
   * const top = () => ({ bidPrice: 0, bidSize: 0, askPrice: 0, askSize: 0, sequence: 0 });
   * const quotes = new QuoteBook({ instruments: loadInstruments(), top });
   * assert.throws(() => new Snapshotter({ kv, quotes, cadenceMs: 0 }), { name: "RangeError", message: /cadence/ });
   * kv.close();
   * ```
   */
  constructor(options: SnapshotterOptions) {
    const { kv, quotes, cadenceMs = DEFAULT_SNAPSHOT_CADENCE_MS, now = Date.now } = options;
    if (!Number.isSafeInteger(cadenceMs) || cadenceMs < 1 || cadenceMs > 3_600_000) {
      throw new RangeError(
        `Cannot make snapshotter: the cadence must be an integer from 1 to 3600000 ms, got ${cadenceMs}`,
      );
    }
    if (quotes.size > MAX_SNAPSHOT_SYMBOLS) {
      throw new RangeError(
        `Cannot make snapshotter: ${quotes.size} symbols are more than the ${MAX_SNAPSHOT_SYMBOLS} ` +
          "one atomic KV write can carry",
      );
    }
    this.#kv = kv;
    this.#quotes = quotes;
    this.#cadenceMs = cadenceMs;
    this.#now = now;
    this.#logger = options.logger ?? console;
    this.#engine = options.engine;
  }

  /**
   * Reads the version key and the stored snapshots (restoring the day
   * statistics they hold), writes the symbol list and every symbol's
   * snapshot, and starts writing at the cadence. Call it before the first
   * command reaches the quote book. A first write that fails is reported
   * (and retried, unless another writer was detected), not thrown.
   *
   * @returns What it found and wrote.
   * @throws {Error} If called twice, or after {@linkcode Snapshotter.close}.
   * @throws {TypeError} If the version key holds something other than a
   *   non-negative `bigint` (another program uses the `quotes` keys).
   *
   * @example
   * ```ts
   * import { QuoteBook, Snapshotter } from "./mod.ts";
   * import { loadInstruments } from "../matching/mod.ts";
   * import { QUOTE_KEYS } from "../../schemas/quotes.ts";
   * import assert from "node:assert";
   *
   * const kv = await Deno.openKv(":memory:");
   * await kv.set(QUOTE_KEYS.version, 41n); // a previous run's
   * const top = () => ({ bidPrice: 0, bidSize: 0, askPrice: 0, askSize: 0, sequence: 0 });
   * const quotes = new QuoteBook({ instruments: loadInstruments(), top });
   * const snapshotter = new Snapshotter({ kv, quotes });
   * assert.deepStrictEqual(await snapshotter.start(), { previousVersion: 41n, resumed: 0, version: 42n });
   * await snapshotter.close();
   * kv.close();
   * ```
   */
  async start(): Promise<StartReport> {
    if (this.#started || this.#closing) {
      throw new Error("Cannot start snapshotter: it was started or closed already");
    }
    this.#started = true;
    const entry = await this.#kv.get(QUOTE_KEYS.version);
    if (entry.versionstamp !== null && (typeof entry.value !== "bigint" || entry.value < 0n)) {
      throw new TypeError(
        `Cannot start snapshotter: KV key ${KEY_TEXT} holds ${
          typeof entry.value === "bigint" ? entry.value : typeof entry.value
        }, not a non-negative bigint; another program uses the quote keys`,
      );
    }
    const previousVersion = (entry.value as bigint | null) ?? 0n;
    this.#version = previousVersion;
    this.#versionstamp = entry.versionstamp;
    this.#ready = true;
    const resumed = await this.#resume();
    await this.flush();
    this.#timer = setInterval(this.#tick, this.#cadenceMs);
    return { previousVersion, resumed, version: this.#version };
  }

  /** Restores what the stored snapshots hold; returns how many symbols it restored. */
  async #resume(): Promise<number> {
    const symbols = this.#quotes.symbolList().symbols.map((s) => s.symbol);
    const now = Math.floor(this.#now());
    let resumed = 0;
    // getMany reads at most 10 keys at a time.
    for (let i = 0; i < symbols.length; i += 10) {
      const keys = symbols.slice(i, i + 10).map((s) => [...QUOTE_KEYS.symbol(s)]);
      for (const entry of await this.#kv.getMany(keys)) {
        if (entry.versionstamp === null) continue;
        const parsed = parseQuoteSnapshot(entry.value);
        if (parsed.ok && this.#quotes.resume(parsed.snapshot, now)) resumed++;
      }
    }
    return resumed;
  }

  /**
   * Writes now what changed since the last write, after the write in
   * flight if there is one (so everything applied before the call is
   * written when it resolves, unless writing fails). Never rejects: a
   * failure is reported to the logger and counted.
   *
   * @returns When done.
   *
   * @example
   * ```ts
   * import { QuoteBook, Snapshotter } from "./mod.ts";
   * import { loadInstruments } from "../matching/mod.ts";
   * import assert from "node:assert";
   *
   * const kv = await Deno.openKv(":memory:");
   * const top = () => ({ bidPrice: 0, bidSize: 0, askPrice: 0, askSize: 0, sequence: 0 });
   * const quotes = new QuoteBook({ instruments: loadInstruments(), top });
   * const snapshotter = new Snapshotter({ kv, quotes, cadenceMs: 3_600_000 });
   * await snapshotter.start();
   * await snapshotter.flush(); // nothing changed: nothing written
   * assert.deepStrictEqual([snapshotter.stats.writes, snapshotter.stats.version], [1, 1n]);
   * await snapshotter.close();
   * kv.close();
   * ```
   */
  async flush(): Promise<void> {
    while (this.#writing !== undefined) await this.#writing;
    if (this.#closed || this.#halted !== undefined || !this.#ready) return;
    const writing = this.#write();
    this.#writing = writing;
    try {
      await writing;
    } finally {
      if (this.#writing === writing) this.#writing = undefined;
    }
  }

  /**
   * Stops the cadence, waits for the write in flight, and writes what
   * changed since (call it after the dispatcher has delivered its last
   * commands, before closing the KV store). Later calls do nothing.
   *
   * @returns When the last write is done.
   *
   * @example
   * ```ts
   * import { QuoteBook, Snapshotter } from "./mod.ts";
   * import { loadInstruments } from "../matching/mod.ts";
   *
   * const kv = await Deno.openKv(":memory:");
   * const top = () => ({ bidPrice: 0, bidSize: 0, askPrice: 0, askSize: 0, sequence: 0 });
   * const snapshotter = new Snapshotter({ kv, quotes: new QuoteBook({ instruments: loadInstruments(), top }) });
   * await snapshotter.start();
   * await snapshotter.close();
   * await snapshotter.close();
   * kv.close();
   * ```
   */
  async close(): Promise<void> {
    if (this.#closing) {
      while (this.#writing !== undefined) await this.#writing;
      return;
    }
    this.#closing = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flush();
    this.#closed = true;
  }

  /** Counters: version, writes, snapshots, failures, write times, and why it halted. */
  get stats(): SnapshotterStats {
    return {
      version: this.#version,
      writes: this.#writes,
      snapshots: this.#snapshots,
      failures: this.#failures,
      lastWriteMs: this.#lastWriteMs,
      maxWriteMs: this.#maxWriteMs,
      halted: this.#halted,
    };
  }

  /** The cadence: a write unless one is in flight (the next tick carries its changes). */
  readonly #tick = (): void => {
    if (this.#writing === undefined && !this.#closing) void this.flush();
  };

  /** One write. Never throws. */
  async #write(): Promise<void> {
    if (this.#uncertain !== undefined && !(await this.#settleUncertain(this.#uncertain))) return;
    const started = performance.now();
    const version = this.#version + 1n;
    const first = !this.#listWritten;
    let snapshots;
    try {
      snapshots = this.#quotes.collect(Number(version), Math.floor(this.#now()), first);
    } catch (error) {
      this.#failures++;
      this.#logger.error(`Cannot make quote snapshots: ${messageOf(error)}`);
      return;
    }
    const nowMs = Math.floor(this.#now());
    if (snapshots.length === 0 && !first) {
      // A quiet market: say the core is alive, at most every ALIVE_EVERY_MS,
      // and at once when the engine's state changed (a halted engine moves
      // no quote, so this is how the edge hears of it).
      const engineChanged = this.#engine !== undefined &&
        JSON.stringify(this.#engine()) !== this.#engineWritten;
      if (engineChanged || nowMs - this.#aliveAt >= ALIVE_EVERY_MS) {
        await this.#writeAlive(nowMs);
      }
      return;
    }
    let result: Deno.KvCommitResult | Deno.KvCommitError;
    try {
      // `set` checks sizes as it goes: inside the try, like the commit.
      const op = this.#kv.atomic().check({
        key: QUOTE_KEYS.version,
        versionstamp: this.#versionstamp,
      });
      if (first) op.set(QUOTE_KEYS.symbols, this.#quotes.symbolList());
      for (const snapshot of snapshots) op.set(QUOTE_KEYS.symbol(snapshot.symbol), snapshot);
      op.set(QUOTE_KEYS.version, version);
      op.set(QUOTE_KEYS.alive, this.#alive(nowMs, version));
      result = await op.commit();
    } catch (error) {
      this.#quotes.requeue(snapshots.map((s) => s.symbol));
      this.#uncertain = version;
      this.#failures++;
      if (this.#failing++ === 0) {
        this.#logger.error(
          `Cannot write quote snapshots (version ${version}, ${snapshots.length} ` +
            `symbol${snapshots.length === 1 ? "" : "s"}): ` +
            `${messageOf(error)}; retrying every ${this.#cadenceMs} ms`,
        );
      }
      return;
    }
    if (!result.ok) {
      this.#failures++;
      await this.#halt(`its check of ${KEY_TEXT} failed writing version ${version}`);
      return;
    }
    this.#versionstamp = result.versionstamp;
    this.#version = version;
    this.#aliveAt = nowMs;
    this.#engineWritten = this.#pendingEngine;
    this.#listWritten = true;
    this.#writes++;
    this.#snapshots += snapshots.length;
    this.#lastWriteMs = performance.now() - started;
    if (this.#lastWriteMs > this.#maxWriteMs) this.#maxWriteMs = this.#lastWriteMs;
    if (this.#failing > 0) {
      this.#logger.info(
        `quote snapshots: writing again (version ${version}) after ${this.#failing} failed attempts`,
      );
      this.#failing = 0;
    }
  }

  /** The engine state put in the `alive` value being written (JSON). */
  #pendingEngine = "";

  /** The `alive` value: when, the version, and the engine's state if known. */
  #alive(nowMs: number, version: bigint): Alive {
    const engine = this.#engine?.();
    this.#pendingEngine = engine === undefined ? "" : JSON.stringify(engine);
    return {
      format: QUOTES_FORMAT,
      at: nowMs,
      version: Number(version),
      ...(engine === undefined ? {} : { engine }),
    };
  }

  /** Sets `alive` alone (the version stays), under the same one-writer check. */
  async #writeAlive(nowMs: number): Promise<void> {
    try {
      const result = await this.#kv.atomic()
        .check({ key: QUOTE_KEYS.version, versionstamp: this.#versionstamp })
        .set(QUOTE_KEYS.alive, this.#alive(nowMs, this.#version))
        .commit();
      if (!result.ok) {
        this.#failures++;
        await this.#halt(`its check of ${KEY_TEXT} failed saying it is alive`);
        return;
      }
      this.#aliveAt = nowMs;
      this.#engineWritten = this.#pendingEngine;
    } catch (error) {
      this.#failures++;
      if (this.#failing++ === 0) {
        this.#logger.error(`Cannot write ${QUOTE_KEYS.alive.join("/")}: ${messageOf(error)}`);
      }
    }
  }

  /**
   * After a commit threw: reads the version key back. Unchanged: the commit
   * did not land, write again. At the version it tried: it landed. Anything
   * else: another writer. Returns whether to go on writing now.
   */
  async #settleUncertain(attempted: bigint): Promise<boolean> {
    let entry: Deno.KvEntryMaybe<unknown>;
    try {
      entry = await this.#kv.get(QUOTE_KEYS.version);
    } catch (error) {
      this.#failures++;
      this.#failing++;
      if (this.#failing === 1) this.#logger.error(`Cannot read ${KEY_TEXT}: ${messageOf(error)}`);
      return false;
    }
    this.#uncertain = undefined;
    if (entry.versionstamp === this.#versionstamp) return true;
    if (entry.value === attempted) {
      this.#version = attempted;
      this.#versionstamp = entry.versionstamp;
      return true;
    }
    await this.#halt(
      `${KEY_TEXT} holds ${String(entry.value)} after a failed write of version ${attempted}`,
    );
    return false;
  }

  /** Another process writes the quote keys: report it and stop writing. */
  async #halt(what: string): Promise<void> {
    let found = "";
    try {
      const entry = await this.#kv.get(QUOTE_KEYS.version);
      found = ` (KV holds version ${String(entry.value)}; this core last wrote ${this.#version})`;
    } catch {
      // The message says enough without it.
    }
    this.#halted =
      `another process writes the quote snapshots to the same KV store: ${what}${found}`;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#logger.error(
      `Cannot write quote snapshots: ${this.#halted}. This core stops writing snapshots; ` +
        "stop the other writer (or give this core its own KV_PATH) and restart it",
    );
  }
}
