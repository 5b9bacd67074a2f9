/**
 * orderbook-rs (crates.io, v0.15.3) as a benchmark subject: the same command
 * stream through a maintained Rust limit order book, a native peer for the
 * kernel beside the JavaScript one (`nodejs_order_book_subject.ts`).
 *
 * The book runs in a bench-only Rust program, `bench/orderbook_rs_peer/`
 * (its own `Cargo.toml` and `Cargo.lock`), so the crate never links into the
 * engine and only `core/` loads native code into Deno. {@linkcode prepare}
 * writes the stream to a temporary file in the peer's own plain layout
 * ({@linkcode encodePeerStream}); each run starts the program, which
 * replays the file on fresh books — after an untimed warm-up over the
 * stream's first `warmup` commands in the same process — and reports the
 * seconds of its timed loop, which is the figure taken. Process start,
 * reading and decoding the file are outside it.
 *
 * # Where the semantics differ (it is a speed comparison)
 * - Self-trade prevention is the library's `CancelMaker`: it cancels every
 *   order of the same account at each level the sweep touches, reached or
 *   not; our engine cancels the resting order it would trade with.
 * - The library is built for concurrent use (lock-free skip lists, a
 *   concurrent map of orders, atomics per level) and reads the wall clock
 *   for every order's timestamp; our kernel is single-threaded and reads none.
 * - It has no pre-trade risk and no market FOK order (such commands are
 *   skipped and counted, as are orders for instruments outside the table).
 * - A replace at the order's price changes its quantity in place
 *   (`UpdateQuantity`: priority kept when it shrinks, as ours); at another
 *   price it is a cancel and add (`UpdatePriceAndQuantity`), as ours.
 * - Events are the trades its books report: it has no accept/cancel events.
 *
 * @example
 * ```ts ignore
 * // Builds the peer with cargo on first use (about a minute), then runs it.
 * import { OrderbookRsSubject } from "./orderbook_rs_subject.ts";
 * import { benchFlow } from "../core/synthetic/mod.ts";
 * import { loadInstruments } from "../core/matching/mod.ts";
 *
 * const commands = benchFlow({ seed: 1, count: 2_000, depth: 50 });
 * const subject = new OrderbookRsSubject(loadInstruments());
 * subject.prepare(commands);
 * console.log(subject.run(commands).events > 0); // true
 * subject.close();
 * ```
 *
 * @module
 */

import {
  type Command,
  CommandKind,
  type Instrument,
  OrderType,
  TimeInForce,
} from "../core/matching/mod.ts";
import type { MatchingSubject, RunResult } from "./subject.ts";

/** The subject's name in the report. */
export const ORDERBOOK_RS = "orderbook-rs";

const PEER_DIR = new URL("./orderbook_rs_peer/", import.meta.url);
const MAGIC = new TextEncoder().encode("TCOBPEER");
const VERSION = 1;
const HEADER_BYTES = 24;
/** Bytes per command in the peer's stream file. */
export const PEER_COMMAND_BYTES = 40;

/** A stream in the peer's layout, and what it left out. */
export interface PeerStream {
  /** The file's bytes (see `bench/orderbook_rs_peer/src/stream.rs`). */
  readonly bytes: Uint8Array<ArrayBuffer>;
  /** Commands written. */
  readonly commands: number;
  /** Commands the peer cannot express: market FOK, unknown instruments. */
  readonly skipped: number;
}

/**
 * Writes a command stream in the peer's layout: a header with each book's
 * tick size, then 40 little-endian bytes per command. Cancels and replaces
 * go to the book their order was placed in (book 0 for an id never placed,
 * where the library misses it as our engine would).
 *
 * @param commands The stream.
 * @param instruments The instrument table it was made for (one book each).
 * @returns The bytes and the count of commands left out.
 *
 * @example
 * ```ts
 * import { encodePeerStream, PEER_COMMAND_BYTES } from "./orderbook_rs_subject.ts";
 * import { loadInstruments } from "../core/matching/mod.ts";
 *
 * const instruments = loadInstruments();
 * const s = encodePeerStream([{ kind: 2, id: 7 }], instruments);
 * console.log(s.commands, s.skipped); // 1 0
 * console.log(s.bytes.length === 24 + 8 * instruments.length + PEER_COMMAND_BYTES); // true
 * ```
 */
