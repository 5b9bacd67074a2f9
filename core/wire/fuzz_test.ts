/**
 * Property tests: decodeClientFrame() against random bytes and mutated valid
 * frames. It must never throw, and never allocate buffers beyond what the
 * frame's size justifies.
 */

import fc from "fast-check";
import assert from "node:assert";
import { EVERY_REQUEST } from "./_fixtures.ts";
import { CAPNP_ES_TEXT, framed, structPointer, words } from "./_testing.ts";
import { decodeClientFrame, type DecodeResult, encodeClientMessage } from "./client.ts";
import { ReasonCode } from "./types.ts";

const VALID = EVERY_REQUEST.map(encodeClientMessage);

/** The bytes of every `ArrayBuffer` created or sliced while `fn` runs. */
function countingBuffers<T>(fn: () => T): { result: T; largest: number; total: number } {
  const Original = globalThis.ArrayBuffer;
  const slice = Original.prototype.slice;
  let largest = 0;
  let total = 0;
  const note = (bytes: number) => {
    total += bytes;
    if (bytes > largest) largest = bytes;
  };
  class Counting extends Original {
    constructor(length = 0, options?: { maxByteLength?: number }) {
      super(length, options);
      note(length);
    }
  }
  Original.prototype.slice = function (this: ArrayBuffer, start?: number, end?: number) {
    const out = slice.call(this, start, end);
    note(out.byteLength);
    return out;
  };
  globalThis.ArrayBuffer = Counting as ArrayBufferConstructor;
  try {
    return { result: fn(), largest, total };
  } finally {
    globalThis.ArrayBuffer = Original;
    Original.prototype.slice = slice;
  }
}

/** capnp-es's segment size when it must allocate (a resized struct). */
const CAPNP_ES_SEGMENT = 4096;

/**
 * Decodes `frame`, checking the properties: no throw, a well-formed result,
 * and buffers bounded by the frame. capnp-es copies each segment once (at most
 * the frame), and may resize the root and the request struct when they are
 * smaller than the schema's, each into a new 4 KiB segment (a far pointer to
 * it may need one more): four such segments at most.
 */
function decodesSafely(frame: Uint8Array): DecodeResult {
  let counted: ReturnType<typeof countingBuffers<DecodeResult>>;
  try {
    counted = countingBuffers(() => decodeClientFrame(frame));
  } catch (e) {
    throw new Error(`decodeClientFrame() threw on ${hex(frame)}: ${e}`);
  }
  const { result, largest, total } = counted;
  if (result.ok) {
    assert(typeof result.message.type === "string", "a request has a type");
  } else {
    assert(Object.hasOwn(ReasonCode, result.reason), `unknown reason ${result.reason}`);
    assert(result.message.startsWith("Cannot "), result.message);
    // A symbol's message echoes the client's bytes; a frame's is all ours.
    if (result.reason === "malformedFrame") {
      assert(!CAPNP_ES_TEXT.test(result.message), `capnp-es's words: ${result.message}`);
    }
  }
  assert(
    largest <= Math.max(frame.byteLength, CAPNP_ES_SEGMENT),
    `a ${largest}-byte buffer for a ${frame.byteLength}-byte frame: ${hex(frame)}`,
  );
  assert(
    total <= frame.byteLength + 4 * CAPNP_ES_SEGMENT,
    `${total} bytes of buffers for a ${frame.byteLength}-byte frame: ${hex(frame)}`,
  );
  return result;
}

function hex(bytes: Uint8Array): string {
  const shown = [...bytes.subarray(0, 96)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return bytes.byteLength > 96 ? `${shown}…` : shown;
}

Deno.test("the allocation counter sees capnp-es's buffers", () => {
  // The segment copy of a valid frame.
  const { total } = countingBuffers(() => decodeClientFrame(VALID[0]!));
  assert(total >= VALID[0]!.byteLength - 8, `counted ${total}`);
  // An older client's root (requestId only): capnp-es resizes it into a new segment.
  const old = framed(words(structPointer(0, 1, 0), 99n));
  const resized = countingBuffers(() => decodeClientFrame(old));
  assert(resized.largest === CAPNP_ES_SEGMENT, `largest ${resized.largest}`);
});

Deno.test("decodeClientFrame() never throws on random bytes", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => void decodesSafely(bytes)),
    { numRuns: 3000 },
  );
});

Deno.test("decodeClientFrame() never throws on random structs behind a sound header", () => {
  // A header that is right about the frame's size and a root pointer to a
  // struct of random size, followed by random words: past the header check,
  // into capnp-es and the request readers.
  const frame = fc.record({
    dataWords: fc.integer({ min: 0, max: 5 }),
    pointers: fc.integer({ min: 0, max: 3 }),
    tag: fc.integer({ min: 0, max: 11 }),
    rest: fc.integer({ min: 0, max: 40 }).chain((n) =>
      fc.uint8Array({ minLength: n * 8, maxLength: n * 8 })
    ),
  }).map(({ dataWords, pointers, tag, rest }) => {
    const words = 1 + Math.max(dataWords + pointers, rest.byteLength / 8);
    const out = new Uint8Array(8 + words * 8);
    const view = new DataView(out.buffer);
    view.setUint32(4, words, true);
    out.set(rest, 16);
    view.setUint32(8, 0, true); // struct pointer, offset 0
    view.setUint16(12, dataWords, true);
    view.setUint16(14, pointers, true);
    if (dataWords >= 3) view.setUint16(16 + 16, tag, true);
    return out;
  });
  const seen = new Set<string>();
  fc.assert(
    fc.property(frame, (bytes) => {
      const result = decodesSafely(bytes);
      seen.add(result.ok ? "ok" : result.reason);
    }),
    { numRuns: 3000 },
  );
  // The generator reaches past capnp-es into the field checks.
  assert(
    seen.has("ok") && seen.has("unknownMessage") && seen.has("unknownSymbol"),
    [...seen].join(),
  );
});

Deno.test("decodeClientFrame() never throws on mutated valid frames", () => {
  const mutation = fc.oneof(
    fc.record({
      kind: fc.constant("byte" as const),
      at: fc.nat(),
      value: fc.integer({ min: 0, max: 255 }),
    }),
    fc.record({
      kind: fc.constant("u32" as const),
      at: fc.nat(),
      value: fc.nat({ max: 0xffff_ffff }),
    }),
    fc.record({
      kind: fc.constant("u32" as const),
      at: fc.nat(),
      value: fc.constantFrom(0, 1, 2, 3, 0x7fff_ffff, 0x8000_0000, 0xffff_fffc, 0xffff_ffff),
    }),
    fc.record({ kind: fc.constant("cut" as const), at: fc.nat(), value: fc.constant(0) }),
  );
  fc.assert(
    fc.property(
      fc.constantFrom(...VALID),
      fc.array(mutation, { minLength: 1, maxLength: 4 }),
      (valid, mutations) => {
        let frame = valid.slice();
        for (const { kind, at, value } of mutations) {
          if (kind === "cut") {
            frame = frame.slice(0, at % (frame.byteLength + 1));
          } else if (frame.byteLength >= 4) {
            const i = at % (frame.byteLength - (kind === "u32" ? 3 : 0));
            if (kind === "byte") frame[i] = value;
            else new DataView(frame.buffer).setUint32(i & ~3, value, true);
          }
        }
        decodesSafely(frame);
      },
    ),
    { numRuns: 5000 },
  );
});
