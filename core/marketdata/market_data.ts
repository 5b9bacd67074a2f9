/**
 * The market data publisher: one numbered channel per symbol, fed by the
 * engine's commands and events, fanned out to subscribers without letting a
 * slow one hold back the others.
 *
 * # Channels
 * Every message on a symbol's channel (`BookDelta`, `Trade`, `Quote`) carries
 * the channel's next sequence: 1, 2, 3… with no gaps. A command that reaches
 * a book yields, in this order:
 * 1. one `BookDelta` with the absolute totals of every level it changed (0
 *    removes a level), if it changed any;
 * 2. one `Trade` per trade, at the maker's price, `aggressorSide` the
 *    taker's side;
 * 3. one `Quote` if the best bid or ask (price or quantity) changed.
 *
 * A `BookSnapshot` is tagged with the sequence it reflects: it includes every
 * message numbered up to it, and its subscriber gets only the messages after.
 *
 * A trade's id is its event's engine sequence number (`apply`'s `firstSeq`
 * plus the event's index), as in execution reports: unique, and the same
 * after a restart. Without `firstSeq`, trades are numbered from 1 in the
 * order applied.
 *
 * # Fan-out
 * Frames are encoded once per message into shared slabs
 * ({@linkcode FrameEncoder}), stamped with the send time at
 * {@linkcode MarketData.flush}, and the same bytes are handed to every
 * subscriber. The publisher never waits for a sink: when a sink still has
 * more than `maxQueueBytes` queued from earlier flushes (its
 * `bufferedAmount` when the flush reaches it), it gets none of this flush's
 * frames for the symbol, is sent a `Resync` (`slowConsumer`), and once its
 * `bufferedAmount` has drained to a
 * quarter of `maxQueueBytes` (checked at each flush) gets a fresh snapshot and
 * resumes. A sink needing more than `maxResyncs` resyncs within
 * `resyncWindowMs` is closed with 1008. A sink whose `send` throws is
 * detached.
 *
 * @module
 */

import {
  type Command,
  type EngineEvent,
  EventKind,
  type Instrument,
  Side,
} from "../matching/types.ts";
import { encodeServerMessage } from "../wire/server.ts";
import type { BookLevel, Reason } from "../wire/types.ts";
import { BookView } from "./book_view.ts";
import { encodeSymbol, FrameEncoder, type SymbolText, withHeader } from "./frame_encoder.ts";

/** Where frames go: a WebSocket, or anything that queues bytes like one. */
export interface FrameSink {
  /** Bytes queued but not yet written (a WebSocket's bufferedAmount). */
  readonly bufferedAmount: number;
  /** Queues one binary frame. The bytes are shared with other sinks: never modify them. */
  send(frame: Uint8Array): void;
  /** Closes the connection. */
  close(code: number, reason: string): void;
}

/** Options of {@linkcode MarketData}. */
export interface MarketDataOptions {
  /** The instrument table: one channel per instrument, named by its symbol. */
  readonly instruments: readonly Instrument[];
  /**
   * Most bytes a sink may still have queued from earlier flushes; past it,
   * its symbol is dropped and resynced. One flush's frames are never split
   * for a sink that keeps up (a burst is not slowness), so a sink's queue is
   * bounded by this plus one flush. Default 64 KiB: on Deno 2.9.6 a queued
   * frame of ~100 bytes holds ~9 times its size in the process.
   */
  readonly maxQueueBytes?: number;
  /** Resyncs a sink may need within `resyncWindowMs`; one more closes it. Default 5. */
  readonly maxResyncs?: number;
  /** The window over which resyncs are counted, in ms. Default 60,000. */
  readonly resyncWindowMs?: number;
  /** The clock, in ms since the epoch (for `sentAt` and the resync window). Default `Date.now`. */
  readonly now?: () => number;
}