export function encodePeerStream(
  commands: readonly Command[],
  instruments: readonly Instrument[],
): PeerStream {
  const books = instruments.length;
  const bookOf = new Map<number, number>();
  const kept: [Command, number][] = [];
  let skipped = 0;
  for (const c of commands) {
    if (c.kind === CommandKind.PlaceOrder) {
      const unknown = !(c.instrument < books);
      const marketFok = c.type === OrderType.Market && c.tif === TimeInForce.Fok;
      if (unknown || marketFok) {
        skipped++;
        continue;
      }
      bookOf.set(c.id, c.instrument);
      kept.push([c, c.instrument]);
    } else {
      kept.push([c, bookOf.get(c.id) ?? 0]);
    }
  }
  const start = HEADER_BYTES + 8 * books;
  const bytes = new Uint8Array(start + kept.length * PEER_COMMAND_BYTES);
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC, 0);
  view.setUint32(8, VERSION, true);
  view.setUint32(12, books, true);
  view.setBigUint64(16, BigInt(kept.length), true);
  instruments.forEach((inst, i) =>
    view.setBigUint64(HEADER_BYTES + 8 * i, BigInt(inst.tickSize), true)
  );
  kept.forEach(([c, book], i) => {
    const at = start + i * PEER_COMMAND_BYTES;
    bytes[at] = c.kind;
    view.setBigUint64(at + 8, BigInt(c.id), true);
    view.setUint32(at + 36, book, true);
    if (c.kind === CommandKind.PlaceOrder) {
      bytes[at + 1] = c.side;
      bytes[at + 2] = c.type;
      bytes[at + 3] = c.tif;
      bytes[at + 4] = c.postOnly ? 1 : 0;
      view.setBigInt64(at + 16, BigInt(integerOr(c.price, -1)), true);
      view.setBigInt64(at + 24, BigInt(integerOr(c.qty, 0)), true);
      view.setUint32(at + 32, c.account >>> 0, true);
    } else if (c.kind === CommandKind.ReplaceOrder) {
      view.setBigInt64(at + 16, BigInt(integerOr(c.price, -1)), true);
      view.setBigInt64(at + 24, BigInt(integerOr(c.qty, 0)), true);
    }
  });
  return { bytes, commands: kept.length, skipped };
}

function integerOr(x: number, fallback: number): number {
  return Number.isSafeInteger(x) ? x : fallback;
}

/**
 * Builds the peer (`cargo build --release --locked`; a no-op taking well
 * under a second once built, about a minute the first time) and returns its
 * executable's path.
 *
 * @returns The path of `orderbook-rs-peer`.
 * @throws {Error} When cargo is missing or the build fails, with cargo's message.
 *
 * @example
 * ```ts ignore
 * import { buildPeer } from "./orderbook_rs_subject.ts";
 * console.log(buildPeer().endsWith("orderbook-rs-peer")); // true
 * ```
 */
export function buildPeer(): string {
  const manifest = new URL("Cargo.toml", PEER_DIR).pathname;
  let output: Deno.CommandOutput;
  try {
    output = new Deno.Command("cargo", {
      args: ["build", "--release", "--locked", "--quiet", "--manifest-path", manifest],
      stdout: "piped",
      stderr: "piped",
    }).outputSync();
  } catch (error) {
    throw new Error(
      `Cannot build the orderbook-rs peer: cargo did not start (${
        error instanceof Error ? error.message : error
      })`,
    );
  }
  if (!output.success) {
    const why = new TextDecoder().decode(output.stderr).trim().split("\n").slice(-8).join("\n");
    throw new Error(`Cannot build the orderbook-rs peer: cargo build failed:\n${why}`);
  }
  const exe = Deno.build.os === "windows" ? "orderbook-rs-peer.exe" : "orderbook-rs-peer";
  return new URL(`target/release/${exe}`, PEER_DIR).pathname;
}

/** What the peer printed about one run. */
export interface PeerReport {
  /** The crate and version it measured. */
  readonly crate: string;
  /** Commands in the timed pass. */
  readonly commands: number;
  /** Seconds of the timed pass. */
  readonly seconds: number;
  /** Trades its books reported. */
  readonly trades: number;
  /** Calls that returned an error (a cancel of an order not resting, a killed FOK…). */
  readonly refused: number;
  /** Commands in the untimed warm-up pass. */
  readonly warmup: number;
}

/**
 * Runs the peer over a stream file.
 *
 * @param exe The peer's executable ({@linkcode buildPeer}).
 * @param file A file written from {@linkcode encodePeerStream}'s bytes.
 * @param warmup Commands to replay untimed first, on books then dropped.
 * @returns What it reported.
 * @throws {Error} When it fails or prints something else than its report.
 *
 * @example
 * ```ts ignore
 * import { buildPeer, encodePeerStream, runPeer } from "./orderbook_rs_subject.ts";
 * import { loadInstruments } from "../core/matching/mod.ts";
 *
 * const file = Deno.makeTempFileSync();
 * Deno.writeFileSync(file, encodePeerStream([], loadInstruments()).bytes);
 * console.log(runPeer(buildPeer(), file, 0).trades); // 0
 * ```
 */
