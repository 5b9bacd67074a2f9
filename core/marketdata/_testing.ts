/**
 * Test helpers for market data: a replica client that decodes every frame
 * and checks the channel contract as it goes, the levels the reference
 * matcher holds, and the reference `capnp` tool.
 *
 * @module
 */

import { decodeServerMessage } from "../wire/server.ts";
import type { BookLevel, LevelUpdate, ServerEvent, TradeEvent } from "../wire/types.ts";
import type { FrameSink } from "./market_data.ts";
import type { ReferenceMatcher } from "../matching/mod.ts";
import { capnp, SCHEMA } from "../wire/_testing.ts";

/** A symbol's book as a client rebuilds it. */
interface ReplicaBook {
  readonly bids: Map<number, BookLevel>;
  readonly asks: Map<number, BookLevel>;
  /** The last sequence applied. */
  sequence: bigint;
  /** False between a resync and the snapshot that follows it. */
  synced: boolean;
  /** The top of book as last quoted (or as the snapshot showed it). */
  quoted: Top;
}

/** Best bid and ask, 0 when a side is empty. */
type Top = readonly [bidPrice: number, bidQty: number, askPrice: number, askQty: number];

/**
 * A {@linkcode FrameSink} that behaves as a careful trader's client: it
 * decodes every frame (capnp-es), rebuilds each symbol's book from its
 * snapshot and deltas, and records every breach of the contract in
 * `errors` (a sink that throws would just be detached by the publisher):
 * a message before its snapshot, a sequence gap, a level update that
 * changes nothing or removes a missing level, a quote that does not match
 * the book, a redundant quote.
 *
 * With `queueing`, each frame sent adds its size to `bufferedAmount`, as a
 * socket whose peer does not read would; `drain()` empties it.
 */
export class ReplicaSink implements FrameSink {
  bufferedAmount = 0;
  queueing: boolean;
  readonly books = new Map<string, ReplicaBook>();
  readonly events: ServerEvent[] = [];
  readonly trades: TradeEvent[] = [];
  readonly errors: string[] = [];
  /** How many resyncs and snapshots arrived. */
  resyncs = 0;
  snapshots = 0;
  closed: { code: number; reason: string } | undefined;

  constructor(readonly name: string, options: { queueing?: boolean; keepEvents?: boolean } = {}) {
    this.queueing = options.queueing ?? false;
    this.#keepEvents = options.keepEvents ?? false;
  }

  readonly #keepEvents: boolean;

  send(frame: Uint8Array): void {
    if (this.closed) this.errors.push(`${this.name}: a frame after close`);
    if (this.queueing) this.bufferedAmount += frame.byteLength;
    let event: ServerEvent;
    try {
      event = decodeServerMessage(frame);
    } catch (e) {
      this.errors.push(`${this.name}: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    if (this.#keepEvents) this.events.push(event);
    this.#handle(event);
  }

  close(code: number, reason: string): void {
    this.closed = { code, reason };
  }

  drain(): void {
    this.bufferedAmount = 0;
  }

  /** The rebuilt levels of a symbol, each side best first. */
  levels(symbol: string): { bids: BookLevel[]; asks: BookLevel[] } | undefined {
    const book = this.books.get(symbol);
    if (book === undefined) return undefined;
    return {
      bids: [...book.bids.values()].sort((a, b) => b.price - a.price),
      asks: [...book.asks.values()].sort((a, b) => a.price - b.price),
    };
  }

  /** Checks that the last quote of every synced book shows its top (no top change went unquoted). */
  checkQuotes(): void {
    for (const [symbol, book] of this.books) {
      if (!book.synced) continue;
      const top = topOf(book);
      if (top.join() !== book.quoted.join()) {
        this.errors.push(
          `${this.name} ${symbol}@${book.sequence}: top ${top} was never quoted (last ${book.quoted})`,
        );
      }
    }
  }

  #handle(event: ServerEvent): void {
    switch (event.type) {
      case "bookSnapshot": {
        this.snapshots++;
        const book: ReplicaBook = {
          bids: new Map(event.bids.map((l) => [l.price, l])),
          asks: new Map(event.asks.map((l) => [l.price, l])),
          sequence: event.sequence,
          synced: true,
          quoted: [0, 0, 0, 0],
        };
        book.quoted = topOf(book);
        this.books.set(event.symbol, book);
        return;
      }
      case "resync": {
        this.resyncs++;
        const book = this.books.get(event.symbol);
        if (book !== undefined) book.synced = false;
        return;
      }
      case "bookDelta":
      case "trade":
      case "quote":
        break;
      default:
        this.errors.push(`${this.name}: unexpected ${event.type}`);
        return;
    }
    const where = `${this.name} ${event.symbol}@${event.sequence}`;
    const book = this.books.get(event.symbol);
    if (book === undefined || !book.synced) {
      this.errors.push(`${where}: ${event.type} before a snapshot`);
      return;
    }
    if (event.sequence !== book.sequence + 1n) {
      this.errors.push(`${where}: ${event.type} after ${book.sequence} (a gap or a repeat)`);
    }
    book.sequence = event.sequence;
    if (event.type === "bookDelta") {
      if (event.levels.length === 0) this.errors.push(`${where}: an empty delta`);
      for (const update of event.levels) this.#update(book, update, where);
    } else if (event.type === "trade") {
      this.trades.push(event);
    } else {
      const quoted: Top = [event.bidPrice, event.bidQuantity, event.askPrice, event.askQuantity];
      const top = topOf(book);
      if (quoted.join() !== top.join()) {
        this.errors.push(`${where}: quote ${quoted} but the book's top is ${top}`);
      }
      if (quoted.join() === book.quoted.join()) {
        this.errors.push(`${where}: quote ${quoted} repeats the last one`);
      }
      book.quoted = quoted;
    }
  }

