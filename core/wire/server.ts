/**
 * Server frames: {@linkcode encodeServerMessage} (the core's side), and
 * `decodeServerMessage` (a trader's side: the terminal, bots, tests), which
 * lives in `schemas/wire/decode_server.ts` so that the browser can bundle it
 * without `core/`, and is re-exported here.
 *
 * @module
 */

import { Message } from "capnp-es";
import * as gen from "../../schemas/gen/gateway.ts";
import {
  type BookLevel,
  CancelReasonCode,
  ExecTypeCode,
  LiquidityCode,
  OrderTypeCode,
  type Position,
  ReasonCode,
  RequestTypeCode,
  ResyncReasonCode,
  type ServerEvent,
  SideCode,
  TimeInForceCode,
} from "../../schemas/wire/types.ts";

export { decodeServerMessage } from "../../schemas/wire/decode_server.ts";

/**
 * Encodes one server message as one frame (one WebSocket binary message).
 *
 * Optional fields left out are written as their defaults (0, `false`, empty,
 * the enumerant numbered 0), which is also how they decode.
 *
 * Cost, for the hot path (a book delta is encoded once and the same bytes
 * sent to every subscriber). This function allocates nothing of its own
 * beyond the returned bytes; capnp-es forces the rest:
 * - a fresh `Message` per call, whose first segment is a new 4 KiB
 *   `ArrayBuffer` (larger messages grow it by copying), with its `Segment`
 *   and `DataView`; capnp-es offers no way to reuse or pre-size an arena;
 * - one wrapper object per struct, list and list element touched;
 * - a `BigInt` per 64-bit field (its accessors take `bigint`), and a
 *   `TextEncoder.encode` per text field;
 * - `toArrayBuffer()` builds the framing header in its own buffer and copies
 *   every segment into the result.
 * The design card's figure is ~7 µs for a small message; hot paths that need
 * less should encode in Rust (or batch), with this as the reference encoder.
 *
 * @param event The message.
 * @returns The frame: a single-segment Cap'n Proto message, unpacked.
 * @throws {RangeError} If a price, quantity or count is not an integer in its field's range.
 * @throws {TypeError} If an enumeration field holds an unknown name.
 *
 * @example
 * ```ts
 * import { decodeServerMessage, encodeServerMessage } from "./server.ts";
 * import assert from "node:assert";
 *
 * const frame = encodeServerMessage({
 *   type: "bookDelta",
 *   symbol: "AAPL",
 *   sequence: 42n,
 *   levels: [{ side: "buy", price: 10050, quantity: 0, orderCount: 0 }],
 *   engineTime: 1_700_000_000_000_000_000n,
 * });
 * assert.deepStrictEqual(decodeServerMessage(frame), {
 *   type: "bookDelta",
 *   requestId: 0n,
 *   sentAt: 0n,
 *   symbol: "AAPL",
 *   sequence: 42n,
 *   levels: [{ side: "buy", price: 10050, quantity: 0, orderCount: 0 }],
 *   engineTime: 1_700_000_000_000_000_000n,
 * });
 * ```
 */
