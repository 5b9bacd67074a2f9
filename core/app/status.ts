/**
 * What a running core tells programs about itself, as opposed to the lines
 * it prints for people (which may change wording at any time):
 *
 * - **The status line** (its format is shared with the edge's:
 *   `schemas/status_line.ts`). `core/main.ts` prints one line starting with
 *   {@linkcode STATUS_LINE_PREFIX} and a JSON object when it is ready
 *   (`"event": "ready"`: its pid, the addresses it listens on, what journal
 *   recovery found) and one when it has stopped (`"event": "stopped"`: why,
 *   and the final counts). A parent learns the core's ports from the first,
 *   never from the human log ({@linkcode parseStatusLine}).
 * - **`GET /status`** on the core's port ({@linkcode statusRoute}): the same
 *   addresses and the live counts (commands by source, connections, queued
 *   bytes, the engine's state). It answers loopback clients only: a client
 *   from any other address gets 403 `application/problem+json` with reason
 *   `loopback_only`, since the counts are the operator's, not the traders'.
 *
 * @module
 */

import type { EngineState } from "../../schemas/quotes.ts";
import {
  formatStatusLine,
  type ListenAddresses,
  listenAddresses,
  parseStatusLine as parseAnyStatusLine,
  type ReadyLine,
  type StoppedLine,
} from "../../schemas/status_line.ts";

export { STATUS_LINE_PREFIX } from "../../schemas/status_line.ts";

/** The path of the status answer on the core's port. */
export const STATUS_PATH = "/status";

/** Where a core listens, as bound (port 0 asked: the port it got). */
export interface CoreAddresses extends ListenAddresses {
  /** The trader WebSocket: `ws://<host>:<port>/ws`. */
  readonly ws: string;
  /** The admin API: `http://<host>:<port>/admin`. */
  readonly admin: string;
  /** This module's answer: `http://<host>:<port>/status` (loopback clients only). */
  readonly status: string;
}

/** What the core has done so far. */
export interface CoreStats {
  /** Trading commands the engine has answered, from every source. */
  readonly commands: number;
  readonly events: number;
  readonly trades: number;
  readonly rejects: number;
  /** Commands per source (`synthetic`, `gateway`, `admin`, …). */
  readonly bySource: Readonly<Record<string, number>>;
  /** Open trader WebSocket connections. */
  readonly connections: number;
  /** Bytes queued for every open connection, as of the gateway's last check. */
  readonly queuedBytes: number;
  /** Connections that have ended since the core started. */
  readonly closedConnections: number;
  /** The engine's state (running, or halted with its cause). */
  readonly engine: EngineState;
}

/** What journal recovery found at start, in brief (undefined without a journal). */
export interface JournalStatus {
  /** The journal folder. */
  readonly dir: string;
  /** True when the folder held no journal. */
  readonly created: boolean;
  /** Commands replayed after the snapshot restored. */
  readonly replayed: number;
  /** The snapshot restored (its journal sequence), if any. */
  readonly snapshot: number | null;
  /** The engine's state hash after recovery, in decimal (a u64). */
  readonly stateHash: string;
}

/** The status line printed once the core serves and trades. */
export interface ReadyStatus extends ReadyLine {
  readonly addresses: CoreAddresses;
  /** Null when journaling is off. */
  readonly journal: JournalStatus | null;
  /** The stored accounts applied to the engine at start, and the control commands that took. */
  readonly applied: { readonly accounts: number; readonly controls: number };
}

/** The status line printed once the core has stopped. */
export interface StoppedStatus extends StoppedLine {
  readonly stats: CoreStats;
}

/** Every status line. */
export type StatusEvent = ReadyStatus | StoppedStatus;

/** The body of `GET /status`. */
export interface CoreStatus {
  readonly pid: number;
  /** `running`, or `closing` once shutdown has begun. */
  readonly state: "running" | "closing";
  readonly addresses: CoreAddresses;
  readonly journal: JournalStatus | null;
  readonly stats: CoreStats;
}

/**
 * Formats a status line: {@linkcode STATUS_LINE_PREFIX} and the JSON, on
 * one line.
 *
 * @param status What to say.
 * @returns The line, without a newline.
 *
 * @example
 * ```ts
 * import { statusLine } from "./status.ts";
 * const line = statusLine({
 *   event: "stopped",
 *   pid: 7,
 *   why: "SIGTERM",
 *   stats: {
 *     commands: 0, events: 0, trades: 0, rejects: 0, bySource: {}, connections: 0,
 *     queuedBytes: 0, closedConnections: 0,
 *     engine: { state: "running", cause: null, since: null },
 *   },
 * });
 * if (!line.startsWith('tc-status {"event":"stopped","pid":7,')) throw new Error(line);
 * ```
 */
export function statusLine(status: StatusEvent): string {
  return formatStatusLine(status);
}

