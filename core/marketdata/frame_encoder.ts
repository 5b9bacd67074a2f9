/**
 * Hot-path encoders for the market data frames of `schemas/gateway.capnp`:
 * `BookDelta`, `Trade` and `Quote` written as Cap'n Proto bytes directly,
 * plus `BookSnapshot` (not hot, but deep books make capnp-es slow).
 *
 * capnp-es costs ~7 µs a message (a `Message` with a 4 KiB segment, a wrapper
 * per struct, a `BigInt` per 64-bit field). Here a frame costs one
 * `Uint8Array` view into a shared slab and a few dozen 32-bit stores; the
 * same bytes then go to every subscriber.
 *
 * # Layout
 *
 * Every frame is one single-segment message in the standard stream framing,
 * laid out as `capnp compile -ocapnp schemas/gateway.capnp` reports:
 *
 * ```text
 * header   u32 0 (one segment) | u32 segment words
 * word 0   root pointer: ServerMessage, offset 0, 3 data words, 1 pointer
 * word 1   requestId          (0 for market data)
 * word 2   sentAt             (stamped at flush, see FrameEncoder.stampSentAt)
 * word 3   union tag          (bits 0-15: bookSnapshot 2, bookDelta 3, trade 4, quote 5)
 * word 4   pointer to the member struct, which starts at word 5
 * word 5…  the member's data words, then its pointers, then the symbol's
 *          text (NUL-terminated, zero-padded), then any lists (composite:
 *          a tag word, then 3 data words per element)
 * ```
 *
 * # Invariants
 * - Slabs are fresh (zero-filled) `ArrayBuffer`s and a byte of one is
 *   written by one frame only, never reused: every padding byte and every
 *   field not written (`requestId`, a `Level`'s unused half-word) is zero,
 *   and a frame handed out is never overwritten (except its own `sentAt`,
 *   stamped once before it is sent).
 * - Little-endian hosts only (x86-64, AArch64): fields are stored through a
 *   `Uint32Array`; the module refuses to load elsewhere.
 *
 * # Known limitations
 * - Prices, quantities, counts, sequences and ids are trusted to be safe
 *   integers (counts: 0..2^32-1): they come from the book view, which takes
 *   them from the engine. Nothing here checks them, for speed.
 *
 * @module
 */

import type { Side } from "../matching/types.ts";
import { SYMBOL_PATTERN, SYMBOL_RULE_TEXT } from "../../schemas/vocabulary/names.ts";

if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) {
  throw new Error("Cannot load the market data encoder: it needs a little-endian host");
}

/** 2^32, to split a safe integer into 32-bit halves. */
const TWO_32 = 0x1_0000_0000;

/** Union tags of `ServerMessage` (its field order in the schema, from 0). */
const TAG_BOOK_SNAPSHOT = 2;
const TAG_BOOK_DELTA = 3;
const TAG_TRADE = 4;
const TAG_QUOTE = 5;

/** Byte offset of `ServerMessage.requestId` (header 8 + word 1) in a frame. */
const REQUEST_ID_BYTE = 16;
/** Byte offset of `ServerMessage.sentAt` (header 8 + word 2) in a frame. */
const SENT_AT_BYTE = 24;

/** A list pointer's element size code for bytes (Text). */
const LIST_BYTES = 2;
/** A list pointer's element size code for composite (struct) lists. */
const LIST_COMPOSITE = 7;

/** Default bytes per slab: a few thousand frames. */
const DEFAULT_SLAB_BYTES = 256 * 1024;

/**
 * A symbol's `Text`, encoded once: its bytes with the NUL and zero padding
 * to whole words, as 32-bit words ready to store.
 */
export interface SymbolText {
  /** The symbol. */
  readonly symbol: string;
  /** Byte length without the NUL. */
  readonly length: number;
  /** Words the text occupies, NUL and padding included. */
  readonly words: number;
  /** The padded text as little-endian 32-bit words (`2 * words` of them). */
  readonly u32: Uint32Array;
}

