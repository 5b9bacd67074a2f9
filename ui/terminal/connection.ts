/**
 * The terminal's connection to the core, as a state machine with no I/O:
 * the driver (`terminal.ts`) tells it what happened and does what it says
 * (dial, wait, give up), so every transition is tested without a socket.
 *
 * ```text
 * idle ─start→ connecting ─opened→ resynchronising ─synchronised→ connected
 *                  ▲                    │   ▲                        │
 *                  │ retry        closed│   └──────── desynchronised ┘
 *                  │                    ▼                            │
 *              reconnecting ◄───────────┴──────────── closed ────────┘
 *
 * any ─stop→ stopped (logged out, or the core refused the login)
 * ```
 *
 * `resynchronising` covers both the catch-up after each (re)connection (the
 * blotter rebuilt from `requestOrders`, the books from snapshots) and a gap
 * in a book's channel while connected. Reconnection waits an exponential
 * backoff with jitter (`base × 2^(attempt − 1)`, capped, times 0.5–1), reset
 * once a connection is synchronised. The round trip comes from `ping`s the
 * core echoes in a heartbeat.
 *
 * @module
 */

/** Where the connection stands. */
export type ConnectionState =
  | "idle"
  | "connecting"
  | "resynchronising"
  | "connected"
  | "reconnecting"
  | "stopped";

/** Options of {@linkcode ConnectionMachine}. */
export interface ConnectionOptions {
  /** The first retry's delay before jitter, ms (default 500). */
  readonly baseDelayMs?: number;
  /** The longest delay, ms (default 10,000). */
  readonly maxDelayMs?: number;
  /** A number in [0, 1) (default `Math.random`): the jitter. */
  readonly random?: () => number;
}

/**
 * The connection's state machine.
 *
 * @example
 * ```ts
 * import { ConnectionMachine } from "./connection.ts";
 * const c = new ConnectionMachine({ random: () => 0.5 });
 * c.start();
 * c.opened(1_000);
 * c.synchronised();
 * const wait = c.closed(2_000, { refused: false });
 * if (c.state !== "reconnecting" || wait !== 375) throw new Error(`${c.state} ${wait}`);
 * ```
 */
export class ConnectionMachine {
  readonly #base: number;
  readonly #max: number;
  readonly #random: () => number;
  #state: ConnectionState = "idle";
  #attempt = 0;
  #rttMs: number | undefined;
  #lastMessageAt: number | undefined;
  #retryAt: number | undefined;
  #why = "";

  /**
   * @param options Backoff and jitter.
   * @throws {RangeError} When a delay is not a positive number or the base exceeds the cap.
   */
  constructor(options: ConnectionOptions = {}) {
    this.#base = options.baseDelayMs ?? 500;
    this.#max = options.maxDelayMs ?? 10_000;
    this.#random = options.random ?? Math.random;
    if (!(this.#base > 0 && this.#max >= this.#base)) {
      throw new RangeError(
        `Cannot make the connection: delays must be positive with base ≤ max, not ${this.#base} and ${this.#max}`,
      );
    }
  }

  /** Where the connection stands. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** Failed attempts since the last synchronised connection. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The last ping's round trip, ms; undefined before the first answer. */
  get rttMs(): number | undefined {
    return this.#rttMs;
  }

  /** When the last message arrived (ms since the epoch); undefined before any. */
  get lastMessageAt(): number | undefined {
    return this.#lastMessageAt;
  }

  /** When `reconnecting`: the time of the next try (ms since the epoch). */
  get retryAt(): number | undefined {
    return this.#state === "reconnecting" ? this.#retryAt : undefined;
  }

  /** Why it stopped, or why the last connection closed (for the connection bar). */
  get why(): string {
    return this.#why;
  }

  /**
   * Starts: the driver dials.
   *
   * @returns Whether to dial (false when already started or stopped).
   */
  start(): boolean {
    if (this.#state !== "idle") return false;
    this.#state = "connecting";
    return true;
  }

  /**
   * The socket opened: catch up (subscribe, `requestOrders`).
   *
   * @param now The time (ms since the epoch).
   */
  opened(now: number): void {
    if (this.#state !== "connecting") return;
    this.#state = "resynchronising";
    this.#lastMessageAt = now;
  }

  /** Caught up (the blotter rebuilt and every book live): connected, and the backoff resets. */
  synchronised(): void {
    if (this.#state !== "resynchronising") return;
    this.#state = "connected";
    this.#attempt = 0;
    this.#why = "";
  }

  /** A book fell behind (a gap, a resync from the core) while connected. */
  desynchronised(): void {
    if (this.#state === "connected") this.#state = "resynchronising";
  }

  /**
   * A message arrived.
   *
   * @param now The time (ms since the epoch).
   */
  message(now: number): void {
    this.#lastMessageAt = now;
  }

  /**
   * A heartbeat answered a ping.
   *
   * @param sentAt The ping's send time, echoed (ms since the epoch).
   * @param now The time (ms since the epoch).
   */
  pong(sentAt: number, now: number): void {
    if (sentAt > 0 && now >= sentAt) this.#rttMs = now - sentAt;
  }

  /**
   * The socket closed, or could not open.
   *
   * @param now The time (ms since the epoch).
   * @param how `refused`: the core refused the login (a bad or expired
   *   token): retrying would not help, so it stops. `why`: what to show.
   * @returns How long to wait before {@linkcode ConnectionMachine.retry}, ms;
   *   undefined when not retrying (stopped).
   */
  closed(now: number, how: { refused: boolean; why?: string }): number | undefined {
    if (this.#state === "stopped" || this.#state === "idle") return undefined;
    this.#why = how.why ?? "";
    if (how.refused) {
      this.#state = "stopped";
      return undefined;
    }
    this.#attempt++;
    const ceiling = Math.min(this.#max, this.#base * 2 ** (this.#attempt - 1));
    const delay = Math.round(ceiling * (0.5 + this.#random() / 2));
    this.#state = "reconnecting";
    this.#retryAt = now + delay;
    return delay;
  }

  /**
   * The backoff is over: the driver dials again.
   *
   * @returns Whether to dial.
   */
  retry(): boolean {
    if (this.#state !== "reconnecting") return false;
    this.#state = "connecting";
    return true;
  }

  /**
   * Stops for good (logged out): the driver closes the socket and dials no more.
   *
   * @param why What to show.
   */
  stop(why: string): void {
    this.#state = "stopped";
    this.#why = why;
  }
}
