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
 * Staying logged in: at {@linkcode REFRESH_AT} (75%) of the token's life the
 * driver asks `POST {core}/auth/refresh` (`Authorization: Bearer <token>`,
 * the same answer as a login) for a new token, sends it on the open socket
 * as a `reauthenticate` (the core then keeps the connection past the old
 * token's expiry) and dials with it from then on. A refresh that fails (the
 * core unreachable, a refusal, the core's reject of the `reauthenticate`)
 * is tried again with backoff ({@linkcode REFRESH_RETRY_MS}, doubling up to
 * {@linkcode REFRESH_RETRY_MAX_MS}) until the token expires; then the
 * terminal logs out ("the session has expired: log in again") and shows the
 * login form.
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

/** When, as a share of the token's life from its login or refresh, it is refreshed. */
export const REFRESH_AT = 0.75;

/** The first wait before a failed refresh is tried again (ms); it doubles each time. */
export const REFRESH_RETRY_MS = 1_000;

/** The longest wait between two tries of a refresh (ms). */
export const REFRESH_RETRY_MAX_MS = 30_000;

/** Why the terminal logged out by itself. */
const EXPIRED = "the session has expired: log in again";

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
    body?: string;
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

/** A login's or refresh's `expiresAt` (ms since the epoch, or an ISO date) in ms; else never. */
function expiryOf(expires: unknown): number {
  return typeof expires === "number"
    ? expires
    : typeof expires === "string" && !Number.isNaN(Date.parse(expires))
    ? Date.parse(expires)
    : Infinity;
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
  /** The timer of the next refresh (or its retry). */
  #refreshTimer: unknown;
  /** Refreshes failed in a row: the backoff's exponent. */
  #refreshFailures = 0;
  /** The `requestId` of the `reauthenticate` awaiting the core's answer, else 0n. */
  #reauthId = 0n;
  /** Bumped by a logout or a new login: an answer to an older refresh is dropped. */
  #generation = 0;

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
    this.#generation++;
    this.#expiresAt = expiryOf(body.expiresAt);
    this.#refreshFailures = 0;
    this.useToken(body.token);
    this.#scheduleRefresh();
    return undefined;
  }

  /** Sets the timer of the next refresh: at {@linkcode REFRESH_AT} of what is left of the token's life. */
  #scheduleRefresh(): void {
    this.#env.clearTimeout(this.#refreshTimer);
    const left = this.#expiresAt - this.#env.now();
    if (!Number.isFinite(left)) return;
    const generation = this.#generation;
    this.#refreshTimer = this.#env.setTimeout(
      () => void this.#refresh(generation),
      Math.max(0, Math.floor(left * REFRESH_AT)),
    );
  }

  /** Asks the core for a new token and hands it to the open connection. */
  async #refresh(generation: number): Promise<void> {
    const token = this.#token;
    if (token === undefined || generation !== this.#generation) return;
    if (this.#env.now() >= this.#expiresAt) {
      this.#expire();
      return;
    }
    let body: Record<string, unknown> | undefined;
    try {
      const res = await this.#env.fetch(new URL("/auth/refresh", this.#coreUrl).href, {
        method: "POST",
        headers: { authorization: `Bearer ${token}` },
      });
      const json = await res.json().catch(() => undefined) as Record<string, unknown> | undefined;
      body = res.ok && typeof json?.token === "string" ? json : undefined;
    } catch {
      body = undefined; // unreachable: tried again below
    }
    if (generation !== this.#generation) return; // logged out (or in again) meanwhile
    if (body === undefined) {
      this.#refreshFailed();
      return;
    }
    const fresh = body.token as string;
    this.#token = fresh;
    this.#expiresAt = expiryOf(body.expiresAt);
    this.#identity.value = identityOf(fresh);
    this.#refreshFailures = 0;
    // The open connection takes the new token at once; a closed one dials with it.
    const requestId = this.#requestId + 1n;
    if (this.#send({ type: "reauthenticate", requestId: 0n, sentAt: 0n, token: fresh })) {
      this.#reauthId = requestId;
    }
    this.#scheduleRefresh();
  }

  /** A refresh failed: tried again after the backoff, or the session ends with the token. */
  #refreshFailed(): void {
    this.#env.clearTimeout(this.#refreshTimer);
    const now = this.#env.now();
    if (now >= this.#expiresAt) {
      this.#expire();
      return;
    }
    const wait = Math.min(
      REFRESH_RETRY_MAX_MS,
      REFRESH_RETRY_MS * 2 ** Math.min(this.#refreshFailures++, 30),
    );
    const generation = this.#generation;
    // The last try is at the expiry itself, which ends the session unless it succeeded before.
    this.#refreshTimer = this.#env.setTimeout(
      () => void this.#refresh(generation),
      Math.min(wait, this.#expiresAt - now),
    );
  }

  /** The token expired unrefreshed: logged out, with the login form and why. */
  #expire(): void {
    this.logout();
    this.#machine.stop(EXPIRED);
    this.#sync();
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
    this.#generation++;
    this.#reauthId = 0n;
    this.#env.clearTimeout(this.#refreshTimer);
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
    this.#reauthId = 0n; // the new token, if any, is the one dialled with next
    const expired = this.#env.now() >= this.#expiresAt;
    if (expired) {
      this.#expire();
      return;
    }
    const wait = this.#machine.closed(this.#env.now(), { refused: false, why });
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
    if (this.#reauthId !== 0n && event.requestId === this.#reauthId) {
      this.#reauthId = 0n;
      // The core refused the new token: try another refresh while the old one lasts.
      if (event.type === "reject") this.#refreshFailed();
    }
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
