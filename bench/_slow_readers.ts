/**
 * Clients that never read, against a real core (the gateway's memory bound
 * and fairness): `n` raw TCP WebSockets that log in, subscribe to market data
 * and then never read another byte, so that everything the core sends them
 * piles up in the kernel's socket buffers and then in the core's own send
 * queues. The core's resident memory (`VmRSS`) is sampled before, while
 * they are held, and after they have closed. Private to `bench/`; used by
 * the gateway bench and by `core/gateway/slow_readers_test.ts`.
 *
 * @module
 */

import { encodeClientMessage } from "../core/wire/client.ts";
import { BEARER_PREFIX, SUBPROTOCOL } from "../core/gateway/config.ts";
import type { CoreProcess } from "./_core_process.ts";

/** Options of {@linkcode runSlowReaders}. */
export interface SlowReadersOptions {
  /** Clients to open. */
  readonly clients: number;
  /** Client `i` logs in with `tokens[i % tokens.length]`. */
  readonly tokens: readonly string[];
  /** Symbols every client subscribes to. */
  readonly symbols: readonly string[];
  /** How long the clients are held, never reading, once open, ms. */
  readonly holdMs: number;
  /** The longest wait for the core's memory to come back down after they close, ms. */
  readonly settleMs: number;
  /**
   * How far above its memory before the core should come back after they
   * close, bytes (default 64 MiB). The wait ends as soon as it does.
   */
  readonly settleWithinBytes?: number;
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

/** What {@linkcode runSlowReaders} saw. */
export interface SlowReadersRun {
  readonly clients: number;
  /** Clients upgraded (101). */
  readonly opened: number;
  /** Clients refused at the handshake, and the first refusal's status and body. */
  readonly refused: number;
  readonly firstRefusal?: string;
  readonly holdMs: number;
  /** The core's resident memory before the clients connected, bytes. */
  readonly rssBeforeBytes: number;
  /** Its highest sample while they were held. */
  readonly rssPeakBytes: number;
  /** After they closed, once it came back under the bound or the wait ended. */
  readonly rssAfterBytes: number;
  /** How long it took to come back (the whole wait when it did not), ms. */
  readonly settledMs: number;
  /** Connections the core still counted at the end of the hold (its stats line). */
  readonly heldByCore: number | undefined;
}

/** How often the core's memory is sampled, ms. */
const SAMPLE_MS = 250;

const encoder = new TextEncoder();

/** A masked binary client frame (RFC 6455 §5.2), FIN set; payloads under 64 KiB. */
function clientFrame(payload: Uint8Array): Uint8Array {
  const header = payload.length < 126 ? 2 : 4;
  const out = new Uint8Array(header + 4 + payload.length);
  out[0] = 0x82;
  if (header === 2) out[1] = 0x80 | payload.length;
  else {
    out[1] = 0x80 | 126;
    new DataView(out.buffer).setUint16(2, payload.length);
  }
  const mask = crypto.getRandomValues(new Uint8Array(4));
  out.set(mask, header);
  for (let i = 0; i < payload.length; i++) out[header + 4 + i] = payload[i]! ^ mask[i & 3]!;
  return out;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.length) at += await conn.write(bytes.subarray(at));
}

/**
 * Opens one client: the upgrade, read up to the end of the response's
 * head (and not a byte further once it is a 101), then the subscriptions.
 *
 * @returns The connection, or the refusal's status line and body.
 */
