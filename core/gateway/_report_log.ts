/**
 * An account's execution reports for `requestOrders`: the latest `capacity`
 * of them, in a ring, so that memory is bounded by the count kept, not by
 * the day's orders. Private to `core/gateway/` (the order router's).
 *
 * Sequences are the account's execution sequence: 1, 2, 3… without gaps;
 * the log keeps `oldest..latest`, and `oldest` moves on as new reports push
 * the oldest out.
 *
 * @module
 */

/**
 * The latest `capacity` reports, by sequence.
 *
 * @example
 * ```ts
 * import { ReportLog } from "./_report_log.ts";
 * import assert from "node:assert";
 *
 * const log = new ReportLog<{ sequence: bigint }>(2);
 * for (let i = 1n; i <= 3n; i++) log.append({ sequence: i });
 * assert.deepStrictEqual([log.oldest, log.latest, log.size], [2, 3, 2]);
 * assert.deepStrictEqual(log.at(1), undefined); // pushed out
 * assert.deepStrictEqual(log.at(3), { sequence: 3n });
 * ```
 */
export class ReportLog<T extends { readonly sequence: bigint }> {
  readonly #capacity: number;
  readonly #ring: T[] = [];
  #latest = 0;

  /**
   * An empty log.
   *
   * @param capacity The most reports kept (at least 1).
   * @throws {RangeError} If `capacity` is not a positive safe integer.
   */
  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(
        `Cannot keep execution reports: the count kept must be a positive integer, got ${capacity}`,
      );
    }
    this.#capacity = capacity;
  }

  /** The latest sequence (0 before any report). */
  get latest(): number {
    return this.#latest;
  }

  /** The oldest sequence still kept; `latest + 1` when none is. */
  get oldest(): number {
    return this.#latest - this.#ring.length + 1;
  }

  /** How many reports are kept. */
  get size(): number {
    return this.#ring.length;
  }

  /**
   * Appends the next report, pushing the oldest out when full.
   *
   * @param report The report; its sequence must be `latest + 1`.
   * @throws {RangeError} If it is not.
   */
  append(report: T): void {
    const sequence = this.#latest + 1;
    if (report.sequence !== BigInt(sequence)) {
      throw new RangeError(
        `Cannot keep execution report ${report.sequence}: the next sequence is ${sequence}`,
      );
    }
    if (this.#ring.length < this.#capacity) this.#ring.push(report);
    else this.#ring[(sequence - 1) % this.#capacity] = report;
    this.#latest = sequence;
  }

  /**
   * The report with this sequence, if kept.
   *
   * @param sequence The sequence.
   * @returns The report, or `undefined` if it is out of `oldest..latest`.
   */
  at(sequence: number): T | undefined {
    if (sequence < this.oldest || sequence > this.#latest) return undefined;
    return this.#ring[(sequence - 1) % this.#capacity];
  }
}
