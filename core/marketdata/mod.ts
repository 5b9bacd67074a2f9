/**
 * Market data: the publisher that turns the engine's commands and events
 * into numbered per-symbol channels of Cap'n Proto frames
 * (`schemas/gateway.capnp`: `BookSnapshot`, `BookDelta`, `Trade`, `Quote`,
 * `Resync`) and fans them out to the gateway's sockets.
 *
 * - {@linkcode MarketData}: channels, subscriptions, slow-consumer
 *   protection (bounded queues, then drop-and-resync, then close).
 * - {@linkcode BookView}: the L2 view of every book, rebuilt from commands
 *   and events (or seeded after a journal recovery).
 * - {@linkcode FrameEncoder}: the hot-path encoders, writing Cap'n Proto
 *   bytes directly (capnp-es costs ~7 µs a message), checked against
 *   capnp-es and the reference `capnp` tool.
 *
 * Invariants: every message on a channel is numbered previous + 1; a
 * snapshot reflects exactly the messages numbered up to its sequence; a
 * frame is encoded once and its bytes shared by every subscriber; the
 * publisher never waits for a sink.
 *
 * @example
 * ```ts
 * import { type FrameSink, MarketData } from "./mod.ts";
 * import { loadInstruments, ReferenceMatcher } from "../matching/mod.ts";
 * import { randomCommandStream } from "../matching/matcher_suite.ts";
 *
 * const instruments = loadInstruments();
 * const matcher = new ReferenceMatcher(instruments);
 * const market = new MarketData({ instruments });
 * let bytes = 0;
 * const sink: FrameSink = { bufferedAmount: 0, send: (f) => void (bytes += f.byteLength), close() {} };
 * market.subscribe(sink, "AAPL", 0n);
 * for (const command of randomCommandStream(1, 1_000, instruments)) {
 *   market.apply(command, matcher.apply(command), BigInt(Date.now()) * 1_000_000n);
 * }
 * market.flush();
 * console.log(`${bytes} bytes of AAPL market data`);
 * ```
 *
 * @module
 */

export * from "./market_data.ts";
export * from "./book_view.ts";
export * from "./frame_encoder.ts";
