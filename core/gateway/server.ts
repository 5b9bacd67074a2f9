/**
 * The trader gateway's HTTP side: a `Deno.serve` handler with `GET /ws`
 * (the trader WebSocket), a hook for the admin API under `/admin`, `GET /`
 * (what the core serves, and where the edge is), and
 * `application/problem+json` for everything else (with a `reason` member,
 * as the admin API and the edge send). A `Host` header that is not a host
 * (and port) is a 400 `bad_host`. Every answer but an upgrade's 101 carries
 * the edge's security headers (`nosniff`, `X-Frame-Options: DENY`, a
 * `Content-Security-Policy` that loads nothing, `Referrer-Policy:
 * no-referrer`, `Cross-Origin-Opener-Policy`, HSTS).
 *
 * # A connection's life
 *
 * 1. **Handshake.** `authenticateUpgrade` decides before the upgrade, then
 *    `authorize` (the account store: registered, enabled, same role, same
 *    token epoch): a refusal is a problem response with its status (401,
 *    403) and reason (`urn:tradecaptain:problem:expired`, …, also in its
 *    `reason` member). Accepted, the server echoes the `tradecaptain.v1`
 *    subprotocol (never the token).
 * 2. **Frames.** Binary only: one frame, one Cap'n Proto `ClientMessage`,
 *    checked by `decodeClientFrame`. A bad frame is answered — a `reject`
 *    when the request's kind was read, else an `error` — with its reason,
 *    nothing of it reaches the engine, and the connection stays up.
 * 3. **Abuse.** Each connection has a message rate (a token bucket; default
 *    1,000/s, bursts of 2,000), and so has each account over all its
 *    connections (the same defaults: eight connections do not make eight
 *    times the rate), and a budget of bad frames (undecodable, oversized,
 *    unknown kinds, text; default 10, refilled at 10 a minute). Past any,
 *    it gets an `error` with `closing` set and is closed with 1008 and the
 *    reason. Field-level mistakes (a zero quantity) are answered with
 *    rejects and do not count.
 * 4. **Requests.** Orders go to the {@linkcode OrderRouter}-like `orders`
 *    port (a viewer's are refused with `notAuthorised`); subscriptions and
 *    snapshots to the market data port; a `ping` is answered at once with a
 *    heartbeat echoing its `sentAt`. A `reauthenticate` carries a fresh
 *    token (from `POST /auth/refresh`): checked as a handshake's is (the
 *    signature and claims, then `authorize`), it must name the connection's
 *    own account and role; accepted, it replaces the connection's expiry
 *    and token id (so a logout of the new token closes it) and is answered
 *    with a heartbeat carrying its `requestId`; refused, a reject
 *    (`notAuthorised`) says why and the connection lives on until the old
 *    token expires. One is checked at a time per connection (another
 *    meanwhile is refused); each counts against the message rates.
 * 5. **Heartbeats.** When nothing was sent on a connection for
 *    `heartbeatIntervalMs` (default 1,000), it gets a heartbeat carrying
 *    the account's latest execution sequence.
 * 6. **End.** A connection whose token (the latest it reauthenticated
 *    with) expires (beyond the 30 s leeway)
 *    gets an `error` and is closed with 1008. {@linkcode Gateway.closeAccount}
 *    closes an account's connections (the core calls it when an admin
 *    disables the account or changes its role), with an `error` first.
 *    {@linkcode Gateway.close} closes every connection with 1001.
 *
 * # Memory
 *
 * What the core queues for a client that does not read is bounded three
 * ways. (1) Per connection: past `maxBufferedBytes` (default 256 KiB) a
 * connection is closed with 1008; market data stops well before that
 * (its own, smaller queue limit, then a resync). (2) Connections per
 * account (default 32) and per remote address (default 256), refused at
 * the handshake with 429 (`too_many_connections`). (3) A total
 * (`queueBudgetBytes`, default 16 MiB) over every connection: past it, the
 * connections with the most queued are resynced (market data stops for
 * them until they drain), and one that has not drained to a quarter of
 * what it held within `SHED_GRACE_MS` (2 s) is closed with 1008. Measured on Deno 2.9.6, a queued market data frame of
 * ~100 bytes holds ~9 times its size in the core (a copy and a write task
 * per frame), which is why these limits are small.
 *
 * A connection stays counted against its account and address until its
 * TCP connection has ended: a client that never reads does not take its
 * close frame either, and Deno cannot tear its socket down from here.
 *
 * # Closing
 *
 * Deno's server WebSocket (2.9.6) drops the TCP connection as soon as a
 * data frame arrives after `close()`, before its close frame is written:
 * a flooding client would see 1006, not 1008 and the reason. So a closing
 * connection keeps reading (and ignoring) what arrives until the peer
 * answers the close, for at most `CLOSE_LINGER_MS`; see `lingerOnClose`.
 *
 * # Known limitations
 *
 * Deno reads a whole WebSocket message before the handler sees it, so the
 * frame-size limit (64 KiB) bounds what is decoded, not what is received.
 *
 * @module
 */

