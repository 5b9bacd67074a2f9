/**
 * What capnp-es could not read, in the wire's own words. capnp-es's errors
 * name its internals (`CAPNP-TS…`, arena and pointer dumps); a trader is told
 * which part of the frame is wrong and how, and nothing of the library.
 * Private to the wire: `schemas/wire/` and `core/wire/client.ts`.
 *
 * @module
 */

/** A fault found by our own checks while capnp-es reads: its message is already ours. */
export class FrameFault extends Error {
  override readonly name = "FrameFault";
}

/**
 * How a pointer that capnp-es refused is wrong, as the end of a sentence whose
 * subject is the pointer ("the root pointer" + " points outside its segment").
 * capnp-es's text is only matched to pick the words, never passed on; an error
 * it did not describe reads "cannot be read as the schema says".
 *
 * @param error What capnp-es (or a `DataView` under it) threw.
 * @returns The description.
 *
 * @example
 * ```ts
 * import { pointerFault } from "./_unreadable.ts";
 * import assert from "node:assert";
 *
 * assert.deepStrictEqual(pointerFault(new RangeError("Offset is outside the bounds of the DataView")),
 *   "points outside its segment");
 * ```
 */
export function pointerFault(error: unknown): string {
  const text = error instanceof Error ? error.message : "";
  if (/segment id/i.test(text)) return "points into a segment the frame does not have";
  if (error instanceof RangeError || /out of bounds|outside the bounds/i.test(text)) {
    return "points outside its segment";
  }
  if (/convert/i.test(text)) return "is not the kind of pointer the schema has there";
  return "cannot be read as the schema says";
}
