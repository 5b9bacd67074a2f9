/**
 * The terminal's driver in the browser: logs in against the core
 * (`POST {core}/auth/login`), holds the WebSocket to the core's `/ws`
 * (subprotocols `tradecaptain.v1` and `bearer.<jwt>`), decodes its frames
 * and applies them once per animation frame to the session and market
 * stores, and sends the trader's orders. The connection's states are
 * {@linkcode ConnectionMachine}'s; this file does its I/O.
 *
 * Everything the browser provides (the WebSocket, `fetch`, the animation
 * frame, timers, the clock) is passed in ({@linkcode TerminalEnvironment}),
 * so the driver runs under Deno with fakes.
 *
 * The login contract: `POST {core}/auth/login` with
 * `{"account","password"}` answers 200 `{"token","expiresAt"}` (`expiresAt`
 * in ms since the epoch, or an ISO date), or an `application/problem+json`
 * whose `detail` is shown.
 *
 * @module
 */

import { batch, type ReadonlySignal, signal } from "@preact/signals";
import {
  type ClientRequest,
  decodeServerMessage,
  encodeClientMessage,
  type ServerEvent,
} from "../../schemas/wire/mod.ts";
import { ConnectionMachine, type ConnectionState } from "./connection.ts";
import { MarketStore } from "./market.ts";
import { SessionStore } from "./session.ts";
import type { CheckedOrder } from "./ticket.ts";

/** The subprotocol of the trader wire. */
export const SUBPROTOCOL = "tradecaptain.v1";

/** How often the terminal pings the core, for the round trip (ms). */
export const PING_INTERVAL_MS = 2_000;

/** The little of a browser WebSocket the driver uses. */
export interface SocketLike {
  binaryType: string;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
}

/** What the browser provides. */
export interface TerminalEnvironment {
  readonly openSocket: (url: string, protocols: string[]) => SocketLike;
  readonly fetch: (url: string, init: {
    method: string;
    headers: Record<string, string>;
    body: string;
  }) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;
  /** Runs `fn` before the next paint (`requestAnimationFrame`). */
  readonly frame: (fn: () => void) => void;
  readonly setTimeout: (fn: () => void, ms: number) => unknown;
  readonly clearTimeout: (id: unknown) => void;
  readonly setInterval: (fn: () => void, ms: number) => unknown;
  readonly clearInterval: (id: unknown) => void;
  /** ms since the epoch. */
  readonly now: () => number;
}

/** Options of {@linkcode Terminal}. */
export interface TerminalOptions {
  /** The core's HTTP origin (`http://127.0.0.1:8080`); its `ws:` twin serves `/ws`. */
  readonly coreUrl: string;
  /** The symbols to subscribe to (the watchlist). */
  readonly symbols: readonly string[];
  /** The market stores' starting tickers. */
  readonly market: MarketStore;
  readonly env: TerminalEnvironment;
}

/** Who is logged in, read from the token (for display; the core checks it). */
export interface Identity {
  readonly account: string;
  readonly role: string;
}

/**
 * The core's WebSocket URL from its HTTP origin.
 *
 * @param coreUrl `http://host:port` or `https://…`.
 * @returns `ws://host:port/ws` or `wss://…/ws`.
 *
 * @example
 * ```ts
 * import { socketUrl } from "./terminal.ts";
 * if (socketUrl("https://core.example:8443/") !== "wss://core.example:8443/ws") throw new Error();
 * ```
 */
export function socketUrl(coreUrl: string): string {
  const url = new URL("/ws", coreUrl);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.href;
}

/**
 * The account and role a gateway JWT names (its payload's `sub` and
 * `role`), read without checking the signature: for display only.
 *
 * @param token The JWT.
 * @returns The identity, or undefined when the token cannot be read.
 *
 * @example
 * ```ts
 * import { identityOf } from "./terminal.ts";
 * const payload = btoa(JSON.stringify({ sub: "alice", role: "trader" })).replace(/=+$/, "");
 * if (identityOf(`x.${payload}.y`)?.account !== "alice") throw new Error("misread");
 * ```
 */
export function identityOf(token: string): Identity | undefined {
  try {
    const part = token.split(".")[1] ?? "";
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/"));
    const claims = JSON.parse(json) as Record<string, unknown>;
    if (typeof claims.sub !== "string") return undefined;
    return { account: claims.sub, role: typeof claims.role === "string" ? claims.role : "" };
  } catch {
    return undefined;
  }
}

/**
 * The terminal's live state and actions.
 *
 * @example
 * ```ts
 * import { MarketStore } from "./market.ts";
 * import { Terminal } from "./terminal.ts";
 * const terminal = new Terminal({
 *   coreUrl: "http://127.0.0.1:8080",
 *   symbols: ["AAPL"],
 *   market: new MarketStore([]),
 *   env: {
 *     openSocket: () => { throw new Error("no network in this example"); },
 *     fetch: () => Promise.reject(new Error("no network")),
 *     frame: (fn) => fn(), setTimeout: () => 0, clearTimeout: () => {},
 *     setInterval: () => 0, clearInterval: () => {}, now: () => 0,
 *   },
 * });
 * if (terminal.status.value !== "idle") throw new Error("connected before login");
 * ```
 */