import { AUDIENCE, DEFAULT_LEEWAY_SECONDS, ISSUER, type Role, SUBPROTOCOL } from "./config.ts";
import { authenticateUpgrade } from "./handshake.ts";
import { type JwtClaims, VERIFY_MESSAGE_PREFIX, verifyJwt } from "./jwt.ts";
import type { FrameSink, MarketDataPort } from "./market_data.ts";
import type { OrderRequest, SessionClient } from "./orders.ts";
import { problem, withSecurityHeaders } from "./_problem.ts";
import { TokenBucket } from "./_rate.ts";
import { nowNs } from "./_clock.ts";
import { decodeClientFrame, type DecodeFailure } from "../wire/client.ts";
import type { FrameLimits } from "../wire/frame.ts";
import { encodeServerMessage } from "../wire/server.ts";
import type { ClientRequest, Reason, ReauthenticateRequest, RequestType } from "../wire/types.ts";

/** What the gateway needs of order routing (an {@linkcode OrderRouter}). */
export interface OrderPort {
  /** A trader or admin connection opened. */
  attach(client: SessionClient): void;
  /** It closed. */
  detach(client: SessionClient): void;
  /** One order request of a connection. */
  handle(client: SessionClient, request: OrderRequest): void;
  /** The account's latest execution-report sequence. */
  executionSequence(account: string): bigint;
}

/** Options for {@linkcode createGateway}. */
export interface GatewayOptions {
  /** The HS256 key that verifies tokens (`loadSecret`). */
  readonly key: CryptoKey;
  /** Browser origins allowed to connect (exact match); requests without Origin pass. */
  readonly allowedOrigins: readonly string[] | ReadonlySet<string>;
  /** The required `iss` (default {@linkcode ISSUER}). */
  readonly issuer?: string;
  /** The required audience (default {@linkcode AUDIENCE}). */
  readonly audience?: string;
  /** Order routing. */
  readonly orders: OrderPort;
  /** Market data subscriptions. */
  readonly marketData: MarketDataPort;
  /** The admin API, mounted under `/admin` (else 404). */
  readonly admin?: (request: Request) => Promise<Response>;
  /**
   * The login API (`core/auth/`), mounted under `/auth` (else 404); `info`
   * is `Deno.serve`'s (the peer's address, for per-address rate limits).
   */
  readonly auth?: (request: Request, info?: Deno.ServeHandlerInfo) => Promise<Response>;
  /**
   * Other answers the core serves beside the gateway's (health, metrics):
   * asked first, once the `Host` header checked out; undefined passes the
   * request on. Their answers get the security headers too. `info` is
   * `Deno.serve`'s (the peer's address), when the server passed it.
   */
  readonly routes?: (request: Request, info?: Deno.ServeHandlerInfo) => Response | undefined;
  /**
   * Decides, after the token checked out and before the upgrade, whether
   * its account may connect with its role (the core asks the account store:
   * registered, enabled, the role it holds, the token epoch it is at: see
   * `core/app/login.ts`), given the token's claims. Undefined lets every
   * valid token in.
   */
  readonly authorize?: (
    account: string,
    role: Role,
    claims: JwtClaims,
  ) => Promise<Refusal | undefined>;
  /**
   * Where the edge (public quotes and pages) answers, named by
   * `GET /` (default {@linkcode DEFAULT_EDGE_URL}).
   */
  readonly edgeUrl?: string;
  /** Longest silence on a connection before a heartbeat, in ms (default 1000). */
  readonly heartbeatIntervalMs?: number;
  /** Messages per second per connection (default 1000), and bursts (default twice that). */
  readonly messageRate?: { readonly perSecond: number; readonly burst?: number };
  /** Bad frames per minute per connection (default 10), and bursts (default the same). */
  readonly badFrameRate?: { readonly perMinute: number; readonly burst?: number };
  /** Frame size limits (default 64 KiB, 64 segments). */
  readonly frameLimits?: FrameLimits;
  /** Messages per second per account over all its connections (default 1000), and bursts (default twice that). */
  readonly accountMessageRate?: { readonly perSecond: number; readonly burst?: number };
  /** Bytes queued on a socket past which it is closed as too slow (default 256 KiB). */
  readonly maxBufferedBytes?: number;
  /**
   * Bytes queued over every connection past which the slowest are resynced
   * and then closed (default 16 MiB); `Infinity` turns it off.
   */
  readonly queueBudgetBytes?: number;
  /** Open connections per account; more are refused with 429 (default 32). */
  readonly maxConnectionsPerAccount?: number;
  /** Open connections per remote address; more are refused with 429 (default 256). */
  readonly maxConnectionsPerAddress?: number;
  /** Where unexpected errors (a throwing port) are reported (default `console.error`). */
  readonly onError?: (error: unknown) => void;
}

/** Why a connection is refused: an HTTP status, a reason code and a message. */
export interface Refusal {
  readonly status: number;
  readonly reason: string;
  /** What failed and why ("Cannot accept connection: account ALICE is disabled"). */
  readonly message: string;
}

