/**
 * The regression verdict, from a ratio's samples rather than one figure.
 *
 * A subject's ratio to the reference is measured several times (one sample
 * per round of the matching bench, each from the subject's run and the
 * reference's run of the same round). On a machine that swings — one round
 * of `native-rings` read 9.3 M/s, the two before it 5.1 and 5.6 — the median
 * of three such samples can land far from the truth, and a gate that fails
 * on it flaps. So:
 *
 * - every ratio comes with its **spread**: a distribution-free confidence
 *   interval for the median of its samples ({@linkcode ratioInterval}),
 *   printed beside it;
 * - a subject is **regressed** only when that interval lies wholly below
 *   the baseline's ratio less the tolerance, from at least
 *   {@linkcode SettleOptions.minSamples} samples at the interval's
 *   confidence ({@linkcode judgeRatio});
 * - a subject whose median alone says "regressed" is a suspect, and is
 *   re-measured alternating with the reference until its interval settles
 *   on one side of the limit or the sample budget is spent
 *   ({@linkcode settleRatio}). A regression that still does not stand
 *   outside the spread is reported as `noisy`, which does not fail the gate.
 *
 * `improved` is decided the same way (the interval wholly above the
 * baseline plus the tolerance, from as many samples); it never fails the
 * gate, so it is not re-measured, and reads `noisy` until established.
 *
 * @example
 * ```ts
 * import { judgeRatio, ratioInterval } from "./verdict.ts";
 *
 * // Three rounds, one disturbed: the median says -38%, the spread says "not sure".
 * const first = judgeRatio(ratioInterval([4.2, 4.6, 7.6]), 7.43, 0.25);
 * console.log(first.verdict, first.needsSamples); // "noisy" true
 * ```
 *
 * @module
 */

/** How one subject compares with the baseline. */
export type Verdict =
  /** Within tolerance. */
  | "ok"
  /** The ratio's interval lies wholly below the baseline less the tolerance. */
  | "regressed"
  /** The ratio's interval lies wholly above the baseline plus the tolerance. */
  | "improved"
  /** The median is beyond the tolerance but its interval reaches back inside it: not gated. */
  | "noisy"
  /** Measured now, not in the baseline. */
  | "new"
  /** In the baseline, not measured now (e.g. native library not built). */
  | "missing"
  /** The reference subject itself (ratio 1 by definition). */
  | "reference";

/** A ratio's median and the confidence interval around it. */
export interface RatioInterval {
  /** Median of the samples (the mean of the middle two for an even count). */
  readonly median: number;
  /** Lower end of the interval. */
  readonly low: number;
  /** Upper end of the interval. */
  readonly high: number;
  /** Number of samples. */
  readonly samples: number;
  /**
   * The interval's confidence: the probability that it holds the true
   * median, from the order statistics alone (e.g. 0.75 for [min, max] of
   * three samples). 1 for an exact figure.
   */
  readonly confidence: number;
  /** The wider of (median − low) and (high − median), as a fraction of the median. */
  readonly spread: number;
}

/** The confidence {@linkcode ratioInterval} aims for by default. */
export const DEFAULT_CONFIDENCE = 0.95;

/**
 * The median of `samples` and a distribution-free confidence interval for it:
 * the k-th smallest and k-th largest sample, with k as large as keeps the
 * probability that the true median lies between them at least `confidence`
 * (from the binomial distribution: each sample falls below the median with
 * probability ½, whatever the noise's shape). With too few samples for
 * that confidence, the interval is [min, max] and its own, lower,
 * confidence is reported. One outlier moves neither the median nor, from
 * six samples on, the interval's ends.
 *
 * @param samples Ratios (negative or non-finite ones are dropped).
 * @param confidence Wanted confidence, in (0, 1).
 * @returns The interval; all `NaN` with 0 samples when none is usable.
 * @throws {RangeError} When `confidence` is not in (0, 1).
 *
 * @example
 * ```ts
 * import { ratioInterval } from "./verdict.ts";
 *
 * const r = ratioInterval([7.1, 7.4, 7.3, 7.6, 7.2, 7.5, 4.1, 7.4, 7.3]);
 * console.log(r.median, r.low, r.high, r.confidence.toFixed(3)); // 7.3 7.1 7.5 0.961
 * ```
 */
