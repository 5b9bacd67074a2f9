/**
 * The gateway's integration test harness: a real engine, its dispatcher,
 * the order router and the gateway served on 127.0.0.1 (a free port), with
 * a small fake market data port; and a WebSocket client that decodes what
 * the core sends. Private to `core/gateway/` tests.
 *
 * Every wait is bounded (2 s unless told), and `withGateway` closes every
 * socket, the server, the dispatcher and the engine whatever happens.
 *
 * @module
 */

import { AccountRegistry } from "../app/accounts.ts";
import { Dispatcher } from "../app/dispatcher.ts";
import { loadInstruments } from "../matching/mod.ts";
import { NativeEngine } from "../native/mod.ts";
import { decodeServerMessage, encodeClientMessage, encodeServerMessage } from "../wire/mod.ts";
import type { ClientRequest, Reason, ServerEvent } from "../wire/types.ts";
import { AUDIENCE, BEARER_PREFIX, ISSUER, type Role, SUBPROTOCOL } from "./config.ts";
import { signJwt } from "./jwt.ts";
import { connectMarketData, type FrameSink, type MarketDataPort } from "./market_data.ts";
import { OrderRouter } from "./orders.ts";
import { createGateway, type Gateway, type GatewayOptions } from "./server.ts";
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

/** A trader's WebSocket, decoding every frame the core sends. */
export class TestClient {
  readonly socket: WebSocket;
  /** Messages received and not yet taken, oldest first. */
  readonly inbox: ServerEvent[] = [];
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
      if (e.data instanceof ArrayBuffer) {
        this.inbox.push(decodeServerMessage(new Uint8Array(e.data)));
      } else {
        this.inbox.push({ type: "error", reason: "unspecified", message: `text: ${e.data}` });
      }
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

/** JSON with bigints, for failure messages. */
export function show(value: unknown): string {
  return JSON.stringify(value, (_, v) => (typeof v === "bigint" ? `${v}n` : v));
}

/** Everything a gateway test gets. */
export interface Harness {
  /** `ws://127.0.0.1:<port>/ws`. */
  readonly url: string;
  /** `http://127.0.0.1:<port>`. */
  readonly base: string;
  readonly port: number;
  readonly key: CryptoKey;
  readonly engine: NativeEngine;
  readonly dispatcher: Dispatcher;
  readonly accounts: AccountRegistry;
  readonly router: OrderRouter;
  readonly gateway: Gateway;
  readonly marketData: FakeMarketData;
  /** A valid token for `sub` with `role` (an hour), with claims overridden by `extra`. */
  token(sub: string, role: Role, extra?: Record<string, unknown>): Promise<string>;
  /** Opens a connection authenticated as `sub`, offering `tradecaptain.v1` and the token. */
  connect(sub: string, role?: Role): Promise<TestClient>;
  /** Errors the dispatcher and gateway reported. */
  readonly errors: unknown[];
}

/** Options for {@linkcode withGateway}: the gateway's, minus what the harness provides. */
export type HarnessOptions = Partial<
  Omit<GatewayOptions, "key" | "orders" | "marketData" | "onError">
>;

/**
 * Runs `fn` against a fresh core served on a free loopback port, then tears
 * everything down (sockets, server, dispatcher, engine).
 *
 * @param fn The test body.
 * @param options Gateway options (limits, admin handler, origins).
 */
export async function withGateway(
  fn: (h: Harness) => Promise<void>,
  options: HarnessOptions = {},
): Promise<void> {
  const instruments = loadInstruments();
  const engine = NativeEngine.open(instruments);
  engine.start();
  const errors: unknown[] = [];
  const dispatcher = new Dispatcher({ engine, onError: (e) => errors.push(e) });
  dispatcher.start();
  const accounts = new AccountRegistry({ dispatcher, onError: (e) => errors.push(e) });
  const router = new OrderRouter({ dispatcher, accounts, instruments });
  const marketData = new FakeMarketData(instruments.map((i) => i.symbol));
  const disconnect = connectMarketData(dispatcher, marketData);
  const key = await newKey();
  const gateway = createGateway({
    key,
    allowedOrigins: ["https://trade.example"],
    orders: router,
    marketData,
    onError: (e) => errors.push(e),
    ...options,
  });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    gateway.handler,
  );
  const port = server.addr.port;
  const clients: TestClient[] = [];
  const token = (sub: string, role: Role, extra: Record<string, unknown> = {}) =>
    signJwt({
      sub,
      role,
      iss: ISSUER,
      aud: AUDIENCE,
      exp: Math.floor(Date.now() / 1000) + 3600,
      ...extra,
    }, key);
  const url = `ws://127.0.0.1:${port}/ws`;
  try {
    await fn({
      url,
      base: `http://127.0.0.1:${port}`,
      port,
      key,
      engine,
      dispatcher,
      accounts,
      router,
      gateway,
      marketData,
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
    });
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await gateway.close();
    await server.shutdown();
    disconnect();
    router.close();
    await dispatcher.stop();
    engine.close();
  }
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
