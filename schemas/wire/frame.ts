/**
 * The frame header check that runs before any Cap'n Proto code sees a byte.
 *
 * A frame is one Cap'n Proto message in the standard stream framing:
 *
 * ```text
 * u32 segmentCount - 1 | u32 words of segment 0 | … | u32 words of segment n-1 | pad to 8 | segments…
 * ```
 *
 * capnp-es trusts this table: it allocates an array of `segmentCount`
 * entries (up to 2^32) before checking that the frame can hold them, and only
 * then bounds-checks segment sizes. So every claim in the table is checked
 * here, by hand, against the frame's real length and the limits, with no
 * allocation.
 *
 * @module
 */

/** Size limits for client frames. */
export interface FrameLimits {
  /** Largest frame accepted, in bytes. Default 64 KiB. */
  readonly maxFrameBytes?: number;
  /**
   * Most segments a frame may have. Default 64. Writers put a small message
   * in one segment; the bound keeps a frame from costing more than a few
   * objects per segment.
   */
  readonly maxSegments?: number;
}

/** The limits used when none are given. */
export const DEFAULT_FRAME_LIMITS: Readonly<Required<FrameLimits>> = {
  maxFrameBytes: 64 * 1024,
  maxSegments: 64,
};

/** What is wrong with a frame's header, if anything. */
export type FrameProblem =
  | { readonly reason: "frameTooLarge"; readonly message: string }
  | { readonly reason: "malformedFrame"; readonly message: string };

/**
 * Checks a frame's size and segment table without decoding it.
 *
 * Checks, in order: the length against `maxFrameBytes` (`frameTooLarge`); a
 * whole number of 8-byte words holding at least the table's first word; the
 * segment count against `maxSegments` and against what the frame can hold; a
 * non-empty first segment (it holds the root pointer); and the segments'
 * sizes adding up to exactly the rest of the frame (truncated or trailing
 * bytes are `malformedFrame`).
 *
 * @param bytes The frame, as received.
 * @param limits Overrides of {@linkcode DEFAULT_FRAME_LIMITS}.
 * @returns `undefined` if the header is sound, else the problem.
 *
 * @example
 * ```ts
 * import { checkFrame } from "./frame.ts";
 * import assert from "node:assert";
 *
 * // 2^32 segments claimed by a 16-byte frame.
 * const frame = new Uint8Array([0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
 * assert.deepStrictEqual(checkFrame(frame)?.reason, "malformedFrame");
 * assert.deepStrictEqual(checkFrame(new Uint8Array(70_000))?.reason, "frameTooLarge");
 * ```
 */
export function checkFrame(bytes: Uint8Array, limits?: FrameLimits): FrameProblem | undefined {
  const maxFrameBytes = limits?.maxFrameBytes ?? DEFAULT_FRAME_LIMITS.maxFrameBytes;
  const maxSegments = limits?.maxSegments ?? DEFAULT_FRAME_LIMITS.maxSegments;
  const length = bytes.byteLength;
  if (length > maxFrameBytes) {
    return {
      reason: "frameTooLarge",
      message: `Cannot read frame: ${length} bytes, the limit is ${maxFrameBytes}`,
    };
  }
  if (length < 8 || length % 8 !== 0) {
    return malformed(`${length} bytes is not a whole number of 8-byte words, or too few`);
  }
  const segmentCount = u32(bytes, 0) + 1; // up to 2^32, exact as a double
  if (segmentCount > maxSegments) {
    return malformed(`the header claims ${segmentCount} segments, the limit is ${maxSegments}`);
  }
  // 4 bytes of count, 4 per segment, padded to a word (no bitwise arithmetic:
  // with a generous maxSegments the count may exceed 2^31).
  const tableBytes = Math.ceil((4 + 4 * segmentCount) / 8) * 8;
  if (tableBytes > length) {
    return malformed(
      `the header claims ${segmentCount} segments, whose table alone needs ${tableBytes} bytes of ${length}`,
    );
  }
  let segmentBytes = 0; // at most maxSegments * 2^35: exact as a double
  for (let i = 0; i < segmentCount; i++) {
    const words = u32(bytes, 4 + 4 * i);
    if (i === 0 && words === 0) return malformed("the first segment is empty (no root pointer)");
    segmentBytes += words * 8;
  }
  const expected = tableBytes + segmentBytes;
  if (expected > length) {
    return malformed(`the header claims ${expected} bytes, the frame is truncated at ${length}`);
  }
  if (expected < length) {
    return malformed(
      `the header claims ${expected} bytes, the frame has ${length} (trailing bytes)`,
    );
  }
  return undefined;
}

function malformed(why: string): FrameProblem {
  return { reason: "malformedFrame", message: `Cannot read frame: ${why}` };
}

/** Little-endian u32 at `offset` (the caller has checked the bounds). */
function u32(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! | bytes[offset + 1]! << 8 | bytes[offset + 2]! << 16 |
    bytes[offset + 3]! << 24) >>> 0;
}
