/**
 * The gateway's integration test harness: a core built by `createCore`
 * (`core/app/create_core.ts`, the wiring `core/main.ts` runs) and served on
 * 127.0.0.1 (a free port), with either a small fake market data port
 * ({@linkcode withGateway}) or the real publisher ({@linkcode withLiveGateway},
 * which can also recover the engine from a journal and seed market data
 * from the recovered books); a WebSocket client that decodes what the core
 * sends ({@linkcode TestClient}); a raw TCP WebSocket client that reads
 * only when told to ({@linkcode RawClient}: the slow consumer); and a book
 * rebuilt the way a client rebuilds it, from a snapshot and numbered
 * messages ({@linkcode BookReplica}). Private to `core/gateway/` tests.
 *
 * Every wait is bounded (2 s unless told), and the `with…` functions close
 * every socket, the server, the dispatcher and the engine whatever happens.
 *
 * @module
 */

import type { AccountRegistry } from "../app/accounts.ts";
import { readConfig } from "../app/config.ts";
import { type Core, createCore } from "../app/create_core.ts";
import type { Dispatcher, Origin } from "../app/dispatcher.ts";
import type { MarketData, MarketDataOptions } from "../marketdata/mod.ts";
import {
  type Command,
  CommandKind,
  type Instrument,
  loadInstruments,
  OrderType,
  Side,
  TimeInForce,
} from "../matching/mod.ts";
import type { NativeEngine, RecoveryReport, RestingOrder } from "../native/mod.ts";
import { decodeServerMessage, encodeClientMessage, encodeServerMessage } from "../wire/mod.ts";
import type { BookLevel, ClientRequest, Reason, ServerEvent } from "../wire/types.ts";
import { AUDIENCE, BEARER_PREFIX, ISSUER, type Role, SUBPROTOCOL } from "./config.ts";
import { signJwt } from "./jwt.ts";
import type { FrameSink, MarketDataPort } from "./market_data.ts";
import type { OrderRouter, OrderRouterOptions } from "./orders.ts";
import type { Gateway, GatewayOptions } from "./server.ts";
import { newKey } from "./_testing.ts";

/** How long a test waits for anything, unless told. */
export const WAIT_MS = 2000;

/** A market data port that records what the gateway asks of it. */
export class FakeMarketData implements MarketDataPort {
  readonly calls: string[] = [];
  applied = 0;
  flushes = 0;
  readonly sinks = new Set<FrameSink>();
  readonly #symbols: ReadonlySet<string>;

  constructor(symbols: Iterable<string>) {
    this.#symbols = new Set(symbols);
  }

