/**
 * Server frames: {@linkcode encodeServerMessage} (the core's side) and
 * {@linkcode decodeServerMessage} (a trader's side: bots, tests).
 *
 * @module
 */

import { Message } from "capnp-es";
import * as gen from "../../schemas/gen/gateway.ts";
import { checkFrame, type FrameLimits } from "./frame.ts";
import { pointerFault } from "./_unreadable.ts";
import {
  type BookLevel,
  CancelReasonCode,
  ExecTypeCode,
  type LevelUpdate,
  LiquidityCode,
  OrderTypeCode,
  type Position,
  ReasonCode,
  RequestTypeCode,
  ResyncReasonCode,
  type ServerEvent,
  SideCode,
  TimeInForceCode,
} from "./types.ts";

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

// ---------------------------------------------------------------------------
// Decoding (trader side)

/** Limits for server frames: snapshots of deep books are large. */
const SERVER_FRAME_LIMITS: Required<FrameLimits> = {
  maxFrameBytes: 64 * 1024 * 1024,
  maxSegments: 512,
};

/** Names indexed by their numbers. */
function names<K extends string>(table: Readonly<Record<K, number>>): readonly (K | undefined)[] {
  const out: (K | undefined)[] = [];
  for (const name of Object.keys(table) as K[]) out[table[name]] = name;
  return out;
}

const REASONS = names(ReasonCode);
const REQUEST_TYPES = names(RequestTypeCode);
const EXEC_TYPES = names(ExecTypeCode);
const SIDES = names(SideCode);
const ORDER_TYPES = names(OrderTypeCode);
const TIMES_IN_FORCE = names(TimeInForceCode);
const LIQUIDITIES = names(LiquidityCode);
const CANCEL_REASONS = names(CancelReasonCode);
const RESYNC_REASONS = names(ResyncReasonCode);

/**
 * Decodes a server frame into a {@linkcode ServerEvent} with every field
 * present (defaults filled in). For traders: bots, tests, tools.
 *
 * @param bytes The frame.
 * @param limits Size limits; default 64 MiB and 512 segments.
 * @returns The message.
 * @throws {TypeError} If the frame is not a readable `ServerMessage` (bad
 * header, bad pointers, an unknown union member or enumerant).
 *
 * @example
 * ```ts
 * import { decodeServerMessage, encodeServerMessage } from "./server.ts";
 * import assert from "node:assert";
 *
 * const event = decodeServerMessage(
 *   encodeServerMessage({ type: "error", reason: "malformedFrame", message: "Cannot read frame" }),
 * );
 * assert.deepStrictEqual(event, {
 *   type: "error",
 *   requestId: 0n,
 *   sentAt: 0n,
 *   reason: "malformedFrame",
 *   message: "Cannot read frame",
 *   closing: false,
 * });
 * ```
 */
export function decodeServerMessage(bytes: Uint8Array, limits?: FrameLimits): ServerEvent {
  const problem = checkFrame(bytes, { ...SERVER_FRAME_LIMITS, ...limits });
  if (problem) throw new TypeError(`Cannot decode server message: ${problem.message}`);
  let root: gen.ServerMessage;
  try {
    root = new Message(bytes, false).getRoot(gen.ServerMessage);
    return readServerMessage(root);
  } catch (e) {
    if (e instanceof TypeError && e.message.startsWith("Cannot decode")) throw e;
    // capnp-es's words name its internals; ours say what is wrong (the
    // cause keeps its error for debugging).
    throw new TypeError(`Cannot decode server message: a pointer ${pointerFault(e)}`, {
      cause: e,
    });
  }
}

