/**
 * `deno task edge`: serves the edge on `Deno.serve` against the core's KV.
 *
 * | variable | default | |
 * | --- | --- | --- |
 * | `EDGE_PORT` | `8000` | `0` picks a free port |
 * | `EDGE_HOSTNAME` | `127.0.0.1` | |
 * | `KV_PATH` | `data/core.kv` | the core's KV file; empty for the platform's default KV (Deno Deploy) |
 * | `EDGE_METRICS_TOKEN` | unset | when set (16–256 visible ASCII characters), `/metrics` needs `Authorization: Bearer <token>` |
 * | `EDGE_STREAMS_PER_ADDRESS` | `16` | the most event streams one client address may hold open (429 beyond) |
 * | `EDGE_CORE_URL` | `http://127.0.0.1:8080` | the core's HTTP origin: where the terminal (`/trade`) logs in and opens its WebSocket, the one other origin its CSP allows |
 *
 * A bad setting stops it at once with the reason and exit code 2. It
 * waits for the KV file if the core has not made it yet (saying it is
 * waiting for the core to start, and the file's absolute path), reads the
 * snapshots once, prints `edge: listening on http://host:port/`, and polls
 * from then on. SIGINT or SIGTERM end the event streams, stop polling and
 * shut the server down gracefully.
 *
 * For programs it prints a status line (`status_line.ts`) once it serves,
 * `tc-status {"event":"ready","pid":…,"addresses":{"hostname":…,"port":…,"http":…},…}`,
 * and `"event":"stopped"` (with why) once shut down: a parent reads the
 * edge's port there, not in the line for people.
 *
 * Deno opens a KV file read-write whatever the caller means to do with it
 * (SQLite keeps `-wal` and `-shm` files beside it), so this needs write
 * permission on the KV's folder; the edge itself writes nothing.
 *
 * @module
 */

import { quotePages } from "../ui/pages.ts";
import {
  coreOrigin,
  createEdge,
  DEFAULT_CORE_URL,
  isMetricsToken,
  MIN_METRICS_TOKEN,
} from "./create_edge.ts";
import { SnapshotCache } from "./snapshot_cache.ts";
import { listeningLines, stoppedLine } from "./status_line.ts";

/**
 * Every environment variable the edge reads for its settings: the one list
 * for `--allow-env` wherever the edge is started with only these (the `edge`
 * task in `deno.json`, the edge bench).
 *
 * @example
 * ```ts
 * import { EDGE_ENVIRONMENT } from "./main.ts";
 * const flag = `--allow-env=${EDGE_ENVIRONMENT.join(",")}`;
 * if (!flag.includes("EDGE_PORT")) throw new Error(flag);
 * ```
 */
export const EDGE_ENVIRONMENT = [
  "EDGE_PORT",
  "EDGE_HOSTNAME",
  "KV_PATH",
  "EDGE_METRICS_TOKEN",
  "EDGE_STREAMS_PER_ADDRESS",
  "EDGE_CORE_URL",
] as const;

/** The settings read from the environment. */
export interface MainConfig {
  readonly port: number;
  readonly hostname: string;
  /** The KV file, or undefined for the platform's default KV. */
  readonly kvPath: string | undefined;
  /** The token `/metrics` needs, if any. */
  readonly metricsToken: string | undefined;
  /** The most event streams per client address (undefined: the default, 16). */
  readonly streamsPerAddress: number | undefined;
  /** The core's HTTP origin, for the terminal. */
  readonly coreUrl: string;
}

/**
 * Reads the settings from the environment.
 *
 * @param env The variables (default `Deno.env`).
 * @returns The settings.
 * @throws {RangeError} When `EDGE_PORT` is not a port number,
 * `EDGE_METRICS_TOKEN` is set but not 16–256 visible ASCII characters, or
 * `EDGE_STREAMS_PER_ADDRESS` is set but not a whole number from 1 to 1,000,000,
 * or `EDGE_CORE_URL` is not an `http:` or `https:` origin.
 *
 * @example
 * ```ts
 * import { readConfig } from "./main.ts";
 * const c = readConfig({ get: (k) => ({ EDGE_PORT: "0" } as Record<string, string>)[k] });
 * if (c.port !== 0 || c.hostname !== "127.0.0.1" || c.kvPath !== "data/core.kv" || c.metricsToken) {
 *   throw new Error("wrong defaults");
 * }
 * ```
 */
export function readConfig(
  env: { get(name: (typeof EDGE_ENVIRONMENT)[number]): string | undefined } = Deno.env,
): MainConfig {
  const portText = env.get("EDGE_PORT") ?? "8000";
  const port = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || port > 65_535) {
    throw new RangeError(`Cannot start the edge: EDGE_PORT must be a port number, not ${portText}`);
  }
  const kvPath = env.get("KV_PATH") ?? "data/core.kv";
  const metricsToken = env.get("EDGE_METRICS_TOKEN");
  if (metricsToken !== undefined && !isMetricsToken(metricsToken)) {
    throw new RangeError(
      `Cannot start the edge: EDGE_METRICS_TOKEN must be ${MIN_METRICS_TOKEN}–256 visible ASCII ` +
        `characters (no spaces); it has ${metricsToken.length}`,
    );
  }
  const perAddressText = env.get("EDGE_STREAMS_PER_ADDRESS");
  const streamsPerAddress = perAddressText === undefined ? undefined : Number(perAddressText);
  if (
    perAddressText !== undefined &&
    !(/^\d{1,7}$/.test(perAddressText) && streamsPerAddress! >= 1 && streamsPerAddress! <= 1e6)
  ) {
    throw new RangeError(
      "Cannot start the edge: EDGE_STREAMS_PER_ADDRESS must be a whole number from 1 to " +
        `1,000,000, not ${perAddressText.slice(0, 32)}`,
    );
  }
  const coreText = env.get("EDGE_CORE_URL") || DEFAULT_CORE_URL;
  const coreUrl = coreOrigin(coreText);
  if (coreUrl === undefined) {
    throw new RangeError(
      "Cannot start the edge: EDGE_CORE_URL must be an http: or https: origin (no path), not " +
        coreText.slice(0, 64),
    );
  }
  return {
    port,
    coreUrl,
    hostname: env.get("EDGE_HOSTNAME") || "127.0.0.1",
    kvPath: kvPath === "" ? undefined : kvPath,
    metricsToken,
    streamsPerAddress,
  };
}