  subscribe(sink: FrameSink, symbol: string, requestId: bigint): Reason | undefined {
    this.calls.push(`subscribe ${symbol} ${requestId}`);
    if (!this.#symbols.has(symbol)) return "unknownSymbol";
    this.sinks.add(sink);
    sink.send(encodeServerSnapshot(symbol, requestId));
    return undefined;
  }

  unsubscribe(sink: FrameSink, symbol: string): boolean {
    this.calls.push(`unsubscribe ${symbol}`);
    return this.sinks.delete(sink);
  }

  requestSnapshot(sink: FrameSink, symbol: string, requestId: bigint): Reason | undefined {
    this.calls.push(`snapshot ${symbol} ${requestId}`);
    if (!this.#symbols.has(symbol)) return "unknownSymbol";
    sink.send(encodeServerSnapshot(symbol, requestId));
    return undefined;
  }

  detach(sink: FrameSink): void {
    this.calls.push("detach");
    this.sinks.delete(sink);
  }

  apply(): void {
    this.applied++;
  }

  flush(): void {
    this.flushes++;
  }
}

function encodeServerSnapshot(symbol: string, requestId: bigint): Uint8Array {
  return encodeServerMessage({
    type: "bookSnapshot",
    requestId,
    symbol,
    sequence: 0n,
    bids: [],
    asks: [],
    engineTime: 0n,
  });
}

/**
 * Sees every message as it arrives, before the inbox: `receivedAt` is wall
 * time in ms since the epoch, `frame` the bytes (undefined for a text
 * message). Returning true keeps the message out of the inbox.
 */
export type Tap = (event: ServerEvent, receivedAt: number, frame: Uint8Array | undefined) =>
  | boolean
  | void;

/** Wall time in ms since the epoch, finer than `Date.now()`. */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

/** A trader's WebSocket, decoding every frame the core sends. */
export class TestClient {
  readonly socket: WebSocket;
  /** Messages received and not yet taken, oldest first. */
  readonly inbox: ServerEvent[] = [];
  /** Sees every message first (market data tests keep their flood out of the inbox). */
  tap: Tap | undefined;
  /** Resolves with the close event. */
  readonly closed: Promise<CloseEvent>;
  #waiters: (() => void)[] = [];
  #nextRequest = 1n;

  private constructor(socket: WebSocket) {
    this.socket = socket;
    this.closed = new Promise((resolve) => {
      socket.addEventListener("close", (e) => {
        resolve(e);
        this.#notify();
      });
    });
    socket.addEventListener("message", (e) => {
      const receivedAt = wallMs();
      let event: ServerEvent;
      let frame: Uint8Array | undefined;
      if (e.data instanceof ArrayBuffer) {
        frame = new Uint8Array(e.data);
        event = decodeServerMessage(frame);
      } else {
        event = { type: "error", reason: "unspecified", message: `text: ${e.data}` };
      }
      if (this.tap?.(event, receivedAt, frame) !== true) this.inbox.push(event);
      this.#notify();
    });
  }

  #notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /**
   * Opens a WebSocket and waits for it to open.
   *
   * @param url The `ws://` URL.
   * @param protocols The subprotocols to offer.
   * @returns The client, or throws when the connection is refused.
   */
  static async open(url: string, protocols: string[]): Promise<TestClient> {
    const socket = new WebSocket(url, protocols);
    socket.binaryType = "arraybuffer";
    const client = new TestClient(socket);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error("Cannot open WebSocket: timed out")),
        WAIT_MS,
      );
      socket.addEventListener("open", () => {
        clearTimeout(timer);
        resolve();
      });
      socket.addEventListener("error", () => {
        clearTimeout(timer);
        reject(new Error("Cannot open WebSocket: refused"));
      });
    });
    return client;
  }

  /** A fresh request id. */
  requestId(): bigint {
    return this.#nextRequest++;
  }

  /**
   * Sends a request (encoded), or raw bytes.
   *
   * @param request The request, or a frame.
   */
  send(request: ClientRequest | Uint8Array | string): void {
    this.socket.send(
      typeof request === "string" || request instanceof Uint8Array
        ? request
        : encodeClientMessage(request),
    );
  }

  /**
   * Takes the oldest received message that `match` accepts, waiting for one.
   *
   * @param match Which message (default: any but heartbeats).
   * @param timeoutMs The longest wait.
   * @returns The message.
   * @throws {Error} On timeout or close, listing what did arrive.
   */
  async next<T extends ServerEvent = ServerEvent>(
    match: (m: ServerEvent) => boolean = (m) => m.type !== "heartbeat",
    timeoutMs = WAIT_MS,
  ): Promise<T> {
    const deadline = performance.now() + timeoutMs;
    while (true) {
      const i = this.inbox.findIndex(match);
      if (i >= 0) return this.inbox.splice(i, 1)[0] as T;
      const left = deadline - performance.now();
      if (left <= 0 || this.socket.readyState === WebSocket.CLOSED) {
        throw new Error(
          `Timed out waiting for a message; inbox: ${
            show(this.inbox)
          }, socket state ${this.socket.readyState}`,
        );
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  }

  /**
   * Takes the next message of a type.
   *
   * @param type The message type.
   * @param timeoutMs The longest wait.
   * @returns The message.
   */
  nextOf<K extends ServerEvent["type"]>(
    type: K,
    timeoutMs = WAIT_MS,
  ): Promise<Extract<ServerEvent, { type: K }>> {
    return this.next((m) => m.type === type, timeoutMs);
  }

  /**
   * Sends a ping and waits for its answer: everything the core sent before
   * it has then arrived.
   *
   * @returns The heartbeat answering it.
   */
  async sync(): Promise<Extract<ServerEvent, { type: "heartbeat" }>> {
    const requestId = this.requestId();
    this.send({ type: "ping", requestId, sentAt: 1n });
    return await this.next((m) => m.type === "heartbeat" && m.requestId === requestId);
  }

  /**
   * Waits until `condition` holds, looking again after each message.
   *
   * @param condition What to wait for.
   * @param what What it means, for the timeout's message.
   * @param timeoutMs The longest wait.
   * @throws {Error} On timeout or close.
   */
  async until(condition: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!condition()) {
      const left = deadline - performance.now();
      if (left <= 0 || this.socket.readyState === WebSocket.CLOSED) {
        throw new Error(
          `Timed out waiting until ${what}; socket state ${this.socket.readyState}, inbox: ${
            show(this.inbox.slice(-5))
          }`,
        );
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  }

  /** Messages taken out of the inbox, except heartbeats. */
  takeAll(): ServerEvent[] {
    const out = this.inbox.filter((m) => m.type !== "heartbeat");
    this.inbox.length = 0;
    return out;
  }

  /** Closes the socket and waits for the close to complete. */
  async close(): Promise<void> {
    if (this.socket.readyState !== WebSocket.CLOSED) this.socket.close(1000, "done");
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.closed, new Promise((r) => (timer = setTimeout(r, WAIT_MS)))]);
    clearTimeout(timer);
  }
}

