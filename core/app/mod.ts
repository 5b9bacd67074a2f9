/**
 * The core as one app: {@linkcode createCore} builds, wires and serves
 * every part of it from a {@linkcode CoreConfig} ({@linkcode readConfig}
 * reads one from the environment) and returns a {@linkcode Core} handle:
 * its addresses, its statistics, what journal recovery found, and
 * `close()`. `core/main.ts` (`deno task start`) is its entry point; tests
 * and benches that run a core in their own process use it too.
 *
 * A core run as a child process says where it listens in a status line
 * ({@linkcode STATUS_LINE_PREFIX}, read with {@linkcode parseStatusLine}),
 * and answers `GET /status` to loopback clients ({@linkcode statusRoute}).
 *
 * @example
 * ```ts
 * import { createCore, readConfig } from "./mod.ts";
 * const kv = await Deno.openKv(":memory:");
 * const core = await createCore(
 *   { ...readConfig(() => undefined), corePort: 0, journalDir: undefined, syntheticRate: 0 },
 *   {
 *     kv,
 *     key: await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, ["verify"]),
 *     log: () => {},
 *   },
 * );
 * console.log(core.addresses.ws, core.stats().connections);
 * await core.close();
 * kv.close();
 * ```
 *
 * @module
 */

export {
  type Core,
  type CoreGatewayOverrides,
  type CoreOptions,
  type CoreParts,
  createCore,
} from "./create_core.ts";
export { type CoreConfig, DEFAULT_EDGE_URL, DEFAULT_KV_PATH, readConfig } from "./config.ts";
export {
  type CoreAddresses,
  coreAddresses,
  type CoreStats,
  type CoreStatus,
  isLoopbackAddress,
  type JournalStatus,
  parseStatusLine,
  type ReadyStatus,
  STATUS_LINE_PREFIX,
  STATUS_PATH,
  type StatusEvent,
  statusLine,
  statusRoute,
  type StoppedStatus,
} from "./status.ts";
