/**
 * Client frames: {@linkcode decodeClientFrame} (the gateway's side: untrusted
 * bytes in, a checked {@linkcode ClientRequest} or a reason out), and
 * `encodeClientMessage` (a trader's side: the terminal, bots, tests), which
 * lives in `schemas/wire/encode_client.ts` so that the browser can bundle it
 * without `core/`, and is re-exported here.
 *
 * @module
 */

import { Message, type Struct, Text, utils } from "capnp-es";
import * as gen from "../../schemas/gen/gateway.ts";
import {
  accountNameFault,
  MAX_ACCOUNT_BYTES,
  MAX_TOKEN_BYTES,
  SYMBOL_PATTERN,
  SYMBOL_RULE_TEXT,
} from "../../schemas/vocabulary/names.ts";
import { checkFrame, type FrameLimits } from "../../schemas/wire/frame.ts";
import { FrameFault, pointerFault } from "../../schemas/wire/_unreadable.ts";
import {
  type ClientRequest,
  type OrderType,
  type Reason,
  type RequestType,
  type Side,
  type TimeInForce,
} from "../../schemas/wire/types.ts";

export { encodeClientMessage } from "../../schemas/wire/encode_client.ts";

/** A frame that decoded to a valid request. */
export interface DecodeOk {
  readonly ok: true;
  /** The request, every field checked. */
  readonly message: ClientRequest;
}

/**
 * A frame that did not: nothing of it may reach the engine. The gateway
 * answers with a reject or error carrying `reason` and `message`, echoing
 * `requestId`, and keeps the connection.
 */
export interface DecodeFailure {
  readonly ok: false;
  /** Why, as a `RejectReason` name. */
  readonly reason: Reason;
  /** What failed, for people: "Cannot place order: quantity must be positive, got 0". */
  readonly message: string;
  /** The request's kind, when the frame was read that far; else `"unspecified"`. */
  readonly request: RequestType;
  /** The frame's `requestId`, when it was read; else `0n`. */
  readonly requestId: bigint;
  /** The client order id the request named, when it was read; else `0n`. */
  readonly clientOrderId: bigint;
}

/** What {@linkcode decodeClientFrame} returns. */
export type DecodeResult = DecodeOk | DecodeFailure;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

const SIDES: readonly (Side | undefined)[] = [undefined, "buy", "sell"];
const ORDER_TYPES: readonly (OrderType | undefined)[] = [undefined, "limit", "market"];
const TIMES_IN_FORCE: readonly (TimeInForce | undefined)[] = ["gtc", "ioc", "fok"];

/**
 * What a null struct pointer means in Cap'n Proto: the struct with every
 * field at its default. capnp-es would *allocate* such a struct inside the
 * received message on each read of a null pointer; reading these shared,
 * never-written instances instead costs nothing.
 */
const DEFAULT = {
  newOrder: new Message().initRoot(gen.NewOrder),
  cancel: new Message().initRoot(gen.CancelOrder),
  replace: new Message().initRoot(gen.ReplaceOrder),
  cancelAll: new Message().initRoot(gen.CancelAll),
  subscribe: new Message().initRoot(gen.Subscribe),
  unsubscribe: new Message().initRoot(gen.Unsubscribe),
  requestSnapshot: new Message().initRoot(gen.RequestSnapshot),
  requestOrders: new Message().initRoot(gen.RequestOrders),
  reauthenticate: new Message().initRoot(gen.Reauthenticate),
};

const UTF8 = new TextEncoder();

