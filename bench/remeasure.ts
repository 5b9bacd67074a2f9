/**
 * More samples of one subject's ratio to the reference, for a verdict the
 * first rounds could not settle (`verdict.ts`'s `settleRatio`): fresh
 * instances of both, warmed up once, then pairs of runs over the whole
 * stream alternating which goes first ({@linkcode runPaired}), one sample
 * per pair — the subject's throughput ÷ the reference's.
 *
 * @example
 * ```ts
 * import { RatioSampler } from "./remeasure.ts";
 * import type { MatchingSubject } from "./subject.ts";
 *
 * const fixed = (name: string, seconds: number): MatchingSubject => ({
 *   name,
 *   run: (c) => ({ seconds, commands: c.length, events: 0 }),
 * });
 * const sampler = new RatioSampler(() => fixed("reference", 4), () => fixed("fast", 1), [], 0);
 * console.log(sampler.samples(2)); // [ 4, 4 ]
 * sampler.close();
 * ```
 *
 * @module
 */

import type { Command } from "../core/matching/types.ts";
import { runPaired } from "./journal_bench.ts";
import type { MatchingSubject } from "./subject.ts";

/** Samples a subject's ratio to the reference from alternating runs. */
export class RatioSampler {
  readonly #makeReference: () => MatchingSubject;
  readonly #makeSubject: () => MatchingSubject;
  readonly #commands: readonly Command[];
  readonly #warmup: number;
  #pair: [MatchingSubject, MatchingSubject] | undefined;
  #taken = 0;

  /**
   * @param makeReference Makes a fresh reference subject (on first use).
   * @param makeSubject Makes a fresh instance of the subject.
   * @param commands The stream.
   * @param warmup Length of the prefix both are warmed up on before the first pair.
   */
  constructor(
    makeReference: () => MatchingSubject,
    makeSubject: () => MatchingSubject,
    commands: readonly Command[],
    warmup: number,
  ) {
    this.#makeReference = makeReference;
    this.#makeSubject = makeSubject;
    this.#commands = commands;
    this.#warmup = warmup;
  }

  /**
   * Runs `count` more pairs.
   *
   * @param count Pairs to run.
   * @returns One ratio per pair, in order.
   * @throws {Error} When a subject cannot be made or fails.
   */
  samples(count: number): number[] {
    if (count <= 0) return [];
    this.#pair ??= this.#start();
    const [reference, subject] = this.#pair;
    // Keep alternating across calls: an odd batch would otherwise start
    // every call with the reference.
    const flip = this.#taken % 2 === 1;
    const r = flip
      ? runPaired(subject, reference, this.#commands, count)
      : runPaired(reference, subject, this.#commands, count);
    this.#taken += count;
    const [base, own] = flip ? [r.on, r.off] : [r.off, r.on];
    return own.map((rate, i) => rate / base[i]!);
  }

  /** Closes both subjects. */
  close(): void {
    if (this.#pair === undefined) return;
    for (const s of this.#pair) s.close?.();
    this.#pair = undefined;
  }

  #start(): [MatchingSubject, MatchingSubject] {
    const reference = this.#makeReference();
    let subject: MatchingSubject;
    try {
      subject = this.#makeSubject();
    } catch (error) {
      reference.close?.();
      throw error;
    }
    const pair: [MatchingSubject, MatchingSubject] = [reference, subject];
    if (this.#warmup > 0) {
      const prefix = this.#commands.slice(0, this.#warmup);
      try {
        for (const s of pair) {
          s.prepare?.(prefix);
          s.run(prefix);
        }
      } catch (error) {
        for (const s of pair) s.close?.();
        throw error;
      }
    }
    return pair;
  }
}
