/**
 * What the gateway and edge benchmarks share around their child processes:
 * each part's outcome as a value, and the set of children still running,
 * so that SIGINT stops them all. Private to `bench/`.
 *
 * @module
 */

/** A part's figures, or why it could not be measured. */
export type Outcome<T> = { readonly ok: true; readonly value: T } | {
  readonly ok: false;
  readonly error: string;
};

/**
 * Every child and core still running, so that SIGINT and failures can stop them.
 *
 * @example
 * ```ts
 * import { Running } from "./_parts.ts";
 * const running = new Running();
 * let stopped = 0;
 * const stop = running.add(() => Promise.resolve(stopped++));
 * await stop();
 * await running.stopAll(); // already stopped: not again
 * if (stopped !== 1) throw new Error(`stopped ${stopped} times`);
 * ```
 */
export class Running {
  readonly #stops = new Set<() => Promise<unknown>>();

  /**
   * Registers a stop function.
   *
   * @param stop Stops one child.
   * @returns The same, which also forgets it once called.
   */
  add(stop: () => Promise<unknown>): () => Promise<void> {
    this.#stops.add(stop);
    return async () => {
      this.#stops.delete(stop);
      await stop();
    };
  }

  /** Stops every child still registered; failures are ignored. */
  async stopAll(): Promise<void> {
    const stops = [...this.#stops];
    this.#stops.clear();
    await Promise.all(stops.map((s) => s().catch(() => {})));
  }
}

/**
 * Runs `fn`; its error, if any, becomes the part's outcome (and a log line).
 *
 * @param what The part's name, for the log line.
 * @param log Where the line goes.
 * @param fn The part.
 * @returns Its figures, or its error.
 *
 * @example
 * ```ts
 * import { attempt } from "./_parts.ts";
 * const lines: string[] = [];
 * const outcome = await attempt("idle", (l) => lines.push(l), () => Promise.reject(new Error("no")));
 * if (outcome.ok || lines[0] !== "idle: not measured: no") throw new Error(lines.join());
 * ```
 */
export async function attempt<T>(
  what: string,
  log: (line: string) => void,
  fn: () => Promise<T>,
): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log(`${what}: not measured: ${message}`);
    return { ok: false, error: message };
  }
}
