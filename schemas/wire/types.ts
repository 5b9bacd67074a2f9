/**
 * The wire's vocabulary in plain TypeScript: what a decoded client frame
 * becomes ({@linkcode ClientRequest}), what the core sends
 * ({@linkcode ServerEvent}), and the enumerations of `schemas/gateway.capnp`
 * by name.
 *
 * Numbers: prices and quantities (price units and lots, see the schema) are
 * `number`s, always safe integers, as in the engine's vocabulary
 * (`core/matching/types.ts`). Identifiers, sequence numbers, times
 * (nanoseconds since the Unix epoch) and notionals use the schema's full
 * 64-bit range and are `bigint`s.
 *
 * Enumerations are named by their schema names (`"unknownSymbol"`,
 * `"selfTrade"`); the tables below give each name's number on the wire, and a
 * test checks them against the generated bindings.
 *
 * @module
 */

import {
  WIRE_CANCEL_CODES,
  WIRE_REJECT_CODES,
  type WireCancelReason,
  type WireRejectReason,
} from "../vocabulary/reasons.ts";

/**
 * Every reject reason of the schema's `RejectReason`, by name, with its
 * number on the wire: the wire's column of the one table of reasons
 * (`schemas/vocabulary/reasons.ts`), where codes 1 to 17 are also the
 * engine's (same numbers, snake_case names) and each has its text.
 */
export const ReasonCode: typeof WIRE_REJECT_CODES = WIRE_REJECT_CODES;
/** One of {@linkcode ReasonCode}'s names. */
export type Reason = WireRejectReason;

/** Order sides on the wire (0 is "not given" and never decodes). */
export const SideCode = { buy: 1, sell: 2 } as const;
/** `"buy"` or `"sell"`. */
export type Side = keyof typeof SideCode;

/** Order types on the wire (0 is "not given" and never decodes). */
export const OrderTypeCode = { limit: 1, market: 2 } as const;
/** `"limit"` or `"market"`. */
export type OrderType = keyof typeof OrderTypeCode;

/** Times in force on the wire; `gtc` (0) is the default. */
export const TimeInForceCode = { gtc: 0, ioc: 1, fok: 2 } as const;
/** `"gtc"`, `"ioc"` or `"fok"`. */
export type TimeInForce = keyof typeof TimeInForceCode;

/** The kinds of client request (the `ClientMessage` union), numbered as the schema's `RequestType`. */
export const RequestTypeCode = {
  unspecified: 0,
  newOrder: 1,
  cancel: 2,
  replace: 3,
  cancelAll: 4,
  subscribe: 5,
  unsubscribe: 6,
  requestSnapshot: 7,
  requestOrders: 8,
  ping: 9,
  reauthenticate: 10,
} as const;
/** One of {@linkcode RequestTypeCode}'s names; `"unspecified"` when not known. */
export type RequestType = keyof typeof RequestTypeCode;

/** What happened to an order, in an execution report. */
export const ExecTypeCode = {
  accepted: 0,
  trade: 1,
  cancelled: 2,
  expired: 3,
  replaced: 4,
} as const;
/** One of {@linkcode ExecTypeCode}'s names. */
export type ExecType = keyof typeof ExecTypeCode;

/** Why an order was cancelled; the engine's numbers (`schemas/vocabulary/reasons.ts`). */
export const CancelReasonCode: typeof WIRE_CANCEL_CODES = WIRE_CANCEL_CODES;
/** One of {@linkcode CancelReasonCode}'s names. */
export type CancelReason = WireCancelReason;

/** Whether a trade's order was the maker or the taker (`unspecified` when not a trade). */
export const LiquidityCode = { unspecified: 0, maker: 1, taker: 2 } as const;
/** One of {@linkcode LiquidityCode}'s names. */
export type Liquidity = keyof typeof LiquidityCode;

