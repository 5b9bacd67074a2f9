/**
 * The gateway's side of market data: the port it delegates subscriptions
 * to, as a structural type. The publisher (`core/marketdata/`, class
 * `MarketData`) implements it; the gateway never imports it, so either side
 * can change as long as this shape holds.
 *
 * @module
 */

import type { Command, EngineEvent } from "../matching/types.ts";
import type { Reason } from "../wire/types.ts";

/**
 * Where market data frames for one connection go. The gateway's
 * connections implement it over their WebSocket.
 */
export interface FrameSink {
  /** Bytes queued on the socket and not yet sent (the slow-consumer signal). */
  readonly bufferedAmount: number;
  /** Sends one frame (one binary WebSocket message). */
  send(frame: Uint8Array): void;
  /** Closes the connection (1008 for abuse, for example a consumer that keeps falling behind). */
  close(code: number, reason: string): void;
}

/**
 * Market data as the gateway uses it: per-connection subscriptions, fed
 * with every command's events by the engine's dispatcher.
 */
export interface MarketDataPort {
  /**
   * Starts a symbol's channels for `sink`: a snapshot tagged with its
   * sequence, then deltas.
   *
   * @returns Undefined when subscribed, else why not (`"unknownSymbol"`, …);
   *   the gateway answers that with a reject.
   */
  subscribe(sink: FrameSink, symbol: string, requestId: bigint): Reason | undefined;
  /**
   * Stops a symbol's channels for `sink`.
   *
   * @returns Whether it was subscribed.
   */
  unsubscribe(sink: FrameSink, symbol: string): boolean;
  /**
   * Sends a fresh snapshot of a symbol to `sink` (a client that saw a gap).
   *
   * @returns Undefined when sent, else why not.
   */
  requestSnapshot(sink: FrameSink, symbol: string, requestId: bigint): Reason | undefined;
  /** Forgets `sink` (its connection closed). */
  detach(sink: FrameSink): void;
  /**
   * Resyncs every symbol of `sink` (the gateway's queue budget is spent and
   * it has the most queued): no more messages until its queue drains, then
   * a snapshot. Optional: a port without it leaves such a sink to be closed.
   */
  shed?(sink: FrameSink): void;
  /** One command's events, in engine order (from the dispatcher). */
  /**
   * One command and its events; `firstSeq` is the engine sequence number of
   * its first event (event `i` has `firstSeq + i`; a trade's is its id).
   */
  apply(
    command: Command,
    events: readonly EngineEvent[],
    engineTime: bigint,
    firstSeq?: number,
  ): void;
  /** Sends what `apply` batched; called once per drain. */
  flush(): void;
}

/** What {@linkcode connectMarketData} needs of the engine's dispatcher. */
export interface EventSource {
  /** Adds a per-command listener; returns its remover. */
  listen(
    listener: (
      command: Command,
      events: readonly EngineEvent[],
      origin: unknown,
      engineTime: bigint,
      firstSeq: number,
    ) => void,
  ): () => void;
  /** Adds a once-per-drain callback; returns its remover. */
  onDrained(callback: () => void): () => void;
}

/**
 * Feeds a market data port from the engine's dispatcher: every command's
 * events to `apply`, in engine order, and `flush` once per drain.
 *
 * @param source The dispatcher.
 * @param port The market data port.
 * @returns A function that disconnects them.
 *
 * @example
 * ```ts
 * import { connectMarketData, type MarketDataPort } from "./market_data.ts";
 * const calls: string[] = [];
 * const port = {
 *   subscribe: () => undefined, unsubscribe: () => false, requestSnapshot: () => undefined,
 *   detach: () => {}, apply: () => void calls.push("apply"), flush: () => void calls.push("flush"),
 * } satisfies MarketDataPort;
 * let listener: ((...args: never[]) => void) | undefined;
 * let drained: (() => void) | undefined;
 * const disconnect = connectMarketData({
 *   listen: (l) => ((listener = l), () => {}),
 *   onDrained: (c) => ((drained = c), () => {}),
 * }, port);
 * listener!(...([{ kind: 2, id: 1 }, [], {}, 0n] as never[]));
 * drained!();
 * if (calls.join() !== "apply,flush") throw new Error(calls.join());
 * disconnect();
 * ```
 */
export function connectMarketData(source: EventSource, port: MarketDataPort): () => void {
  const stopEvents = source.listen((command, events, _origin, engineTime, firstSeq) =>
    port.apply(command, events, engineTime, firstSeq)
  );
  const stopFlush = source.onDrained(() => port.flush());
  return () => {
    stopEvents();
    stopFlush();
  };
}

/**
 * A market data port with no market data: every subscription and snapshot
 * is refused (`"unspecified"`), and events are ignored. The core's stand-in
 * until a publisher is wired in.
 *
 * @returns The port.
 *
 * @example
 * ```ts
 * import { noMarketData } from "./market_data.ts";
 * const port = noMarketData();
 * const sink = { bufferedAmount: 0, send() {}, close() {} };
 * if (port.subscribe(sink, "AAPL", 1n) !== "unspecified") throw new Error("subscribed");
 * ```
 */
export function noMarketData(): MarketDataPort {
  return {
    subscribe: () => "unspecified",
    unsubscribe: () => false,
    requestSnapshot: () => "unspecified",
    detach: () => {},
    apply: () => {},
    flush: () => {},
  };
}