/**
 * Waits, looking every few milliseconds, until `condition` holds: for
 * server-side state no message announces (a connection gone, a queue grown).
 *
 * @param condition What to wait for.
 * @param what What it means, for the timeout's message.
 * @param timeoutMs The longest wait.
 * @throws {Error} On timeout.
 */
export async function eventually(
  condition: () => boolean,
  what: string,
  timeoutMs = WAIT_MS,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`Timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** JSON with bigints, for failure messages. */
export function show(value: unknown): string {
  return JSON.stringify(value, (_, v) => (typeof v === "bigint" ? `${v}n` : v));
}

/** Everything a gateway test gets; `M` is the market data port behind the gateway. */
export interface Harness<M extends MarketDataPort = FakeMarketData> {
  /** `ws://127.0.0.1:<port>/ws`. */
  readonly url: string;
  /** `http://127.0.0.1:<port>`. */
  readonly base: string;
  readonly port: number;
  readonly key: CryptoKey;
  readonly instruments: readonly Instrument[];
  readonly engine: NativeEngine;
  readonly dispatcher: Dispatcher;
  readonly accounts: AccountRegistry;
  readonly router: OrderRouter;
  readonly gateway: Gateway;
  readonly marketData: M;
  /** A valid token for `sub` with `role` (an hour), with claims overridden by `extra`. */
  token(sub: string, role: Role, extra?: Record<string, unknown>): Promise<string>;
  /** Opens a connection authenticated as `sub`, offering `tradecaptain.v1` and the token. */
  connect(sub: string, role?: Role): Promise<TestClient>;
  /**
   * Opens a raw TCP WebSocket authenticated as `sub` that reads only when
   * told to (a consumer that stops reading).
   */
  connectRaw(sub: string, role?: Role): Promise<RawClient>;
  /** Errors the dispatcher and gateway reported. */
  readonly errors: unknown[];
}

/** A core with the real market data publisher ({@linkcode withLiveGateway}). */
export interface LiveHarness extends Harness<MarketData> {
  /**
   * The server side of every connection that subscribed, first
   * subscription first: what the publisher sees (`bufferedAmount`).
   */
  readonly sinks: readonly FrameSink[];
  /** What journal recovery found, when the core was opened on a journal. */
  readonly recovery: RecoveryReport | undefined;
  /**
   * Submits a trading command straight to the dispatcher, as the synthetic
   * market does (no session, no rate limit).
   *
   * @param command The command; see {@linkcode LiveHarness.place} for orders.
   */
  submit(command: Command): void;
  /**
   * Submits a GTC limit order with a fresh engine id.
   *
   * @returns The order's engine id (for cancels).
   */
  place(
    order: { instrument?: number; side: Side; price: number; qty: number; account?: number },
  ): number;
  /**
   * Waits until the dispatcher has answered every command submitted so far
   * (and so market data has been flushed to the sockets' queues).
   *
   * @param timeoutMs The longest wait.
   * @throws {Error} On timeout.
   */
  settled(timeoutMs?: number): Promise<void>;
  /**
   * Stops the dispatcher and the engine thread, so that
   * `engine.restingOrders` can be read: the engine's own books, to compare
   * with what clients rebuilt. The core takes no command afterwards.
   */
  stopEngine(): Promise<void>;
}

/** Options for {@linkcode withGateway}: the gateway's, minus what the harness provides. */
export type HarnessOptions =
  & Partial<Omit<GatewayOptions, "key" | "orders" | "marketData" | "onError">>
  & Pick<OrderRouterOptions, "canTradeFor">;

/** Options for {@linkcode withLiveGateway}. */
export interface LiveOptions extends HarnessOptions {
  /** The publisher's limits (`maxQueueBytes`, `maxResyncs`, …); its defaults otherwise. */
  readonly market?: Omit<MarketDataOptions, "instruments">;
  /**
   * A journal folder: the engine recovers from it (and journals to it), and
   * market data is seeded with the recovered resting orders, as
   * `core/main.ts` does.
   */
  readonly journalDir?: string;
  /** How often market data is flushed when idle, as `core/main.ts`'s timer does (default 20 ms). */
  readonly flushEveryMs?: number;
}