/** Why a symbol's channel must be resynchronised. */
export const ResyncReasonCode = { unspecified: 0, slowConsumer: 1, sequenceReset: 2 } as const;
/** One of {@linkcode ResyncReasonCode}'s names. */
export type ResyncReason = keyof typeof ResyncReasonCode;

// ---------------------------------------------------------------------------
// Client requests (decoded ClientMessage)

/** Fields every request carries (the `ClientMessage` header). */
export interface RequestHeader {
  /** The client's correlation id, echoed in replies; `0n` = none. */
  readonly requestId: bigint;
  /** The client's send time, ns since the Unix epoch; `0n` = not given. */
  readonly sentAt: bigint;
}

/** Place an order. Decoded only when every field is valid (see `decodeClientFrame`). */
export interface NewOrderRequest extends RequestHeader {
  readonly type: "newOrder";
  /** The client's id for the order: nonzero, unique within the session. */
  readonly clientOrderId: bigint;
  /** 1–12 of `[A-Z0-9.-]`. */
  readonly symbol: string;
  readonly side: Side;
  readonly orderType: OrderType;
  readonly timeInForce: TimeInForce;
  /** Only rest, never take; only on a GTC limit order. */
  readonly postOnly: boolean;
  /** Limit: a positive safe integer in price units. Market: `0`. */
  readonly price: number;
  /** A positive safe integer, in lots. */
  readonly quantity: number;
  /** The account to trade for (at most 48 bytes of UTF-8); `""` = the session's own. */
  readonly account: string;
}

/** Cancel the working order with this client order id (nonzero). */
export interface CancelRequest extends RequestHeader {
  readonly type: "cancel";
  readonly clientOrderId: bigint;
}

/** Change a working order's price and open quantity. */
export interface ReplaceRequest extends RequestHeader {
  readonly type: "replace";
  /** The order's client order id (nonzero). */
  readonly clientOrderId: bigint;
  /** The new price: a positive safe integer, in price units. */
  readonly price: number;
  /** The new open quantity: a positive safe integer, in lots. */
  readonly quantity: number;
}

/** Cancel every working order of the session, or of one symbol. */
export interface CancelAllRequest extends RequestHeader {
  readonly type: "cancelAll";
  /** A valid symbol, or `""` for every symbol. */
  readonly symbol: string;
}

/** Start a symbol's market data. */
export interface SubscribeRequest extends RequestHeader {
  readonly type: "subscribe";
  readonly symbol: string;
}

/** Stop a symbol's market data. */
export interface UnsubscribeRequest extends RequestHeader {
  readonly type: "unsubscribe";
  readonly symbol: string;
}

/** Ask for a fresh book snapshot of a symbol. */
export interface SnapshotRequest extends RequestHeader {
  readonly type: "requestSnapshot";
  readonly symbol: string;
}

/**
 * Ask for the session's execution reports after `sinceSequence` (one page),
 * then its positions, which say whether more follows.
 */
export interface OrdersRequest extends RequestHeader {
  readonly type: "requestOrders";
  /** The last execution-report sequence the client holds; `0n` = from the start. */
  readonly sinceSequence: bigint;
  /**
   * At most this many reports in the answer (UInt32); `0` or absent = as many
   * as the core allows (it caps the page). Always present once decoded.
   */
  readonly maxReports?: number;
}

/** Liveness probe; answered by a heartbeat echoing `sentAt`. */
export interface PingRequest extends RequestHeader {
  readonly type: "ping";
}

/**
 * Replace the connection's token with a fresh one (from `POST /auth/refresh`)
 * before it expires, without reconnecting. Answered by a heartbeat carrying
 * the request's `requestId`, or a reject (`notAuthorised`) saying why.
 */
export interface ReauthenticateRequest extends RequestHeader {
  readonly type: "reauthenticate";
  /** The new token, a compact JWT: 1 to 4096 bytes of UTF-8 (`MAX_TOKEN_BYTES`). */
  readonly token: string;
}

