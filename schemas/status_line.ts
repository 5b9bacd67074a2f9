/**
 * The status line: how a process of ours (the core, the edge, a bench's
 * reference server) tells the program that started it where it listens and
 * what it did, apart from the lines it prints for people, whose wording may
 * change at any time.
 *
 * A status line is {@linkcode STATUS_LINE_PREFIX} followed by one JSON
 * object on one line of stdout. Every process prints one `"event":"ready"`
 * line once it serves (its `pid` and the `addresses` it listens on, as bound:
 * port 0 asked, the port it got) and, when it stops in order, one
 * `"event":"stopped"` line (`pid`, `why`). Each process may add members of
 * its own (the core its journal and counts, the edge its snapshot version);
 * a reader that needs only where to connect reads {@linkcode ReadyLine}.
 *
 * The line is shared by the core and the edge, which import nothing of
 * each other, so it lives here.
 *
 * @module
 */

/** The start of every status line; the rest of the line is one JSON object. */
export const STATUS_LINE_PREFIX = "tc-status ";

/** Where a server listens, as bound. */
export interface ListenAddresses {
  /** The address it listens on (`127.0.0.1`, `::1`, `0.0.0.0`). */
  readonly hostname: string;
  readonly port: number;
  /** `http://<host>:<port>`, no trailing slash (an IPv6 host in brackets). */
  readonly http: string;
  /** Its WebSocket, for a server that has one: `ws://<host>:<port>/<path>`. */
  readonly ws?: string;
}

/** What every ready line says: the process serves, here. */
export interface ReadyLine {
  readonly event: "ready";
  readonly pid: number;
  readonly addresses: ListenAddresses;
}

/** What every stopped line says: the process has stopped, and why. */
export interface StoppedLine {
  readonly event: "stopped";
  readonly pid: number;
  /** Why it stopped (`SIGTERM`, `RUN_FOR_MS=1500`, …). */
  readonly why: string;
}

/** Every status line, as far as every process shares it. */
export type StatusLine = ReadyLine | StoppedLine;

/**
 * Formats a status line: {@linkcode STATUS_LINE_PREFIX} and the JSON, on
 * one line.
 *
 * @param status What to say (a {@linkcode StatusLine}, with any members of
 * the process's own).
 * @returns The line, without a newline.
 *
 * @example
 * ```ts
 * import { formatStatusLine } from "./status_line.ts";
 * const line = formatStatusLine({ event: "stopped", pid: 7, why: "SIGTERM" });
 * if (line !== 'tc-status {"event":"stopped","pid":7,"why":"SIGTERM"}') throw new Error(line);
 * ```
 */
export function formatStatusLine(status: StatusLine): string {
  return STATUS_LINE_PREFIX + JSON.stringify(status);
}

/**
 * Reads a status line. It checks the members every process shares (the
 * event, a pid, and the addresses of a ready line or the reason of a
 * stopped one); members of a process's own are passed through unchecked.
 *
 * @param line One line a process printed (a trailing `\r` is allowed).
 * @returns The status, or undefined for any other line (the human log, or a
 * status line without what every status line has).
 *
 * @example
 * ```ts
 * import { formatStatusLine, listenAddresses, parseStatusLine } from "./status_line.ts";
 * const line = formatStatusLine({
 *   event: "ready",
 *   pid: 7,
 *   addresses: listenAddresses("127.0.0.1", 8080),
 * });
 * const ready = parseStatusLine(line);
 * if (ready?.event !== "ready" || ready.addresses.http !== "http://127.0.0.1:8080") {
 *   throw new Error("misread");
 * }
 * if (parseStatusLine("edge: listening on http://127.0.0.1:8080/") !== undefined) {
 *   throw new Error("a human line is not a status");
 * }
 * ```
 */
export function parseStatusLine(line: string): StatusLine | undefined {
  if (!line.startsWith(STATUS_LINE_PREFIX)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line.slice(STATUS_LINE_PREFIX.length));
  } catch {
    return undefined;
  }
  if (!isRecord(value) || !isPid(value.pid)) return undefined;
  if (value.event === "ready") {
    return isAddresses(value.addresses) ? value as unknown as ReadyLine : undefined;
  }
  if (value.event === "stopped") {
    return typeof value.why === "string" ? value as unknown as StoppedLine : undefined;
  }
  return undefined;
}

/**
 * Reads a ready line: what a parent waits for to learn where its child
 * listens.
 *
 * @param line One line a process printed.
 * @returns The ready status, or undefined for any other line (a stopped
 * line, the human log).
 *
 * @example
 * ```ts
 * import { readyLine } from "./status_line.ts";
 * const ready = readyLine(
 *   'tc-status {"event":"ready","pid":7,' +
 *     '"addresses":{"hostname":"127.0.0.1","port":8000,"http":"http://127.0.0.1:8000"}}',
 * );
 * if (ready?.addresses.port !== 8000) throw new Error("misread");
 * if (readyLine('tc-status {"event":"stopped","pid":7,"why":"SIGTERM"}') !== undefined) {
 *   throw new Error("a stopped line is not a ready one");
 * }
 * ```
 */
export function readyLine(line: string): ReadyLine | undefined {
  const status = parseStatusLine(line);
  return status?.event === "ready" ? status : undefined;
}

/**
 * The addresses of a server listening on `hostname:port`.
 *
 * @param hostname The address bound.
 * @param port The port bound.
 * @param wsPath The WebSocket's path, for a server that has one (`/ws`).
 * @returns Its URLs.
 *
 * @example
 * ```ts
 * import { listenAddresses } from "./status_line.ts";
 * const a = listenAddresses("::1", 8080, "/ws");
 * if (a.http !== "http://[::1]:8080" || a.ws !== "ws://[::1]:8080/ws") {
 *   throw new Error(JSON.stringify(a));
 * }
 * ```
 */
export function listenAddresses(hostname: string, port: number, wsPath?: string): ListenAddresses {
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  return {
    hostname,
    port,
    http: `http://${host}:${port}`,
    ...(wsPath === undefined ? {} : { ws: `ws://${host}:${port}${wsPath}` }),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isPid(value: unknown): boolean {
  return Number.isSafeInteger(value) && (value as number) > 0;
}

function isAddresses(value: unknown): boolean {
  return isRecord(value) && typeof value.hostname === "string" &&
    Number.isInteger(value.port) && (value.port as number) > 0 &&
    (value.port as number) <= 65_535 && typeof value.http === "string" &&
    (value.ws === undefined || typeof value.ws === "string");
}