/** How the `with…` functions differ, beyond the test's own options. */
interface CoreSetup {
  /** A port in place of the publisher (fed by the dispatcher, served to the gateway). */
  readonly marketData?: MarketDataPort;
  /** Wraps the port the gateway sees. */
  readonly gatewayMarketData?: (port: MarketDataPort) => MarketDataPort;
  readonly market?: Omit<MarketDataOptions, "instruments">;
  readonly journalDir?: string;
  readonly flushEveryMs?: number;
}

/**
 * Builds a core with `createCore` (`core/app/create_core.ts`, the wiring
 * `core/main.ts` runs), as the test asks: a free loopback port, an
 * in-memory KV with no accounts, a fresh signing key, no synthetic market,
 * every valid token let in and every admin order allowed unless the test
 * says otherwise. Runs `fn` against it, then closes the test's sockets, the
 * core and the KV, whatever happens.
 */
async function runCore<M extends MarketDataPort>(
  setup: CoreSetup,
  options: HarnessOptions,
  fn: (h: Harness<M>, core: Core) => Promise<void>,
): Promise<void> {
  const errors: unknown[] = [];
  const clients: { close(): Promise<void> }[] = [];
  const kv = await Deno.openKv(":memory:");
  let core: Core | undefined;
  try {
    const key = await newKey();
    const { canTradeFor, ...gatewayOptions } = options;
    core = await createCore({
      ...readConfig(() => undefined),
      coreHostname: "127.0.0.1",
      corePort: 0,
      journalDir: setup.journalDir,
      syntheticRate: 0,
      allowedOrigins: ["https://trade.example"],
    }, {
      kv,
      key,
      log: () => {},
      logError: (line) => errors.push(line),
      onError: (e) => errors.push(e),
      syntheticMarket: false,
      pinMainThread: false,
      // The gateway's own tests mount their admin handler, or none.
      adminApi: false,
      ...(setup.journalDir === undefined ? {} : { journalSegmentBytes: 1024 * 1024 }),
      ...(setup.marketData === undefined ? {} : { marketData: setup.marketData }),
      ...(setup.gatewayMarketData === undefined
        ? {}
        : { gatewayMarketData: setup.gatewayMarketData }),
      ...(setup.market === undefined ? {} : { marketDataOptions: setup.market }),
      ...(setup.flushEveryMs === undefined ? {} : { marketDataFlushMs: setup.flushEveryMs }),
      canTradeFor: canTradeFor ?? (() => undefined),
      gateway: { authorize: () => Promise.resolve(undefined), ...gatewayOptions },
    });
    const { parts, addresses } = core;
    const { port, ws: url } = addresses;
    const token = (sub: string, role: Role, extra: Record<string, unknown> = {}) =>
      signJwt({
        sub,
        role,
        iss: ISSUER,
        aud: AUDIENCE,
        exp: Math.floor(Date.now() / 1000) + 3600,
        ...extra,
      }, key);
    await fn({
      url,
      base: addresses.http,
      port,
      key,
      instruments: parts.instruments,
      engine: parts.engine,
      dispatcher: parts.dispatcher,
      accounts: parts.accounts,
      router: parts.orders,
      gateway: parts.gateway,
      marketData: parts.marketDataPort as M,
      errors,
      token,
      async connect(sub: string, role: Role = "trader") {
        const client = await TestClient.open(url, [
          SUBPROTOCOL,
          BEARER_PREFIX + await token(sub, role),
        ]);
        clients.push(client);
        return client;
      },
      async connectRaw(sub: string, role: Role = "trader") {
        const client = await RawClient.open(port, [
          SUBPROTOCOL,
          BEARER_PREFIX + await token(sub, role),
        ]);
        clients.push(client);
        return client;
      },
    }, core);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await core?.close();
    kv.close();
  }
}

/**
 * Runs `fn` against a fresh core served on a free loopback port, with a
 * fake market data port, then tears everything down (sockets, server,
 * dispatcher, engine).
 *
 * @param fn The test body.
 * @param options Gateway options (limits, admin handler, origins).
 */
export async function withGateway(
  fn: (h: Harness) => Promise<void>,
  options: HarnessOptions = {},
): Promise<void> {
  const marketData = new FakeMarketData(loadInstruments().map((i) => i.symbol));
  await runCore<FakeMarketData>({ marketData }, options, fn);
}