/** Every request a client frame can carry, discriminated by `type` (the schema's union member). */
export type ClientRequest =
  | NewOrderRequest
  | CancelRequest
  | ReplaceRequest
  | CancelAllRequest
  | SubscribeRequest
  | UnsubscribeRequest
  | SnapshotRequest
  | OrdersRequest
  | PingRequest
  | ReauthenticateRequest;

// ---------------------------------------------------------------------------
// Server events (ServerMessage)

/**
 * Fields every server message carries. Optional on input (default `0n`);
 * always present in what `decodeServerMessage` returns.
 */
export interface EventHeader {
  /** The `requestId` of the request this answers; `0n` = unsolicited. */
  readonly requestId?: bigint;
  /** The core's send time, ns since the Unix epoch. */
  readonly sentAt?: bigint;
}

/**
 * Something happened to one of the session's orders. Fields marked "trade",
 * "cancelled" matter only for that `execType`; optional ones default to 0,
 * `"unspecified"`, `"requested"`, `false`.
 */
export interface ExecutionReportEvent extends EventHeader {
  readonly type: "executionReport";
  /** The session's execution sequence (1, 2, 3… without gaps). */
  readonly sequence: bigint;
  readonly execType: ExecType;
  readonly clientOrderId: bigint;
  /** The engine's id for the order. */
  readonly orderId: bigint;
  readonly account: string;
  readonly symbol: string;
  readonly side: Side;
  readonly orderType: OrderType;
  readonly timeInForce: TimeInForce;
  readonly postOnly: boolean;
  /** The order's limit price (price units); 0 for market orders. */
  readonly price: number;
  /** Lots still open. */
  readonly leavesQuantity: number;
  /** Lots filled so far. */
  readonly cumQuantity: number;
  /** trade: the fill's price (price units). */
  readonly lastPrice?: number;
  /** trade: the fill's lots. */
  readonly lastQuantity?: number;
  /** trade: the trade's id. */
  readonly tradeId?: bigint;
  /** trade: maker or taker. */
  readonly liquidity?: Liquidity;
  /** cancelled: why. */
  readonly cancelReason?: CancelReason;
  /** When the engine took the command (ns since epoch). */
  readonly engineTime: bigint;
  /** Re-sent in answer to a `requestOrders`. */
  readonly replayed?: boolean;
  /** cancelled, expired: the lots this event took off the book (the open quantity before it). */
  readonly cancelledQuantity?: number;
}

/** A request was refused. */
export interface RejectEvent extends EventHeader {
  readonly type: "reject";
  readonly reason: Reason;
  /** Human-readable detail. */
  readonly message: string;
  /** Which kind of request was refused. */
  readonly request: RequestType;
  /** The client order id the request named; `0n` when none. */
  readonly clientOrderId?: bigint;
  /** The symbol the request named; `""` when none. */
  readonly symbol?: string;
}

/** One price level of a book. */
export interface BookLevel {
  /** Price units. */
  readonly price: number;
  /** Total lots resting at the price. */
  readonly quantity: number;
  /** Orders resting at the price. */
  readonly orderCount: number;
}

/** A symbol's whole book as of channel sequence `sequence`. */
export interface BookSnapshotEvent extends EventHeader {
  readonly type: "bookSnapshot";
  readonly symbol: string;
  /** Includes every delta up to this sequence; apply only later ones. */
  readonly sequence: bigint;
  /** Best (highest) first. */
  readonly bids: readonly BookLevel[];
  /** Best (lowest) first. */
  readonly asks: readonly BookLevel[];
  readonly engineTime: bigint;
}

/** A price level's new state: absolute quantity, `0` removes the level. */
export interface LevelUpdate {
  /** `"buy"`: a bid level; `"sell"`: an ask level. */
  readonly side: Side;
  readonly price: number;
  readonly quantity: number;
  readonly orderCount: number;
}

