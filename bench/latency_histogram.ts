/**
 * A latency histogram for figures gathered in another process: fixed
 * memory whatever the number of samples, mergeable, and sent between
 * processes as JSON. The gateway benchmarks record millions of
 * per-subscriber latencies in their client processes and merge them here.
 *
 * Buckets are log-linear, as HdrHistogram's: exact below 128 ns, then 128
 * buckets per power of two, so a reported percentile is within 0.4 % of
 * the sample it stands for (a bucket's midpoint). Values up to 2^40 ns
 * (18 minutes) are kept apart; larger ones share the last bucket, and the
 * exact minimum, maximum and mean are kept beside the buckets.
 *
 * @example
 * ```ts
 * import { LatencyHistogram } from "./latency_histogram.ts";
 *
 * const h = new LatencyHistogram();
 * for (let i = 1; i <= 1000; i++) h.record(i * 1_000); // 1 µs … 1 ms
 * const p = h.percentiles();
 * console.log(p.samples, p.max); // 1000 1000000
 * if (Math.abs(p.p50 / 500_000 - 1) > 0.004) throw new Error(`p50 ${p.p50}`);
 * ```
 *
 * @module
 */

import type { Percentiles } from "./subject.ts";

/** Sub-buckets per power of two (and the exact range below it). */
const SUB = 128;
const SUB_BITS = 7;
/** The largest exponent with its own buckets: 2^40 ns. */
const MAX_EXP = 40;
/** Number of buckets. */
const BUCKETS = SUB + (MAX_EXP - SUB_BITS + 1) * SUB;
const TWO_32 = 0x1_0000_0000;

/** A histogram as JSON: non-empty buckets as `[index, count]` pairs, and the exact extremes. */
export interface HistogramJson {
  readonly buckets: readonly (readonly [number, number])[];
  readonly count: number;
  readonly min: number;
  readonly max: number;
  readonly sum: number;
  readonly negatives: number;
}

/** Index of the bucket holding `v` (a non-negative number of ns). */
function bucketOf(v: number): number {
  if (v < SUB) return Math.floor(v);
  const whole = Math.floor(v);
  const e = whole < TWO_32 ? 31 - Math.clz32(whole) : 63 - Math.clz32(Math.floor(whole / TWO_32));
  if (e > MAX_EXP) return BUCKETS - 1;
  const m = Math.floor(whole / 2 ** (e - SUB_BITS)); // in [128, 256)
  return SUB + (e - SUB_BITS) * SUB + (m - SUB);
}

/** The middle of bucket `i`'s range (its value for exact buckets). */
function midpointOf(i: number): number {
  if (i < SUB) return i;
  const e = SUB_BITS + Math.floor((i - SUB) / SUB);
  const m = SUB + ((i - SUB) % SUB);
  const width = 2 ** (e - SUB_BITS);
  return m * width + (width - 1) / 2;
}

/**
 * Latencies in nanoseconds; see the module documentation.
 */
export class LatencyHistogram {
  readonly #counts = new Float64Array(BUCKETS);
  #count = 0;
  #min = Infinity;
  #max = -Infinity;
  #sum = 0;
  #negatives = 0;

  /** Samples recorded. */
  get count(): number {
    return this.#count;
  }

  /** Samples below 0 (recorded as 0): clock skew between processes, if any. */
  get negatives(): number {
    return this.#negatives;
  }

  /** The exact mean, or NaN when empty. */
  get mean(): number {
    return this.#count === 0 ? NaN : this.#sum / this.#count;
  }

  /**
   * Records one latency. A negative one counts as 0 (and in
   * {@linkcode LatencyHistogram.negatives}); NaN is ignored.
   *
   * @param ns The latency in nanoseconds.
   */
  record(ns: number): void {
    if (Number.isNaN(ns)) return;
    let v = ns;
    if (v < 0) {
      this.#negatives++;
      v = 0;
    }
    this.#counts[bucketOf(v)]!++;
    this.#count++;
    this.#sum += v;
    if (v < this.#min) this.#min = v;
    if (v > this.#max) this.#max = v;
  }

  /**
   * Adds another histogram's samples to this one.
   *
   * @param other A histogram, or its JSON.
   */
  merge(other: LatencyHistogram | HistogramJson): void {
    const json = other instanceof LatencyHistogram ? other.toJSON() : other;
    for (const [i, n] of json.buckets) {
      if (!Number.isInteger(i) || i < 0 || i >= BUCKETS || !(n >= 0)) {
        throw new RangeError(`Cannot merge histogram: bucket ${i} of ${n} samples is out of range`);
      }
      this.#counts[i]! += n;
    }
    if (json.count === 0) return;
    this.#count += json.count;
    this.#sum += json.sum;
    this.#negatives += json.negatives;
    this.#min = Math.min(this.#min, json.min);
    this.#max = Math.max(this.#max, json.max);
  }

  /**
   * The latency at quantile `q` by the nearest-rank method: the midpoint of
   * the bucket holding the ⌈q·n⌉-th smallest sample, clamped to the exact
   * minimum and maximum (the largest sample is reported exactly).
   *
   * @param q A quantile in [0, 1].
   * @returns Nanoseconds, or NaN when empty.
   * @throws {RangeError} If `q` is outside [0, 1].
   */
  quantile(q: number): number {
    if (!(q >= 0 && q <= 1)) {
      throw new RangeError(`Cannot take quantile ${q}: it must be in [0, 1]`);
    }
    const n = this.#count;
    if (n === 0) return NaN;
    const rank = Math.max(1, Math.ceil(q * n));
    if (rank === n) return this.#max;
    let seen = 0;
    // The last bucket holds everything above 2^41 ns: its midpoint means nothing.
    for (let i = 0; i < BUCKETS - 1; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) return Math.min(this.#max, Math.max(this.#min, midpointOf(i)));
    }
    return this.#max;
  }

  /**
   * The usual percentiles.
   *
   * @returns p50, p90, p99, p99.9 and the exact max, in ns; NaN when empty.
   */
  percentiles(): Percentiles {
    if (this.#count === 0) {
      return { p50: NaN, p90: NaN, p99: NaN, p999: NaN, max: NaN, samples: 0 };
    }
    return {
      p50: this.quantile(0.5),
      p90: this.quantile(0.9),
      p99: this.quantile(0.99),
      p999: this.quantile(0.999),
      max: this.#max,
      samples: this.#count,
    };
  }

  /**
   * The histogram as JSON (what a client process prints for the bench).
   *
   * @returns Its non-empty buckets and extremes.
   */
  toJSON(): HistogramJson {
    const buckets: [number, number][] = [];
    for (let i = 0; i < BUCKETS; i++) {
      const n = this.#counts[i]!;
      if (n > 0) buckets.push([i, n]);
    }
    return {
      buckets,
      count: this.#count,
      min: this.#count === 0 ? 0 : this.#min,
      max: this.#count === 0 ? 0 : this.#max,
      sum: this.#sum,
      negatives: this.#negatives,
    };
  }

  /**
   * Rebuilds a histogram from its JSON.
   *
   * @param json What {@linkcode LatencyHistogram.toJSON} returned.
   * @returns The histogram.
   * @throws {RangeError} If a bucket index is out of range.
   */
  static fromJSON(json: HistogramJson): LatencyHistogram {
    const h = new LatencyHistogram();
    h.merge(json);
    return h;
  }
}