/**
 * The real market data port, with a note of every sink that subscribes, so
 * that tests can read what the publisher reads (`bufferedAmount`). Sinks
 * pass through unchanged.
 */
class ProbedPort implements MarketDataPort {
  readonly sinks: FrameSink[] = [];
  constructor(readonly inner: MarketDataPort) {}

  subscribe(sink: FrameSink, symbol: string, requestId: bigint): Reason | undefined {
    if (!this.sinks.includes(sink)) this.sinks.push(sink);
    return this.inner.subscribe(sink, symbol, requestId);
  }
  unsubscribe(sink: FrameSink, symbol: string): boolean {
    return this.inner.unsubscribe(sink, symbol);
  }
  requestSnapshot(sink: FrameSink, symbol: string, requestId: bigint): Reason | undefined {
    return this.inner.requestSnapshot(sink, symbol, requestId);
  }
  detach(sink: FrameSink): void {
    this.inner.detach(sink);
  }
  shed(sink: FrameSink): void {
    this.inner.shed?.(sink);
  }
  apply(...args: Parameters<MarketDataPort["apply"]>): void {
    this.inner.apply(...args);
  }
  flush(): void {
    this.inner.flush();
  }
}

/** The origin of commands a test submits straight to the dispatcher. */
const TEST_ORIGIN: Origin = Object.freeze({ source: "test" });

/**
 * Runs `fn` against a fresh core wired as `core/main.ts` wires it (by
 * `createCore`): the real {@linkcode MarketData} fed by the dispatcher,
 * flushed per drain and on a timer, seeded from the engine's books after a
 * journal recovery (`journalDir`). Tears everything down afterwards.
 *
 * @param fn The test body.
 * @param options Gateway options, the publisher's limits, a journal folder.
 * @throws {Error} What `fn` throws, or a failed journal recovery.
 */
export async function withLiveGateway(
  fn: (h: LiveHarness) => Promise<void>,
  options: LiveOptions = {},
): Promise<void> {
  const { market, journalDir, flushEveryMs = 20, ...gatewayOptions } = options;
  let probe: ProbedPort | undefined;
  await runCore<MarketData>(
    {
      gatewayMarketData: (port) => (probe = new ProbedPort(port)),
      flushEveryMs,
      ...(market === undefined ? {} : { market }),
      ...(journalDir === undefined ? {} : { journalDir }),
    },
    gatewayOptions,
    async (h, core) => {
      const { dispatcher } = h;
      await fn({
        ...h,
        sinks: probe!.sinks,
        recovery: core.recovery,
        submit: (command) => dispatcher.submit(command, TEST_ORIGIN),
        place({ instrument = 0, side, price, qty, account = 0 }) {
          const id = dispatcher.allocateOrderId();
          dispatcher.submit({
            kind: CommandKind.PlaceOrder,
            id,
            account,
            instrument,
            side,
            type: OrderType.Limit,
            tif: TimeInForce.Gtc,
            postOnly: false,
            price,
            qty,
          }, TEST_ORIGIN);
          return id;
        },
        async settled(timeoutMs = WAIT_MS) {
          const deadline = performance.now() + timeoutMs;
          while (dispatcher.busy) {
            if (performance.now() > deadline) {
              throw new Error(
                `Timed out waiting for the engine: ${show(dispatcher.stats)}`,
              );
            }
            await new Promise((resolve) => setTimeout(resolve, 1));
          }
        },
        async stopEngine() {
          await dispatcher.stop();
          h.engine.stop();
        },
      });
    },
  );
}

/**
 * Sends a raw HTTP/1.1 upgrade request to `/ws` over TCP and reads the
 * response: the refusals a browser would only see as a failed connection.
 *
 * @param port The server's port.
 * @param headers Extra request headers.
 * @returns The status, headers (lower-case names) and body.
 */
