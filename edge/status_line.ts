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

import { formatStatusLine, type ReadyLine, type StoppedLine } from "../schemas/status_line.ts";

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
