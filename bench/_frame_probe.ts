/**
 * Reads the few fields the gateway benchmarks time by out of a server frame
 * without decoding it: the union tag, `requestId`, `sentAt`, and the
 * member's `sequence` and `engineTime`. Private to `bench/`.
 *
 * A bench client receives every frame on up to a thousand sockets; decoding
 * each with capnp-es (~10 µs) would make the client, not the core, the thing
 * measured. This follows the two struct pointers (root, then the union
 * member) as any Cap'n Proto reader would, so it does not depend on how the
 * core laid the frame out, only on the schema's field offsets, which
 * `capnp compile -ocapnp schemas/gateway.capnp` prints and which never
 * change (ordinals are never reused).
 *
 * Times are returned as nanoseconds since a base the caller chooses (an
 * integral number of ms since the epoch), in doubles: exact while within
 * 2^53 ns (104 days) of the base, where a full epoch time would lose 256 ns.
 *
 * @module
 */

/** `ServerMessage` union tags (`capnp compile -ocapnp`). */
export const Tag = {
  executionReport: 0,
  reject: 1,
  bookSnapshot: 2,
  bookDelta: 3,
  trade: 4,
  quote: 5,
  heartbeat: 6,
  resync: 7,
  positions: 8,
  error: 9,
} as const;

/** Data word of `engineTime` in each member that has one. */
const ENGINE_TIME_WORD: readonly (number | undefined)[] = [
  11, // ExecutionReport: bits [704, 768)
  undefined,
  undefined, // BookSnapshot: not read here
  1, // BookDelta: bits [64, 128)
  5, // Trade: bits [320, 384)
  5, // Quote: bits [320, 384)
];

const TWO_32 = 0x1_0000_0000;

/** What {@linkcode FrameProbe.read} found; one object, overwritten by each read. */
export interface ProbedFrame {
  /** The `ServerMessage` union tag ({@linkcode Tag}). */
  tag: number;
  /** `requestId`, exact below 2^53. */
  requestId: number;
  /** `sentAt` in ns since the base; `NaN` when 0 (not set). */
  sentAt: number;
  /** The member's data word 0: the channel sequence of a delta, trade or quote. */
  sequence: number;
  /** The member's `engineTime` in ns since the base; `NaN` when absent or 0. */
  engineTime: number;
  /** An execution report's `execType` (accepted 0, trade 1, cancelled 2, expired 3, replaced 4). */
  execType: number;
}

/**
 * A reusable reader of server frames, with the time base fixed at creation.
 *
 * @example
 * ```ts
 * import { FrameProbe, Tag } from "./_frame_probe.ts";
 * import { encodeServerMessage } from "../core/wire/server.ts";
 *
 * const probe = new FrameProbe(1_700_000_000_000);
 * const frame = encodeServerMessage({
 *   type: "trade", symbol: "AAPL", sequence: 9n, tradeId: 1n, price: 100, quantity: 5,
 *   aggressorSide: "buy", engineTime: 1_700_000_000_000_000_250n, sentAt: 1_700_000_000_001_000_000n,
 * });
 * const f = probe.read(frame);
 * if (f?.tag !== Tag.trade || f.engineTime !== 250 || f.sentAt !== 1_000_000) throw new Error("misread");
 * ```
 */
export class FrameProbe {
  readonly #baseHi: number;
  readonly #baseLo: number;
  readonly #out: ProbedFrame = {
    tag: -1,
    requestId: 0,
    sentAt: NaN,
    sequence: 0,
    engineTime: NaN,
    execType: 0,
  };

  /**
   * @param baseMs The time base: whole ms since the epoch.
   * @throws {RangeError} If `baseMs` is not a non-negative safe integer.
   */
  constructor(baseMs: number) {
    if (!Number.isSafeInteger(baseMs) || baseMs < 0) {
      throw new RangeError(`Cannot make a frame probe: baseMs must be whole ms, got ${baseMs}`);
    }
    const base = BigInt(baseMs) * 1_000_000n;
    this.#baseHi = Number(base >> 32n);
    this.#baseLo = Number(base & 0xffff_ffffn);
  }

  /**
   * Reads a frame.
   *
   * @param frame One binary WebSocket message.
   * @returns The fields (the same object every call), or undefined when the
   *   frame is not a single-segment message with a struct root and member.
   */
  read(frame: ArrayBuffer | Uint8Array): ProbedFrame | undefined {
    const bytes = frame instanceof Uint8Array ? frame : new Uint8Array(frame);
    if (bytes.byteLength < 16 || (bytes.byteOffset & 3) !== 0 || (bytes.byteLength & 7) !== 0) {
      return undefined;
    }
    const u = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2);
    // Stream framing: segment count - 1, then each segment's size in words.
    if (u[0] !== 0) return undefined;
    const words = u[1]!;
    if (words * 2 + 2 > u.length) return undefined;
    const seg = 2; // u32 index of segment word 0
    const root = structAt(u, seg, 0, words);
    if (root === undefined) return undefined;
    const out = this.#out;
    const rootData = root >>> 16;
    const rootStart = root & 0xffff;
    out.requestId = rootData > 0 ? word(u, seg, rootStart) : 0;
    out.sentAt = rootData > 1 ? this.#time(u, seg + 2 * (rootStart + 1)) : NaN;
    out.tag = rootData > 2 ? u[seg + 2 * (rootStart + 2)]! & 0xffff : 0;
    out.sequence = 0;
    out.engineTime = NaN;
    out.execType = 0;
    const member = structAt(u, seg, rootStart + rootData, words);
    if (member === undefined) return out;
    const memberData = member >>> 16;
    const memberStart = member & 0xffff;
    if (memberData > 0) out.sequence = word(u, seg, memberStart);
    const at = ENGINE_TIME_WORD[out.tag];
    if (at !== undefined && memberData > at) {
      out.engineTime = this.#time(u, seg + 2 * (memberStart + at));
    }
    if (out.tag === Tag.executionReport && memberData > 1) {
      out.execType = u[seg + 2 * (memberStart + 1)]! & 0xffff;
    }
    return out;
  }

  /** The int64 at u32 index `i` as ns since the base; NaN when 0. */
  #time(u: Uint32Array, i: number): number {
    const lo = u[i]!;
    const hi = u[i + 1]!;
    if (lo === 0 && hi === 0) return NaN;
    return (hi - this.#baseHi) * TWO_32 + (lo - this.#baseLo);
  }
}

/** The unsigned word at segment word `w`, exact below 2^53. */
function word(u: Uint32Array, seg: number, w: number): number {
  return u[seg + 2 * w + 1]! * TWO_32 + u[seg + 2 * w]!;
}

/**
 * Follows the struct pointer at segment word `p`: returns its target's
 * start word (low 16 bits) and data words (high bits), or undefined when it
 * is null, not a struct pointer, or points outside the segment. Frames here
 * are small: starts beyond 65,535 words are refused.
 */
function structAt(u: Uint32Array, seg: number, p: number, words: number): number | undefined {
  if (p >= words) return undefined;
  const lo = u[seg + 2 * p]!;
  const hi = u[seg + 2 * p + 1]!;
  if ((lo & 3) !== 0 || (lo === 0 && hi === 0)) return undefined;
  const start = p + 1 + ((lo | 0) >> 2);
  const data = hi & 0xffff;
  const pointers = hi >>> 16;
  if (start < 0 || start > 0xffff || start + data + pointers > words) return undefined;
  return data * 0x1_0000 + start;
}