export async function rawUpgrade(
  port: number,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Map<string, string>; body: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const lines = [
      "GET /ws HTTP/1.1",
      `Host: 127.0.0.1:${port}`,
      "Connection: Upgrade",
      "Upgrade: websocket",
      "Sec-WebSocket-Version: 13",
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      "",
      "",
    ];
    await conn.write(new TextEncoder().encode(lines.join("\r\n")));
    const decoder = new TextDecoder();
    let text = "";
    const buffer = new Uint8Array(16 * 1024);
    const deadline = performance.now() + WAIT_MS;
    while (performance.now() < deadline) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += decoder.decode(buffer.subarray(0, n));
      const end = text.indexOf("\r\n\r\n");
      if (end < 0) continue;
      const length = Number(/content-length: (\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
      if (text.length - end - 4 >= length) break;
    }
    const end = text.indexOf("\r\n\r\n");
    const [statusLine, ...headerLines] = text.slice(0, end).split("\r\n");
    const map = new Map<string, string>();
    for (const line of headerLines) {
      const colon = line.indexOf(":");
      map.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    return {
      status: Number(statusLine?.split(" ")[1]),
      headers: map,
      body: text.slice(end + 4),
    };
  } finally {
    conn.close();
  }
}

/** A close frame's code and reason. */
export interface CloseFrame {
  readonly code: number;
  readonly reason: string;
}

/**
 * A WebSocket client over raw TCP that reads only when told to: between
 * reads the server's frames pile up in the kernel's socket buffers, then in
 * the server's send queue (`bufferedAmount`), as with a client that stopped
 * reading. It sends masked binary frames, decodes every binary frame it
 * reads, answers a close frame with one, and ignores pings.
 */
export class RawClient {
  readonly #conn: Deno.TcpConn;
  /** Bytes read and not yet parsed into frames. */
  #pending: Uint8Array<ArrayBuffer>;
  readonly #chunk = new Uint8Array(256 * 1024);
  /** The read in flight, if any (a timed-out wait leaves it for the next). */
  #read: Promise<number | null> | undefined;
  #eof = false;
  #closed = false;
  /** Every message decoded, oldest first. */
  readonly events: ServerEvent[] = [];
  /** Every binary frame's payload, when `keepFrames` is set. */
  readonly frames: Uint8Array[] = [];
  keepFrames = false;
  /** The server's close frame, once read. */
  closeFrame: CloseFrame | undefined;
  /** Bytes read from the socket so far. */
  bytesRead = 0;
  #nextRequest = 1n;

  private constructor(conn: Deno.TcpConn, rest: Uint8Array<ArrayBuffer>) {
    this.#conn = conn;
    this.#pending = rest;
  }

  /**
   * Connects, sends the upgrade request and reads the 101 response.
   *
   * @param port The server's port on 127.0.0.1.
   * @param protocols The subprotocols to offer (`tradecaptain.v1`, `bearer.<jwt>`).
   * @returns The client, upgraded.
   * @throws {Error} When the server answers anything but 101, or times out.
   */
  static async open(port: number, protocols: string[]): Promise<RawClient> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      const request = [
        "GET /ws HTTP/1.1",
        `Host: 127.0.0.1:${port}`,
        "Connection: Upgrade",
        "Upgrade: websocket",
        "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        `Sec-WebSocket-Protocol: ${protocols.join(", ")}`,
        "",
        "",
      ].join("\r\n");
      await writeAll(conn, new TextEncoder().encode(request));
      let head: Uint8Array<ArrayBuffer> = new Uint8Array(0);
      const buffer = new Uint8Array(4096);
      const deadline = performance.now() + WAIT_MS;
      while (true) {
        const end = indexOfBlankLine(head);
        if (end >= 0) {
          const text = new TextDecoder().decode(head.subarray(0, end));
          if (!text.startsWith("HTTP/1.1 101")) {
            throw new Error(`Cannot open raw WebSocket: ${text.split("\r\n")[0]}`);
          }
          return new RawClient(conn, head.slice(end + 4));
        }
        if (performance.now() > deadline) throw new Error("Cannot open raw WebSocket: timed out");
        const n = await conn.read(buffer);
        if (n === null) throw new Error("Cannot open raw WebSocket: the server closed");
        head = concat(head, buffer.subarray(0, n));
      }
    } catch (error) {
      conn.close();
      throw error;
    }
  }

  /** A fresh request id. */
  requestId(): bigint {
    return this.#nextRequest++;
  }

  /**
   * Sends a request (encoded) or a frame's bytes as one masked binary frame.
   *
   * @param request The request, or a frame.
   */
  async send(request: ClientRequest | Uint8Array): Promise<void> {
    const payload = request instanceof Uint8Array ? request : encodeClientMessage(request);
    await writeAll(this.#conn, clientFrame(0x2, payload));
  }

  /**
   * Reads and decodes frames until `condition` holds or the server closes.
   *
   * @param condition What to wait for (checked after each read).
   * @param what What it means, for the timeout's message.
   * @param timeoutMs The longest wait.
   * @throws {Error} On timeout, or when the connection ends first.
   */
  async readUntil(condition: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!condition()) {
      if (this.#eof) {
        throw new Error(`The connection ended before ${what}; close ${show(this.closeFrame)}`);
      }
      const left = deadline - performance.now();
      if (left <= 0) {
        throw new Error(
          `Timed out reading until ${what} (${this.bytesRead} bytes, ${this.events.length} messages read)`,
        );
      }
      await this.#readOnce(left);
    }
  }

  /** Reads one chunk (waiting at most `timeoutMs`) and parses the frames it completes. */
  async #readOnce(timeoutMs: number): Promise<void> {
    this.#read ??= this.#conn.read(this.#chunk);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const n = await Promise.race([
      this.#read,
      new Promise<"timeout">((
        resolve,
      ) => (timer = setTimeout(() => resolve("timeout"), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (n === "timeout") return;
    this.#read = undefined;
    if (n === null) {
      this.#eof = true;
      return;
    }
    this.bytesRead += n;
    this.#pending = concat(this.#pending, this.#chunk.subarray(0, n));
    await this.#parse();
  }

  async #parse(): Promise<void> {
    let at = 0;
    const bytes = this.#pending;
    while (bytes.length - at >= 2) {
      const opcode = bytes[at]! & 0x0f;
      let length = bytes[at + 1]! & 0x7f;
      let header = 2;
      if (length === 126) {
        if (bytes.length - at < 4) break;
        length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
        header = 4;
      } else if (length === 127) {
        if (bytes.length - at < 10) break;
        length = Number(new DataView(bytes.buffer, bytes.byteOffset + at + 2, 8).getBigUint64(0));
        header = 10;
      }
      if (bytes.length - at < header + length) break;
      const payload = bytes.slice(at + header, at + header + length);
      at += header + length;
      if (opcode === 0x2) {
        if (this.keepFrames) this.frames.push(payload);
        this.events.push(decodeServerMessage(payload));
      } else if (opcode === 0x1) {
        this.events.push({
          type: "error",
          reason: "unspecified",
          message: `text: ${new TextDecoder().decode(payload)}`,
        });
      } else if (opcode === 0x8) {
        const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
        this.closeFrame = {
          code: payload.length >= 2 ? view.getUint16(0) : 1005,
          reason: new TextDecoder().decode(payload.subarray(2)),
        };
        // Answer the close, as RFC 6455 asks: the server then ends the TCP connection.
        await writeAll(this.#conn, clientFrame(0x8, payload.subarray(0, 2))).catch(() => {});
      }
      // Pings (0x9) and pongs are ignored: the harness's waits are far below any idle timeout.
    }
    this.#pending = bytes.slice(at);
  }

  /** Closes the TCP connection (no close handshake) and settles the read in flight. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
    await this.#read?.catch(() => null);
    this.#read = undefined;
  }
}

/** A masked client frame (RFC 6455 §5.2), FIN set. */
function clientFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const length = payload.length;
  const header = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const out = new Uint8Array(header + 4 + length);
  out[0] = 0x80 | opcode;
  if (header === 2) {
    out[1] = 0x80 | length;
  } else if (header === 4) {
    out[1] = 0x80 | 126;
    new DataView(out.buffer).setUint16(2, length);
  } else {
    out[1] = 0x80 | 127;
    new DataView(out.buffer).setBigUint64(2, BigInt(length));
  }
  const mask = crypto.getRandomValues(new Uint8Array(4));
  out.set(mask, header);
  for (let i = 0; i < length; i++) out[header + 4 + i] = payload[i]! ^ mask[i & 3]!;
  return out;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.length) at += await conn.write(bytes.subarray(at));
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array<ArrayBuffer> {
  if (a.length === 0) return b.slice();
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function indexOfBlankLine(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) {
      return i;
    }
  }
  return -1;
}