/** A running gateway: its handler and its connections. */
export interface Gateway {
  /** The `Deno.serve` handler (the remote address, from `info`, counts against its cap). */
  readonly handler: (request: Request, info?: Deno.ServeHandlerInfo) => Promise<Response>;
  /** Open WebSocket connections. */
  readonly connections: number;
  /** Bytes queued over every open connection, as of the last budget check. */
  readonly queuedBytes: number;
  /** Connections that have ended since the gateway started (their sockets gone). */
  readonly closedConnections: number;
  /**
   * Closes every connection of an account, at once: each open one first
   * gets an `error` saying why (`closing` set), then the close frame.
   *
   * @param account The account (the token's `sub`).
   * @param code The close code (1008, a policy violation, when an admin
   *   disabled the account or changed its role).
   * @param reason Why, for the close frame (at most 123 bytes of UTF-8).
   * @returns How many connections were closed.
   */
  closeAccount(account: string, code: number, reason: string): number;
  /**
   * Closes every connection opened with one token (its `jti`), as
   * {@linkcode Gateway.closeAccount} does: the core calls it when the token
   * is ended by a logout.
   *
   * @param jti The token's id.
   * @param code The close code (1008).
   * @param reason Why, for the close frame.
   * @returns How many connections were closed.
   */
  closeToken(jti: string, code: number, reason: string): number;
  /**
   * Closes every connection (1001, "core shutting down") and refuses new
   * ones (503), waiting up to `timeoutMs` for the sockets to close.
   */
  close(timeoutMs?: number): Promise<void>;
}

/** Where `GET /` says the edge is, unless told otherwise: `deno task edge`'s default. */
export const DEFAULT_EDGE_URL = "http://127.0.0.1:8000";

/**
 * A `Host` header the core accepts: a DNS name, IPv4 or bracketed IPv6
 * address, and an optional port. Anything else (spaces, slashes, `@`) would
 * make a URL that does not parse, or another path than the one asked for.
 */
const HOST = /^(?:\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9._-]{1,253})(?::[0-9]{1,5})?$/;

/** Reasons of frames that could not be read at all: they count against the bad-frame budget. */
const FRAME_FAULTS: ReadonlySet<Reason> = new Set([
  "frameTooLarge",
  "malformedFrame",
  "unknownMessage",
]);

/** A policy violation (RFC 6455 §7.4.1). */
const POLICY = 1008;
/** Going away. */
const GOING_AWAY = 1001;
/** The longest a closing connection keeps reading while its peer has not answered the close. */
export const CLOSE_LINGER_MS = 2000;
/** Default {@linkcode GatewayOptions.maxBufferedBytes}: 256 KiB. */
export const DEFAULT_MAX_BUFFERED_BYTES = 256 * 1024;
/** Default {@linkcode GatewayOptions.queueBudgetBytes}: 16 MiB. */
export const DEFAULT_QUEUE_BUDGET_BYTES = 16 * 1024 * 1024;
/** Default {@linkcode GatewayOptions.maxConnectionsPerAccount}. */
export const DEFAULT_MAX_CONNECTIONS_PER_ACCOUNT = 32;
/** Default {@linkcode GatewayOptions.maxConnectionsPerAddress}. */
export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 256;
/** How long a connection resynced for the budget has to drain before it is closed, ms. */
export const SHED_GRACE_MS = 2000;
/** Bytes sent between two reads of a socket's queue (besides every 32nd frame). */
const CHECK_EVERY_BYTES = 16 * 1024;

/**
 * Keeps a closing server WebSocket reading until its peer answers the
 * close, so that the close frame goes out before the TCP connection ends.
 *
 * Deno 2.9.6's server WebSocket ends the connection at the first data
 * frame that arrives while it is CLOSING; its close frame, written by an
 * operation that starts on a later turn, then never goes out, and a
 * client that keeps sending (a flood) sees 1006. Put back to OPEN once
 * `close()` has started, the socket hands such frames to `onmessage`
 * (which ignores them once closing) and ends when the peer's close frame
 * arrives. After `lingerMs` without one it is put back to CLOSING, so that
 * the next frame ends it as Deno would have. Where the internal state is
 * not found (another Deno), nothing changes.
 *
 * @returns Undoes the linger (the socket closed): clears its timer.
 */
function lingerOnClose(socket: WebSocket, lingerMs: number): () => void {
  const state = Object.getOwnPropertySymbols(socket).find((s) =>
    s.description === "[[readyState]]"
  );
  const fields = socket as unknown as Record<symbol, unknown>;
  if (state === undefined || fields[state] !== WebSocket.CLOSING) return () => {};
  fields[state] = WebSocket.OPEN;
  const timer = setTimeout(() => {
    if (fields[state] === WebSocket.OPEN) fields[state] = WebSocket.CLOSING;
  }, lingerMs);
  return () => clearTimeout(timer);
}

/** What the connections of one account share: their count and message rate. */
interface AccountShare {
  count: number;
  readonly messages: TokenBucket;
}

interface Settings {
  readonly orders: OrderPort;
  readonly marketData: MarketDataPort;
  readonly intervalMs: number;
  readonly perSecond: number;
  readonly burst: number;
  readonly badPerMinute: number;
  readonly badBurst: number;
  readonly frameLimits: FrameLimits | undefined;
  readonly maxBufferedBytes: number;
  readonly accountPerSecond: number;
  /**
   * `performance.now()` as of the last heartbeat tick (or open): a coarse
   * clock for "nothing sent lately", read per frame sent without a call.
   */
  readonly clock: { now: number };
  readonly onError: (error: unknown) => void;
  /** Checks a `reauthenticate`'s token as a handshake's (signature, claims, `authorize`). */
  readonly verifyToken: (token: string) => Promise<TokenCheck>;
}

