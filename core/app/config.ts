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
 * | `SNAPSHOT_EVERY` | commands between engine snapshots; `0` = none (needs `JOURNAL_RETENTION=all`) | `1000000` |
 * | `JOURNAL_RETENTION` | what the two newest `snapshots` need (the rest are recycled), or `all` segments | `snapshots` |
 * | `KV_PATH` | the Deno KV file of accounts, roles, limits and quote snapshots | `data/core.kv` |
 * | `SNAPSHOT_CADENCE_MS` | ms between writes of the quote snapshots that changed | `100` |
 * | `CORE_PORT` | the gateway's port (`/ws`, `/admin`); `0` = any free port | `8080` |
 * | `CORE_HOSTNAME` | the address it listens on; `0.0.0.0` for every interface | `127.0.0.1` |
 * | `GATEWAY_ORIGINS` | browser origins allowed to connect, comma-separated | none |
 * | `HEARTBEAT_MS` | longest silence on a trader connection before a heartbeat | `1000` |
 * | `GATEWAY_QUEUE_BYTES` | bytes queued for one connection before it is closed (1008); market data resyncs it at a quarter | `262144` |
 * | `GATEWAY_QUEUE_BUDGET_BYTES` | bytes queued over every connection before the longest are resynced, then closed | `16777216` |
 * | `GATEWAY_MAX_PER_ACCOUNT` | open connections per account (more: 429) | `32` |
 * | `GATEWAY_MAX_PER_ADDRESS` | open connections per remote address (more: 429) | `256` |
 * | `GATEWAY_ACCOUNT_RATE` | messages per second per account over all its connections (bursts twice that) | `1000` |
 * | `GATEWAY_REPORTS_KEPT` | execution reports kept per account for `requestOrders` | `10000` |
 * | `GATEWAY_IDS_KEPT` | recent client order ids kept per session for `duplicateId` (working orders' always) | `10000` |
 * | `GATEWAY_REPLAY_PAGE` | most reports one `requestOrders` answer re-sends | `1000` |
 * | `EDGE_URL` | where the edge answers, as the core's `GET /` names it | `http://127.0.0.1:8000` |
 * | `AUTH_TOKEN_TTL_SECONDS` | lifetime of the tokens `POST /auth/login` and `/auth/refresh` mint | `900` |
 * | `AUTH_ATTEMPTS_PER_ACCOUNT` | login attempts a minute per account name (bursts the same; more: 429) | `5` |
 * | `AUTH_ATTEMPTS_PER_ADDRESS` | login attempts a minute per remote address (bursts the same; more: 429) | `20` |
 * | `DEMO_TRADER` | on a store with no accounts, create this trader with a random password, printed once (`deno task start` sets `DEMO`) | none |
 *
 * The gateway's signing secret is `GATEWAY_JWT_SECRET`, or `data/jwt.secret`
 * (see `core/gateway/secret.ts`).
 *
 * The journal is bounded by default: with `JOURNAL_RETENTION=snapshots` each
 * snapshot releases the segments wholly before the older of the two kept,
 * so the folder holds about two snapshot intervals of records (about
 * 2 × `SNAPSHOT_EVERY` commands) plus the active and spare segments (64 MiB
 * each); at the synthetic market's 2,000 commands/s that is a few hundred MB
 * where keeping everything grew ~250 KB/s. `JOURNAL_RETENTION=all` keeps
 * every record from the first (for audit or `deno task journal dump` from
 * the start), and is the only retention that allows `SNAPSHOT_EVERY=0`.
 *
 * @module
 */

import type { Durability, JournalRetention } from "../native/mod.ts";
import { accountNameProblem } from "../../schemas/vocabulary/names.ts";

const DURABILITIES: readonly Durability[] = ["process-crash", "group-commit", "synchronous"];
const RETENTIONS: readonly JournalRetention[] = ["all", "snapshots"];

/** The account store's file unless `KV_PATH` says otherwise. */
export const DEFAULT_KV_PATH = "data/core.kv";

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
  readonly journalRetention: JournalRetention;
  /** The Deno KV file of accounts, roles and limits, and of the quote snapshots. */
  readonly kvPath: string;
  /** Milliseconds between writes of the quote snapshots. */
  readonly snapshotCadenceMs: number;
  readonly corePort: number;
  readonly coreHostname: string;
  /** Browser origins allowed on the gateway (exact match). */
  readonly allowedOrigins: readonly string[];
  readonly heartbeatMs: number;
  /** Bytes queued for one connection before it is closed; market data resyncs at a quarter. */
  readonly queueBytes: number;
  /** Bytes queued over every connection before the longest are resynced, then closed. */
  readonly queueBudgetBytes: number;
  /** Open connections per account. */
  readonly maxPerAccount: number;
  /** Open connections per remote address. */
  readonly maxPerAddress: number;
  /** Messages per second per account over all its connections. */
  readonly accountRate: number;
  /** Execution reports kept per account for `requestOrders`. */
  readonly reportsKept: number;
  /** Recent client order ids kept per session for `duplicateId`. */
  readonly idsKept: number;
  /** The most reports one `requestOrders` answer re-sends. */
  readonly replayPage: number;
  /** Where the edge answers (an http or https origin), named by the core's `GET /`. */
  readonly edgeUrl: string;
  /** Lifetime of the tokens minted by the login API, in seconds. */
  readonly authTokenTtlSeconds: number;
  /** Login attempts a minute per account name. */
  readonly authAttemptsPerAccount: number;
  /** Login attempts a minute per remote address. */
  readonly authAttemptsPerAddress: number;
  /** The demo trader to create on a store with no accounts, or undefined for none. */
  readonly demoTrader: string | undefined;
}