/** Default {@linkcode MarketDataOptions.maxQueueBytes}: 64 KiB. */
export const DEFAULT_MAX_QUEUE_BYTES = 64 * 1024;
/** Default {@linkcode MarketDataOptions.maxResyncs}. */
export const DEFAULT_MAX_RESYNCS = 5;
/** Default {@linkcode MarketDataOptions.resyncWindowMs}. */
export const DEFAULT_RESYNC_WINDOW_MS = 60_000;
/** The WebSocket close code for a sink too slow to keep up: policy violation. */
export const SLOW_CONSUMER_CLOSE_CODE = 1008;

/** Stands in for sent frames in the pending arrays, so that they do not keep slabs alive. */
const NO_FRAME = new Uint8Array(0);

/** Subscription modes. */
const LIVE = 0;
const RESYNCING = 1;
const GONE = 2;

interface Channel {
  readonly instrument: number;
  readonly symbol: string;
  readonly text: SymbolText;
  /** The last sequence numbered on the channel (0: none yet). */
  sequence: number;
  /** The engine time of the last command that produced a message. */
  engineTime: bigint;
  /** The last quoted top of book (also the top after a seed). */
  bidPrice: number;
  bidQty: number;
  askPrice: number;
  askQty: number;
  /** Subscriptions, some maybe GONE until compacted. */
  readonly subs: Subscription[];
  /**
   * Frames encoded since the last flush and their sequences: the first
   * `pendingCount` entries. The arrays only grow (`length = 0` would free
   * their backing stores); a flush drops its references to the frames.
   */
  readonly pending: Uint8Array[];
  readonly pendingSequences: number[];
  pendingCount: number;
  /** The snapshot at `snapshotSequence` (requestId and sentAt 0), or undefined. */
  snapshot: Uint8Array | undefined;
  snapshotSequence: number;
}

/** One sink, as the publisher knows it. */
class Client {
  readonly subs = new Map<Channel, Subscription>();
  /** The flush in which `backlog` was read. */
  flush = -1;
  /** The sink's `bufferedAmount` when that flush first reached it: its queue from before. */
  backlog = 0;
  /** When each recent resync happened (ms), oldest first. */
  readonly resyncs: number[] = [];
  /**
   * How far its queue must drain before a resync resumes, when lower than
   * the publisher's (`shed`: a quarter of what it held), else Infinity.
   */
  resumeAt = Infinity;
  constructor(readonly sink: FrameSink) {}
}

class Subscription {
  mode: typeof LIVE | typeof RESYNCING | typeof GONE = LIVE;
  /** The sequence of the snapshot last sent: pending frames up to it are skipped. */
  after = 0;
  constructor(readonly client: Client, readonly channel: Channel) {}
}

/**
 * The market data publisher. Feed it every command with its events
 * ({@linkcode MarketData.apply}), call {@linkcode MarketData.flush} once per
 * engine drain, and let the gateway subscribe its sockets.
 *
 * @example
 * ```ts
 * import { type FrameSink, MarketData } from "./market_data.ts";
 * import { CommandKind, loadInstruments, OrderType, ReferenceMatcher, Side, TimeInForce } from "../matching/mod.ts";
 * import { decodeServerMessage } from "../wire/mod.ts";
 * import assert from "node:assert";
 *
 * const instruments = loadInstruments();
 * const matcher = new ReferenceMatcher(instruments);
 * const market = new MarketData({ instruments, now: () => 1_700_000_000_000 });
 * const received: string[] = [];
 * const sink: FrameSink = {
 *   bufferedAmount: 0,
 *   send: (frame) => void received.push(decodeServerMessage(frame).type),
 *   close: () => {},
 * };
 * assert.deepStrictEqual(market.subscribe(sink, "AAPL", 1n), undefined);
 * assert.deepStrictEqual(market.subscribe(sink, "NOPE", 2n), "unknownSymbol");
 * const command = {
 *   kind: CommandKind.PlaceOrder, id: 1, account: 0, instrument: 0, side: Side.Buy,
 *   type: OrderType.Limit, tif: TimeInForce.Gtc, postOnly: false, price: 18990, qty: 10,
 * } as const;
 * market.apply(command, matcher.apply(command), 1_700_000_000_000_000_000n);
 * market.flush();
 * assert.deepStrictEqual(received, ["bookSnapshot", "bookDelta", "quote"]);
 * assert.deepStrictEqual(market.book("AAPL")?.sequence, 2n);
 * ```
 */