/**
 * Decodes one client frame (one WebSocket binary message) into a checked
 * request. Never throws on bad input; never lets capnp-es see a frame whose
 * header has not been checked.
 *
 * In order:
 * 1. the header, by hand ({@linkcode checkFrame}): over `maxFrameBytes` is
 *    `frameTooLarge`; an impossible segment table, truncated frame or
 *    trailing bytes is `malformedFrame`;
 * 2. the message, with capnp-es: anything it cannot read (pointers out of
 *    bounds, wrong pointer types, far pointers to missing segments, text
 *    without its NUL terminator) is `malformedFrame`, with a message in our
 *    words naming the part and the fault ("Cannot read frame: the newOrder
 *    pointer points outside its segment"), never capnp-es's own text;
 * 3. the union tag: one this gateway does not know is `unknownMessage`;
 * 4. the fields, with the engine's reasons so that the same mistake gets the
 *    same reason wherever it is caught. Zero means "missing" for every field
 *    (a Cap'n Proto reader sees absent fields as 0), so required fields are
 *    nonzero:
 *    - `newOrder`: `clientOrderId` 0, `side` or `orderType` missing or
 *      unknown, `timeInForce` unknown, `account` over 48 bytes:
 *      `invalidOrder`; symbol not 1–12 of `[A-Z0-9.-]`: `unknownSymbol`;
 *      quantity not in 1..2^53-1: `invalidQty`; a limit price not in
 *      1..2^53-1: `invalidPrice`; a market order with a price, post-only on
 *      anything but a GTC limit: `invalidOrder`;
 *    - `cancel`, `replace`: `clientOrderId` 0: `unknownOrder`; then (replace)
 *      quantity `invalidQty`, price `invalidPrice` as above;
 *    - `cancelAll`: a symbol that is neither empty nor valid: `unknownSymbol`;
 *    - `subscribe`, `unsubscribe`, `requestSnapshot`: an invalid symbol:
 *      `unknownSymbol`;
 *    - `requestOrders`, `ping`: nothing to check;
 *    - `reauthenticate`: a token that is missing or over
 *      {@linkcode MAX_TOKEN_BYTES} bytes: `notAuthorised` (the token itself
 *      is the gateway's to verify).
 *
 * Whether a symbol is configured, an id is a duplicate, a price is on the
 * tick, or the session may use an account is for the gateway and engine.
 *
 * Allocation: the frame is copied once (capnp-es copies each segment into its
 * own buffer; a view of part of a larger buffer is copied once more first),
 * plus capnp-es's small per-read wrapper objects; a struct smaller than the
 * schema's (a client built against an older schema) makes capnp-es copy it
 * into a new 4 KiB segment. So buffers total at most the frame plus 16 KiB,
 * which the property test checks on random and mutated frames.
 *
 * @param bytes The frame.
 * @param limits Size limits; default 64 KiB and 64 segments.
 * @returns `{ ok: true, message }` or `{ ok: false, reason, message, … }`.
 *
 * @example
 * ```ts
 * import { decodeClientFrame, encodeClientMessage } from "./client.ts";
 * import assert from "node:assert";
 *
 * const frame = encodeClientMessage({
 *   type: "cancel", requestId: 7n, sentAt: 0n, clientOrderId: 42n,
 * });
 * assert.deepStrictEqual(decodeClientFrame(frame), {
 *   ok: true,
 *   message: { type: "cancel", requestId: 7n, sentAt: 0n, clientOrderId: 42n },
 * });
 *
 * const bad = decodeClientFrame(new Uint8Array([1, 2, 3]));
 * assert.deepStrictEqual(bad.ok ? "" : bad.reason, "malformedFrame");
 * ```
 */