/** The edge's address unless `EDGE_URL` says otherwise: `deno task edge`'s default. */
export const DEFAULT_EDGE_URL = "http://127.0.0.1:8000";

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

function oneOf<T extends string>(
  env: (name: string) => string | undefined,
  name: string,
  values: readonly T[],
  fallback: T,
): T {
  const raw = env(name);
  if (raw === undefined || raw === "") return fallback;
  if (!(values as readonly string[]).includes(raw)) {
    throw new RangeError(
      `Cannot start core: ${name}=${JSON.stringify(raw)} must be one of ${values.join(", ")}`,
    );
  }
  return raw as T;
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
  const snapshotEvery = integer(env, "SNAPSHOT_EVERY", 1_000_000, 0, Number.MAX_SAFE_INTEGER);
  const journalRetention = oneOf(env, "JOURNAL_RETENTION", RETENTIONS, "snapshots");
  if (journalRetention === "snapshots" && snapshotEvery === 0 && journal !== "none") {
    // Without snapshots nothing is ever released: the journal would grow
    // without bound while the setting says it does not.
    throw new RangeError(
      "Cannot start core: SNAPSHOT_EVERY=0 takes no snapshots, so JOURNAL_RETENTION=snapshots " +
        "(the default) could release nothing; set SNAPSHOT_EVERY above 0, or JOURNAL_RETENTION=all " +
        "to keep every record",
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
    durability: oneOf(env, "DURABILITY", DURABILITIES, "process-crash"),
    groupCommitMs: integer(env, "GROUP_COMMIT_MS", 2, 1, 1000),
    snapshotEvery,
    journalRetention,
    kvPath: env("KV_PATH") || DEFAULT_KV_PATH,
    snapshotCadenceMs: integer(env, "SNAPSHOT_CADENCE_MS", 100, 1, 3_600_000),
    corePort: integer(env, "CORE_PORT", 8080, 0, 65535),
    coreHostname: env("CORE_HOSTNAME") || "127.0.0.1",
    allowedOrigins: origins(env("GATEWAY_ORIGINS") ?? ""),
    heartbeatMs: integer(env, "HEARTBEAT_MS", 1000, 10, 3_600_000),
    queueBytes: integer(env, "GATEWAY_QUEUE_BYTES", 256 * 1024, 4096, 2 ** 31),
    queueBudgetBytes: integer(env, "GATEWAY_QUEUE_BUDGET_BYTES", 16 * 2 ** 20, 4096, 2 ** 40),
    maxPerAccount: integer(env, "GATEWAY_MAX_PER_ACCOUNT", 32, 1, 1_000_000),
    maxPerAddress: integer(env, "GATEWAY_MAX_PER_ADDRESS", 256, 1, 1_000_000),
    accountRate: integer(env, "GATEWAY_ACCOUNT_RATE", 1000, 1, 10_000_000),
    reportsKept: integer(env, "GATEWAY_REPORTS_KEPT", 10_000, 1, 10_000_000),
    idsKept: integer(env, "GATEWAY_IDS_KEPT", 10_000, 1, 10_000_000),
    replayPage: integer(env, "GATEWAY_REPLAY_PAGE", 1_000, 1, 100_000),
    edgeUrl: edgeUrl(env("EDGE_URL")),
    authTokenTtlSeconds: integer(env, "AUTH_TOKEN_TTL_SECONDS", 900, 60, 86_400),
    authAttemptsPerAccount: integer(env, "AUTH_ATTEMPTS_PER_ACCOUNT", 5, 1, 1_000_000),
    authAttemptsPerAddress: integer(env, "AUTH_ATTEMPTS_PER_ADDRESS", 20, 1, 1_000_000),
    demoTrader: demoTrader(env("DEMO_TRADER")),
  };
}

/** Reads `DEMO_TRADER`: an account name, or nothing (unset, empty or `none`). */
function demoTrader(raw: string | undefined): string | undefined {
  const name = raw?.trim();
  if (name === undefined || name === "" || name === "none") return undefined;
  const problem = accountNameProblem(name);
  if (problem !== undefined || name === "." || name === "..") {
    throw new RangeError(
      `Cannot start core: DEMO_TRADER=${JSON.stringify(raw)} must be an account name: ` +
        (problem ?? 'not "." or ".."'),
    );
  }
  return name;
}

/** Reads `EDGE_URL`: an http or https URL, kept as given but for a trailing slash. */
function edgeUrl(raw: string | undefined): string {
  if (raw === undefined || raw.trim() === "") return DEFAULT_EDGE_URL;
  const url = URL.parse(raw.trim());
  if (url === null || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new RangeError(
      `Cannot start core: EDGE_URL=${
        JSON.stringify(raw)
      } must be an http or https URL, such as http://127.0.0.1:8000`,
    );
  }
  return url.href.replace(/\/$/, "");
}

/**
 * Reads a comma-separated list of origins, each as a browser sends it in
 * `Origin`: scheme, host and port only (no path, no trailing slash).
 */
function origins(raw: string): string[] {
  const out: string[] = [];
  for (const part of raw.split(",")) {
    const origin = part.trim();
    if (origin === "") continue;
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || parsed.origin !== origin) {
      throw new RangeError(
        `Cannot start core: GATEWAY_ORIGINS entry ${
          JSON.stringify(origin)
        } must be an origin as browsers send it, such as https://trade.example or http://localhost:5173${
          parsed === undefined || parsed.origin === "null" ? "" : ` (here: ${parsed.origin})`
        }`,
      );
    }
    out.push(origin);
  }
  return out;
}