export function ratioInterval(
  samples: readonly number[],
  confidence: number = DEFAULT_CONFIDENCE,
): RatioInterval {
  if (!(confidence > 0 && confidence < 1)) {
    throw new RangeError(
      `Cannot take an interval: confidence must be in (0, 1), got ${confidence}`,
    );
  }
  const sorted = samples.filter((x) => Number.isFinite(x) && x >= 0).sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) {
    return { median: NaN, low: NaN, high: NaN, samples: 0, confidence: 0, spread: NaN };
  }
  const mid = n >> 1;
  const median = n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  // coverage(k) = P(x(k) <= true median <= x(n+1-k)) = 1 - 2 P(Binomial(n, ½) <= k - 1).
  let k = 1;
  let below = 0; // P(Binomial(n, ½) <= k - 1), accumulated term by term
  let term = Math.pow(0.5, n); // P(Binomial(n, ½) = k - 1)
  let achieved = 1 - 2 * term;
  for (let next = 2; next <= Math.ceil(n / 2); next++) {
    below += term;
    term = (term * (n - (next - 2))) / (next - 1);
    const coverage = 1 - 2 * (below + term);
    if (coverage < confidence) break;
    k = next;
    achieved = coverage;
  }
  const low = sorted[k - 1]!;
  const high = sorted[n - k]!;
  return {
    median,
    low,
    high,
    samples: n,
    confidence: Math.max(0, achieved),
    spread: median > 0 ? Math.max(median - low, high - median) / median : NaN,
  };
}

/**
 * A figure known exactly (a recorded baseline, a single value given
 * without samples): an interval of zero width with confidence 1.
 *
 * @param ratio The figure.
 * @returns Its interval.
 *
 * @example
 * ```ts
 * import { exactRatio } from "./verdict.ts";
 * console.log(exactRatio(2).spread); // 0
 * ```
 */
export function exactRatio(ratio: number): RatioInterval {
  return { median: ratio, low: ratio, high: ratio, samples: 1, confidence: 1, spread: 0 };
}

/** What {@linkcode judgeRatio} decided. */
export interface Judgement {
  /** `ok`, `regressed`, `improved` or `noisy`. */
  readonly verdict: Extract<Verdict, "ok" | "regressed" | "improved" | "noisy">;
  /** `median / baseline − 1`, e.g. −0.3 for 30% slower relative to the reference. */
  readonly change: number;
  /**
   * Whether the median says "regressed" but the interval has not (yet)
   * established it: more samples would decide.
   */
  readonly needsSamples: boolean;
}

/**
 * Judges a ratio's interval against the baseline's ratio.
 *
 * - `regressed`: the interval's upper end is below `baseline × (1 − tolerance)`,
 *   at `confidence` or better, from at least `minSamples` samples (an exact
 *   figure needs neither);
 * - `improved`: its lower end is above `baseline × (1 + tolerance)`, on the
 *   same terms (so a lucky run does not invite `--update-baseline`);
 * - `noisy`: the median is beyond either limit but the interval does not
 *   establish it;
 * - `ok` otherwise.
 *
 * @param interval The ratio now ({@linkcode ratioInterval} or {@linkcode exactRatio}).
 * @param baseline The baseline's ratio (positive).
 * @param tolerance Largest tolerated relative fall (and rise), in [0, 1).
 * @param options `minSamples` (default 9) and `confidence` (default 0.95)
 *   a regression needs.
 * @returns The verdict and whether more samples could change it.
 * @throws {RangeError} When the tolerance or the baseline is out of range.
 *
 * @example
 * ```ts
 * import { judgeRatio, ratioInterval } from "./verdict.ts";
 *
 * const steady = [4.4, 4.5, 4.6, 4.5, 4.4, 4.6, 4.5, 4.7, 4.5];
 * console.log(judgeRatio(ratioInterval(steady), 7.43, 0.25).verdict); // "regressed"
 * ```
 */