/**
 * Encodes a symbol for the frame encoders.
 *
 * @param symbol 1–12 of `[A-Z0-9.-]`.
 * @returns The encoded text.
 * @throws {RangeError} If the symbol does not match the pattern.
 *
 * @example
 * ```ts
 * import { encodeSymbol } from "./frame_encoder.ts";
 * import assert from "node:assert";
 *
 * const text = encodeSymbol("BRK.B");
 * assert.deepStrictEqual([text.length, text.words], [5, 1]); // 5 bytes + NUL fit one word
 * ```
 */
export function encodeSymbol(symbol: string): SymbolText {
  if (!SYMBOL_PATTERN.test(symbol)) {
    throw new RangeError(
      `Cannot encode symbol ${JSON.stringify(symbol)}: it must be ${SYMBOL_RULE_TEXT}`,
    );
  }
  const length = symbol.length; // ASCII: one byte per character
  const words = Math.ceil((length + 1) / 8);
  const bytes = new Uint8Array(words * 8);
  for (let i = 0; i < length; i++) bytes[i] = symbol.charCodeAt(i);
  return { symbol, length, words, u32: new Uint32Array(bytes.buffer) };
}

/** One level of a delta: the engine's side (buy 0, sell 1) and the level's new totals. */
export interface DeltaLevel {
  /** The engine's side: {@linkcode Side}.Buy (0) is a bid level, Sell (1) an ask level. */
  readonly side: Side;
  /** Price units. */
  readonly price: number;
  /** The level's new total quantity in lots; 0 removes it. */
  readonly qty: number;
  /** The level's new number of orders; 0 when removed. */
  readonly count: number;
}

/** One level of a snapshot. */
export interface SnapshotLevel {
  /** Price units. */
  readonly price: number;
  /** Total lots resting at the price. */
  readonly qty: number;
  /** Orders resting at the price. */
  readonly count: number;
}

/**
 * Writes market data frames into shared slabs. One encoder serves a whole
 * publisher: frames are views into its current slab, and a new slab is
 * started when one is full (the old one lives as long as its frames do).
 *
 * Frames of the hot path (`bookDelta`, `trade`, `quote`) carry `sentAt` 0
 * until {@linkcode FrameEncoder.stampSentAt} writes the send time into every
 * frame encoded since its previous call: the publisher stamps them once per
 * flush, just before sending them.
 *
 * @example
 * ```ts
 * import { encodeSymbol, FrameEncoder } from "./frame_encoder.ts";
 * import { decodeServerMessage } from "../wire/mod.ts";
 * import assert from "node:assert";
 *
 * const encoder = new FrameEncoder();
 * const frame = encoder.trade(encodeSymbol("AAPL"), 7, 1, 10050, 30, 0, 1_700_000_000_000_000_000n);
 * encoder.stampSentAt(1_700_000_000_000_000_001n);
 * assert.deepStrictEqual(decodeServerMessage(frame), {
 *   type: "trade", requestId: 0n, sentAt: 1_700_000_000_000_000_001n, symbol: "AAPL",
 *   sequence: 7n, tradeId: 1n, price: 10050, quantity: 30, aggressorSide: "buy",
 *   engineTime: 1_700_000_000_000_000_000n,
 * });
 * ```
 */
export class FrameEncoder {
  readonly #slabBytes: number;
  #buffer = new ArrayBuffer(0);
  #u32 = new Uint32Array(0);
  #view = new DataView(this.#buffer);
  /** Next free byte of the slab (always a multiple of 8), and its size. */
  #at = 0;
  #end = 0;
  /**
   * Frames not stamped yet: those of the current slab from byte
   * `#stampFrom`, and those of full slabs in `#unstamped`. Frames lie back
   * to back and each header holds its size, so stamping walks them: no
   * bookkeeping per frame.
   */
  #stampFrom = 0;
  readonly #unstamped: { u32: Uint32Array; from: number; to: number }[] = [];