export class MarketData {
  readonly #view: BookView;
  readonly #encoder = new FrameEncoder();
  readonly #channels: Channel[];
  readonly #bySymbol = new Map<string, Channel>();
  readonly #clients = new Map<FrameSink, Client>();
  readonly #maxQueueBytes: number;
  readonly #resumeBytes: number;
  readonly #maxResyncs: number;
  readonly #resyncWindowMs: number;
  readonly #now: () => number;
  /** Channels with pending frames. */
  readonly #dirty: Channel[] = [];
  /** Subscriptions waiting to drain before their snapshot (some maybe no longer RESYNCING). */
  #resyncing: Subscription[] = [];
  #tradeId = 0;
  #applied = false;
  #flushing = false;
  /** Flushes so far (tells a sink's backlog of this flush from an older one). */
  #flushes = 0;
  /** Some subscription went GONE during a flush: compact after it. */
  #garbage = false;

  /**
   * Makes a publisher with an empty book per instrument.
   *
   * @param options The instruments, queue limit, resync policy and clock.
   * @throws {RangeError} If a symbol is malformed or repeated, or a limit is
   * not a positive integer (`maxResyncs` may be 0: close on the first resync).
   *
   * @example
   * ```ts
   * import { MarketData } from "./market_data.ts";
   * import { loadInstruments } from "../matching/mod.ts";
   * new MarketData({ instruments: loadInstruments(), maxQueueBytes: 256 * 1024 });
   * ```
   */
  constructor(options: MarketDataOptions) {
    const {
      instruments,
      maxQueueBytes = DEFAULT_MAX_QUEUE_BYTES,
      maxResyncs = DEFAULT_MAX_RESYNCS,
      resyncWindowMs = DEFAULT_RESYNC_WINDOW_MS,
      now = Date.now,
    } = options;
    const positive = (name: string, value: number, min: number) => {
      if (!Number.isSafeInteger(value) || value < min) {
        throw new RangeError(
          `Cannot make market data publisher: ${name} must be an integer >= ${min}, got ${value}`,
        );
      }
    };
    positive("maxQueueBytes", maxQueueBytes, 1);
    positive("maxResyncs", maxResyncs, 0);
    positive("resyncWindowMs", resyncWindowMs, 1);
    this.#maxQueueBytes = maxQueueBytes;
    this.#resumeBytes = Math.floor(maxQueueBytes / 4);
    this.#maxResyncs = maxResyncs;
    this.#resyncWindowMs = resyncWindowMs;
    this.#now = now;
    this.#view = new BookView(instruments);
    this.#channels = instruments.map(({ symbol }, instrument): Channel => {
      if (this.#bySymbol.has(symbol)) {
        throw new RangeError(
          `Cannot make market data publisher: symbol ${symbol} appears twice in the instruments`,
        );
      }
      const channel: Channel = {
        instrument,
        symbol,
        text: encodeSymbol(symbol),
        sequence: 0,
        engineTime: 0n,
        bidPrice: 0,
        bidQty: 0,
        askPrice: 0,
        askQty: 0,
        subs: [],
        pending: [],
        pendingSequences: [],
        pendingCount: 0,
        snapshot: undefined,
        snapshotSequence: -1,
      };
      this.#bySymbol.set(symbol, channel);
      return channel;
    });
  }

  /**
   * Fills the books with the orders resting after a journal recovery. No
   * message is sent: snapshots (sequence 0) show them.
   *
   * @param orders Resting orders, in time priority order.
   * @throws {Error} If a command was applied or a sink subscribed already.
   * @throws {RangeError} If an order is invalid (see `BookView.seed`).
   *
   * @example
   * ```ts
   * import { MarketData } from "./market_data.ts";
   * import { loadInstruments, Side } from "../matching/mod.ts";
   * import assert from "node:assert";
   *
   * const market = new MarketData({ instruments: loadInstruments() });
   * market.seed([{ id: 4, instrument: 0, side: Side.Sell, price: 19005, qty: 7 }]);
   * assert.deepStrictEqual(market.book("AAPL"), {
   *   bids: [], asks: [{ price: 19005, quantity: 7, orderCount: 1 }], sequence: 0n,
   * });
   * ```
   */
  seed(
    orders: Iterable<{ id: number; instrument: number; side: Side; price: number; qty: number }>,
  ): void {
    if (this.#applied || this.#clients.size > 0) {
      throw new Error(
        "Cannot seed market data: commands were applied or sinks subscribed already; " +
          "seed before either",
      );
    }
    this.#view.seed(orders);
    for (const channel of this.#channels) {
      channel.snapshot = undefined;
      this.#topChanged(channel); // no message: records the seeded top as quoted
    }
  }

  /**
   * Applies one command and all its events (engine order) to the books and
   * encodes the messages they cause; {@linkcode MarketData.flush} sends them.
   * Channels nobody subscribes to are numbered but not encoded.
   *
   * @param command The command as the engine took it.
   * @param events Its events, in emission order.
   * @param engineTime When the engine took the command, ns since the epoch.
   * @param firstSeq The engine sequence number of the first event: a trade's
   *   id is its event's number (`firstSeq + index`), unique and stable across
   *   restarts. Without it, trades are numbered from 1 in the order applied.
   * @throws {Error} If the events contradict the books (a command was not
   * fed, or the books were not seeded): market data is then unreliable.
   *
   * @example
   * ```ts
   * import { MarketData } from "./market_data.ts";
   * import { CommandKind, loadInstruments } from "../matching/mod.ts";
   *
   * const market = new MarketData({ instruments: loadInstruments() });
   * market.seed([{ id: 1, instrument: 0, side: 0, price: 18990, qty: 3 }]);
   * market.apply({ kind: CommandKind.CancelOrder, id: 1 }, [
   *   { kind: 4, id: 1, instrument: 0, leaves: 3, reason: "requested" },
   * ], 1n);
   * // One delta (the level removed) and one quote (no bid any more).
   * if (market.book("AAPL")?.sequence !== 2n) throw new Error("expected 2 messages");
   * ```
   */
  apply(
    command: Command,
    events: readonly EngineEvent[],
    engineTime: bigint,
    firstSeq?: number,
  ): void {
    this.#applied = true;
    const view = this.#view;
    const instrument = view.apply(command, events);
    if (instrument < 0) return;
    const channel = this.#channels[instrument]!;
    const encoder = this.#encoder;
    const encode = channel.subs.length > 0;
    const sequenceBefore = channel.sequence;
    const changed = view.changeCount;
    if (changed > 0) {
      const sequence = ++channel.sequence;
      if (encode) {
        const frame = encoder.bookDelta(
          channel.text,
          sequence,
          engineTime,
          view.changeBuffer,
          changed,
        );
        this.#push(channel, frame, sequence);
      }
    }
    for (let i = 0, trades = view.tradeCount; trades > 0 && i < events.length; i++) {
      const event = events[i]!;
      if (event.kind !== EventKind.OrderTraded) continue;
      trades--;
      const tradeId = firstSeq === undefined ? ++this.#tradeId : firstSeq + i;
      const sequence = ++channel.sequence;
      if (encode) {
        const frame = encoder.trade(
          channel.text,
          sequence,
          tradeId,
          event.price,
          event.qty,
          view.takerSide as Side,
          engineTime,
        );
        this.#push(channel, frame, sequence);
      }
    }
    if (this.#topChanged(channel)) {
      const sequence = ++channel.sequence;
      if (encode) {
        const frame = encoder.quote(
          channel.text,
          sequence,
          channel.bidPrice,
          channel.bidQty,
          channel.askPrice,
          channel.askQty,
          engineTime,
        );
        this.#push(channel, frame, sequence);
      }
    }
    if (channel.sequence !== sequenceBefore) channel.engineTime = engineTime;
  }

  /**
   * Sends the frames encoded since the last flush to their subscribers,
   * stamped with the current time, and resumes drained resyncing sinks
   * with a snapshot. Call it once per engine drain, and now and then when
   * idle (resyncing sinks resume only here).
   *
   * @example
   * ```ts
   * import { MarketData } from "./market_data.ts";
   * import { loadInstruments } from "../matching/mod.ts";
   * new MarketData({ instruments: loadInstruments() }).flush(); // nothing to send
   * ```
   */
  flush(): void {
    if (this.#flushing) return; // a sink called back into us
    if (this.#dirty.length === 0 && this.#resyncing.length === 0) return;
    this.#flushing = true;
    this.#flushes++;
    try {
      const sentAt = this.#clock();
      this.#encoder.stampSentAt(sentAt);
      if (this.#resyncing.length > 0) this.#resume(sentAt);
      const dirty = this.#dirty;
      for (let c = 0; c < dirty.length; c++) this.#fanOut(dirty[c]!, sentAt);
      dirty.length = 0;
    } finally {
      this.#flushing = false;
      if (this.#garbage) {
        this.#garbage = false;
        for (const channel of this.#channels) compact(channel);
      }
    }
  }

  /**
   * Subscribes a sink to a symbol: sends it a snapshot (echoing
   * `requestId`), then every message numbered after it. Subscribing again
   * re-sends a snapshot.
   *
   * @param sink The sink.
   * @param symbol The symbol.
   * @param requestId The request's id, echoed by the snapshot.
   * @returns `"unknownSymbol"` if no instrument has that symbol, else undefined.
   *
   * @example
   * ```ts
   * import { MarketData } from "./market_data.ts";
   * import { loadInstruments } from "../matching/mod.ts";
   * import { decodeServerMessage } from "../wire/mod.ts";
   *
   * const frames: Uint8Array[] = [];
   * const sink = { bufferedAmount: 0, send: (f: Uint8Array) => void frames.push(f), close() {} };
   * new MarketData({ instruments: loadInstruments() }).subscribe(sink, "MSFT", 9n);
   * const snapshot = decodeServerMessage(frames[0]!);
   * if (snapshot.type !== "bookSnapshot" || snapshot.requestId !== 9n) throw new Error("no snapshot");
   * ```
   */
  subscribe(sink: FrameSink, symbol: string, requestId: bigint): Reason | undefined {
    const channel = this.#bySymbol.get(symbol);
    if (channel === undefined) return "unknownSymbol";
    let client = this.#clients.get(sink);
    if (client === undefined) {
      client = new Client(sink);
      this.#clients.set(sink, client);
    }
    let sub = client.subs.get(channel);
    if (sub === undefined) {
      sub = new Subscription(client, channel);
      client.subs.set(channel, sub);
      channel.subs.push(sub);
    }
    this.#sendSnapshot(sub, requestId, this.#clock());
    return undefined;
  }

  /**
   * Stops a sink's messages of a symbol.
   *
   * @param sink The sink.
   * @param symbol The symbol.
   * @returns Whether the sink was subscribed to it.
   *
   * @example
   * ```ts
   * import { MarketData } from "./market_data.ts";
   * import { loadInstruments } from "../matching/mod.ts";
   *
   * const market = new MarketData({ instruments: loadInstruments() });
   * const sink = { bufferedAmount: 0, send() {}, close() {} };
   * market.subscribe(sink, "AAPL", 0n);
   * if (!market.unsubscribe(sink, "AAPL") || market.unsubscribe(sink, "AAPL")) throw new Error();
   * ```
   */
  unsubscribe(sink: FrameSink, symbol: string): boolean {
    const channel = this.#bySymbol.get(symbol);
    const sub = channel && this.#clients.get(sink)?.subs.get(channel);
    if (sub === undefined) return false;
    this.#drop(sub);
    return true;
  }

  /**
   * Sends a fresh snapshot of a symbol (echoing `requestId`); a subscribed
   * sink gets the messages after it (a resyncing one resumes at once). An
   * unsubscribed sink gets the snapshot alone.
   *
   * @param sink The sink.
   * @param symbol The symbol.
   * @param requestId The request's id, echoed by the snapshot.
   * @returns `"unknownSymbol"` if no instrument has that symbol, else undefined.
   *
   * @example
   * ```ts
   * import { MarketData } from "./market_data.ts";
   * import { loadInstruments } from "../matching/mod.ts";
   *
   * let sent = 0;
   * const sink = { bufferedAmount: 0, send: () => void sent++, close() {} };
   * new MarketData({ instruments: loadInstruments() }).requestSnapshot(sink, "AAPL", 3n);
   * if (sent !== 1) throw new Error("no snapshot");
   * ```
   */
  requestSnapshot(sink: FrameSink, symbol: string, requestId: bigint): Reason | undefined {
    const channel = this.#bySymbol.get(symbol);
    if (channel === undefined) return "unknownSymbol";
    const sub = this.#clients.get(sink)?.subs.get(channel);
    const sentAt = this.#clock();
    if (sub !== undefined) {
      this.#sendSnapshot(sub, requestId, sentAt);
    } else {
      try {
        sink.send(withHeader(this.#snapshot(channel), requestId, sentAt));
      } catch {
        // Not subscribed: nothing to detach; the gateway sees its socket close.
      }
    }
    return undefined;
  }

  /**
   * Forgets a sink and all its subscriptions (its socket closed).
   *
   * @param sink The sink.
   *
   * @example
   * ```ts
   * import { MarketData } from "./market_data.ts";
   * import { loadInstruments } from "../matching/mod.ts";
   *
   * const market = new MarketData({ instruments: loadInstruments() });
   * const sink = { bufferedAmount: 0, send() {}, close() {} };
   * market.subscribe(sink, "AAPL", 0n);
   * market.detach(sink);
   * if (market.unsubscribe(sink, "AAPL")) throw new Error("still subscribed");
   * ```
   */
  detach(sink: FrameSink): void {
    const client = this.#clients.get(sink);
    if (client === undefined) return;
    this.#clients.delete(sink);
    for (const sub of client.subs.values()) this.#drop(sub);
  }

  /**
   * Resyncs every live subscription of a sink, as if its queue had passed
   * `maxQueueBytes`: each symbol gets a `Resync` (`slowConsumer`), nothing
   * more until the sink drains, then a snapshot; it counts against
   * `maxResyncs`. The gateway calls it when its budget for every
   * connection's queue is spent and this sink has the most queued.
   *
   * @param sink The sink.
   *
   * @example
   * ```ts
   * import { MarketData } from "./market_data.ts";
   * import { loadInstruments } from "../matching/mod.ts";
   * import { decodeServerMessage } from "../wire/mod.ts";
   *
   * const market = new MarketData({ instruments: loadInstruments() });
   * const sent: string[] = [];
   * const sink = {
   *   bufferedAmount: 0,
   *   send: (f: Uint8Array) => void sent.push(decodeServerMessage(f).type),
   *   close() {},
   * };
   * market.subscribe(sink, "AAPL", 1n);
   * market.shed(sink);
   * if (sent.join() !== "bookSnapshot,resync") throw new Error(sent.join());
   * ```
   */
  shed(sink: FrameSink): void {
    const client = this.#clients.get(sink);
    if (client === undefined) return;
    const sentAt = this.#clock();
    // Resumed only once it has really drained, not at once when its queue is
    // under the publisher's own limit.
    client.resumeAt = Math.floor(sink.bufferedAmount / 4);
    for (const sub of [...client.subs.values()]) {
      if (sub.mode !== LIVE) continue;
      this.#overflow(
        sub,
        sentAt,
        "the core's queues are over their budget and yours is the longest",
      );
      if (!this.#clients.has(sink)) return; // closed: too many resyncs
    }
  }

  /**
   * A symbol's current levels and the sequence they reflect, for tests and
   * the edge snapshotter.
   *
   * @param symbol The symbol.
   * @returns Bids (best first), asks (best first) and the channel sequence,
   * or undefined for an unknown symbol.
   *
   * @example
   * ```ts
   * import { MarketData } from "./market_data.ts";
   * import { loadInstruments } from "../matching/mod.ts";
   * import assert from "node:assert";
   *
   * const market = new MarketData({ instruments: loadInstruments() });
   * assert.deepStrictEqual(market.book("AAPL"), { bids: [], asks: [], sequence: 0n });
   * assert.deepStrictEqual(market.book("NOPE"), undefined);
   * ```
   */
  book(symbol: string): { bids: BookLevel[]; asks: BookLevel[]; sequence: bigint } | undefined {
    const channel = this.#bySymbol.get(symbol);
    if (channel === undefined) return undefined;
    return { ...this.#view.levels(channel.instrument), sequence: BigInt(channel.sequence) };
  }

  #push(channel: Channel, frame: Uint8Array, sequence: number): void {
    const n = channel.pendingCount++;
    if (n === 0) this.#dirty.push(channel);
    channel.pending[n] = frame;
    channel.pendingSequences[n] = sequence;
  }

  /** Records the top of book if it changed since last recorded; returns whether it did. */
  #topChanged(channel: Channel): boolean {
    const bid = this.#view.bestBid(channel.instrument);
    const ask = this.#view.bestAsk(channel.instrument);
    const bidPrice = bid === undefined ? 0 : bid.price;
    const bidQty = bid === undefined ? 0 : bid.qty;
    const askPrice = ask === undefined ? 0 : ask.price;
    const askQty = ask === undefined ? 0 : ask.qty;
    if (
      bidPrice === channel.bidPrice && bidQty === channel.bidQty &&
      askPrice === channel.askPrice && askQty === channel.askQty
    ) return false;
    channel.bidPrice = bidPrice;
    channel.bidQty = bidQty;
    channel.askPrice = askPrice;
    channel.askQty = askQty;
    return true;
  }

  /** Sends a channel's pending frames to its live subscriptions. */
  #fanOut(channel: Channel, sentAt: bigint): void {
    const frames = channel.pending;
    const sequences = channel.pendingSequences;
    const count = channel.pendingCount;
    const subs = channel.subs;
    const max = this.#maxQueueBytes;
    // Subscriptions added during the loop (a sink calling back) start after
    // a snapshot that already covers every pending frame.
    for (let s = 0; s < subs.length; s++) {
      const sub = subs[s]!;
      if (sub.mode !== LIVE) continue;
      const client = sub.client;
      const sink = client.sink;
      // Skip what the sink's snapshot covers (sequences increase).
      let first = 0;
      while (first < count && sequences[first]! <= sub.after) first++;
      if (first === count) continue;
      try {
        // What it had queued before this flush, read once per flush: what
        // this flush hands it must not count against it.
        if (client.flush !== this.#flushes) {
          client.flush = this.#flushes;
          client.backlog = sink.bufferedAmount;
        }
        if (client.backlog > max) {
          this.#overflow(sub, sentAt, `your queue passed ${max} bytes`);
          continue;
        }
        for (let i = first; i < count; i++) sink.send(frames[i]!);
      } catch {
        this.detach(sink);
      }
    }
    frames.fill(NO_FRAME, 0, count);
    channel.pendingCount = 0;
  }

  /** A sink's queue would pass the limit: drop the symbol for it, tell it (why), or close it. */
  #overflow(sub: Subscription, sentAt: bigint, why: string): void {
    const { client, channel } = sub;
    sub.mode = RESYNCING;
    this.#resyncing.push(sub);
    const now = this.#now();
    const resyncs = client.resyncs;
    resyncs.push(now);
    while (resyncs.length > 0 && resyncs[0]! <= now - this.#resyncWindowMs) resyncs.shift();
    if (resyncs.length > this.#maxResyncs) {
      this.detach(client.sink);
      try {
        // A close reason is at most 123 bytes.
        client.sink.close(
          SLOW_CONSUMER_CLOSE_CODE,
          `Too slow for market data: ${resyncs.length} resyncs within ${this.#resyncWindowMs} ms`,
        );
      } catch {
        // Already closing: it is detached either way.
      }
      return;
    }
    client.sink.send(encodeServerMessage({
      type: "resync",
      sentAt,
      symbol: channel.symbol,
      reason: "slowConsumer",
      message: `Market data for ${channel.symbol} stopped: ${why}; ` +
        "a snapshot follows once your queue drains",
    }));
  }

  /** Sends a snapshot to each resyncing subscription whose sink has drained. */
  #resume(sentAt: bigint): void {
    const waiting = this.#resyncing;
    this.#resyncing = [];
    for (const sub of waiting) {
      if (sub.mode !== RESYNCING) continue;
      const client = sub.client;
      if (client.sink.bufferedAmount <= Math.min(this.#resumeBytes, client.resumeAt)) {
        client.resumeAt = Infinity;
        this.#sendSnapshot(sub, 0n, sentAt);
      } else {
        this.#resyncing.push(sub);
      }
    }
  }

  /** Sends a snapshot and (re)starts the subscription after it. */
  #sendSnapshot(sub: Subscription, requestId: bigint, sentAt: bigint): void {
    sub.mode = LIVE;
    sub.after = sub.channel.sequence;
    try {
      sub.client.sink.send(withHeader(this.#snapshot(sub.channel), requestId, sentAt));
    } catch {
      this.detach(sub.client.sink);
    }
  }

  /** The channel's snapshot at its current sequence, encoded once per sequence. */
  #snapshot(channel: Channel): Uint8Array {
    if (channel.snapshot !== undefined && channel.snapshotSequence === channel.sequence) {
      return channel.snapshot;
    }
    const { instrument } = channel;
    const snapshot = this.#encoder.bookSnapshot(
      channel.text,
      channel.sequence,
      channel.engineTime,
      this.#view.sortedLevels(instrument, Side.Buy),
      this.#view.sortedLevels(instrument, Side.Sell),
    );
    channel.snapshot = snapshot;
    channel.snapshotSequence = channel.sequence;
    return snapshot;
  }

  /** Ends a subscription. */
  #drop(sub: Subscription): void {
    if (sub.mode === GONE) return;
    sub.mode = GONE;
    sub.client.subs.delete(sub.channel);
    if (this.#flushing) this.#garbage = true;
    else compact(sub.channel);
  }

  /** The clock in ns since the epoch (µs resolution at best). */
  #clock(): bigint {
    return BigInt(Math.round(this.#now() * 1_000)) * 1_000n;
  }
}

/** Removes a channel's GONE subscriptions, in place. */
function compact(channel: Channel): void {
  const subs = channel.subs;
  let kept = 0;
  for (let i = 0; i < subs.length; i++) {
    const sub = subs[i]!;
    if (sub.mode !== GONE) subs[kept++] = sub;
  }
  subs.length = kept;
}
