/**
 * The core's configuration, read from the environment, with one clear error
 * per bad value.
 *
 * | variable | meaning | default |
 * | --- | --- | --- |
 * | `INSTRUMENTS` | instrument table (JSON) | `core/config/instruments.json` |
 * | `ENGINE_CPU` | CPU for the engine thread; `-1` = the last one | `-1` |
 * | `SYNTHETIC_RATE` | synthetic commands per second; `0` turns the market off | `2000` |
 * | `SYNTHETIC_SEED` | seed of the synthetic market | `1` |
 * | `STATS_INTERVAL_MS` | how often the core prints what it did | `5000` |
 * | `RUN_FOR_MS` | stop after this long; `0` = run until a signal | `0` |
 * | `JOURNAL_DIR` | the journal folder; `none` turns journaling off | `data/journal` |
 * | `DURABILITY` | `process-crash`, `group-commit` or `synchronous` | `process-crash` |
 * | `GROUP_COMMIT_MS` | group commit's longest delay before a sync | `2` |
 * | `SNAPSHOT_EVERY` | commands between engine snapshots; `0` = none | `1000000` |
 *
 * @module
 */

import type { Durability } from "../native/mod.ts";

const DURABILITIES: readonly Durability[] = ["process-crash", "group-commit", "synchronous"];

/** The core's settings. */
export interface CoreConfig {
  /** Path of the instrument table, or undefined for the default. */
  readonly instrumentsPath: string | undefined;
  readonly engineCpu: number;
  readonly syntheticRate: number;
  readonly syntheticSeed: number;
  readonly statsIntervalMs: number;
  readonly runForMs: number;
  /** The journal folder, or undefined when journaling is off. */
  readonly journalDir: string | undefined;
  readonly durability: Durability;
  readonly groupCommitMs: number;
  readonly snapshotEvery: number;
}

function integer(
  env: (name: string) => string | undefined,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = env(name);
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(
      `Cannot start core: ${name}=${JSON.stringify(raw)} must be an integer from ${min} to ${max}`,
    );
  }
  return value;
}

/**
 * Reads the configuration.
 *
 * @param env Looks a variable up (default: `Deno.env.get`).
 * @returns The settings.
 * @throws {RangeError} Naming the first variable with a bad value.
 *
 * @example
 * ```ts
 * import { readConfig } from "./config.ts";
 * const config = readConfig((name) => ({ SYNTHETIC_RATE: "500" })[name]);
 * if (config.syntheticRate !== 500 || config.engineCpu !== -1) throw new Error("bad defaults");
 * ```
 */
export function readConfig(
  env: (name: string) => string | undefined = (name) => Deno.env.get(name),
): CoreConfig {
  const path = env("INSTRUMENTS");
  const journal = env("JOURNAL_DIR");
  const durability = env("DURABILITY") || "process-crash";
  if (!DURABILITIES.includes(durability as Durability)) {
    throw new RangeError(
      `Cannot start core: DURABILITY=${JSON.stringify(durability)} must be one of ${
        DURABILITIES.join(", ")
      }`,
    );
  }
  return {
    instrumentsPath: path === undefined || path === "" ? undefined : path,
    engineCpu: integer(env, "ENGINE_CPU", -1, -1, 4095),
    syntheticRate: integer(env, "SYNTHETIC_RATE", 2000, 0, 10_000_000),
    syntheticSeed: integer(env, "SYNTHETIC_SEED", 1, 0, 0xffff_ffff),
    statsIntervalMs: integer(env, "STATS_INTERVAL_MS", 5000, 100, 3_600_000),
    runForMs: integer(env, "RUN_FOR_MS", 0, 0, 2_147_483_647),
    journalDir: journal === "none"
      ? undefined
      : journal === undefined || journal === ""
      ? "data/journal"
      : journal,
    durability: durability as Durability,
    groupCommitMs: integer(env, "GROUP_COMMIT_MS", 2, 1, 1000),
    snapshotEvery: integer(env, "SNAPSHOT_EVERY", 1_000_000, 0, Number.MAX_SAFE_INTEGER),
  };
}