  #update(book: ReplicaBook, update: LevelUpdate, where: string): void {
    const side = update.side === "buy" ? book.bids : book.asks;
    const old = side.get(update.price);
    if (update.quantity === 0) {
      if (update.orderCount !== 0) this.errors.push(`${where}: removal with orders left`);
      if (old === undefined) this.errors.push(`${where}: removes missing level ${update.price}`);
      side.delete(update.price);
      return;
    }
    if (update.orderCount <= 0) this.errors.push(`${where}: a level with lots but no order`);
    if (old?.quantity === update.quantity && old.orderCount === update.orderCount) {
      this.errors.push(`${where}: update of ${update.price} changes nothing`);
    }
    side.set(update.price, {
      price: update.price,
      quantity: update.quantity,
      orderCount: update.orderCount,
    });
  }
}

function topOf(book: ReplicaBook): Top {
  let bid: BookLevel | undefined;
  for (const l of book.bids.values()) if (bid === undefined || l.price > bid.price) bid = l;
  let ask: BookLevel | undefined;
  for (const l of book.asks.values()) if (ask === undefined || l.price < ask.price) ask = l;
  return [bid?.price ?? 0, bid?.quantity ?? 0, ask?.price ?? 0, ask?.quantity ?? 0];
}

// ---------------------------------------------------------------------------
// The reference Cap'n Proto tool (shared with the wire's tests)

export { capnpMissing, capnpTest, IN_CI } from "../wire/_testing.ts";
export { SCHEMA };

/**
 * Prints frames with `capnp decode --short`, one run for all of them (the
 * tool reads a stream of messages).
 *
 * @returns One line per frame.
 * @throws {Error} If the tool is missing or fails.
 */
export async function capnpDecode(frames: readonly Uint8Array[]): Promise<string[]> {
  const all = new Uint8Array(frames.reduce((n, f) => n + f.byteLength, 0));
  let at = 0;
  for (const frame of frames) {
    all.set(frame, at);
    at += frame.byteLength;
  }
  const out = await capnp(["decode", "--short", SCHEMA, "ServerMessage"], all);
  const lines = new TextDecoder().decode(out).trim().split("\n");
  if (lines.length !== frames.length) {
    throw new Error(`capnp decode printed ${lines.length} messages for ${frames.length} frames`);
  }
  return lines;
}

/**
 * The levels of `instrument` computed from the reference matcher's own
 * resting orders: what a market data view must show.
 *
 * @param matcher The reference matcher.
 * @param instrument The instrument's number.
 * @returns Bids and asks, best first.
 */
export function referenceLevels(
  matcher: ReferenceMatcher,
  instrument: number,
): { bids: BookLevel[]; asks: BookLevel[] } {
  const { bids, asks } = matcher.snapshot(instrument);
  const sum = (levels: typeof bids) =>
    levels.map((level) => ({
      price: level.price,
      quantity: level.orders.reduce((total, order) => total + order.leaves, 0),
      orderCount: level.orders.length,
    }));
  return { bids: sum(bids), asks: sum(asks) };
}