export class Terminal {
  readonly session: SessionStore = new SessionStore();
  readonly market: MarketStore;
  readonly #machine = new ConnectionMachine();
  readonly #env: TerminalEnvironment;
  readonly #coreUrl: string;
  readonly #symbols: readonly string[];
  readonly #status = signal<ConnectionState>("idle");
  readonly #rttMs = signal<number | undefined>(undefined);
  readonly #lastMessageAt = signal<number | undefined>(undefined);
  readonly #identity = signal<Identity | undefined>(undefined);
  readonly #why = signal("");
  #token: string | undefined;
  #expiresAt = Infinity;
  #socket: SocketLike | undefined;
  #queue: ServerEvent[] = [];
  #framePending = false;
  #ping: unknown;
  #retry: unknown;
  #requestId = 0n;
  #orderSeq = 0n;

  /**
   * @param options The core's URL, the symbols, the market store and the browser's functions.
   */
  constructor(options: TerminalOptions) {
    this.#env = options.env;
    this.#coreUrl = options.coreUrl;
    this.#symbols = options.symbols;
    this.market = options.market;
  }

  /** The connection's state. */
  get status(): ReadonlySignal<ConnectionState> {
    return this.#status;
  }
  /** The last ping's round trip (ms). */
  get rttMs(): ReadonlySignal<number | undefined> {
    return this.#rttMs;
  }
  /** When the last message arrived (ms since the epoch). */
  get lastMessageAt(): ReadonlySignal<number | undefined> {
    return this.#lastMessageAt;
  }
  /** Who is logged in. */
  get identity(): ReadonlySignal<Identity | undefined> {
    return this.#identity;
  }
  /** Why the connection stopped or last closed. */
  get why(): ReadonlySignal<string> {
    return this.#why;
  }

