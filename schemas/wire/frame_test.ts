import assert from "node:assert";
import { framed, words } from "./_testing.ts";
import { checkFrame, type FrameLimits, type FrameProblem } from "./frame.ts";

function check(
  name: string,
  frame: Uint8Array,
  expected: FrameProblem["reason"] | undefined,
  includes = "",
  limits?: FrameLimits,
) {
  const problem = checkFrame(frame, limits);
  assert.deepStrictEqual(problem?.reason, expected, name);
  if (problem && !problem.message.includes(includes)) {
    throw new Error(`${name}: message ${JSON.stringify(problem.message)} lacks "${includes}"`);
  }
}

/** A frame header claiming `count` segments (the rest of the frame all zero). */
function claiming(count: number, frameBytes: number): Uint8Array {
  const frame = new Uint8Array(frameBytes);
  new DataView(frame.buffer).setUint32(0, count - 1, true);
  return frame;
}

Deno.test("checkFrame() accepts sound one- and multi-segment headers", () => {
  check("one segment", framed(words(0n, 0n)), undefined);
  check("two segments", framed(words(0n), words(0n, 0n, 0n)), undefined);
  check("three segments, empty middle", framed(words(0n), new Uint8Array(0), words(0n)), undefined);
});

Deno.test("checkFrame() refuses frames over the size limit before anything else", () => {
  check("default 64 KiB", new Uint8Array(64 * 1024 + 8), "frameTooLarge", "65544 bytes");
  check("exactly the limit is fine", framed(new Uint8Array(64 * 1024 - 8)), undefined);
  check("custom limit", framed(words(0n, 0n)), "frameTooLarge", "limit is 16", {
    maxFrameBytes: 16,
  });
});

Deno.test("checkFrame() refuses impossible segment counts without allocating for them", () => {
  check("2^32 segments", claiming(2 ** 32, 16), "malformedFrame", "4294967296 segments");
  check("2^31 segments", claiming(2 ** 31, 16), "malformedFrame", "2147483648 segments");
  check("over maxSegments", claiming(65, 1024), "malformedFrame", "limit is 64");
  check(
    "table longer than the frame",
    claiming(64, 64),
    "malformedFrame",
    "table alone needs 264 bytes",
  );
  check(
    "2^31 segments with a generous limit",
    claiming(2 ** 31, 16),
    "malformedFrame",
    "table alone",
    { maxSegments: 2 ** 32 },
  );
});

Deno.test("checkFrame() refuses segment sizes that do not add up to the frame", () => {
  const frame = framed(words(1n, 2n, 3n));
  const beyond = frame.slice();
  new DataView(beyond.buffer).setUint32(4, 0xffff_ffff, true);
  check("segment beyond the frame", beyond, "malformedFrame", "truncated");
  check("truncated by a word", frame.slice(0, frame.byteLength - 8), "malformedFrame", "truncated");
  const longer = new Uint8Array(frame.byteLength + 8);
  longer.set(frame);
  check("trailing word", longer, "malformedFrame", "trailing bytes");
  const empty = frame.slice();
  new DataView(empty.buffer).setUint32(4, 0, true);
  check("empty first segment", empty.slice(0, 8), "malformedFrame", "first segment is empty");
});

Deno.test("checkFrame() refuses frames that are not whole words", () => {
  check("empty", new Uint8Array(0), "malformedFrame", "0 bytes");
  check("3 bytes", new Uint8Array(3), "malformedFrame", "3 bytes");
  check("a word and a byte", new Uint8Array(17), "malformedFrame", "17 bytes");
});
