/**
 * Test helpers for the wire: frames built by hand, word by word.
 *
 * @module
 */

/**
 * Frames segments (each a whole number of words) with the standard stream
 * header.
 */
export function framed(...segments: Uint8Array[]): Uint8Array {
  const table = Math.ceil((4 + 4 * segments.length) / 8) * 8;
  const body = segments.reduce((n, s) => n + s.byteLength, 0);
  const out = new Uint8Array(table + body);
  const view = new DataView(out.buffer);
  view.setUint32(0, segments.length - 1, true);
  segments.forEach((s, i) => view.setUint32(4 + 4 * i, s.byteLength / 8, true));
  let at = table;
  for (const s of segments) {
    out.set(s, at);
    at += s.byteLength;
  }
  return out;
}

/** A segment from 64-bit words. */
export function words(...values: bigint[]): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setBigUint64(i * 8, BigInt.asUintN(64, v), true));
  return out;
}
