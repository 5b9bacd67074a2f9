/**
 * The journal from Deno, read-only: verify a journal folder, and iterate
 * its records. Writing is the engine's alone (`NativeEngine.openJournal`).
 *
 * One process writes a journal folder at a time: the engine holds the
 * folder's lock file (`lock`, holding its pid) while its journal is open,
 * and a second engine on the folder is refused, told which process holds
 * it. Readers map the segments, so by default they refuse a folder a
 * writer holds (a segment the writer recycles under a mapping would crash
 * the reader) and keep writers out while they read; `{ live: true }` reads
 * by `pread` instead, safely beside the writer (see {@linkcode ReadOptions}).
 *
 * Record kinds are those of `native/src/engine/durability.rs` (`kind`): the run's meta
 * (JSON), commands and trades (64-byte records), account names.
 *
 * @module
 */

import type { Instrument } from "../matching/types.ts";
import { lastNativeError, nativeLibrary } from "./symbols.ts";

/**
 * The journal's meta record for an instrument table: a journal may only be
 * continued with the table it was written for, and tools read symbols from it.
 *
 * @param instruments The instrument table.
 * @returns Canonical JSON (the same table always gives the same string).
 *
 * @example
 * ```ts
 * import { journalMeta } from "./journal.ts";
 * import { loadInstruments } from "../matching/instruments.ts";
 * const meta = journalMeta(loadInstruments());
 * if (JSON.parse(meta).instruments[0].symbol !== "AAPL") throw new Error(meta);
 * ```
 */
export function journalMeta(instruments: readonly Instrument[]): string {
  return JSON.stringify({
    instruments: instruments.map((i) => ({
      symbol: i.symbol,
      name: i.name,
      tickSize: i.tickSize,
      lotSize: i.lotSize,
      priceScale: i.priceScale,
      referencePrice: i.referencePrice,
      // Pre-trade risk caps orders by it: replaying under another would
      // decide otherwise, so a journal is continued only with the same.
      maxOrderQty: i.maxOrderQty,
    })),
  });
}

/**
 * Journal record kinds. The engine writes a meta record first, then batch
 * records whose entries are commands, trades and account names (see
 * `kind` in `native/src/engine/durability.rs`); {@linkcode journalEntries} flattens them.
 */
export const JournalKind = { Meta: 1, Command: 2, Trade: 3, Account: 4, Batch: 5 } as const;

/** Bytes per batch entry: `u32` kind, `u32` zero, a 64-byte record. */
const ENTRY_BYTES = 72;

/** The largest record payload {@linkcode readJournal} reads. */
export const MAX_RECORD_PAYLOAD = 1 << 20;

/** Where a journal is damaged. */
export interface Damage {
  readonly segment: number;
  readonly file?: string;
  readonly offset: number;
  readonly seq: number | null;
  readonly bytes: number;
  readonly reason: string;
}

/** What `journal verify` found. */
export interface VerifyReport {
  readonly segments: number;
  readonly records: number;
  readonly firstSeq: number | null;
  readonly lastSeq: number | null;
  /** Damage at the end that recovery would cut (a crash mid-append). */
  readonly tornTail: Damage | null;
  /** Damage before the end: records after it would be lost by cutting. */
  readonly corruption: Damage | null;
  readonly cut: boolean;
}

/** How to read a journal folder. */
export interface ReadOptions {
  /**
   * Read each segment by `pread`, without the folder's lock, so that a
   * folder a running core writes can be read (default false: map the
   * segments, and refuse such a folder). A live read is a view taken while
   * the writer goes on: the record in flight may read as a torn tail, and a
   * segment released during the read as corruption.
   */
  readonly live?: boolean;
}

/**
 * The process writing the journal in `dir`, if one is: it holds the
 * folder's lock. Takes no lock and creates nothing.
 *
 * @param dir The journal folder.
 * @returns The writer's pid; 0 for a writer whose pid cannot be told; null
 *   when no process writes the folder.
 * @throws {Error} When the folder cannot be read.
 *
 * @example
 * ```ts
 * import { journalWriter } from "./journal.ts";
 * const dir = Deno.makeTempDirSync();
 * if (journalWriter(dir) !== null) throw new Error("expected no writer");
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function journalWriter(dir: string): number | null {
  const lib = nativeLibrary();
  const path = new TextEncoder().encode(dir);
  const pid = Number(lib.journal_writer(path, BigInt(path.length)));
  if (pid === -1) throw new Error(lastNativeError(lib));
  return pid === 0 ? null : pid === -2 ? 0 : pid;
}

/** One journal record; `payload` is a copy the caller owns. */
export interface JournalRecord {
  readonly seq: number;
  readonly kind: number;
  readonly ingressNs: bigint;
  readonly payload: Uint8Array;
}