export function decodeClientFrame(bytes: Uint8Array, limits?: FrameLimits): DecodeResult {
  const problem = checkFrame(bytes, limits);
  if (problem) return failure(problem.reason, problem.message, "unspecified", 0n, 0n);
  let requestId = 0n;
  let request: RequestType = "unspecified";
  // The pointer being followed, for the message when capnp-es cannot.
  let part = "the root pointer";
  try {
    const root = new Message(wholeBuffer(bytes), false).getRoot(gen.ClientMessage);
    requestId = root.requestId;
    const sentAt = root.sentAt;
    const which = root.which();
    switch (which) {
      case gen.ClientMessage.NEW_ORDER:
        request = "newOrder";
        part = "the newOrder pointer";
        return newOrder(
          root._hasNewOrder() ? root.newOrder : DEFAULT.newOrder,
          requestId,
          sentAt,
        );
      case gen.ClientMessage.CANCEL: {
        request = "cancel";
        part = "the cancel pointer";
        const s = root._hasCancel() ? root.cancel : DEFAULT.cancel;
        const clientOrderId = s.clientOrderId;
        if (clientOrderId === 0n) {
          return failure(
            "unknownOrder",
            "Cannot cancel order: clientOrderId is missing (0)",
            request,
            requestId,
            0n,
          );
        }
        return { ok: true, message: { type: "cancel", requestId, sentAt, clientOrderId } };
      }
      case gen.ClientMessage.REPLACE:
        request = "replace";
        part = "the replace pointer";
        return replace(
          root._hasReplace() ? root.replace : DEFAULT.replace,
          requestId,
          sentAt,
        );
      case gen.ClientMessage.CANCEL_ALL: {
        request = "cancelAll";
        part = "the cancelAll pointer";
        const symbol = text(root._hasCancelAll() ? root.cancelAll : DEFAULT.cancelAll, 0, "symbol");
        if (symbol !== "" && !SYMBOL_PATTERN.test(symbol)) {
          return badSymbol("Cannot cancel orders", symbol, request, requestId);
        }
        return { ok: true, message: { type: "cancelAll", requestId, sentAt, symbol } };
      }
      case gen.ClientMessage.SUBSCRIBE: {
        request = "subscribe";
        part = "the subscribe pointer";
        const symbol = text(root._hasSubscribe() ? root.subscribe : DEFAULT.subscribe, 0, "symbol");
        if (!SYMBOL_PATTERN.test(symbol)) {
          return badSymbol("Cannot subscribe", symbol, request, requestId);
        }
        return { ok: true, message: { type: "subscribe", requestId, sentAt, symbol } };
      }
      case gen.ClientMessage.UNSUBSCRIBE: {
        request = "unsubscribe";
        part = "the unsubscribe pointer";
        const symbol = text(
          root._hasUnsubscribe() ? root.unsubscribe : DEFAULT.unsubscribe,
          0,
          "symbol",
        );
        if (!SYMBOL_PATTERN.test(symbol)) {
          return badSymbol("Cannot unsubscribe", symbol, request, requestId);
        }
        return { ok: true, message: { type: "unsubscribe", requestId, sentAt, symbol } };
      }
      case gen.ClientMessage.REQUEST_SNAPSHOT: {
        request = "requestSnapshot";
        part = "the requestSnapshot pointer";
        const symbol = text(
          root._hasRequestSnapshot() ? root.requestSnapshot : DEFAULT.requestSnapshot,
          0,
          "symbol",
        );
        if (!SYMBOL_PATTERN.test(symbol)) {
          return badSymbol("Cannot send a snapshot", symbol, request, requestId);
        }
        return { ok: true, message: { type: "requestSnapshot", requestId, sentAt, symbol } };
      }
      case gen.ClientMessage.REQUEST_ORDERS: {
        request = "requestOrders";
        part = "the requestOrders pointer";
        const s = root._hasRequestOrders() ? root.requestOrders : DEFAULT.requestOrders;
        const { sinceSequence, maxReports } = s;
        return {
          ok: true,
          message: { type: "requestOrders", requestId, sentAt, sinceSequence, maxReports },
        };
      }
      case gen.ClientMessage.PING:
        // A ping's struct has no fields: null, empty or larger (a newer
        // client's), there is nothing to read.
        request = "ping";
        return { ok: true, message: { type: "ping", requestId, sentAt } };
      case gen.ClientMessage.REAUTHENTICATE: {
        request = "reauthenticate";
        part = "the reauthenticate pointer";
        const token = text(
          root._hasReauthenticate() ? root.reauthenticate : DEFAULT.reauthenticate,
          0,
          "token",
        );
        const fault = token === ""
          ? "the token is missing"
          : token.length > MAX_TOKEN_BYTES || UTF8.encode(token).byteLength > MAX_TOKEN_BYTES
          ? `the token is over ${MAX_TOKEN_BYTES} bytes`
          : undefined;
        if (fault !== undefined) {
          return failure(
            "notAuthorised",
            `Cannot reauthenticate: ${fault}`,
            request,
            requestId,
            0n,
          );
        }
        return { ok: true, message: { type: "reauthenticate", requestId, sentAt, token } };
      }
      default:
        return failure(
          "unknownMessage",
          `Cannot read request: unknown ClientMessage member ${which as number}`,
          request,
          requestId,
          0n,
        );
    }
  } catch (e) {
    // capnp-es throws on whatever it cannot read: bad pointers, bad types.
    // Its words name its internals; ours name the part and what is wrong.
    return failure(
      "malformedFrame",
      `Cannot read frame: ${e instanceof FrameFault ? e.message : `${part} ${pointerFault(e)}`}`,
      request,
      requestId,
      0n,
    );
  }
}

function newOrder(s: gen.NewOrder, requestId: bigint, sentAt: bigint): DecodeResult {
  const clientOrderId = s.clientOrderId;
  const fail = (reason: Reason, why: string) =>
    failure(reason, `Cannot place order: ${why}`, "newOrder", requestId, clientOrderId);
  if (clientOrderId === 0n) return fail("invalidOrder", "clientOrderId is missing (0)");
  const side = SIDES[s.side];
  if (side === undefined) return fail("invalidOrder", `side is missing or unknown (${s.side})`);
  const orderType = ORDER_TYPES[s.orderType];
  if (orderType === undefined) {
    return fail("invalidOrder", `orderType is missing or unknown (${s.orderType})`);
  }
  const timeInForce = TIMES_IN_FORCE[s.timeInForce];
  if (timeInForce === undefined) {
    return fail("invalidOrder", `timeInForce is unknown (${s.timeInForce})`);
  }
  const account = text(s, NEW_ORDER_ACCOUNT, "account");
  if (accountNameFault(account) !== undefined) {
    return fail("invalidOrder", `account is longer than ${MAX_ACCOUNT_BYTES} bytes`);
  }
  const symbol = text(s, NEW_ORDER_SYMBOL, "symbol");
  if (!SYMBOL_PATTERN.test(symbol)) return fail("unknownSymbol", symbolProblem(symbol));
  const quantity = s.quantity;
  if (quantity <= 0n || quantity > MAX_SAFE) {
    return fail("invalidQty", `quantity must be in 1..2^53-1 lots, got ${quantity}`);
  }
  const price = s.price;
  if (orderType === "limit" && (price <= 0n || price > MAX_SAFE)) {
    return fail("invalidPrice", `a limit price must be in 1..2^53-1 price units, got ${price}`);
  }
  if (orderType === "market" && price !== 0n) {
    return fail("invalidOrder", `a market order carries no price, got ${price}`);
  }
  const postOnly = s.postOnly;
  if (postOnly && (orderType !== "limit" || timeInForce !== "gtc")) {
    return fail("invalidOrder", "post-only is for GTC limit orders only");
  }
  return {
    ok: true,
    message: {
      type: "newOrder",
      requestId,
      sentAt,
      clientOrderId,
      symbol,
      side,
      orderType,
      timeInForce,
      postOnly,
      price: Number(price),
      quantity: Number(quantity),
      account,
    },
  };
}