/** A token checked for a `reauthenticate`: its claims, or why it was refused (in words). */
type TokenCheck =
  | { readonly ok: true; readonly claims: JwtClaims }
  | { readonly ok: false; readonly message: string };

const REAUTH = "Cannot reauthenticate: ";

/** One WebSocket connection: a frame sink for market data, a client for order routing. */
class Connection implements FrameSink, SessionClient {
  readonly #socket: WebSocket;
  readonly #settings: Settings;
  readonly #messages: TokenBucket;
  readonly #badFrames: TokenBucket;
  readonly #onClosed: (c: Connection) => void;
  /** True between open and the first close (ours or the peer's). */
  #open = false;
  #attached = false;
  /** When the last frame was sent, on the coarse clock (`Settings.clock`). */
  lastSent = 0;
  /** Frames sent: the send queue's size is checked every 32nd. */
  #sends = 0;
  /** Bytes sent since the send queue's size was last checked. */
  #unchecked = 0;
  /** When the queue budget had it resynced (`performance.now()`), or -1. */
  shedAt = -1;
  /** What it had queued then: it has drained once down to a quarter of that. */
  shedBytes = 0;
  /** Undoes {@linkcode lingerOnClose}, once closing. */
  #unlinger: (() => void) | undefined;
  /** The id (`jti`) of the token it was opened (or last reauthenticated) with, if it had one. */
  tokenId: string | undefined;
  /** A `reauthenticate` is being checked: another meanwhile is refused. */
  #reauthenticating = false;

  constructor(
    socket: WebSocket,
    readonly account: string,
    readonly role: Role,
    /** The token's expiry, in seconds since the epoch; a `reauthenticate` moves it. */
    public expires: number,
    /** The remote address it counts against, if known. */
    readonly address: string | undefined,
    /** Its account's count and shared message rate. */
    readonly share: AccountShare,
    settings: Settings,
    onOpen: (c: Connection) => void,
    onClosed: (c: Connection) => void,
  ) {
    this.#socket = socket;
    this.#settings = settings;
    this.#onClosed = onClosed;
    this.#messages = new TokenBucket(settings.perSecond, settings.burst);
    this.#badFrames = new TokenBucket(settings.badPerMinute / 60, settings.badBurst);
    socket.binaryType = "arraybuffer";
    socket.onopen = () => {
      this.#open = true;
      settings.clock.now = performance.now();
      this.lastSent = settings.clock.now;
      if (role !== "viewer") {
        settings.orders.attach(this);
        this.#attached = true;
      }
      onOpen(this);
    };
    socket.onmessage = (e: MessageEvent) => this.#receive(e.data);
    socket.onclose = () => this.#closed();
    socket.onerror = () => {
      // The close event follows; nothing else to do.
    };
  }

  get bufferedAmount(): number {
    return this.#socket.bufferedAmount;
  }

  get isOpen(): boolean {
    return this.#open;
  }

  send(frame: Uint8Array): void {
    if (!this.#open) return;
    // The fan-out path: one call into Deno per frame (the send), nothing
    // more. The queue's size is read every 32nd frame or 16 KiB, which lets
    // it pass the limit by at most that.
    this.#unchecked += frame.length;
    if (
      ((++this.#sends & 31) === 0 || this.#unchecked >= CHECK_EVERY_BYTES) &&
      this.#checkQueue()
    ) {
      return;
    }
    try {
      this.#socket.send(frame);
      this.lastSent = this.#settings.clock.now;
    } catch (error) {
      // The socket closed under us; its close event tidies up.
      this.#settings.onError(error);
    }
  }

  /** Whether the queue passed its limit (the connection is then closed with 1008). */
  #checkQueue(): boolean {
    this.#unchecked = 0;
    if (this.#socket.bufferedAmount <= this.#settings.maxBufferedBytes) return false;
    this.close(POLICY, "send queue over its limit: the client reads too slowly");
    return true;
  }

  close(code: number, reason: string): void {
    if (!this.#open) return;
    this.#open = false;
    // From now on input is ignored and nothing is sent; the close frame
    // follows what is queued, and the socket keeps reading until the peer
    // answers it (see lingerOnClose), so that a peer still sending sees
    // our code and reason, not a dropped connection.
    try {
      this.#socket.close(code, reason);
      this.#unlinger = lingerOnClose(this.#socket, CLOSE_LINGER_MS);
    } catch (error) {
      this.#settings.onError(error);
    }
  }

  /** Sends an error saying why, then closes with 1008. */
  abuse(reason: Reason, message: string, closeReason: string): void {
    this.send(encodeServerMessage({
      type: "error",
      sentAt: nowNs(),
      reason,
      message,
      closing: true,
    }));
    this.close(POLICY, closeReason);
  }

  #closed(): void {
    this.#open = false;
    this.#unlinger?.();
    if (this.#attached) {
      this.#attached = false;
      this.#settings.orders.detach(this);
    }
    try {
      this.#settings.marketData.detach(this);
    } catch (error) {
      this.#settings.onError(error);
    }
    this.#onClosed(this);
  }

  #receive(data: unknown): void {
    if (!this.#open) return;
    const settings = this.#settings;
    if (!this.#messages.take()) {
      this.abuse(
        "unspecified",
        `Closing connection: more than ${settings.perSecond} messages per second`,
        "message rate over the limit",
      );
      return;
    }
    if (!this.share.messages.take()) {
      this.abuse(
        "unspecified",
        `Closing connection: account ${this.account} sent more than ` +
          `${settings.accountPerSecond} messages per second over its connections`,
        "account message rate over the limit",
      );
      return;
    }
    if (!(data instanceof ArrayBuffer)) {
      this.#badFrame({
        ok: false,
        reason: "malformedFrame",
        message:
          "Cannot read frame: text messages are not accepted; send binary Cap'n Proto frames",
        request: "unspecified",
        requestId: 0n,
        clientOrderId: 0n,
      });
      return;
    }
    const result = decodeClientFrame(new Uint8Array(data), settings.frameLimits);
    if (!result.ok) {
      if (FRAME_FAULTS.has(result.reason)) this.#badFrame(result);
      else this.#answerFailure(result);
      return;
    }
    try {
      this.#route(result.message);
    } catch (error) {
      settings.onError(error);
      this.send(encodeServerMessage({
        type: "error",
        requestId: result.message.requestId,
        sentAt: nowNs(),
        reason: "unspecified",
        message: `Cannot handle ${result.message.type}: the core failed; see its log`,
      }));
    }
  }

  #badFrame(failure: DecodeFailure): void {
    this.#answerFailure(failure);
    if (!this.#badFrames.take()) {
      this.abuse(
        failure.reason,
        `Closing connection: more than ${this.#settings.badBurst} frames that could not be read`,
        "too many bad frames",
      );
    }
  }

