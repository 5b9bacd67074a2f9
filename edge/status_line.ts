/**
 * The edge's status lines: what `edge/main.ts` tells the program that
 * started it, apart from its lines for people. The format is every
 * process's (`schemas/status_line.ts`): `tc-status` and one JSON object.
 *
 * - `"event":"ready"`, once it serves: its pid, the addresses it listens on
 *   (as bound: `EDGE_PORT=0` asked, the port it got), and the snapshots it
 *   holds (how many symbols, at which version of the store).
 * - `"event":"stopped"`, once it has shut down in order: its pid, why, and
 *   the snapshots it held last.
 *
 * A parent learns the edge's address from the first, never from
 * `edge: listening on …`.
 *
 * @module
 */

import {
  formatStatusLine,
  listenAddresses,
  type ReadyLine,
  type StoppedLine,
} from "../schemas/status_line.ts";

/** The snapshots an edge holds. */
export interface EdgeSnapshots {
  /** Symbols with a snapshot. */
  readonly symbols: number;
  /** The store's version they were read at (0 before any). */
  readonly version: number;
}

/** The edge's ready line. */
export interface EdgeReadyStatus extends ReadyLine, EdgeSnapshots {}

/** The edge's stopped line. */
export interface EdgeStoppedStatus extends StoppedLine, EdgeSnapshots {}

/** Every status line of the edge. */
export type EdgeStatus = EdgeReadyStatus | EdgeStoppedStatus;

/**
 * Formats one of the edge's status lines.
 *
 * @param status What to say.
 * @returns The line, without a newline.
 *
 * @example
 * ```ts
 * import { edgeStatusLine } from "./status_line.ts";
 * import { listenAddresses, parseStatusLine } from "../schemas/status_line.ts";
 * const line = edgeStatusLine({
 *   event: "ready",
 *   pid: 7,
 *   addresses: listenAddresses("127.0.0.1", 8000),
 *   symbols: 2,
 *   version: 5,
 * });
 * const ready = parseStatusLine(line);
 * if (ready?.event !== "ready" || ready.addresses.http !== "http://127.0.0.1:8000") {
 *   throw new Error(line);
 * }
 * ```
 */
export function edgeStatusLine(status: EdgeStatus): string {
  return formatStatusLine(status);
}

/** What the status lines read of a snapshot cache. */
export interface SnapshotHolder {
  all(): readonly unknown[];
  readonly version: number;
}

/**
 * What an edge prints once it listens: the line for people, then its ready
 * status line with the address as bound and the snapshots it holds.
 *
 * @param cache The edge's snapshots.
 * @param hostname The address it listens on, as bound.
 * @param port The port, as bound.
 * @returns The two lines, in order.
 *
 * @example
 * ```ts
 * import { listeningLines } from "./status_line.ts";
 * const [human, status] = listeningLines({ all: () => [], version: 0 }, "127.0.0.1", 8000);
 * if (human !== "edge: listening on http://127.0.0.1:8000/" || !status.includes('"ready"')) {
 *   throw new Error(status);
 * }
 * ```
 */
export function listeningLines(
  cache: SnapshotHolder,
  hostname: string,
  port: number,
): [string, string] {
  return [
    `edge: listening on http://${hostname}:${port}/`,
    edgeStatusLine({
      event: "ready",
      pid: Deno.pid,
      addresses: listenAddresses(hostname, port),
      symbols: cache.all().length,
      version: cache.version,
    }),
  ];
}

/**
 * The edge's stopped status line.
 *
 * @param cache The snapshots it held last.
 * @param why Why it stopped.
 * @returns The line.
 *
 * @example
 * ```ts
 * import { stoppedLine } from "./status_line.ts";
 * if (!stoppedLine({ all: () => [1], version: 3 }, "SIGTERM").includes('"why":"SIGTERM"')) {
 *   throw new Error();
 * }
 * ```
 */
export function stoppedLine(cache: SnapshotHolder, why: string): string {
  return edgeStatusLine({
    event: "stopped",
    pid: Deno.pid,
    why,
    symbols: cache.all().length,
    version: cache.version,
  });
}