export function judgeRatio(
  interval: RatioInterval,
  baseline: number,
  tolerance: number,
  options: { readonly minSamples?: number; readonly confidence?: number } = {},
): Judgement {
  if (!(tolerance >= 0 && tolerance < 1)) {
    throw new RangeError(`Cannot judge: tolerance must be in [0, 1), got ${tolerance}`);
  }
  if (!(baseline > 0)) {
    throw new RangeError(`Cannot judge: the baseline ratio must be positive, got ${baseline}`);
  }
  const minSamples = options.minSamples ?? DEFAULT_MIN_SAMPLES;
  const confidence = options.confidence ?? DEFAULT_CONFIDENCE;
  const floor = baseline * (1 - tolerance);
  const ceiling = baseline * (1 + tolerance);
  const change = interval.median / baseline - 1;
  const established = interval.confidence === 1 ||
    (interval.samples >= minSamples && interval.confidence >= confidence);
  if (interval.median < floor) {
    if (established && interval.high < floor) {
      return { verdict: "regressed", change, needsSamples: false };
    }
    return { verdict: "noisy", change, needsSamples: true };
  }
  if (interval.median > ceiling) {
    const verdict = established && interval.low > ceiling ? "improved" : "noisy";
    return { verdict, change, needsSamples: false };
  }
  return { verdict: "ok", change, needsSamples: false };
}

/** The fewest samples a regression is declared on, by default. */
export const DEFAULT_MIN_SAMPLES = 9;

/** Options for {@linkcode settleRatio}. */
export interface SettleOptions {
  /** Samples a regression needs (default {@linkcode DEFAULT_MIN_SAMPLES}). */
  readonly minSamples?: number;
  /** Most samples to hold in all, the first ones included (default 21). */
  readonly maxSamples?: number;
  /** Samples asked for at a time (default 3). */
  readonly batch?: number;
  /** The interval's confidence (default {@linkcode DEFAULT_CONFIDENCE}). */
  readonly confidence?: number;
}

/** A settled ratio. */
export interface Settled {
  /** Every sample: the first ones, then the re-measured ones, in order. */
  readonly samples: readonly number[];
  /** Their interval. */
  readonly interval: RatioInterval;
  /** The verdict on it. */
  readonly judgement: Judgement;
  /** How many samples were measured again (0 when the first ones decided). */
  readonly remeasured: number;
}

/**
 * Judges a ratio and, while its median says "regressed" but its interval
 * does not establish it, asks `measure` for more samples (in batches, up to
 * `maxSamples` in all), then judges again. Subjects that are fine, improved
 * or plainly regressed cost nothing more.
 *
 * @param samples The ratio's first samples.
 * @param baseline The baseline's ratio.
 * @param tolerance Largest tolerated relative fall.
 * @param measure Measures `count` more samples, each from runs of the subject
 *   and the reference back to back (e.g. alternating pairs); may return fewer
 *   (then the loop stops when it gets none).
 * @param options See {@linkcode SettleOptions}.
 * @returns All samples, their interval and the verdict.
 * @throws {RangeError} When the options are not sensible.
 *
 * @example
 * ```ts
 * import { settleRatio } from "./verdict.ts";
 *
 * // The first three rounds were disturbed; the re-measured pairs read true.
 * const again = [7.3, 7.5, 7.4, 7.2, 7.6, 7.4, 7.3, 7.5, 7.4];
 * let at = 0;
 * const s = settleRatio([4.2, 4.6, 7.6], 7.43, 0.25, (count) => again.slice(at, at += count));
 * console.log(s.judgement.verdict, s.remeasured); // "ok" 3
 * ```
 */
export function settleRatio(
  samples: readonly number[],
  baseline: number,
  tolerance: number,
  measure: (count: number) => readonly number[],
  options: SettleOptions = {},
): Settled {
  const minSamples = options.minSamples ?? DEFAULT_MIN_SAMPLES;
  const maxSamples = options.maxSamples ?? 21;
  const batch = options.batch ?? 3;
  const confidence = options.confidence ?? DEFAULT_CONFIDENCE;
  for (const [name, value] of [["minSamples", minSamples], ["maxSamples", maxSamples]] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(`Cannot settle: ${name} must be a positive integer, got ${value}`);
    }
  }
  if (!Number.isInteger(batch) || batch < 1) {
    throw new RangeError(`Cannot settle: batch must be a positive integer, got ${batch}`);
  }
  const all = [...samples];
  const judge = () => {
    const interval = ratioInterval(all, confidence);
    return {
      interval,
      judgement: judgeRatio(interval, baseline, tolerance, { minSamples, confidence }),
    };
  };
  let state = judge();
  while (state.judgement.needsSamples && all.length < maxSamples) {
    const more = measure(Math.min(batch, maxSamples - all.length));
    if (more.length === 0) break;
    all.push(...more);
    state = judge();
  }
  return { samples: all, ...state, remeasured: all.length - samples.length };
}