/**
 * Reads a core's status line (`schemas/status_line.ts` checks what every
 * status line has; the core's own members are taken as the core wrote them).
 *
 * @param line One line a core printed (a trailing `\r` is allowed).
 * @returns The status, or undefined for any other line (the human log).
 *
 * @example
 * ```ts
 * import { parseStatusLine } from "./status.ts";
 * const ready = parseStatusLine('tc-status {"event":"ready","pid":7,' +
 *   '"addresses":{"hostname":"127.0.0.1","port":8080,"http":"http://127.0.0.1:8080"}}',
 * );
 * if (ready?.event !== "ready" || ready.addresses.port !== 8080) throw new Error("misread");
 * if (parseStatusLine("gateway: listening on ws://127.0.0.1:8080/ws") !== undefined) {
 *   throw new Error("a human line is not a status");
 * }
 * ```
 */
export function parseStatusLine(line: string): StatusEvent | undefined {
  return parseAnyStatusLine(line) as StatusEvent | undefined;
}

/**
 * The addresses of a core listening on `hostname:port`.
 *
 * @param hostname The address bound.
 * @param port The port bound.
 * @returns Its URLs.
 *
 * @example
 * ```ts
 * import { coreAddresses } from "./status.ts";
 * const a = coreAddresses("::1", 8080);
 * if (a.ws !== "ws://[::1]:8080/ws" || a.status !== "http://[::1]:8080/status") {
 *   throw new Error(JSON.stringify(a));
 * }
 * ```
 */
export function coreAddresses(hostname: string, port: number): CoreAddresses {
  const { http, ws } = listenAddresses(hostname, port, "/ws");
  return { hostname, port, http, ws: ws!, admin: `${http}/admin`, status: `${http}${STATUS_PATH}` };
}

/**
 * Whether a peer address is the machine's own: 127.0.0.0/8, `::1`, or
 * either mapped into IPv6 (`::ffff:127.0.0.1`).
 *
 * @param address The peer's address as `Deno.serve` reports it.
 * @returns True for a loopback address.
 *
 * @example
 * ```ts
 * import { isLoopbackAddress } from "./status.ts";
 * if (!isLoopbackAddress("127.0.0.1") || isLoopbackAddress("10.0.0.1")) throw new Error("wrong");
 * ```
 */
export function isLoopbackAddress(address: string): boolean {
  const a = address.toLowerCase().replace(/^\[|\]$/g, "");
  if (a === "::1" || a === "0:0:0:0:0:0:0:1") return true;
  const v4 = a.startsWith("::ffff:") ? a.slice(7) : a;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

const JSON_HEADERS = {
  "content-type": "application/json",
  "cache-control": "no-store",
};

/**
 * Makes the handler of `GET /status`: the core's status as JSON to loopback
 * clients, 403 `loopback_only` to any other (or to a request whose peer is
 * unknown), 405 to other methods; undefined for every other path.
 *
 * @param status Reads the status when asked.
 * @returns The handler (for the gateway's `routes`).
 *
 * @example
 * ```ts
 * import { statusRoute } from "./status.ts";
 * const route = statusRoute(() => ({ hello: "status" } as never));
 * const peer = (hostname: string) => ({
 *   remoteAddr: { transport: "tcp" as const, hostname, port: 40000 },
 *   completed: Promise.resolve(),
 * });
 * const mine = route(new Request("http://127.0.0.1:8080/status"), peer("127.0.0.1"))!;
 * const theirs = route(new Request("http://10.0.0.2:8080/status"), peer("10.0.0.9"))!;
 * if (mine.status !== 200 || theirs.status !== 403) throw new Error("wrong");
 * ```
 */
export function statusRoute(
  status: () => CoreStatus,
): (request: Request, info?: Deno.ServeHandlerInfo) => Response | undefined {
  return function statusAnswer(request, info) {
    if (new URL(request.url).pathname !== STATUS_PATH) return undefined;
    const remote = info?.remoteAddr;
    const peer = remote !== undefined && "hostname" in remote ? remote.hostname : undefined;
    if (peer === undefined || !isLoopbackAddress(peer)) {
      return problem(
        403,
        "loopback_only",
        `Cannot answer ${STATUS_PATH}: it is for clients on the core's own machine, ` +
          `and this request came from ${peer ?? "an unknown address"}`,
      );
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      return problem(
        405,
        "method_not_allowed",
        `Cannot ${request.method} ${STATUS_PATH}: use GET`,
        { allow: "GET, HEAD" },
      );
    }
    return new Response(request.method === "HEAD" ? null : JSON.stringify(status()), {
      headers: JSON_HEADERS,
    });
  };
}

const TITLES: Readonly<Record<number, string>> = { 403: "Forbidden", 405: "Method Not Allowed" };

function problem(
  status: number,
  reason: string,
  detail: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(
    JSON.stringify({
      type: `urn:tradecaptain:problem:${reason}`,
      title: TITLES[status] ?? "Error",
      status,
      detail,
      reason,
    }),
    {
      status,
      headers: {
        "content-type": "application/problem+json",
        "cache-control": "no-store",
        ...headers,
      },
    },
  );
}