/**
 * Checks every segment of the journal in `dir`, read-only.
 *
 * @param dir The journal folder.
 * @param options `live`: read by `pread`, beside a writer.
 * @returns The report.
 * @throws {Error} When the folder cannot be read as a journal, or (unless
 *   `live`) a process writes it; the message names that process.
 *
 * @example
 * ```ts
 * import { verifyJournal } from "./journal.ts";
 * const dir = Deno.makeTempDirSync();
 * const report = verifyJournal(dir);
 * if (report.records !== 0 || report.corruption !== null) throw new Error("expected empty");
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function verifyJournal(dir: string, options: ReadOptions = {}): VerifyReport {
  const lib = nativeLibrary();
  const path = new TextEncoder().encode(dir);
  const live = options.live ? 1 : 0;
  let out = new Uint8Array(4096);
  for (;;) {
    const n = Number(
      lib.journal_verify(path, BigInt(path.length), out, BigInt(out.length), live),
    );
    if (n < 0) throw new Error(lastNativeError(lib));
    if (n <= out.length) {
      const parsed = JSON.parse(new TextDecoder().decode(out.subarray(0, n)));
      if (typeof parsed.error === "string") throw new Error(parsed.error);
      return parsed as VerifyReport;
    }
    out = new Uint8Array(n);
  }
}

/**
 * Empties the journal in `dir` and its snapshots, keeping the segment files
 * as spares that the next journal opened there reuses: the state a journal
 * with `retention: "snapshots"` reaches once it recycles. For benchmarks;
 * it destroys every record.
 *
 * @param dir The journal folder (closed: no engine may have it open).
 * @returns How many segment files were kept.
 * @throws {Error} When the folder cannot be read or a segment rewritten, or
 *   a process holds the folder (a running engine, or a reader).
 *
 * @example
 * ```ts
 * import { retireJournal, verifyJournal } from "./journal.ts";
 * const dir = Deno.makeTempDirSync();
 * if (retireJournal(dir) !== 0 || verifyJournal(dir).records !== 0) throw new Error("expected empty");
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function retireJournal(dir: string): number {
  const lib = nativeLibrary();
  const path = new TextEncoder().encode(dir);
  const kept = Number(lib.journal_retire(path, BigInt(path.length)));
  if (kept < 0) throw new Error(lastNativeError(lib));
  return kept;
}

/**
 * Iterates the valid records of the journal in `dir`, in sequence order. It
 * ends at the last valid record (a torn tail ends it too). Unless `live`,
 * it keeps writers out of the folder until it is done or dropped.
 *
 * @param dir The journal folder.
 * @param options `live`: read by `pread`, beside a writer.
 * @returns The records.
 * @throws {Error} On corruption before the tail, an unreadable folder, or
 *   (unless `live`) a process writing it; the message names that process.
 *
 * @example
 * ```ts
 * import { readJournal } from "./journal.ts";
 * const dir = Deno.makeTempDirSync();
 * if ([...readJournal(dir)].length !== 0) throw new Error("expected no records");
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function* readJournal(dir: string, options: ReadOptions = {}): Generator<JournalRecord> {
  const lib = nativeLibrary();
  const path = new TextEncoder().encode(dir);
  const reader = lib.journal_reader_open(path, BigInt(path.length), options.live ? 1 : 0);
  if (reader === null) throw new Error(lastNativeError(lib));
  try {
    const header = new BigUint64Array(4);
    // Commands, trades and account names are 64 bytes, the meta record a
    // few KiB: one buffer far above any of them serves every record.
    const payload = new Uint8Array(MAX_RECORD_PAYLOAD);
    for (;;) {
      const rc = lib.journal_reader_next(reader, header, payload, BigInt(payload.length));
      if (rc < 0) throw new Error(lastNativeError(lib));
      if (rc === 0) return;
      const length = Number(header[3]);
      if (length > payload.length) {
        throw new Error(
          `Cannot read journal: record ${
            header[0]
          } holds ${length} bytes, more than the ${payload.length} this reader takes`,
        );
      }
      yield {
        seq: Number(header[0]),
        kind: Number(header[1]),
        ingressNs: header[2]!,
        payload: payload.slice(0, length),
      };
    }
  } finally {
    lib.journal_reader_drop(reader);
  }
}

/**
 * Iterates the journal's logical entries in order: the meta record, then
 * every command, trade and account name, with batches flattened. Each
 * entry carries its record's sequence number (a batch's entries share one).
 *
 * @param dir The journal folder.
 * @param options As for {@linkcode readJournal}.
 * @returns The entries; `payload` is the meta JSON or a 64-byte record.
 * @throws {Error} On corruption before the tail, an unreadable folder, or a
 *   malformed batch.
 *
 * @example
 * ```ts
 * import { journalEntries, JournalKind } from "./journal.ts";
 * const dir = Deno.makeTempDirSync();
 * const commands = [...journalEntries(dir)].filter((e) => e.kind === JournalKind.Command);
 * if (commands.length !== 0) throw new Error("expected none");
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function* journalEntries(
  dir: string,
  options: ReadOptions = {},
): Generator<JournalRecord> {
  for (const record of readJournal(dir, options)) {
    if (record.kind !== JournalKind.Batch) {
      yield record;
      continue;
    }
    const bytes = record.payload;
    if (bytes.length % ENTRY_BYTES !== 0) {
      throw new Error(
        `Cannot read journal: batch record ${record.seq} is ${bytes.length} bytes, not a multiple of ${ENTRY_BYTES}`,
      );
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    for (let at = 0; at < bytes.length; at += ENTRY_BYTES) {
      yield {
        seq: record.seq,
        kind: view.getUint32(at, true),
        ingressNs: record.ingressNs,
        payload: bytes.slice(at + 8, at + ENTRY_BYTES),
      };
    }
  }
}