export function runPeer(exe: string, file: string, warmup: number): PeerReport {
  const output = new Deno.Command(exe, {
    args: [file, "--warmup", String(warmup)],
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  const text = new TextDecoder();
  if (!output.success) {
    throw new Error(
      `The orderbook-rs peer failed (exit ${output.code}): ${text.decode(output.stderr).trim()}`,
    );
  }
  const line = text.decode(output.stdout).trim();
  let report: unknown;
  try {
    report = JSON.parse(line);
  } catch {
    report = undefined;
  }
  const r = report as Record<string, unknown> | undefined;
  const numbers = ["commands", "seconds", "trades", "refused", "warmup"];
  if (typeof r?.crate !== "string" || numbers.some((k) => typeof r[k] !== "number")) {
    throw new Error(`The orderbook-rs peer printed no report: ${JSON.stringify(line)}`);
  }
  return r as unknown as PeerReport;
}

/** Options for {@linkcode OrderbookRsSubject}. */
export interface OrderbookRsOptions {
  /** Commands the peer replays untimed before each timed pass (default 0). */
  readonly warmup?: number;
}

/**
 * The stream through orderbook-rs, in the bench-only peer program.
 *
 * @example
 * ```ts
 * import { OrderbookRsSubject } from "./orderbook_rs_subject.ts";
 * import { loadInstruments } from "../core/matching/mod.ts";
 *
 * // The peer is built on the first prepare(), not here.
 * console.log(new OrderbookRsSubject(loadInstruments()).name); // "orderbook-rs"
 * ```
 */
export class OrderbookRsSubject implements MatchingSubject {
  /** {@linkcode ORDERBOOK_RS}. */
  readonly name: string = ORDERBOOK_RS;
  readonly #instruments: readonly Instrument[];
  readonly #warmup: number;
  #exe: string | undefined;
  #file: string | undefined;
  #stream: PeerStream | undefined;
  #last: PeerReport | undefined;

  /**
   * @param instruments The instrument table the stream was made for.
   * @param options See {@linkcode OrderbookRsOptions}.
   * @throws {RangeError} When `warmup` is not a non-negative integer.
   */
  constructor(instruments: readonly Instrument[], options: OrderbookRsOptions = {}) {
    const warmup = options.warmup ?? 0;
    if (!Number.isSafeInteger(warmup) || warmup < 0) {
      throw new RangeError(`warmup must be a non-negative integer, got ${warmup}`);
    }
    this.#instruments = instruments;
    this.#warmup = warmup;
  }

  /** The peer's report of the last run, if any. */
  get lastReport(): PeerReport | undefined {
    return this.#last;
  }

  /**
   * Builds the peer if needed and writes the stream to a temporary file,
   * outside the timed region.
   *
   * @param commands The stream the next run replays.
   * @throws {Error} When the peer cannot be built.
   */
  prepare(commands: readonly Command[]): void {
    this.#exe ??= buildPeer();
    this.#stream = encodePeerStream(commands, this.#instruments);
    this.#file ??= Deno.makeTempFileSync({ prefix: "tc-bench-orderbook-rs-", suffix: ".bin" });
    Deno.writeFileSync(this.#file, this.#stream.bytes);
  }

  /**
   * Runs the peer over the prepared stream.
   *
   * @param commands The stream given to {@linkcode OrderbookRsSubject.prepare}.
   * @returns The peer's own timing of its loop; events are the trades.
   * @throws {Error} When prepare() was not called or the peer fails.
   */
  run(commands: readonly Command[]): RunResult {
    const stream = this.#stream;
    if (this.#exe === undefined || this.#file === undefined || stream === undefined) {
      throw new Error("Cannot run: prepare() first");
    }
    const report = runPeer(this.#exe, this.#file, Math.min(this.#warmup, stream.commands));
    if (report.commands !== stream.commands) {
      throw new Error(
        `The orderbook-rs peer replayed ${report.commands} commands of ${stream.commands}`,
      );
    }
    this.#last = report;
    return {
      seconds: report.seconds,
      commands: commands.length - stream.skipped,
      events: report.trades,
      skipped: stream.skipped,
      note: `${report.crate} in a bench-only program (bench/orderbook_rs_peer), timing its own ` +
        `loop after a ${report.warmup}-command warm-up in the same process; events = trades; ` +
        `${report.refused} calls refused; semantics differ (self-trade prevention cancels ` +
        `every same-account order on a touched level, concurrent data structures, a clock ` +
        `read per order)`,
    };
  }

  /** Removes the stream file. */
  close(): void {
    if (this.#file !== undefined) Deno.removeSync(this.#file);
    this.#file = undefined;
    this.#stream = undefined;
  }
}