  /** A reject when the request's kind is known, else an error; the connection stays. */
  #answerFailure(failure: DecodeFailure): void {
    this.send(encodeServerMessage(
      failure.request === "unspecified"
        ? {
          type: "error",
          requestId: failure.requestId,
          sentAt: nowNs(),
          reason: failure.reason,
          message: failure.message,
        }
        : {
          type: "reject",
          requestId: failure.requestId,
          sentAt: nowNs(),
          reason: failure.reason,
          message: failure.message,
          request: failure.request,
          clientOrderId: failure.clientOrderId,
        },
    ));
  }

  #route(message: ClientRequest): void {
    const { marketData, orders } = this.#settings;
    switch (message.type) {
      case "ping":
        this.send(encodeServerMessage({
          type: "heartbeat",
          requestId: message.requestId,
          sentAt: nowNs(),
          intervalMs: this.#settings.intervalMs,
          echoSentAt: message.sentAt,
          executionSequence: this.role === "viewer" ? 0n : orders.executionSequence(this.account),
        }));
        return;
      case "subscribe": {
        const refused = marketData.subscribe(this, message.symbol, message.requestId);
        if (refused !== undefined) {
          this.#reject(
            message.type,
            message.requestId,
            message.symbol,
            refused,
            "Cannot subscribe",
          );
        }
        return;
      }
      case "unsubscribe":
        // Idempotent: unsubscribing from what one never had changes nothing.
        marketData.unsubscribe(this, message.symbol);
        return;
      case "reauthenticate":
        void this.#reauthenticate(message);
        return;
      case "requestSnapshot": {
        const refused = marketData.requestSnapshot(this, message.symbol, message.requestId);
        if (refused !== undefined) {
          this.#reject(
            message.type,
            message.requestId,
            message.symbol,
            refused,
            "Cannot send a snapshot",
          );
        }
        return;
      }
      default:
        orders.handle(this, message);
    }
  }

  /**
   * Checks a fresh token and, when it names this connection's account and
   * role, makes it the connection's: its expiry and id. Answered with a
   * heartbeat (this request's `requestId`, echoing its `sentAt`) or a
   * reject (`notAuthorised`) saying why; never closes the connection.
   */
  async #reauthenticate(message: ReauthenticateRequest): Promise<void> {
    const refuse = (why: string) =>
      this.send(encodeServerMessage({
        type: "reject",
        requestId: message.requestId,
        sentAt: nowNs(),
        reason: "notAuthorised",
        message: REAUTH + why,
        request: "reauthenticate",
      }));
    if (this.#reauthenticating) {
      refuse("the previous reauthenticate is still being checked; send one at a time");
      return;
    }
    this.#reauthenticating = true;
    let checked: TokenCheck;
    try {
      checked = await this.#settings.verifyToken(message.token);
    } catch (error) {
      this.#settings.onError(error);
      checked = {
        ok: false,
        message: "the token could not be checked: the core failed; see its log",
      };
    } finally {
      this.#reauthenticating = false;
    }
    if (!this.#open) return;
    if (!checked.ok) {
      refuse(checked.message);
      return;
    }
    const { sub, role, exp, jti } = checked.claims;
    if (sub !== this.account) {
      refuse(
        `the token is for account ${JSON.stringify(sub)}, this connection's is ` +
          JSON.stringify(this.account),
      );
      return;
    }
    if (role !== this.role) {
      refuse(`the token's role is ${role}, this connection's is ${this.role}; connect anew`);
      return;
    }
    this.expires = exp;
    this.tokenId = jti;
    this.send(encodeServerMessage({
      type: "heartbeat",
      requestId: message.requestId,
      sentAt: nowNs(),
      intervalMs: this.#settings.intervalMs,
      echoSentAt: message.sentAt,
      executionSequence: this.role === "viewer"
        ? 0n
        : this.#settings.orders.executionSequence(this.account),
    }));
  }

  #reject(
    request: RequestType,
    requestId: bigint,
    symbol: string,
    reason: Reason,
    what: string,
  ): void {
    this.send(encodeServerMessage({
      type: "reject",
      requestId,
      sentAt: nowNs(),
      reason,
      message: `${what} to ${symbol}: ${reason}`,
      request,
      symbol,
    }));
  }
}