async function openClient(
  port: number,
  token: string,
  symbols: readonly string[],
  timeoutMs: number,
): Promise<{ conn: Deno.TcpConn } | { refused: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await writeAll(
      conn,
      encoder.encode(
        [
          "GET /ws HTTP/1.1",
          `Host: 127.0.0.1:${port}`,
          "Connection: Upgrade",
          "Upgrade: websocket",
          "Sec-WebSocket-Version: 13",
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
          `Sec-WebSocket-Protocol: ${SUBPROTOCOL}, ${BEARER_PREFIX}${token}`,
          "",
          "",
        ].join("\r\n"),
      ),
    );
    // The core sends nothing after the 101 until a subscription (a
    // heartbeat at most), so reading past the head loses nothing that matters.
    const buffer = new Uint8Array(4096);
    let head = "";
    const deadline = performance.now() + timeoutMs;
    while (!head.includes("\r\n\r\n")) {
      const left = deadline - performance.now();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const n = await Promise.race([
        conn.read(buffer),
        new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), left))),
      ]);
      clearTimeout(timer);
      if (n === "timeout") throw new Error("Cannot open a slow reader: timed out");
      if (n === null) throw new Error(`Cannot open a slow reader: the core closed (${head})`);
      head += new TextDecoder().decode(buffer.subarray(0, n));
    }
    if (!head.startsWith("HTTP/1.1 101")) {
      // A refusal: its body (problem+json) says why.
      const at = head.indexOf("\r\n\r\n");
      conn.close();
      return { refused: `${head.slice(0, head.indexOf("\r\n"))} ${head.slice(at + 4)}`.trim() };
    }
    let id = 1n;
    for (const symbol of symbols) {
      await writeAll(
        conn,
        clientFrame(
          encodeClientMessage({ type: "subscribe", requestId: id++, sentAt: 0n, symbol }),
        ),
      );
    }
    return { conn };
  } catch (error) {
    try {
      conn.close();
    } catch {
      // Already closed.
    }
    throw error;
  }
}

/**
 * Opens `clients` slow readers against `core`, holds them, closes them,
 * and samples the core's memory throughout.
 *
 * @param core A running core.
 * @param options How many, as whom, on what, and for how long.
 * @returns What was seen.
 * @throws {Error} If the core is gone, or a client cannot connect at all.
 *
 * @example
 * ```ts ignore
 * const run = await runSlowReaders(core, {
 *   clients: 200, tokens: [core.token("VIEWER")], symbols: ["AAPL"], holdMs: 5000, settleMs: 20000,
 * });
 * ```
 */
export async function runSlowReaders(
  core: CoreProcess,
  options: SlowReadersOptions,
): Promise<SlowReadersRun> {
  const { clients, tokens, symbols, holdMs, settleMs, log = () => {} } = options;
  const port = Number(new URL(core.url).port);
  await core.waitForConnections(0, 5_000);
  const before = await core.sample();
  const conns: Deno.TcpConn[] = [];
  let refused = 0;
  let firstRefusal: string | undefined;
  try {
    // A few at a time: the handshakes queue on the core's one thread.
    const concurrency = 20;
    for (let at = 0; at < clients; at += concurrency) {
      const batch = Array.from(
        { length: Math.min(concurrency, clients - at) },
        (_, k) => openClient(port, tokens[(at + k) % tokens.length]!, symbols, 10_000),
      );
      for (const result of await Promise.all(batch)) {
        if ("conn" in result) conns.push(result.conn);
        else {
          refused++;
          firstRefusal ??= result.refused;
        }
      }
    }
    log(
      `slow readers: ${conns.length} open, ${refused} refused; holding ${holdMs} ms, never reading`,
    );
    let peak = before.rssBytes;
    const holdEnd = performance.now() + holdMs;
    while (performance.now() < holdEnd) {
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS));
      peak = Math.max(peak, (await core.sample()).rssBytes);
    }
    const heldByCore = await core.connections().catch(() => undefined);
    for (const conn of conns.splice(0)) {
      try {
        conn.close();
      } catch {
        // The core closed it first.
      }
    }
    const bound = before.rssBytes + (options.settleWithinBytes ?? 64 * 2 ** 20);
    const closedAt = performance.now();
    let after = await core.sample();
    while (after.rssBytes > bound && performance.now() - closedAt < settleMs) {
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS));
      after = await core.sample();
    }
    const run: SlowReadersRun = {
      clients,
      opened: clients - refused,
      refused,
      ...(firstRefusal === undefined ? {} : { firstRefusal }),
      holdMs,
      rssBeforeBytes: before.rssBytes,
      rssPeakBytes: peak,
      rssAfterBytes: after.rssBytes,
      settledMs: performance.now() - closedAt,
      heldByCore,
    };
    return run;
  } finally {
    for (const conn of conns) {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
  }
}
