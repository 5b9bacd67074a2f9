/**
 * FNV-1a 64 over 64-bit words, the building block of `STATE_HASH.md`: the
 * hash both matchers compute over their books so that equal hashes mean
 * equal books.
 *
 * @module
 */

// The 64-bit state is kept as two unsigned 32-bit halves: a BigInt per byte
// would allocate eight times per word, and the hash walks every resting order.
const OFFSET_HI = 0xcbf29ce4;
const OFFSET_LO = 0x84222325;
/** The low half of the FNV prime 0x100000001b3; its high half is 1 << 8 (i.e. 2^40 overall). */
const PRIME_LO = 0x1b3;
const TWO_32 = 0x1_0000_0000;

/**
 * Incremental FNV-1a 64 over 64-bit little-endian words, exactly as
 * `STATE_HASH.md` specifies.
 *
 * @example
 * ```ts
 * import { StateHasher } from "./state_hash.ts";
 * import assert from "node:assert";
 *
 * const h = new StateHasher();
 * assert.deepStrictEqual(h.digest(), 0xcbf29ce484222325n); // the offset basis
 * h.word(0); // instrument 0
 * h.word(2); // two bid levels
 * assert.deepStrictEqual(h.digest(), 0xc615adcb76ddf8a7n);
 * ```
 */
export class StateHasher {
  #hi = OFFSET_HI;
  #lo = OFFSET_LO;

  /**
   * Mixes in the 8 little-endian bytes of `x` as an unsigned 64-bit word.
   * A negative `x` is taken in two's complement, as Rust's `x as u64` would.
   *
   * @param x A safe integer.
   * @throws {RangeError} If `x` is not a safe integer.
   *
   * @example
   * ```ts
   * import { StateHasher } from "./state_hash.ts";
   * new StateHasher().word(10050);
   * ```
   */
  word(x: number): void {
    if (!Number.isSafeInteger(x)) {
      throw new RangeError(`Cannot hash word: ${x} is not a safe integer`);
    }
    let hLo = this.#lo;
    let hHi = this.#hi;
    // The word's low half, then its high half; each a byte at a time.
    for (let half = 0, bits = x >>> 0; half < 2; half++, bits = Math.floor(x / TWO_32) >>> 0) {
      for (let shift = 0; shift < 32; shift += 8) {
        const lo = (hLo ^ ((bits >>> shift) & 0xff)) >>> 0;
        // h * prime = h * 0x1b3 + (h << 40) (mod 2^64). lo * 0x1b3 < 2^41 is
        // exact in a double, so its carry into the high half is a division.
        const product = lo * PRIME_LO;
        hLo = product >>> 0;
        hHi = (Math.imul(hHi, PRIME_LO) + Math.floor(product / TWO_32) + (lo << 8)) >>> 0;
      }
    }
    this.#lo = hLo;
    this.#hi = hHi;
  }

  /**
   * The hash of every word so far. Hashing may continue afterwards.
   *
   * @returns The 64-bit hash as an unsigned bigint.
   *
   * @example
   * ```ts
   * import { StateHasher } from "./state_hash.ts";
   * import assert from "node:assert";
   *
   * const h = new StateHasher();
   * h.word(1);
   * assert.deepStrictEqual(h.digest().toString(16), "89cd31291d2aefa4");
   * ```
   */
  digest(): bigint {
    return (BigInt(this.#hi) << 32n) | BigInt(this.#lo);
  }
}