  /**
   * Makes an encoder.
   *
   * @param slabBytes Bytes per slab (default 256 KiB); a larger frame gets a slab of its own.
   * @throws {RangeError} If `slabBytes` is not a positive multiple of 8.
   *
   * @example
   * ```ts
   * import { FrameEncoder } from "./frame_encoder.ts";
   * new FrameEncoder(64 * 1024);
   * ```
   */
  constructor(slabBytes: number = DEFAULT_SLAB_BYTES) {
    if (!Number.isSafeInteger(slabBytes) || slabBytes <= 0 || slabBytes % 8 !== 0) {
      throw new RangeError(
        `Cannot make frame encoder: slabBytes must be a positive multiple of 8, got ${slabBytes}`,
      );
    }
    this.#slabBytes = slabBytes;
  }

  /**
   * Encodes a `BookDelta`.
   *
   * @param text The symbol ({@linkcode encodeSymbol}).
   * @param sequence The channel sequence.
   * @param engineTime ns since the epoch.
   * @param levels The changed levels, absolute totals.
   * @param count How many of `levels` to write, from the first (default all).
   * @returns The frame (`sentAt` 0 until stamped).
   *
   * @example
   * ```ts
   * import { encodeSymbol, FrameEncoder } from "./frame_encoder.ts";
   * import { decodeServerMessage } from "../wire/mod.ts";
   * import assert from "node:assert";
   *
   * const frame = new FrameEncoder().bookDelta(encodeSymbol("MSFT"), 3, 99n, [
   *   { side: 0, price: 42000, qty: 0, count: 0 },
   *   { side: 1, price: 42001, qty: 250, count: 4 },
   * ]);
   * const event = decodeServerMessage(frame);
   * assert.deepStrictEqual(event.type === "bookDelta" && event.levels, [
   *   { side: "buy", price: 42000, quantity: 0, orderCount: 0 },
   *   { side: "sell", price: 42001, quantity: 250, orderCount: 4 },
   * ]);
   * ```
   */
  bookDelta(
    text: SymbolText,
    sequence: number,
    engineTime: bigint,
    levels: readonly DeltaLevel[],
    count: number = levels.length,
  ): Uint8Array {
    const n = count;
    const t = text.words;
    // root pointer, ServerMessage (3 data + 1 pointer), BookDelta (2 data + 2
    // pointers), text, list tag, 3 words per LevelUpdate.
    const segmentWords = 10 + t + 3 * n;
    const at = this.#frame(segmentWords, TAG_BOOK_DELTA, 2, 2);
    const u = this.#u32;
    const w = (at >>> 2) + 2; // u32 index of segment word 0
    setI64(u, w + 10, sequence);
    this.#view.setBigInt64(at + 8 + 6 * 8, engineTime, true);
    // Word 7: symbol → word 9. Word 8: levels → the tag at word 9 + t.
    setText(u, w, 7, 9, text);
    u[w + 16] = (t << 2) | 1;
    u[w + 17] = LIST_COMPOSITE | (3 * n) << 3;
    const tag = w + 2 * (9 + t);
    u[tag] = n << 2; // a tag's "offset" is the element count
    u[tag + 1] = 3; // 3 data words, 0 pointers
    // LevelUpdate: side (bits 0-15) and orderCount (32-63) share word 0;
    // price is word 1, quantity word 2.
    for (let i = 0, e = tag + 2; i < n; i++, e += 6) {
      const level = levels[i]!;
      u[e] = level.side + 1; // engine buy 0 / sell 1 → wire buy 1 / sell 2
      u[e + 1] = level.count;
      setI64(u, e + 2, level.price);
      setI64(u, e + 4, level.qty);
    }
    return new Uint8Array(this.#buffer, at, 8 + segmentWords * 8);
  }

  /**
   * Encodes a `Trade`.
   *
   * @param text The symbol.
   * @param sequence The channel sequence.
   * @param tradeId The trade's id.
   * @param price Price units (the maker's price).
   * @param qty Lots.
   * @param aggressorSide The taker's side, as the engine numbers it (buy 0, sell 1).
   * @param engineTime ns since the epoch.
   * @returns The frame (`sentAt` 0 until stamped).
   *
   * @example
   * ```ts
   * import { encodeSymbol, FrameEncoder } from "./frame_encoder.ts";
   * const frame = new FrameEncoder().trade(encodeSymbol("SPY"), 1, 1, 50000, 5, 1, 0n);
   * if (frame.byteLength !== 8 + 13 * 8) throw new Error("unexpected size");
   * ```
   */
  trade(
    text: SymbolText,
    sequence: number,
    tradeId: number,
    price: number,
    qty: number,
    aggressorSide: Side,
    engineTime: bigint,
  ): Uint8Array {
    // root pointer, ServerMessage, Trade (6 data words + 1 pointer), text.
    const segmentWords = 12 + text.words;
    const at = this.#frame(segmentWords, TAG_TRADE, 6, 1);
    const u = this.#u32;
    const w = (at >>> 2) + 2;
    setI64(u, w + 10, sequence);
    setI64(u, w + 12, tradeId);
    setI64(u, w + 14, price);
    setI64(u, w + 16, qty);
    u[w + 18] = aggressorSide + 1;
    this.#view.setBigInt64(at + 8 + 10 * 8, engineTime, true);
    setText(u, w, 11, 12, text);
    return new Uint8Array(this.#buffer, at, 8 + segmentWords * 8);
  }

  /**
   * Encodes a `Quote`. A missing side has price and quantity 0.
   *
   * @param text The symbol.
   * @param sequence The channel sequence.
   * @param bidPrice Best bid, price units (0: none).
   * @param bidQty Lots at the best bid (0: none).
   * @param askPrice Best ask, price units (0: none).
   * @param askQty Lots at the best ask (0: none).
   * @param engineTime ns since the epoch.
   * @returns The frame (`sentAt` 0 until stamped).
   *
   * @example
   * ```ts
   * import { encodeSymbol, FrameEncoder } from "./frame_encoder.ts";
   * import { decodeServerMessage } from "../wire/mod.ts";
   *
   * const frame = new FrameEncoder().quote(encodeSymbol("AAPL"), 9, 10049, 100, 0, 0, 5n);
   * const quote = decodeServerMessage(frame);
   * if (quote.type !== "quote" || quote.bidPrice !== 10049 || quote.askPrice !== 0) {
   *   throw new Error("bad quote");
   * }
   * ```
   */
  quote(
    text: SymbolText,
    sequence: number,
    bidPrice: number,
    bidQty: number,
    askPrice: number,
    askQty: number,
    engineTime: bigint,
  ): Uint8Array {
    const segmentWords = 12 + text.words;
    const at = this.#frame(segmentWords, TAG_QUOTE, 6, 1);
    const u = this.#u32;
    const w = (at >>> 2) + 2;
    setI64(u, w + 10, sequence);
    setI64(u, w + 12, bidPrice);
    setI64(u, w + 14, bidQty);
    setI64(u, w + 16, askPrice);
    setI64(u, w + 18, askQty);
    this.#view.setBigInt64(at + 8 + 10 * 8, engineTime, true);
    setText(u, w, 11, 12, text);
    return new Uint8Array(this.#buffer, at, 8 + segmentWords * 8);
  }

  /**
   * Writes `sentAt` into every frame encoded by {@linkcode FrameEncoder.bookDelta},
   * {@linkcode FrameEncoder.trade} and {@linkcode FrameEncoder.quote} since
   * the previous call, and forgets them.
   *
   * @param sentAt ns since the epoch.
   *
   * @example
   * ```ts
   * import { encodeSymbol, FrameEncoder } from "./frame_encoder.ts";
   * import { decodeServerMessage } from "../wire/mod.ts";
   *
   * const encoder = new FrameEncoder();
   * const frame = encoder.quote(encodeSymbol("AAPL"), 1, 0, 0, 0, 0, 0n);
   * encoder.stampSentAt(42n);
   * if (decodeServerMessage(frame).sentAt !== 42n) throw new Error("not stamped");
   * ```
   */
  stampSentAt(sentAt: bigint): void {
    const lo = Number(BigInt.asUintN(32, sentAt));
    const hi = Number(BigInt.asUintN(32, sentAt >> 32n));
    for (const { u32, from, to } of this.#unstamped) stampRange(u32, from, to, lo, hi);
    this.#unstamped.length = 0;
    stampRange(this.#u32, this.#stampFrom, this.#at, lo, hi);
    this.#stampFrom = this.#at;
  }

  /**
   * Encodes a `BookSnapshot` into a buffer of its own (not a slab: a
   * publisher keeps snapshots and copies them per request, see
   * {@linkcode withHeader}).
   *
   * @param text The symbol.
   * @param sequence The channel sequence the snapshot reflects.
   * @param engineTime The engine time of the last event included.
   * @param bids Bid levels, best (highest) first.
   * @param asks Ask levels, best (lowest) first.
   * @returns The frame, with `requestId` and `sentAt` 0.
   *
   * @example
   * ```ts
   * import { encodeSymbol, FrameEncoder } from "./frame_encoder.ts";
   * import { decodeServerMessage } from "../wire/mod.ts";
   * import assert from "node:assert";
   *
   * const frame = new FrameEncoder().bookSnapshot(encodeSymbol("AAPL"), 12, 3n,
   *   [{ price: 10049, qty: 10, count: 2 }], []);
   * assert.deepStrictEqual(decodeServerMessage(frame), {
   *   type: "bookSnapshot", requestId: 0n, sentAt: 0n, symbol: "AAPL", sequence: 12n,
   *   bids: [{ price: 10049, quantity: 10, orderCount: 2 }], asks: [], engineTime: 3n,
   * });
   * ```
   */
  bookSnapshot(
    text: SymbolText,
    sequence: number,
    engineTime: bigint,
    bids: readonly SnapshotLevel[],
    asks: readonly SnapshotLevel[],
  ): Uint8Array {
    const t = text.words;
    const nb = bids.length;
    const na = asks.length;
    // root pointer, ServerMessage, BookSnapshot (2 data + 3 pointers), text,
    // then each list: a tag and 3 words per Level.
    const segmentWords = 12 + t + 3 * nb + 3 * na;
    const bytes = 8 + segmentWords * 8;
    const u8 = new Uint8Array(bytes);
    const u = new Uint32Array(u8.buffer);
    writeRoot(u, 0, segmentWords, TAG_BOOK_SNAPSHOT, 2, 3);
    const w = 2;
    setI64(u, w + 10, sequence);
    new DataView(u8.buffer).setBigInt64(8 + 6 * 8, engineTime, true);
    // Word 7: symbol → 10. Word 8: bids → tag at 10 + t. Word 9: asks → tag after the bids.
    setText(u, w, 7, 10, text);
    const bidsTag = 10 + t;
    const asksTag = bidsTag + 1 + 3 * nb;
    u[w + 16] = ((bidsTag - 9) << 2) | 1;
    u[w + 17] = LIST_COMPOSITE | (3 * nb) << 3;
    u[w + 18] = ((asksTag - 10) << 2) | 1;
    u[w + 19] = LIST_COMPOSITE | (3 * na) << 3;
    writeLevels(u, w + 2 * bidsTag, bids);
    writeLevels(u, w + 2 * asksTag, asks);
    return u8;
  }

  /** Reserves a frame in the slab, writes its header and root; returns its byte offset. */
  #frame(segmentWords: number, tag: number, dataWords: number, pointers: number): number {
    const bytes = 8 + segmentWords * 8;
    if (this.#at + bytes > this.#end) this.#newSlab(bytes);
    const at = this.#at;
    this.#at = at + bytes;
    writeRoot(this.#u32, at >>> 2, segmentWords, tag, dataWords, pointers);
    return at;
  }

  #newSlab(atLeast: number): void {
    if (this.#stampFrom < this.#at) {
      this.#unstamped.push({ u32: this.#u32, from: this.#stampFrom, to: this.#at });
    }
    const buffer = new ArrayBuffer(Math.max(this.#slabBytes, atLeast));
    this.#buffer = buffer;
    this.#end = buffer.byteLength;
    this.#u32 = new Uint32Array(buffer);
    this.#view = new DataView(buffer);
    this.#at = 0;
    this.#stampFrom = 0;
  }
}

/**
 * A copy of a frame with its `requestId` and `sentAt` set: how a publisher
 * answers each request with one cached snapshot.
 *
 * @param frame A frame from this module's encoders.
 * @param requestId The request's id (`0n`: unsolicited).
 * @param sentAt ns since the epoch.
 * @returns The copy.
 *
 * @example
 * ```ts
 * import { encodeSymbol, FrameEncoder, withHeader } from "./frame_encoder.ts";
 * import { decodeServerMessage } from "../wire/mod.ts";
 *
 * const snapshot = new FrameEncoder().bookSnapshot(encodeSymbol("AAPL"), 0, 0n, [], []);
 * const reply = decodeServerMessage(withHeader(snapshot, 7n, 1n));
 * if (reply.requestId !== 7n || reply.sentAt !== 1n) throw new Error("header not set");
 * ```
 */
export function withHeader(frame: Uint8Array, requestId: bigint, sentAt: bigint): Uint8Array {
  const copy = frame.slice();
  const view = new DataView(copy.buffer);
  view.setBigUint64(REQUEST_ID_BYTE, BigInt.asUintN(64, requestId), true);
  view.setBigInt64(SENT_AT_BYTE, BigInt.asIntN(64, sentAt), true);
  return copy;
}

/** Writes `sentAt` (as 32-bit halves) into every frame lying in bytes `from` to `to` of a slab. */
function stampRange(u: Uint32Array, from: number, to: number, lo: number, hi: number): void {
  for (let at = from >>> 2; at < to >>> 2; at += 2 + 2 * u[at + 1]!) {
    u[at + SENT_AT_BYTE / 4] = lo;
    u[at + SENT_AT_BYTE / 4 + 1] = hi;
  }
}

/**
 * The framing header and the `ServerMessage` root: segment table, root
 * pointer, `requestId` and `sentAt` 0, the union tag, and the pointer to the
 * member struct that starts at word 5.
 */
function writeRoot(
  u: Uint32Array,
  at: number,
  segmentWords: number,
  tag: number,
  dataWords: number,
  pointers: number,
): void {
  u[at] = 0; // segment count - 1
  u[at + 1] = segmentWords;
  const w = at + 2;
  u[w] = 0; // word 0: struct pointer, offset 0
  u[w + 1] = 3 | 1 << 16; // 3 data words, 1 pointer
  u[w + 2] = 0; // word 1: requestId
  u[w + 3] = 0;
  u[w + 4] = 0; // word 2: sentAt
  u[w + 5] = 0;
  u[w + 6] = tag; // word 3: union tag (bits 0-15), rest unused
  u[w + 7] = 0;
  u[w + 8] = 0; // word 4: struct pointer to word 5, offset 0
  u[w + 9] = dataWords | pointers << 16;
}

/** Stores a safe integer as a little-endian 64-bit two's complement word at u32 index `i`. */
function setI64(u: Uint32Array, i: number, x: number): void {
  u[i] = x >>> 0;
  // Prices, quantities and sequences nearly always fit 32 bits: skip the division.
  u[i + 1] = x >= 0 && x < TWO_32 ? 0 : Math.floor(x / TWO_32) >>> 0;
}

/** Writes the text pointer at segment word `pointer` and the text at word `target`. */
function setText(u: Uint32Array, w: number, pointer: number, target: number, text: SymbolText) {
  const p = w + 2 * pointer;
  u[p] = ((target - pointer - 1) << 2) | 1; // list pointer
  u[p + 1] = LIST_BYTES | (text.length + 1) << 3; // bytes, NUL included
  const src = text.u32;
  const dst = w + 2 * target;
  for (let i = 0; i < src.length; i++) u[dst + i] = src[i]!;
}

/** A composite list of `Level` (price, quantity, orderCount): its tag word, then the elements. */
function writeLevels(u: Uint32Array, tag: number, levels: readonly SnapshotLevel[]): void {
  u[tag] = levels.length << 2;
  u[tag + 1] = 3;
  for (let i = 0, e = tag + 2; i < levels.length; i++, e += 6) {
    const level = levels[i]!;
    setI64(u, e, level.price);
    setI64(u, e + 2, level.qty);
    u[e + 4] = level.count;
  }
}
