/**
 * How much of the machine other processes used while the bench measured:
 * every CPU's busy time (`node:os` `cpus()`) less this process's own
 * (`node:process` `cpuUsage()`), both needing only `--allow-sys`.
 *
 * Ratios to the reference cancel a machine that is uniformly slower, but
 * not one whose CPUs are taken by others: the rings subject needs two CPUs
 * (the engine thread and Deno's), the reference one, so a busy neighbour
 * depresses the rings' ratio however often it is measured. The figure is
 * printed so that a verdict taken on a busy machine says so.
 *
 * Child processes count as others (their time is not this process's), so
 * {@linkcode LoadMeter} meters only the subjects it wraps.
 *
 * @module
 */

import os from "node:os";
import process from "node:process";
import type { MatchingSubject } from "./subject.ts";

/** CPU time counters at one instant, in milliseconds. */
export interface CpuSample {
  /** Busy time of all CPUs (user, nice, system, irq). */
  readonly busy: number;
  /** Busy plus idle time of all CPUs. */
  readonly total: number;
  /** This process's user and system time. */
  readonly own: number;
}

/** One CPU's times as `os.cpus()` gives them, in milliseconds. */
export interface CpuTimes {
  readonly user: number;
  readonly nice: number;
  readonly sys: number;
  readonly idle: number;
  readonly irq: number;
}

/**
 * Makes a sample from the machine's and the process's counters.
 *
 * @param cpus Each CPU's times (`os.cpus()`'s `times`), in milliseconds.
 * @param own The process's CPU time (`process.cpuUsage()`), in microseconds.
 * @returns The sample.
 *
 * @example
 * ```ts
 * import { cpuSample } from "./_machine_load.ts";
 *
 * const cpu = { user: 100, nice: 0, sys: 50, idle: 850, irq: 0 };
 * console.log(cpuSample([cpu, cpu], { user: 40_000, system: 10_000 }));
 * // { busy: 300, total: 2000, own: 50 }
 * ```
 */
export function cpuSample(
  cpus: readonly CpuTimes[],
  own: { readonly user: number; readonly system: number },
): CpuSample {
  let busy = 0;
  let idle = 0;
  for (const t of cpus) {
    busy += t.user + t.nice + t.sys + t.irq;
    idle += t.idle;
  }
  return { busy, total: busy + idle, own: (own.user + own.system) / 1_000 };
}

/**
 * Reads the counters now.
 *
 * @returns Them, or `undefined` without `--allow-sys` or where they are not kept.
 *
 * @example
 * ```ts ignore
 * import { sampleCpu } from "./_machine_load.ts";
 * console.log(sampleCpu()?.total); // e.g. 2460000 (needs --allow-sys)
 * ```
 */
export function sampleCpu(): CpuSample | undefined {
  try {
    const cpus = os.cpus().map((c) => c.times);
    const sample = cpuSample(cpus, process.cpuUsage());
    return cpus.length > 0 && sample.total > 0 ? sample : undefined;
  } catch {
    return undefined;
  }
}

/**
 * CPUs' worth of time other processes used between two samples.
 *
 * @param before The earlier sample.
 * @param after The later one.
 * @param cpus CPUs the machine has.
 * @returns e.g. 1.3 (of 2 CPUs); `NaN` when either sample is missing or no time passed.
 *
 * @example
 * ```ts
 * import { otherCpus } from "./_machine_load.ts";
 *
 * // 2 CPUs for 100 ms each: 200 ms, 150 busy, 90 of them ours.
 * const used = otherCpus({ busy: 0, total: 0, own: 0 }, { busy: 150, total: 200, own: 90 }, 2);
 * console.log(used); // 0.6
 * ```
 */
export function otherCpus(
  before: CpuSample | undefined,
  after: CpuSample | undefined,
  cpus: number,
): number {
  if (before === undefined || after === undefined) return NaN;
  const total = after.total - before.total;
  if (!(total > 0)) return NaN;
  return Math.max(0, ((after.busy - before.busy - (after.own - before.own)) / total) * cpus);
}

/**
 * Sums other processes' CPU use over the runs of the subjects it wraps.
 *
 * @example
 * ```ts
 * import { LoadMeter } from "./_machine_load.ts";
 *
 * const meter = new LoadMeter(2, () => undefined);
 * const subject = meter.wrap({ name: "x", run: (c) => ({ seconds: 1, commands: c.length, events: 0 }) });
 * subject.run([]);
 * console.log(Number.isNaN(meter.others)); // true: no counters here
 * ```
 */
export class LoadMeter {
  readonly #cpus: number;
  readonly #sample: () => CpuSample | undefined;
  #others = 0;
  #total = 0;

  /**
   * @param cpus CPUs the machine has.
   * @param sample Reads the counters (default {@linkcode sampleCpu}).
   */
  constructor(cpus: number, sample: () => CpuSample | undefined = sampleCpu) {
    this.#cpus = cpus;
    this.#sample = sample;
  }

  /**
   * CPUs' worth of time other processes used during the metered runs.
   *
   * @returns e.g. 0.02 on a quiet machine; `NaN` when nothing was metered.
   */
  get others(): number {
    return this.#total > 0 ? (this.#others / this.#total) * this.#cpus : NaN;
  }

  /**
   * Meters a subject's runs (not its prepare).
   *
   * @param subject The subject.
   * @returns The same subject, metered.
   */
  wrap(subject: MatchingSubject): MatchingSubject {
    return {
      name: subject.name,
      prepare: (commands) => subject.prepare?.(commands),
      run: (commands) => {
        const before = this.#sample();
        const result = subject.run(commands);
        const after = this.#sample();
        if (before !== undefined && after !== undefined && after.total > before.total) {
          this.#total += after.total - before.total;
          this.#others += Math.max(0, after.busy - before.busy - (after.own - before.own));
        }
        return result;
      },
      close: () => subject.close?.(),
    };
  }
}
