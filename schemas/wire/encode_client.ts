/**
 * Client frames, the trader's side: {@linkcode encodeClientMessage} (the
 * terminal in the browser, bots, tests). The gateway's side, the checked
 * decoder, is `core/wire/client.ts`.
 *
 * @module
 */

import { Message } from "capnp-es";
import * as gen from "../gen/gateway.ts";
import { type ClientRequest, OrderTypeCode, SideCode, TimeInForceCode } from "./types.ts";

/**
 * Encodes a request as a client frame: what a trader (a bot, a test)
 * sends. Field values are written as given, without the checks of
 * {@linkcode decodeClientFrame}, so tests can build frames it must refuse.
 *
 * @param request The request.
 * @returns One frame: a single-segment Cap'n Proto message.
 * @throws {RangeError} If a price or quantity is not a safe integer, or
 *   `maxReports` not a UInt32.
 * @throws {TypeError} If an enumeration field holds an unknown name.
 *
 * @example
 * ```ts
 * import { encodeClientMessage } from "./encode_client.ts";
 * import assert from "node:assert";
 *
 * const frame = encodeClientMessage({ type: "ping", requestId: 1n, sentAt: 2n });
 * assert.deepStrictEqual(frame.byteLength % 8, 0);
 * ```
 */
export function encodeClientMessage(request: ClientRequest): Uint8Array {
  const message = new Message();
  const root = message.initRoot(gen.ClientMessage);
  root.requestId = request.requestId;
  root.sentAt = request.sentAt;
  switch (request.type) {
    case "newOrder": {
      const s = root._initNewOrder();
      s.clientOrderId = request.clientOrderId;
      s.symbol = request.symbol;
      s.side = code(SideCode, request.side, "side");
      s.orderType = code(OrderTypeCode, request.orderType, "orderType");
      s.timeInForce = code(TimeInForceCode, request.timeInForce, "timeInForce");
      s.postOnly = request.postOnly;
      s.price = int64(request.price, "price");
      s.quantity = int64(request.quantity, "quantity");
      if (request.account !== "") s.account = request.account;
      break;
    }
    case "cancel":
      root._initCancel().clientOrderId = request.clientOrderId;
      break;
    case "replace": {
      const s = root._initReplace();
      s.clientOrderId = request.clientOrderId;
      s.price = int64(request.price, "price");
      s.quantity = int64(request.quantity, "quantity");
      break;
    }
    case "cancelAll": {
      const s = root._initCancelAll();
      if (request.symbol !== "") s.symbol = request.symbol;
      break;
    }
    case "subscribe":
      root._initSubscribe().symbol = request.symbol;
      break;
    case "unsubscribe":
      root._initUnsubscribe().symbol = request.symbol;
      break;
    case "requestSnapshot":
      root._initRequestSnapshot().symbol = request.symbol;
      break;
    case "requestOrders": {
      const s = root._initRequestOrders();
      s.sinceSequence = request.sinceSequence;
      if (request.maxReports) s.maxReports = uint32(request.maxReports, "maxReports");
      break;
    }
    case "ping":
      root._initPing();
      break;
    case "reauthenticate":
      root._initReauthenticate().token = request.token;
      break;
    default: {
      const unknown: never = request;
      throw new TypeError(`Cannot encode request: unknown type ${JSON.stringify(unknown)}`);
    }
  }
  return new Uint8Array(message.toArrayBuffer());
}

function code<K extends string, V extends number>(
  table: Readonly<Record<K, V>>,
  name: K,
  field: string,
): V {
  const value = Object.hasOwn(table, name) ? table[name] : undefined;
  if (value === undefined) {
    throw new TypeError(`Cannot encode request: ${field} ${JSON.stringify(name)} is unknown`);
  }
  return value;
}

function int64(value: number, field: string): bigint {
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`Cannot encode request: ${field} must be a safe integer, got ${value}`);
  }
  return BigInt(value);
}

function uint32(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw new RangeError(
      `Cannot encode request: ${field} must be an integer in 0..2^32-1, got ${value}`,
    );
  }
  return value;
}
