/**
 * Server frames, the trader's side: {@linkcode decodeServerMessage} (the
 * terminal in the browser, bots, tests). The core's side, the encoder, is
 * `core/wire/server.ts`.
 *
 * @module
 */

import { Message } from "capnp-es";
import * as gen from "../gen/gateway.ts";
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
 * import { decodeServerMessage } from "./decode_server.ts";
 * import * as gen from "../gen/gateway.ts";
 * import { Message } from "capnp-es";
 * import assert from "node:assert";
 *
 * const message = new Message();
 * const error = message.initRoot(gen.ServerMessage)._initError();
 * error.reason = gen.RejectReason.MALFORMED_FRAME;
 * error.message = "Cannot read frame";
 * const event = decodeServerMessage(new Uint8Array(message.toArrayBuffer()));
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