/**
 * Whether `hostname` is a loopback address or `localhost`.
 *
 * @param hostname What the edge listens on.
 * @returns True for `localhost`, 127.0.0.0/8 and `::1`.
 *
 * @example
 * ```ts
 * import { isLoopback } from "./main.ts";
 * console.log(isLoopback("127.0.0.1"), isLoopback("0.0.0.0")); // true false
 * ```
 */
export function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "::1" || hostname === "[::1]" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/**
 * What the edge says while the core's KV file does not exist yet: that it
 * is waiting for the core (not that something failed), and where it looks.
 *
 * @param path The KV file, as configured.
 * @param cwd The working directory a relative path is read from.
 * @returns The line.
 *
 * @example
 * ```ts
 * import { waitingLine } from "./main.ts";
 * const line = waitingLine("data/core.kv", "/srv/tc");
 * if (!line.includes("waiting for the core to start") || !line.includes("/srv/tc/data/core.kv")) {
 *   throw new Error(line);
 * }
 * ```
 */
export function waitingLine(path: string, cwd: string): string {
  const absolute = path.startsWith("/") ? path : `${cwd.replace(/\/+$/, "")}/${path}`;
  return `edge: waiting for the core to start: its KV file ${absolute} does not exist yet ` +
    "(start it with `deno task start`, or point KV_PATH at its KV file)";
}

async function waitForFile(path: string): Promise<void> {
  for (let said = false;; said = true) {
    try {
      await Deno.stat(path);
      if (said) console.log(`edge: the core's KV file is there: ${path}`);
      return;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    if (!said) console.log(waitingLine(path, Deno.cwd()));
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * Under `deno task start`, `core/start.ts` passes its pid in `TC_PARENT_PID`:
 * when our parent is no longer that process (it was killed, even with
 * SIGKILL), `onGone` runs once. Run otherwise, nothing is watched. (The
 * edge imports nothing from core/, so this is the core's `watchParent`
 * again, in small.)
 */
function watchStarter(onGone: (parent: number) => void): void {
  let parent: number;
  try {
    parent = Number(Deno.env.get("TC_PARENT_PID"));
  } catch {
    return; // Allowed only its own variables: not started by core/start.ts.
  }
  if (!Number.isSafeInteger(parent) || parent <= 1) return;
  const timer = setInterval(() => {
    if (Deno.ppid === parent) return;
    clearInterval(timer);
    onGone(parent);
  }, 500);
  Deno.unrefTimer(timer);
}

async function main(config: MainConfig): Promise<void> {
  // Until the server is up there is nothing to close.
  let stop = (_why: string): void => Deno.exit(0);
  watchStarter((parent) => stop(`its starter, process ${parent}, is gone`));
  // Listening for signals before the ready line is printed: a parent may
  // stop the edge the moment it reads that line.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => stop(signal));
  }
  if (config.kvPath !== undefined) await waitForFile(config.kvPath);
  const kv = await Deno.openKv(config.kvPath);
  const cache = new SnapshotCache({ kv });
  try {
    await cache.refresh();
  } catch (error) {
    console.error("edge: cannot read the snapshots yet (will keep trying)", error);
  }
  console.log(`edge: ${cache.all().length} symbols at version ${cache.version}`);
  cache.start();
  const { metricsToken, streamsPerAddress } = config;
  const app = createEdge({
    cache,
    pages: quotePages,
    coreUrl: config.coreUrl,
    ...(metricsToken ? { metricsToken } : {}),
    ...(streamsPerAddress === undefined
      ? {}
      : { stream: { maxConnectionsPerAddress: streamsPerAddress } }),
  });
  if (metricsToken === undefined && !isLoopback(config.hostname)) {
    console.log(
      `edge: /metrics is open to anyone who reaches ${config.hostname}; set EDGE_METRICS_TOKEN to close it`,
    );
  }
  const server = Deno.serve({
    port: config.port,
    hostname: config.hostname,
    onListen: ({ hostname, port }) => {
      for (const line of listeningLines(cache, hostname, port)) console.log(line);
    },
  }, app.fetch);

  const close = async (why: string): Promise<string> => {
    console.log("edge: shutting down");
    // Closing the cache ends the event streams (each finishes its last
    // chunk), so the graceful shutdown below is not held up by them.
    // (Aborting Deno.serve's signal instead would cut streaming bodies
    // mid-response.)
    await cache.close();
    await server.shutdown();
    kv.close();
    return why;
  };
  // The first reason to stop is the one reported.
  let stopping: Promise<string> | undefined;
  const shutdown = (why: string): Promise<string> => {
    stopping ??= close(why);
    return stopping;
  };
  stop = (why) => void shutdown(why);
  await server.finished;
  // The server finishes only when shut down: say why, once all is closed.
  const why = await shutdown("the server finished");
  console.log(stoppedLine(cache, why));
}

if (import.meta.main) {
  let config: MainConfig;
  try {
    config = readConfig();
  } catch (error) {
    // A bad setting: say which, and stop before anything starts.
    console.error(error instanceof Error ? error.message : String(error));
    Deno.exit(2);
  }
  await main(config);
}