export function encodeServerMessage(event: ServerEvent): Uint8Array {
  const message = new Message();
  const root = message.initRoot(gen.ServerMessage);
  if (event.requestId !== undefined) root.requestId = event.requestId;
  if (event.sentAt !== undefined) root.sentAt = event.sentAt;
  switch (event.type) {
    case "executionReport": {
      const s = root._initExecutionReport();
      s.sequence = event.sequence;
      s.execType = code(ExecTypeCode, event.execType, "execType");
      s.clientOrderId = event.clientOrderId;
      s.orderId = event.orderId;
      if (event.account !== "") s.account = event.account;
      s.symbol = event.symbol;
      s.side = code(SideCode, event.side, "side");
      s.orderType = code(OrderTypeCode, event.orderType, "orderType");
      s.timeInForce = code(TimeInForceCode, event.timeInForce, "timeInForce");
      s.postOnly = event.postOnly;
      s.price = int64(event.price, "price");
      s.leavesQuantity = int64(event.leavesQuantity, "leavesQuantity");
      s.cumQuantity = int64(event.cumQuantity, "cumQuantity");
      if (event.lastPrice) s.lastPrice = int64(event.lastPrice, "lastPrice");
      if (event.lastQuantity) s.lastQuantity = int64(event.lastQuantity, "lastQuantity");
      if (event.tradeId !== undefined) s.tradeId = event.tradeId;
      if (event.liquidity !== undefined) {
        s.liquidity = code(LiquidityCode, event.liquidity, "liquidity");
      }
      if (event.cancelReason !== undefined) {
        s.cancelReason = code(CancelReasonCode, event.cancelReason, "cancelReason");
      }
      s.engineTime = event.engineTime;
      if (event.replayed) s.replayed = true;
      if (event.cancelledQuantity) {
        s.cancelledQuantity = int64(event.cancelledQuantity, "cancelledQuantity");
      }
      break;
    }
    case "reject": {
      const s = root._initReject();
      s.reason = code(ReasonCode, event.reason, "reason");
      s.message = event.message;
      s.request = code(RequestTypeCode, event.request, "request");
      if (event.clientOrderId !== undefined) s.clientOrderId = event.clientOrderId;
      if (event.symbol) s.symbol = event.symbol;
      break;
    }
    case "bookSnapshot": {
      const s = root._initBookSnapshot();
      s.symbol = event.symbol;
      s.sequence = event.sequence;
      writeLevels(s._initBids(event.bids.length), event.bids);
      writeLevels(s._initAsks(event.asks.length), event.asks);
      s.engineTime = event.engineTime;
      break;
    }
    case "bookDelta": {
      const s = root._initBookDelta();
      s.symbol = event.symbol;
      s.sequence = event.sequence;
      const levels = event.levels;
      const list = s._initLevels(levels.length);
      for (let i = 0; i < levels.length; i++) {
        const from = levels[i]!;
        const to = list.get(i);
        to.side = code(SideCode, from.side, "side");
        to.price = int64(from.price, "price");
        to.quantity = int64(from.quantity, "quantity");
        to.orderCount = uint32(from.orderCount, "orderCount");
      }
      s.engineTime = event.engineTime;
      break;
    }
    case "trade": {
      const s = root._initTrade();
      s.symbol = event.symbol;
      s.sequence = event.sequence;
      s.tradeId = event.tradeId;
      s.price = int64(event.price, "price");
      s.quantity = int64(event.quantity, "quantity");
      s.aggressorSide = code(SideCode, event.aggressorSide, "aggressorSide");
      s.engineTime = event.engineTime;
      break;
    }
    case "quote": {
      const s = root._initQuote();
      s.symbol = event.symbol;
      s.sequence = event.sequence;
      s.bidPrice = int64(event.bidPrice, "bidPrice");
      s.bidQuantity = int64(event.bidQuantity, "bidQuantity");
      s.askPrice = int64(event.askPrice, "askPrice");
      s.askQuantity = int64(event.askQuantity, "askQuantity");
      s.engineTime = event.engineTime;
      break;
    }
    case "heartbeat": {
      const s = root._initHeartbeat();
      s.intervalMs = uint32(event.intervalMs, "intervalMs");
      if (event.echoSentAt !== undefined) s.echoSentAt = event.echoSentAt;
      s.executionSequence = event.executionSequence;
      break;
    }
    case "resync": {
      const s = root._initResync();
      s.symbol = event.symbol;
      s.reason = code(ResyncReasonCode, event.reason, "reason");
      if (event.message) s.message = event.message;
      break;
    }
    case "positions": {
      const s = root._initPositions();
      if (event.account !== "") s.account = event.account;
      s.executionSequence = event.executionSequence;
      const positions = event.positions;
      const list = s._initPositions(positions.length);
      for (let i = 0; i < positions.length; i++) writePosition(list.get(i), positions[i]!);
      if (event.oldestSequence !== undefined) s.oldestSequence = event.oldestSequence;
      if (event.throughSequence !== undefined) s.throughSequence = event.throughSequence;
      if (event.more) s.more = true;
      if (event.sinceTooOld) s.sinceTooOld = true;
      break;
    }
    case "error": {
      const s = root._initError();
      s.reason = code(ReasonCode, event.reason, "reason");
      s.message = event.message;
      if (event.closing) s.closing = true;
      break;
    }
    default: {
      const unknown: never = event;
      throw new TypeError(`Cannot encode server message: unknown type ${JSON.stringify(unknown)}`);
    }
  }
  return new Uint8Array(message.toArrayBuffer());
}

function writeLevels(list: { get(i: number): gen.Level }, levels: readonly BookLevel[]): void {
  for (let i = 0; i < levels.length; i++) {
    const from = levels[i]!;
    const to = list.get(i);
    to.price = int64(from.price, "price");
    to.quantity = int64(from.quantity, "quantity");
    to.orderCount = uint32(from.orderCount, "orderCount");
  }
}

function writePosition(to: gen.Position, from: Position): void {
  to.symbol = from.symbol;
  to.netQuantity = int64(from.netQuantity, "netQuantity");
  to.boughtQuantity = int64(from.boughtQuantity, "boughtQuantity");
  to.soldQuantity = int64(from.soldQuantity, "soldQuantity");
  to.boughtNotional = from.boughtNotional;
  to.soldNotional = from.soldNotional;
  to.openBuyQuantity = int64(from.openBuyQuantity, "openBuyQuantity");
  to.openSellQuantity = int64(from.openSellQuantity, "openSellQuantity");
}

function code<K extends string, V extends number>(
  table: Readonly<Record<K, V>>,
  name: K,
  field: string,
): V {
  const value = Object.hasOwn(table, name) ? table[name] : undefined;
  if (value === undefined) {
    throw new TypeError(
      `Cannot encode server message: ${field} ${JSON.stringify(name)} is unknown`,
    );
  }
  return value;
}

function int64(value: number, field: string): bigint {
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(
      `Cannot encode server message: ${field} must be a safe integer, got ${value}`,
    );
  }
  return BigInt(value);
}

function uint32(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw new RangeError(
      `Cannot encode server message: ${field} must be an integer in 0..2^32-1, got ${value}`,
    );
  }
  return value;
}