  /**
   * Logs in and connects.
   *
   * @param account The account name.
   * @param password The password.
   * @returns Undefined on success, else what to tell the trader.
   */
  async login(account: string, password: string): Promise<string | undefined> {
    let res;
    try {
      res = await this.#env.fetch(new URL("/auth/login", this.#coreUrl).href, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ account, password }),
      });
    } catch {
      return `Cannot log in: the core at ${this.#coreUrl} cannot be reached`;
    }
    const body = await res.json().catch(() => undefined) as Record<string, unknown> | undefined;
    if (!res.ok || typeof body?.token !== "string") {
      // The core's problem details already say "Cannot log in: …".
      const detail = typeof body?.detail === "string" ? body.detail : `status ${res.status}`;
      return /^Cannot log in\b/.test(detail) ? detail : `Cannot log in: ${detail}`;
    }
    const expires = body.expiresAt;
    this.#expiresAt = typeof expires === "number"
      ? expires
      : typeof expires === "string" && !Number.isNaN(Date.parse(expires))
      ? Date.parse(expires)
      : Infinity;
    this.useToken(body.token);
    return undefined;
  }

  /**
   * Connects with a token (what {@linkcode Terminal.login} does once it has one).
   *
   * @param token A gateway JWT.
   */
  useToken(token: string): void {
    this.#token = token;
    this.#identity.value = identityOf(token);
    if (this.#machine.start()) this.#dial();
  }

  /** Logs out: closes the connection and dials no more. */
  logout(): void {
    this.#machine.stop("logged out");
    this.#token = undefined;
    this.#env.clearTimeout(this.#retry);
    this.#env.clearInterval(this.#ping);
    this.#socket?.close(1000, "logged out");
    this.#socket = undefined;
    this.#identity.value = undefined;
    this.#sync();
  }

  /**
   * Sends a checked order.
   *
   * @param order The order.
   * @returns Its client order id, or undefined when not connected.
   */
  place(order: CheckedOrder): bigint | undefined {
    // Unique within the session: the time in ms, then a counter.
    const clientOrderId = BigInt(this.#env.now()) * 1000n + (this.#orderSeq++ % 1000n);
    const sent = this.#send({
      type: "newOrder",
      requestId: 0n,
      sentAt: 0n,
      clientOrderId,
      account: "",
      ...order,
    });
    return sent ? clientOrderId : undefined;
  }

  /**
   * Cancels a working order.
   *
   * @param clientOrderId The order's client order id.
   * @returns Whether it was sent.
   */
  cancel(clientOrderId: bigint): boolean {
    return this.#send({ type: "cancel", requestId: 0n, sentAt: 0n, clientOrderId });
  }

  /**
   * Moves a working order: a replace at a new price and open quantity.
   *
   * @param clientOrderId The order's client order id.
   * @param price The new price (price units).
   * @param quantity The new open quantity (lots).
   * @returns Whether it was sent.
   */
  replace(clientOrderId: bigint, price: number, quantity: number): boolean {
    return this.#send({
      type: "replace",
      requestId: 0n,
      sentAt: 0n,
      clientOrderId,
      price,
      quantity,
    });
  }

  /**
   * Cancels every working order, or one symbol's.
   *
   * @param symbol The symbol, or `""` for all.
   * @returns Whether it was sent.
   */
  cancelAll(symbol = ""): boolean {
    return this.#send({ type: "cancelAll", requestId: 0n, sentAt: 0n, symbol });
  }

  #send(request: ClientRequest): boolean {
    const socket = this.#socket;
    // Not before the socket opened, nor after it closed.
    if (socket === undefined || this.#machine.state === "connecting") return false;
    const requestId = ++this.#requestId;
    socket.send(encodeClientMessage({ ...request, requestId }));
    return true;
  }

  #dial(): void {
    const token = this.#token;
    if (token === undefined) return;
    let socket: SocketLike;
    try {
      socket = this.#env.openSocket(socketUrl(this.#coreUrl), [SUBPROTOCOL, `bearer.${token}`]);
    } catch (error) {
      this.#closed(`the socket cannot open: ${error instanceof Error ? error.message : error}`);
      return;
    }
    this.#socket = socket;
    socket.binaryType = "arraybuffer";
    socket.onopen = () => {
      this.#machine.opened(this.#env.now());
      // Catch up: the blotter from the core's log, a snapshot per symbol.
      this.market.invalidateAll();
      this.session.beginRebuild();
      this.#send({ type: "requestOrders", requestId: 0n, sentAt: 0n, sinceSequence: 0n });
      for (const symbol of this.#symbols) {
        this.#send({ type: "subscribe", requestId: 0n, sentAt: 0n, symbol });
      }
      this.#ping = this.#env.setInterval(() => this.#sendPing(), PING_INTERVAL_MS);
      this.#sendPing();
      this.#sync();
    };
    socket.onmessage = (event) => {
      if (socket !== this.#socket || !(event.data instanceof ArrayBuffer)) return;
      try {
        this.#queue.push(decodeServerMessage(new Uint8Array(event.data)));
      } catch {
        return; // A frame we cannot read: the core's sequences will show what was lost.
      }
      this.#machine.message(this.#env.now());
      if (!this.#framePending) {
        this.#framePending = true;
        this.#env.frame(() => this.#flush());
      }
    };
    socket.onclose = (event) => {
      if (socket !== this.#socket) return;
      this.#socket = undefined;
      this.#closed(event.reason || `closed with code ${event.code}`);
    };
    this.#sync();
  }

  #sendPing(): void {
    this.#send({
      type: "ping",
      requestId: 0n,
      sentAt: BigInt(this.#env.now()) * 1_000_000n,
    });
  }

  #closed(why: string): void {
    this.#env.clearInterval(this.#ping);
    // An expired token would be refused again: log in again instead.
    const expired = this.#env.now() >= this.#expiresAt;
    const wait = this.#machine.closed(this.#env.now(), {
      refused: expired,
      why: expired ? "the session has expired: log in again" : why,
    });
    if (wait !== undefined) {
      this.#retry = this.#env.setTimeout(() => {
        if (this.#machine.retry()) this.#dial();
      }, wait);
    }
    this.#sync();
  }

  /** Applies what arrived since the last frame, in one batch. */
  #flush(): void {
    this.#framePending = false;
    const events = this.#queue;
    this.#queue = [];
    batch(() => {
      for (const event of events) this.#apply(event);
      this.market.commit();
      if (
        this.#machine.state === "resynchronising" && !this.session.rebuilding &&
        this.market.allLive(this.#symbols)
      ) {
        this.#machine.synchronised();
      }
      this.#sync();
    });
  }

  #apply(event: ServerEvent): void {
    if (event.type === "heartbeat") {
      if (event.echoSentAt) {
        this.#machine.pong(Number(event.echoSentAt / 1_000_000n), this.#env.now());
      }
      return;
    }
    const gap = this.market.apply(event);
    if (gap !== undefined) {
      this.#machine.desynchronised();
      this.#send({ type: "requestSnapshot", requestId: 0n, sentAt: 0n, symbol: gap });
    }
    if (event.type === "resync") this.#machine.desynchronised();
    const step = this.session.apply(event);
    if (step !== undefined && "next" in step) {
      this.#send({ type: "requestOrders", requestId: 0n, sentAt: 0n, sinceSequence: step.next });
    }
  }

  #sync(): void {
    batch(() => {
      this.#status.value = this.#machine.state;
      this.#rttMs.value = this.#machine.rttMs;
      this.#lastMessageAt.value = this.#machine.lastMessageAt;
      this.#why.value = this.#machine.why;
    });
  }
}
