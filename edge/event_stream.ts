/**
 * Server-Sent Events of quote changes, fed from the edge's own
 * {@linkcode SnapshotCache} (never from KV).
 *
 * # The stream
 *
 * ```text
 * retry: 2000
 *
 * event: quote
 * data: {"ticker":"AAPL",…}          ← the quote JSON of ticker.ts
 *
 * event: quote
 * id: 93
 * data: {"ticker":"MSFT",…}
 *
 * : heartbeat
 * ```
 *
 * On connect the stream sends the current quote of each requested symbol
 * whose version is above `Last-Event-ID` (or the `since` parameter; all of
 * them without either), then one event per changed snapshot. Events come in
 * batches, one per cache refresh, in version order; only a batch's last
 * event carries an `id:`, the cache's version after that refresh. So a
 * client's last event id `v` always means "I have every change up to `v`",
 * and resuming from it loses nothing (it may repeat a snapshot, which is
 * harmless: a quote is a state, not a delta).
 *
 * # Bounded buffering
 *
 * A connection holds at most one pending snapshot per symbol: when the
 * client reads slower than quotes change, newer snapshots replace older
 * unsent ones (a slow reader sees fewer, never stale, quotes), and the
 * stream itself queues at most one batch. Memory per connection is bounded
 * by the number of symbols, whatever the client does.
 *
 * A comment line is sent when nothing else was for a heartbeat interval
 * (default 15 s), so proxies keep the connection and dead clients are found.
 * Streams end when the client goes away, or when the cache closes (after
 * flushing what is pending), so a server shutdown is not held up. A symbol
 * removed from KV sends no event; it just stops changing.
 *
 * # Limits
 *
 * At most `maxConnections` streams are open (default 1,000), and at most
 * `maxConnectionsPerAddress` from one client address (default 16), so that
 * one address cannot take every slot. {@linkcode EventStreams.open} says
 * which limit refused a stream ({@linkcode StreamRefusal}); the API answers
 * 503 `too_many_streams` for the first and 429
 * `too_many_streams_per_address` for the second. Streams opened without an
 * address share the quota of one ({@linkcode UNKNOWN_ADDRESS}).
 *
 * @module
 */

import type { QuoteSnapshot } from "../schemas/quotes.ts";
import type { SnapshotCache } from "./snapshot_cache.ts";
import { tickerJson } from "./ticker.ts";

/** Options of {@linkcode EventStreams}. */
export interface EventStreamOptions {
  /** The quiet time after which a heartbeat comment is sent (default 15,000 ms). */
  readonly heartbeatMs?: number;
  /** The reconnection delay suggested to clients (`retry:`, default 2,000 ms). */
  readonly retryMs?: number;
  /** The most open streams (default 1,000); more are refused with 503. */
  readonly maxConnections?: number;
  /** The most open streams from one client address (default 16); more are refused with 429. */
  readonly maxConnectionsPerAddress?: number;
}

/** The defaults of {@linkcode EventStreamOptions}. */
export const EVENT_STREAM_DEFAULTS = {
  heartbeatMs: 15_000,
  retryMs: 2_000,
  maxConnections: 1_000,
  maxConnectionsPerAddress: 16,
} as const;

/** The address of streams opened without one: they share its quota. */
export const UNKNOWN_ADDRESS = "unknown";

/**
 * Why {@linkcode EventStreams.open} refused a stream: the hub is closed,
 * it holds `maxConnections`, or the address holds `maxConnectionsPerAddress`.
 */
export type StreamRefusal = "closed" | "full" | "address_full";

const encoder = new TextEncoder();
const HEARTBEAT = encoder.encode(": heartbeat\n\n");

class Connection {
  pending = new Map<string, QuoteSnapshot>();
  pendingId = 0;
  quiet = true; // nothing sent since the last heartbeat tick
  heartbeatDue = false;
  state: "open" | "closing" | "cancelled" = "open";
  wake: (() => void) | undefined;

  constructor(
    readonly wanted: ReadonlySet<string> | undefined,
    readonly address: string,
  ) {}

  /** Queues the wanted snapshots; returns how many replaced unsent ones. */
  offer(changed: readonly QuoteSnapshot[], version: number): number {
    let any = false;
    let replaced = 0;
    for (const s of changed) {
      if (this.wanted === undefined || this.wanted.has(s.symbol)) {
        // Re-inserted, so that pending stays in version order.
        if (this.pending.delete(s.symbol)) replaced++;
        this.pending.set(s.symbol, s);
        any = true;
      }
    }
    if (any) {
      this.pendingId = version;
      this.wake?.();
    }
    return replaced;
  }
}

/**
 * The open event streams of one edge: each gets the cache's changes.
 *
 * @example
 * ```ts
 * import { EventStreams } from "./event_stream.ts";
 * import { SnapshotCache } from "./snapshot_cache.ts";
 * import { makeSnapshot, writeSnapshots } from "./_testing/kv.ts";
 * const kv = await Deno.openKv(":memory:");
 * await writeSnapshots(kv, { snapshots: [makeSnapshot("AAPL")] });
 * const cache = new SnapshotCache({ kv });
 * await cache.refresh();
 * const streams = new EventStreams(cache);
 * const body = streams.open(undefined, undefined, "192.0.2.1");
 * if (typeof body === "string") throw new Error(`refused: ${body}`);
 * const reader = body.getReader();
 * let text = "";
 * while (!text.includes("id: 1\n")) {
 *   text += new TextDecoder().decode((await reader.read()).value);
 * }
 * await reader.cancel();
 * await cache.close();
 * kv.close();
 * ```
 */