/** Both sides of a book, best level first (the shape of a snapshot). */
export interface Levels {
  readonly bids: BookLevel[];
  readonly asks: BookLevel[];
}

/** What {@linkcode BookReplica.apply} did with a message. */
export type Applied = "snapshot" | "applied" | "gap" | "stale" | "dropped" | "resync" | "other";

/**
 * One symbol's book as a careful client rebuilds it: from a snapshot, then
 * the numbered messages after it (`BookDelta` levels set absolutely, 0
 * removes; `Trade`s change nothing by themselves; each `Quote` must show
 * the rebuilt top). A message whose sequence is not the previous + 1 is a
 * gap: the replica is stale (`sequence` undefined) until the next snapshot.
 * Breaches of the contract other than gaps go to `problems`.
 */
export class BookReplica {
  readonly bids = new Map<number, BookLevel>();
  readonly asks = new Map<number, BookLevel>();
  /** The sequence last applied; undefined before a snapshot and after a gap. */
  sequence: bigint | undefined;
  /** The sequence of every numbered message applied, in order (gapless between snapshots). */
  readonly sequences: bigint[] = [];
  /** Every gap seen: the sequence expected and the one that came. */
  readonly gaps: { expected: bigint; got: bigint }[] = [];
  /** Every breach of the contract other than a gap. */
  readonly problems: string[] = [];
  /** The snapshots applied, in order. */
  readonly snapshots: Extract<ServerEvent, { type: "bookSnapshot" }>[] = [];
  /** The resyncs received. */
  readonly resyncs: Extract<ServerEvent, { type: "resync" }>[] = [];
  /** Trades applied. */
  trades = 0;
  #drop = 0;