/** Level changes from one engine event, applied together. */
export interface BookDeltaEvent extends EventHeader {
  readonly type: "bookDelta";
  readonly symbol: string;
  /** The channel sequence: previous + 1. */
  readonly sequence: bigint;
  readonly levels: readonly LevelUpdate[];
  readonly engineTime: bigint;
}

/** A public trade. */
export interface TradeEvent extends EventHeader {
  readonly type: "trade";
  readonly symbol: string;
  readonly sequence: bigint;
  readonly tradeId: bigint;
  readonly price: number;
  readonly quantity: number;
  /** The taker's side. */
  readonly aggressorSide: Side;
  readonly engineTime: bigint;
}

/** Best bid and offer; a missing side has price and quantity 0. */
export interface QuoteEvent extends EventHeader {
  readonly type: "quote";
  readonly symbol: string;
  readonly sequence: bigint;
  readonly bidPrice: number;
  readonly bidQuantity: number;
  readonly askPrice: number;
  readonly askQuantity: number;
  readonly engineTime: bigint;
}

/** Liveness, on idle or in answer to a ping. */
export interface HeartbeatEvent extends EventHeader {
  readonly type: "heartbeat";
  /** The core sends something at least this often (ms, UInt32). */
  readonly intervalMs: number;
  /** The answered ping's `sentAt`; `0n` when unsolicited. */
  readonly echoSentAt?: bigint;
  /** The session's latest execution-report sequence. */
  readonly executionSequence: bigint;
}

/** Drop the symbol's book; a snapshot follows. */
export interface ResyncEvent extends EventHeader {
  readonly type: "resync";
  readonly symbol: string;
  readonly reason: ResyncReason;
  readonly message?: string;
}

/** One symbol's position of an account. */
export interface Position {
  readonly symbol: string;
  /** Lots: positive long, negative short. */
  readonly netQuantity: number;
  readonly boughtQuantity: number;
  readonly soldQuantity: number;
  /** Σ price × quantity of the buys, in price units × lots. */
  readonly boughtNotional: bigint;
  /** Σ price × quantity of the sells, in price units × lots. */
  readonly soldNotional: bigint;
  /** Lots in working buy orders. */
  readonly openBuyQuantity: number;
  /** Lots in working sell orders. */
  readonly openSellQuantity: number;
}

/**
 * An account's positions as of an execution sequence; in answer to a
 * `requestOrders`, also how the replay stands (`0n`/`false` otherwise).
 */
export interface PositionsEvent extends EventHeader {
  readonly type: "positions";
  readonly account: string;
  readonly executionSequence: bigint;
  readonly positions: readonly Position[];
  /** The oldest report sequence still kept (`executionSequence + 1n` when none is). */
  readonly oldestSequence?: bigint;
  /** The last sequence the answer re-sent (the request's `sinceSequence` if none): where to continue. */
  readonly throughSequence?: bigint;
  /** More reports follow `throughSequence`: ask again from it. */
  readonly more?: boolean;
  /**
   * The request's `sinceSequence` was older than the core keeps: reports
   * between it and `oldestSequence` are gone (each working order's latest
   * excepted, which the answer re-sent).
   */
  readonly sinceTooOld?: boolean;
}

/** A problem that is not the refusal of one request. */
export interface ServerErrorEvent extends EventHeader {
  readonly type: "error";
  readonly reason: Reason;
  readonly message: string;
  /** The core closes the connection after this message. */
  readonly closing?: boolean;
}

/** Every message the core sends, discriminated by `type` (the schema's union member). */
export type ServerEvent =
  | ExecutionReportEvent
  | RejectEvent
  | BookSnapshotEvent
  | BookDeltaEvent
  | TradeEvent
  | QuoteEvent
  | HeartbeatEvent
  | ResyncEvent
  | PositionsEvent
  | ServerErrorEvent;