export class EventStreams {
  readonly #cache: SnapshotCache;
  readonly #heartbeatMs: number;
  readonly #retry: Uint8Array;
  readonly #max: number;
  readonly #maxPerAddress: number;
  readonly #connections = new Set<Connection>();
  /** Open streams by address (an address with none has no entry). */
  readonly #perAddress = new Map<string, number>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  readonly #unsubscribe: () => void;
  /** Snapshots replaced before a slow client read them. */
  coalesced = 0;

  /**
   * Makes the hub and subscribes it to the cache.
   *
   * @param cache The cache whose changes are streamed.
   * @param options Heartbeat, retry and connection limit.
   * @throws {RangeError} When an option is not a positive integer.
   */
  constructor(cache: SnapshotCache, options: EventStreamOptions = {}) {
    const o = { ...EVENT_STREAM_DEFAULTS, ...options };
    for (const [name, value] of Object.entries(o)) {
      if (!(Number.isSafeInteger(value) && value > 0)) {
        throw new RangeError(
          `Cannot make the event streams: ${name} must be a positive integer, not ${value}`,
        );
      }
    }
    this.#cache = cache;
    this.#heartbeatMs = o.heartbeatMs;
    this.#retry = encoder.encode(`retry: ${o.retryMs}\n\n`);
    this.#max = o.maxConnections;
    this.#maxPerAddress = o.maxConnectionsPerAddress;
    this.#unsubscribe = cache.subscribe((changed, version) => {
      // Replacing a pending snapshot is what bounds a slow client's buffer.
      for (const c of this.#connections) this.coalesced += c.offer(changed, version);
    }, () => this.close());
  }

  /** How many streams are open. */
  get connections(): number {
    return this.#connections.size;
  }

  /**
   * How many streams an address has open.
   *
   * @param address The client's address.
   * @returns The count.
   */
  connectionsOf(address: string): number {
    return this.#perAddress.get(address) ?? 0;
  }

  /**
   * Opens a stream.
   *
   * @param symbols The symbols to stream, or undefined for all.
   * @param since Send only snapshots above this version first (undefined: all).
   * @param address The client's address (default {@linkcode UNKNOWN_ADDRESS}).
   * @returns The body to answer with, or why none was opened.
   */
  open(
    symbols: ReadonlySet<string> | undefined,
    since: number | undefined,
    address: string = UNKNOWN_ADDRESS,
  ): ReadableStream<Uint8Array> | StreamRefusal {
    if (this.#closed) return "closed";
    if (this.#connections.size >= this.#max) return "full";
    const held = this.#perAddress.get(address) ?? 0;
    if (held >= this.#maxPerAddress) return "address_full";
    const conn = new Connection(symbols, address);
    // The current state and the subscription are taken in one synchronous
    // step, so no change falls between them.
    const current = this.#cache.all().filter((s) => since === undefined || s.version > since);
    conn.offer([...current].sort((a, b) => a.version - b.version), this.#cache.version);
    this.#connections.add(conn);
    this.#perAddress.set(address, held + 1);
    this.#startHeartbeat();
    const retry = this.#retry;
    return new ReadableStream<Uint8Array>({
      start: (controller) => controller.enqueue(retry),
      pull: async (controller) => {
        while (conn.pending.size === 0 && !conn.heartbeatDue && conn.state === "open") {
          await new Promise<void>((resolve) => conn.wake = resolve);
        }
        conn.wake = undefined;
        if (conn.state === "cancelled") return;
        if (conn.pending.size > 0) {
          controller.enqueue(
            encoder.encode(formatBatch([...conn.pending.values()], conn.pendingId)),
          );
          conn.pending = new Map();
          conn.quiet = false;
        } else if (conn.heartbeatDue) {
          controller.enqueue(HEARTBEAT);
        }
        conn.heartbeatDue = false;
        if (conn.state === "closing") {
          this.#drop(conn);
          controller.close();
        }
      },
      cancel: () => {
        conn.state = "cancelled";
        this.#drop(conn);
        conn.wake?.();
      },
    }, { highWaterMark: 1 });
  }

  /** Ends every stream (after what is pending) and refuses new ones. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    clearInterval(this.#timer); // ending streams need no heartbeat
    this.#timer = undefined;
    for (const conn of this.#connections) {
      conn.state = "closing";
      conn.wake?.();
    }
  }

  #drop(conn: Connection): void {
    if (!this.#connections.delete(conn)) return;
    const held = (this.#perAddress.get(conn.address) ?? 1) - 1;
    if (held > 0) this.#perAddress.set(conn.address, held);
    else this.#perAddress.delete(conn.address);
    if (this.#connections.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  // One timer for all streams, running only while some are open.
  #startHeartbeat(): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = setInterval(() => {
      for (const conn of this.#connections) {
        if (conn.quiet) {
          conn.heartbeatDue = true;
          conn.wake?.();
        }
        conn.quiet = true;
      }
    }, this.#heartbeatMs);
  }
}

/** Formats one batch of events; only the last carries the id (see the module doc). */
function formatBatch(snapshots: readonly QuoteSnapshot[], id: number): string {
  let text = "";
  const last = snapshots.length - 1;
  for (const [i, s] of snapshots.entries()) {
    text += i === last
      ? `event: quote\nid: ${id}\ndata: ${tickerJson(s)}\n\n`
      : `event: quote\ndata: ${tickerJson(s)}\n\n`;
  }
  return text;
}