  /** @param symbol The symbol whose messages to apply; others are "other". */
  constructor(readonly symbol: string) {}

  /**
   * Loses the next `n` numbered messages on purpose, as a lossy link
   * would: the one after them shows a gap.
   *
   * @param n How many.
   */
  dropNext(n = 1): void {
    this.#drop += n;
  }

  /**
   * Applies one message.
   *
   * @param event Any server message.
   * @returns What was done with it.
   */
  apply(event: ServerEvent): Applied {
    if (!("symbol" in event) || event.symbol !== this.symbol) return "other";
    switch (event.type) {
      case "bookSnapshot":
        this.bids.clear();
        this.asks.clear();
        for (const l of event.bids) this.bids.set(l.price, l);
        for (const l of event.asks) this.asks.set(l.price, l);
        this.sequence = event.sequence;
        this.snapshots.push(event);
        return "snapshot";
      case "resync":
        this.resyncs.push(event);
        this.sequence = undefined;
        return "resync";
      case "bookDelta":
      case "trade":
      case "quote":
        break;
      default:
        return "other";
    }
    if (this.#drop > 0) {
      this.#drop--;
      return "dropped";
    }
    if (this.sequence === undefined) return "stale";
    if (event.sequence !== this.sequence + 1n) {
      this.gaps.push({ expected: this.sequence + 1n, got: event.sequence });
      this.sequence = undefined;
      return "gap";
    }
    this.sequence = event.sequence;
    this.sequences.push(event.sequence);
    const where = `${this.symbol}@${event.sequence}`;
    if (event.type === "bookDelta") {
      if (event.levels.length === 0) this.problems.push(`${where}: an empty delta`);
      for (const u of event.levels) {
        const side = u.side === "buy" ? this.bids : this.asks;
        if (u.quantity === 0) {
          if (!side.delete(u.price)) this.problems.push(`${where}: removes missing ${u.price}`);
        } else {
          side.set(u.price, { price: u.price, quantity: u.quantity, orderCount: u.orderCount });
        }
      }
    } else if (event.type === "trade") {
      this.trades++;
    } else {
      const { bids, asks } = this.levels();
      const top = [
        bids[0]?.price ?? 0,
        bids[0]?.quantity ?? 0,
        asks[0]?.price ?? 0,
        asks[0]?.quantity ?? 0,
      ];
      const quoted = [event.bidPrice, event.bidQuantity, event.askPrice, event.askQuantity];
      if (top.join() !== quoted.join()) {
        this.problems.push(`${where}: quote ${quoted} but the rebuilt top is ${top}`);
      }
    }
    return "applied";
  }

  /** The rebuilt book, each side best first. */
  levels(): Levels {
    return {
      bids: [...this.bids.values()].sort((a, b) => b.price - a.price),
      asks: [...this.asks.values()].sort((a, b) => a.price - b.price),
    };
  }
}

/**
 * Aggregates resting orders (`NativeEngine.restingOrders`) into levels.
 *
 * @param orders One instrument's resting orders.
 * @returns Its levels, each side best first.
 */
export function restingLevels(orders: readonly RestingOrder[]): Levels {
  const sides = [new Map<number, BookLevel>(), new Map<number, BookLevel>()];
  for (const o of orders) {
    const side = sides[o.side]!;
    const level = side.get(o.price);
    side.set(o.price, {
      price: o.price,
      quantity: (level?.quantity ?? 0) + o.qty,
      orderCount: (level?.orderCount ?? 0) + 1,
    });
  }
  return {
    bids: [...sides[Side.Buy]!.values()].sort((a, b) => b.price - a.price),
    asks: [...sides[Side.Sell]!.values()].sort((a, b) => a.price - b.price),
  };
}