/**
 * Makes the gateway: a `Deno.serve` handler and its connections. See the
 * module documentation.
 *
 * @param options The key and origins, the order and market data ports, the
 *   admin handler, and the limits.
 * @returns The gateway.
 * @throws {RangeError} When a rate or interval is not positive.
 *
 * @example
 * ```ts
 * import { createGateway } from "./server.ts";
 * const key = await crypto.subtle.generateKey(
 *   { name: "HMAC", hash: "SHA-256", length: 256 }, false, ["sign", "verify"]);
 * const gateway = createGateway({
 *   key,
 *   allowedOrigins: [],
 *   orders: { attach() {}, detach() {}, handle() {}, executionSequence: () => 0n },
 *   marketData: {
 *     subscribe: () => undefined, unsubscribe: () => false, requestSnapshot: () => undefined,
 *     detach() {}, apply() {}, flush() {},
 *   },
 * });
 * const response = await gateway.handler(new Request("http://localhost/elsewhere"));
 * if (response.status !== 404) throw new Error(`expected 404, got ${response.status}`);
 * if (response.headers.get("content-type") !== "application/problem+json") throw new Error("not a problem");
 * await gateway.close();
 * // Deno.serve({ port: 8080 }, gateway.handler);
 * ```
 */
export function createGateway(options: GatewayOptions): Gateway {
  const intervalMs = options.heartbeatIntervalMs ?? 1000;
  const perSecond = options.messageRate?.perSecond ?? 1000;
  const badPerMinute = options.badFrameRate?.perMinute ?? 10;
  if (!(intervalMs > 0) || !Number.isInteger(intervalMs) || intervalMs > 0xffff_ffff) {
    throw new RangeError(
      `Cannot make gateway: heartbeatIntervalMs must be a positive integer, got ${intervalMs}`,
    );
  }
  const settings: Settings = {
    orders: options.orders,
    marketData: options.marketData,
    intervalMs,
    perSecond,
    burst: options.messageRate?.burst ?? perSecond * 2,
    badPerMinute,
    badBurst: options.badFrameRate?.burst ?? badPerMinute,
    frameLimits: options.frameLimits,
    maxBufferedBytes: options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES,
    accountPerSecond: options.accountMessageRate?.perSecond ?? perSecond,
    clock: { now: performance.now() },
    onError: options.onError ?? ((error) => console.error(error)),
    verifyToken: async (token) => {
      const verified = await verifyJwt(token, options.key, {
        issuer: options.issuer ?? ISSUER,
        audience: options.audience ?? AUDIENCE,
      });
      if (!verified.ok) {
        return { ok: false, message: verified.message.slice(VERIFY_MESSAGE_PREFIX.length) };
      }
      const { claims } = verified;
      const refused = await options.authorize?.(claims.sub, claims.role, claims);
      if (refused !== undefined) {
        // The account store words it for a handshake ("Cannot accept connection: …").
        return { ok: false, message: refused.message.replace(/^Cannot [^:]*: /, "") };
      }
      return { ok: true, claims };
    },
  };
  const accountBurst = options.accountMessageRate?.burst ?? settings.accountPerSecond * 2;
  const budget = options.queueBudgetBytes ?? DEFAULT_QUEUE_BUDGET_BYTES;
  const perAccount = options.maxConnectionsPerAccount ?? DEFAULT_MAX_CONNECTIONS_PER_ACCOUNT;
  const perAddress = options.maxConnectionsPerAddress ?? DEFAULT_MAX_CONNECTIONS_PER_ADDRESS;
  for (
    const [name, value] of [
      ["maxBufferedBytes", settings.maxBufferedBytes],
      ["queueBudgetBytes", budget],
      ["maxConnectionsPerAccount", perAccount],
      ["maxConnectionsPerAddress", perAddress],
    ] as const
  ) {
    if (!(value >= 1) || !(Number.isSafeInteger(value) || value === Infinity)) {
      throw new RangeError(
        `Cannot make gateway: ${name} must be a positive integer (or Infinity), got ${value}`,
      );
    }
  }
  // Fail now, not at the first connection.
  new TokenBucket(settings.perSecond, settings.burst);
  new TokenBucket(settings.badPerMinute / 60, settings.badBurst);
  new TokenBucket(settings.accountPerSecond, accountBurst);

  const upgradeOptions = {
    key: options.key,
    issuer: options.issuer ?? ISSUER,
    audience: options.audience ?? AUDIENCE,
    allowedOrigins: options.allowedOrigins,
  };
  const connections = new Set<Connection>();
  /** Every connection upgraded and not yet closed, open or not. */
  const sockets = new Set<Connection>();
  let closing = false;
  let ticker: ReturnType<typeof setInterval> | undefined;
  let allClosed: (() => void) | undefined;
  const tickMs = Math.max(5, Math.min(100, Math.floor(intervalMs / 10)));
  /** Per account: its connections (upgraded, not yet ended) and their shared message rate. */
  const accounts = new Map<string, AccountShare>();
  /** Per remote address: connections upgraded or being authenticated, not yet ended. */
  const addresses = new Map<string, number>();
  let closedConnections = 0;
  let queuedBytes = 0;
  let budgetCheckedAt = -Infinity;

  const releaseAddress = (address: string | undefined) => {
    if (address === undefined) return;
    const n = (addresses.get(address) ?? 1) - 1;
    if (n > 0) addresses.set(address, n);
    else addresses.delete(address);
  };

  /**
   * The queue budget: past it, the connections with the most queued are
   * resynced (market data stops for them until they drain), until what the
   * others hold fits; one that has not drained to a quarter of what it held
   * within `SHED_GRACE_MS` is closed with 1008.
   */
  const checkBudget = (now: number) => {
    budgetCheckedAt = now;
    let total = 0;
    for (const c of connections) {
      if (!c.isOpen) continue;
      const queued = c.bufferedAmount;
      if (c.shedAt >= 0) {
        if (queued <= c.shedBytes / 4) {
          c.shedAt = -1; // drained: no longer a suspect
        } else if (now - c.shedAt >= SHED_GRACE_MS) {
          c.abuse(
            "unspecified",
            `Closing connection: the core's send queues passed their budget (${budget} bytes), ` +
              `this connection had the most queued, and it did not drain within ` +
              `${SHED_GRACE_MS} ms (${queued} bytes still queued)`,
            "send budget exceeded: the client reads too slowly",
          );
          continue;
        }
      }
      total += queued;
    }
    queuedBytes = total;
    if (total <= budget) return;
    const slowest = [...connections]
      .filter((c) => c.isOpen)
      .map((c) => ({ c, queued: c.bufferedAmount }))
      .sort((a, b) => b.queued - a.queued);
    for (const { c, queued } of slowest) {
      if (total <= budget || queued === 0) break;
      if (c.shedAt >= 0) continue; // resynced already, waiting to drain
      total -= queued;
      c.shedAt = now;
      c.shedBytes = queued;
      try {
        settings.marketData.shed?.(c);
      } catch (error) {
        settings.onError(error);
      }
    }
  };

  const tick = () => {
    const now = performance.now();
    settings.clock.now = now;
    if (budget !== Infinity && now - budgetCheckedAt >= 100) checkBudget(now);
    const epochSeconds = Date.now() / 1000;
    // Connections of one account share their heartbeat bytes within a tick.
    const frames = new Map<bigint, Uint8Array>();
    let sentAt: bigint | undefined;
    for (const c of connections) {
      if (!c.isOpen) continue;
      if (epochSeconds > c.expires + DEFAULT_LEEWAY_SECONDS) {
        c.abuse("unspecified", "Closing connection: the token expired", "token expired");
        continue;
      }
      if (now - c.lastSent < intervalMs) continue;
      const sequence = c.role === "viewer" ? 0n : settings.orders.executionSequence(c.account);
      let frame = frames.get(sequence);
      if (frame === undefined) {
        sentAt ??= nowNs();
        frame = encodeServerMessage({
          type: "heartbeat",
          sentAt,
          intervalMs,
          executionSequence: sequence,
        });
        frames.set(sequence, frame);
      }
      c.send(frame);
    }
  };

  /** Connections `closeAccount` ended before they opened: closed as they open. */
  const ended = new WeakMap<Connection, { code: number; reason: string }>();
  const onOpen = (c: Connection) => {
    connections.add(c);
    if (closing) {
      c.close(GOING_AWAY, "core shutting down");
      return;
    }
    const end = ended.get(c);
    if (end !== undefined) {
      c.close(end.code, end.reason);
      return;
    }
    ticker ??= setInterval(tick, tickMs);
  };
  const onClosed = (c: Connection) => {
    if (!sockets.has(c)) return;
    connections.delete(c);
    sockets.delete(c);
    closedConnections++;
    releaseAddress(c.address);
    if (--c.share.count === 0) accounts.delete(c.account);
    if (connections.size === 0 && ticker !== undefined) {
      clearInterval(ticker);
      ticker = undefined;
    }
    if (sockets.size === 0) allClosed?.();
  };

  const edgeUrl = options.edgeUrl ?? DEFAULT_EDGE_URL;

  async function gateway(request: Request, info?: Deno.ServeHandlerInfo): Promise<Response> {
    return withSecurityHeaders(await route(request, info));
  }

  async function route(request: Request, info?: Deno.ServeHandlerInfo): Promise<Response> {
    const host = request.headers.get("host");
    const url = host === null || HOST.test(host) ? URL.parse(request.url) : null;
    if (url === null) {
      return problem(
        400,
        "bad_host",
        `Cannot answer: the Host header ${
          JSON.stringify((host ?? "").slice(0, 64))
        } is not a host name or address with an optional port`,
      );
    }
    const other = options.routes?.(request, info);
    if (other !== undefined) return other;
    const path = url.pathname;
    if (path === "/") return describe(request, url);
    if (path === "/ws") {
      if (request.method !== "GET") {
        return problem(405, "method_not_allowed", `Cannot ${request.method} /ws: use GET`, {
          allow: "GET",
        });
      }
      if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        return problem(
          426,
          "upgrade_required",
          "Cannot serve /ws over plain HTTP: open a WebSocket",
          { upgrade: "websocket" },
        );
      }
      if (closing) {
        return problem(503, "shutting_down", "Cannot accept connection: the core is shutting down");
      }
      // The address's slot is taken before the token is checked (handshakes
      // that wait on it count too) and given back unless the upgrade happens.
      const remote = info?.remoteAddr;
      const address = remote !== undefined && "hostname" in remote ? remote.hostname : undefined;
      if (address !== undefined) {
        const open = addresses.get(address) ?? 0;
        if (open >= perAddress) {
          return problem(
            429,
            "too_many_connections",
            `Cannot accept connection: ${address} has ${open} connections open or opening, ` +
              `the most one address may hold (${perAddress})`,
            { "retry-after": "10" },
          );
        }
        addresses.set(address, open + 1);
      }
      let upgraded = false;
      try {
        const auth = await authenticateUpgrade(request, upgradeOptions);
        if (!auth.ok) return problem(auth.status, auth.reason, auth.message);
        const refused = await options.authorize?.(auth.account, auth.role, auth.claims);
        if (refused !== undefined) return problem(refused.status, refused.reason, refused.message);
        let share = accounts.get(auth.account);
        if (share !== undefined && share.count >= perAccount) {
          return problem(
            429,
            "too_many_connections",
            `Cannot accept connection: account ${auth.account} has ${share.count} connections ` +
              `open, the most one account may hold (${perAccount})`,
            { "retry-after": "10" },
          );
        }
        const { socket, response } = Deno.upgradeWebSocket(
          request,
          auth.protocol === undefined ? {} : { protocol: auth.protocol },
        );
        if (share === undefined) {
          share = { count: 0, messages: new TokenBucket(settings.accountPerSecond, accountBurst) };
          accounts.set(auth.account, share);
        }
        share.count++;
        const connection = new Connection(
          socket,
          auth.account,
          auth.role,
          auth.claims.exp,
          address,
          share,
          settings,
          onOpen,
          onClosed,
        );
        connection.tokenId = auth.claims.jti;
        sockets.add(connection);
        upgraded = true;
        return response;
      } finally {
        if (!upgraded) releaseAddress(address);
      }
    }
    if (path === "/auth" || path.startsWith("/auth/")) {
      if (options.auth !== undefined) return await options.auth(request, info);
      return problem(404, "not_found", `Cannot find ${path}: the login API is not enabled`);
    }
    if (path === "/admin" || path.startsWith("/admin/")) {
      if (options.admin !== undefined) return await options.admin(request);
      return problem(404, "not_found", `Cannot find ${path}: the admin API is not enabled`);
    }
    return problem(404, "not_found", `Cannot find ${path}`);
  }

  /** `GET /`: what the core serves here, and where the edge is. */
  function describe(request: Request, url: URL): Response {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return problem(405, "method_not_allowed", `Cannot ${request.method} /: use GET`, {
        allow: "GET, HEAD",
      });
    }
    const ws = `${url.protocol === "https:" ? "wss:" : "ws:"}//${url.host}/ws`;
    const body = {
      service: "TradeCaptain core",
      serves: {
        ws: `${ws}: the trader WebSocket (Cap'n Proto, schemas/gateway.capnp); ` +
          `the token as subprotocol bearer.<jwt> beside ${SUBPROTOCOL}, or ?token=<jwt>`,
        admin: `${url.origin}/admin: the admin API (admin bearer tokens)`,
      },
      edge: edgeUrl,
      detail: `Public quotes and pages are served by the edge at ${edgeUrl}`,
    };
    return new Response(request.method === "HEAD" ? null : JSON.stringify(body, null, 2), {
      headers: { "content-type": "application/json", "cache-control": "no-store" },
    });
  }

  /** Closes the connections `which` picks: an `error` saying why, then the close frame. */
  function closeWhere(which: (c: Connection) => boolean, code: number, reason: string): number {
    let closed = 0;
    for (const c of sockets) {
      if (!which(c)) continue;
      closed++;
      if (!c.isOpen) {
        // Upgraded, not open yet (or closing already): closed as it opens.
        ended.set(c, { code, reason });
        continue;
      }
      c.send(encodeServerMessage({
        type: "error",
        sentAt: nowNs(),
        reason: "notAuthorised",
        message: `Closing connection: ${reason}`,
        closing: true,
      }));
      c.close(code, reason);
    }
    return closed;
  }

  return {
    handler: gateway,
    get connections() {
      return connections.size;
    },
    get queuedBytes() {
      return queuedBytes;
    },
    get closedConnections() {
      return closedConnections;
    },
    closeAccount(account, code, reason) {
      return closeWhere((c) => c.account === account, code, reason);
    },
    closeToken(jti, code, reason) {
      return closeWhere((c) => c.tokenId === jti, code, reason);
    },
    async close(timeoutMs = 1000) {
      closing = true;
      if (sockets.size === 0) return;
      const done = new Promise<void>((resolve) => (allClosed = resolve));
      for (const c of sockets) c.close(GOING_AWAY, "core shutting down");
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([done, new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
      clearTimeout(timer);
    },
  };
}
