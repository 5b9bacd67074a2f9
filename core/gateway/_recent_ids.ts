/**
 * The client order ids a session used most recently: a set that forgets
 * the oldest once it holds `capacity`, so that memory is bounded by the
 * count kept, not by the day's orders. Private to `core/gateway/` (the
 * order router's duplicate check, which also refuses every working order's
 * id, however old).
 *
 * @module
 */

/**
 * The last `capacity` distinct ids added, in order of addition.
 *
 * @example
 * ```ts
 * import { RecentIds } from "./_recent_ids.ts";
 * import assert from "node:assert";
 *
 * const ids = new RecentIds(2);
 * ids.add(1n);
 * ids.add(2n);
 * ids.add(3n); // forgets 1
 * assert.deepStrictEqual([ids.has(1n), ids.has(2n), ids.has(3n), ids.size], [false, true, true, 2]);
 * ```
 */
export class RecentIds {
  readonly #capacity: number;
  readonly #set = new Set<bigint>();
  /**
   * The ids in order of addition, a ring: while not full, `#next` is the
   * count; once full, `#ring[#next]` is the oldest. Grown on demand up to
   * `capacity` (most sessions use few ids).
   */
  #ring: BigUint64Array;
  #next = 0;

  /**
   * An empty set.
   *
   * @param capacity The most ids kept (at least 1).
   * @throws {RangeError} If `capacity` is not a positive safe integer.
   */
  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(
        `Cannot keep client order ids: the count kept must be a positive integer, got ${capacity}`,
      );
    }
    this.#capacity = capacity;
    this.#ring = new BigUint64Array(Math.min(capacity, 64));
  }

  /** How many ids are kept. */
  get size(): number {
    return this.#set.size;
  }

  /**
   * Whether `id` is among the kept ones.
   *
   * @param id A client order id (UInt64).
   * @returns True if kept.
   */
  has(id: bigint): boolean {
    return this.#set.has(id);
  }

  /**
   * Adds `id` (no change if kept already), forgetting the oldest when full.
   *
   * @param id A client order id (UInt64).
   */
  add(id: bigint): void {
    if (this.#set.has(id)) return;
    if (this.#set.size === this.#capacity) {
      this.#set.delete(this.#ring[this.#next]!);
    } else if (this.#next === this.#ring.length) {
      const grown = new BigUint64Array(Math.min(this.#capacity, this.#ring.length * 2));
      grown.set(this.#ring);
      this.#ring = grown;
    }
    this.#ring[this.#next] = id;
    this.#next = (this.#next + 1) % this.#capacity;
    this.#set.add(id);
  }
}