function replace(s: gen.ReplaceOrder, requestId: bigint, sentAt: bigint): DecodeResult {
  const clientOrderId = s.clientOrderId;
  const fail = (reason: Reason, why: string) =>
    failure(reason, `Cannot replace order: ${why}`, "replace", requestId, clientOrderId);
  if (clientOrderId === 0n) return fail("unknownOrder", "clientOrderId is missing (0)");
  const quantity = s.quantity;
  if (quantity <= 0n || quantity > MAX_SAFE) {
    return fail("invalidQty", `quantity must be in 1..2^53-1 lots, got ${quantity}`);
  }
  const price = s.price;
  if (price <= 0n || price > MAX_SAFE) {
    return fail("invalidPrice", `price must be in 1..2^53-1 price units, got ${price}`);
  }
  return {
    ok: true,
    message: {
      type: "replace",
      requestId,
      sentAt,
      clientOrderId,
      price: Number(price),
      quantity: Number(quantity),
    },
  };
}

/**
 * Pointer slots of the text fields read through {@linkcode text}. Slots follow
 * from ordinals, which never change; every other request's symbol is slot 0.
 */
const NEW_ORDER_SYMBOL = 0;
const NEW_ORDER_ACCOUNT = 1;

/**
 * Reads the text in pointer slot `index` of `s`, as the generated getter
 * would, but refuses text that is not NUL-terminated as the reference
 * implementation does: capnp-es silently drops the last byte instead, so
 * `AAPL` sent without its NUL would read as `AAP`, another symbol. Throws a
 * {@linkcode FrameFault} naming `field` when the text cannot be read.
 */
function text(s: Struct, index: number, field: string): string {
  let value: string;
  try {
    const pointer = utils.getPointer(index, s);
    if (utils.isNull(pointer)) return "";
    const list = Text.fromPointer(pointer); // checks it is a list of bytes
    const bytes = utils.getTargetListLength(pointer);
    const content = utils.getContent(pointer);
    if (bytes === 0 || content.segment.getUint8(content.byteOffset + bytes - 1) !== 0) {
      throw new FrameFault(`the ${field} text is not NUL-terminated`);
    }
    value = list.get(0);
  } catch (e) {
    if (e instanceof FrameFault) throw e;
    throw new FrameFault(`the ${field} pointer ${pointerFault(e)}`);
  }
  return value;
}

function badSymbol(
  what: string,
  symbol: string,
  request: RequestType,
  requestId: bigint,
): DecodeFailure {
  return failure("unknownSymbol", `${what}: ${symbolProblem(symbol)}`, request, requestId, 0n);
}

function symbolProblem(symbol: string): string {
  if (symbol === "") return "symbol is missing";
  const shown = symbol.length > 16 ? `${symbol.slice(0, 16)}…` : symbol;
  return `symbol must be ${SYMBOL_RULE_TEXT}, got ${JSON.stringify(shown)}`;
}

function failure(
  reason: Reason,
  message: string,
  request: RequestType,
  requestId: bigint,
  clientOrderId: bigint,
): DecodeFailure {
  return { ok: false, reason, message, request, requestId, clientOrderId };
}

/**
 * The frame as an `ArrayBuffer` for capnp-es. A view of a whole buffer (what
 * a WebSocket delivers) is passed as is: capnp-es copies each segment out of
 * it, so the caller's bytes are never written. A view of part of a buffer is
 * passed as the view, which capnp-es copies first.
 */
function wholeBuffer(bytes: Uint8Array): ArrayBuffer | Uint8Array {
  const buffer = bytes.buffer;
  return buffer instanceof ArrayBuffer && bytes.byteOffset === 0 &&
      bytes.byteLength === buffer.byteLength
    ? buffer
    : bytes;
}