function readServerMessage(root: gen.ServerMessage): ServerEvent {
  const requestId = root.requestId;
  const sentAt = root.sentAt;
  const which = root.which();
  switch (which) {
    case gen.ServerMessage.EXECUTION_REPORT: {
      const s = root.executionReport;
      return {
        type: "executionReport",
        requestId,
        sentAt,
        sequence: s.sequence,
        execType: name(EXEC_TYPES, s.execType, "execType"),
        clientOrderId: s.clientOrderId,
        orderId: s.orderId,
        account: s.account,
        symbol: s.symbol,
        side: name(SIDES, s.side, "side"),
        orderType: name(ORDER_TYPES, s.orderType, "orderType"),
        timeInForce: name(TIMES_IN_FORCE, s.timeInForce, "timeInForce"),
        postOnly: s.postOnly,
        price: num(s.price, "price"),
        leavesQuantity: num(s.leavesQuantity, "leavesQuantity"),
        cumQuantity: num(s.cumQuantity, "cumQuantity"),
        lastPrice: num(s.lastPrice, "lastPrice"),
        lastQuantity: num(s.lastQuantity, "lastQuantity"),
        tradeId: s.tradeId,
        liquidity: name(LIQUIDITIES, s.liquidity, "liquidity"),
        cancelReason: name(CANCEL_REASONS, s.cancelReason, "cancelReason"),
        engineTime: s.engineTime,
        replayed: s.replayed,
        cancelledQuantity: num(s.cancelledQuantity, "cancelledQuantity"),
      };
    }
    case gen.ServerMessage.REJECT: {
      const s = root.reject;
      return {
        type: "reject",
        requestId,
        sentAt,
        reason: name(REASONS, s.reason, "reason"),
        message: s.message,
        request: name(REQUEST_TYPES, s.request, "request"),
        clientOrderId: s.clientOrderId,
        symbol: s.symbol,
      };
    }
    case gen.ServerMessage.BOOK_SNAPSHOT: {
      const s = root.bookSnapshot;
      return {
        type: "bookSnapshot",
        requestId,
        sentAt,
        symbol: s.symbol,
        sequence: s.sequence,
        bids: s.bids.map(readLevel),
        asks: s.asks.map(readLevel),
        engineTime: s.engineTime,
      };
    }
    case gen.ServerMessage.BOOK_DELTA: {
      const s = root.bookDelta;
      return {
        type: "bookDelta",
        requestId,
        sentAt,
        symbol: s.symbol,
        sequence: s.sequence,
        levels: s.levels.map((l): LevelUpdate => ({
          side: name(SIDES, l.side, "side"),
          price: num(l.price, "price"),
          quantity: num(l.quantity, "quantity"),
          orderCount: l.orderCount,
        })),
        engineTime: s.engineTime,
      };
    }
    case gen.ServerMessage.TRADE: {
      const s = root.trade;
      return {
        type: "trade",
        requestId,
        sentAt,
        symbol: s.symbol,
        sequence: s.sequence,
        tradeId: s.tradeId,
        price: num(s.price, "price"),
        quantity: num(s.quantity, "quantity"),
        aggressorSide: name(SIDES, s.aggressorSide, "aggressorSide"),
        engineTime: s.engineTime,
      };
    }
    case gen.ServerMessage.QUOTE: {
      const s = root.quote;
      return {
        type: "quote",
        requestId,
        sentAt,
        symbol: s.symbol,
        sequence: s.sequence,
        bidPrice: num(s.bidPrice, "bidPrice"),
        bidQuantity: num(s.bidQuantity, "bidQuantity"),
        askPrice: num(s.askPrice, "askPrice"),
        askQuantity: num(s.askQuantity, "askQuantity"),
        engineTime: s.engineTime,
      };
    }
    case gen.ServerMessage.HEARTBEAT: {
      const s = root.heartbeat;
      return {
        type: "heartbeat",
        requestId,
        sentAt,
        intervalMs: s.intervalMs,
        echoSentAt: s.echoSentAt,
        executionSequence: s.executionSequence,
      };
    }
    case gen.ServerMessage.RESYNC: {
      const s = root.resync;
      return {
        type: "resync",
        requestId,
        sentAt,
        symbol: s.symbol,
        reason: name(RESYNC_REASONS, s.reason, "reason"),
        message: s.message,
      };
    }
    case gen.ServerMessage.POSITIONS: {
      const s = root.positions;
      return {
        type: "positions",
        requestId,
        sentAt,
        account: s.account,
        executionSequence: s.executionSequence,
        positions: s.positions.map((p): Position => ({
          symbol: p.symbol,
          netQuantity: num(p.netQuantity, "netQuantity"),
          boughtQuantity: num(p.boughtQuantity, "boughtQuantity"),
          soldQuantity: num(p.soldQuantity, "soldQuantity"),
          boughtNotional: p.boughtNotional,
          soldNotional: p.soldNotional,
          openBuyQuantity: num(p.openBuyQuantity, "openBuyQuantity"),
          openSellQuantity: num(p.openSellQuantity, "openSellQuantity"),
        })),
        oldestSequence: s.oldestSequence,
        throughSequence: s.throughSequence,
        more: s.more,
        sinceTooOld: s.sinceTooOld,
      };
    }
    case gen.ServerMessage.ERROR: {
      const s = root.error;
      return {
        type: "error",
        requestId,
        sentAt,
        reason: name(REASONS, s.reason, "reason"),
        message: s.message,
        closing: s.closing,
      };
    }
    default:
      throw new TypeError(
        `Cannot decode server message: unknown ServerMessage member ${which as number}`,
      );
  }
}

function readLevel(l: gen.Level): BookLevel {
  return {
    price: num(l.price, "price"),
    quantity: num(l.quantity, "quantity"),
    orderCount: l.orderCount,
  };
}

function name<K extends string>(
  table: readonly (K | undefined)[],
  value: number,
  field: string,
): K {
  const found = table[value];
  if (found === undefined) {
    throw new TypeError(`Cannot decode server message: ${field} ${value} is unknown`);
  }
  return found;
}

function num(value: bigint, field: string): number {
  if (value < -MAX_SAFE || value > MAX_SAFE) {
    throw new TypeError(`Cannot decode server message: ${field} ${value} is beyond 2^53-1`);
  }
  return Number(value);
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
