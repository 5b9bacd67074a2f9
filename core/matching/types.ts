/**
 * The engine's vocabulary, shared by the native engine binding, the
 * reference matcher, the replay tool and the synthetic market.
 *
 * Commands and events here are *normalised*: symbols and accounts are small
 * integers (an instrument's position in the instrument table, an account's
 * interned number), prices and quantities are integers. Turning JSON into
 * these values is `protocol.ts`'s job; matching them is a matcher's.
 *
 * The numeric codes below cross the FFI boundary and are written into the
 * journal, so they are never reused or renumbered: a new code takes the next
 * free number.
 *
 * @module
 */

import {
  ENGINE_CANCEL_CODES,
  ENGINE_REJECT_CODES,
  type EngineCancelReason,
  type EngineRejectReason,
} from "../../schemas/vocabulary/reasons.ts";

/** Command kinds (imperative), as written in a command record's `kind` word. */
export const CommandKind = {
  /** Place a new order. */
  PlaceOrder: 1,
  /** Cancel a resting order. */
  CancelOrder: 2,
  /** Change a resting order's price and open quantity. */
  ReplaceOrder: 3,
} as const;
/** One of {@linkcode CommandKind}'s values. */
export type CommandKind = typeof CommandKind[keyof typeof CommandKind];

/** Event kinds (past tense), as written in an event record's `kind` word. */
export const EventKind = {
  OrderAccepted: 1,
  OrderRejected: 2,
  OrderTraded: 3,
  OrderCancelled: 4,
  OrderExpired: 5,
  OrderReplaced: 6,
} as const;
/** One of {@linkcode EventKind}'s values. */
export type EventKind = typeof EventKind[keyof typeof EventKind];

/** Sides. Buy = 0, sell = 1 on the wire. */
export const Side = { Buy: 0, Sell: 1 } as const;
/** One of {@linkcode Side}'s values. */
export type Side = typeof Side[keyof typeof Side];

/** Order types. Limit = 0, market = 1 on the wire. */
export const OrderType = { Limit: 0, Market: 1 } as const;
/** One of {@linkcode OrderType}'s values. */
export type OrderType = typeof OrderType[keyof typeof OrderType];

/** Time in force. GTC = 0, IOC = 1, FOK = 2 on the wire. */
export const TimeInForce = { Gtc: 0, Ioc: 1, Fok: 2 } as const;
/** One of {@linkcode TimeInForce}'s values. */
export type TimeInForce = typeof TimeInForce[keyof typeof TimeInForce];

/**
 * Why a command was rejected: the engine's codes by name, from the one table
 * of reasons (`schemas/vocabulary/reasons.ts`, with each code's wire name
 * and text). Codes are fixed forever; `0` means "no reason". The names are
 * the strings of the replay tool's `reason` field.
 */
export const RejectReason: typeof ENGINE_REJECT_CODES = ENGINE_REJECT_CODES;
/** One of {@linkcode RejectReason}'s names. */
export type RejectReasonName = EngineRejectReason;

/**
 * Why a resting order was cancelled: by its owner (0) or by self-trade
 * prevention (1), from `schemas/vocabulary/reasons.ts`.
 */
export const CancelReason: typeof ENGINE_CANCEL_CODES = ENGINE_CANCEL_CODES;
/** One of {@linkcode CancelReason}'s names. */
export type CancelReasonName = EngineCancelReason;

/**
 * The instrument number that no instrument has. A `PlaceOrder` carrying it
 * (or any number past the table's end) is rejected with `unknown_symbol`.
 */
export const UNKNOWN_INSTRUMENT = 0xffff_ffff;

/**
 * Price sentinels for a normalised `PlaceOrder`:
 * - `0`: no price was given (the only valid value for a market order);
 * - a negative number: a price was given but is not a positive integer.
 * Any positive integer is a real price in price units.
 */
export const NO_PRICE = 0;
/** See {@linkcode NO_PRICE}. */
export const INVALID_PRICE = -1;

/** Place a new order. `qty` and `price` that are not positive integers are rejected by the matcher. */
export interface PlaceOrder {
  readonly kind: typeof CommandKind.PlaceOrder;
  /** Client order id: a non-negative safe integer, unique per run. */
  readonly id: number;
  /** Interned account number (>= 0). */
  readonly account: number;
  /** Instrument number (position in the instrument table), or {@linkcode UNKNOWN_INSTRUMENT}. */
  readonly instrument: number;
  readonly side: Side;
  readonly type: OrderType;
  readonly tif: TimeInForce;
  readonly postOnly: boolean;
  /** Price units; see {@linkcode NO_PRICE} and {@linkcode INVALID_PRICE}. */
  readonly price: number;
  /** Lots; anything but a positive safe integer is rejected with `invalid_qty` (use 0 for "not given"). */
  readonly qty: number;
}

/** Cancel a resting order by its id. */
export interface CancelOrder {
  readonly kind: typeof CommandKind.CancelOrder;
  readonly id: number;
}

/** Replace a resting order's price and open quantity. */
export interface ReplaceOrder {
  readonly kind: typeof CommandKind.ReplaceOrder;
  readonly id: number;
  /** New price in price units; anything but a positive integer is rejected with `invalid_price`. */
  readonly price: number;
  /** New open quantity in lots; anything but a positive integer is rejected with `invalid_qty`. */
  readonly qty: number;
}

/** Every command the engine takes. */
export type Command = PlaceOrder | CancelOrder | ReplaceOrder;

/**
 * What a {@linkcode PlaceOrder} may carry into the journal beside the order:
 * who the order is for at the gateway. The native engine keeps it with the
 * order while it rests (replaces and snapshots included) and gives it back
 * after a restart (`NativeEngine.restingOrders`). Not a matching input: no
 * matcher reads it, and the state hash leaves it out.
 */
export interface OrderLabel {
  /** The client's order id (a uint64); 0n: none. */
  readonly clientOrderId: bigint;
  /**
   * The engine number of the account that placed the order for its
   * `account` (an admin); absent when the account placed it itself.
   */
  readonly placer?: number;
}

/** An order passed validation. */
export interface OrderAccepted {
  readonly kind: typeof EventKind.OrderAccepted;
  readonly id: number;
  readonly instrument: number;
}
/** A command was refused; nothing changed. `instrument` is {@linkcode UNKNOWN_INSTRUMENT} when unknown. */
export interface OrderRejected {
  readonly kind: typeof EventKind.OrderRejected;
  readonly id: number;
  readonly instrument: number;
  readonly reason: RejectReasonName;
}
/** The incoming order (`taker`) traded with a resting one (`maker`) at the maker's price. */
export interface OrderTraded {
  readonly kind: typeof EventKind.OrderTraded;
  readonly instrument: number;
  readonly taker: number;
  readonly maker: number;
  readonly price: number;
  readonly qty: number;
}
/** A resting order left the book with `leaves` lots open. */
export interface OrderCancelled {
  readonly kind: typeof EventKind.OrderCancelled;
  readonly id: number;
  readonly instrument: number;
  readonly leaves: number;
  readonly reason: CancelReasonName;
}
/** An IOC, FOK or market order's unfilled rest (`leaves` lots) was dropped. */
export interface OrderExpired {
  readonly kind: typeof EventKind.OrderExpired;
  readonly id: number;
  readonly instrument: number;
  readonly leaves: number;
}
/** A resting order now has this price and open quantity. */
export interface OrderReplaced {
  readonly kind: typeof EventKind.OrderReplaced;
  readonly id: number;
  readonly instrument: number;
  readonly price: number;
  readonly qty: number;
}

/** Every event the engine emits, in one union. */
export type EngineEvent =
  | OrderAccepted
  | OrderRejected
  | OrderTraded
  | OrderCancelled
  | OrderExpired
  | OrderReplaced;

/** One row of the instrument table (`core/config/instruments.json`). */
export interface Instrument {
  /** Ticker, 1–12 of `[A-Z0-9.-]`. */
  readonly symbol: string;
  readonly name: string;
  /** Smallest price step, in price units; a price must be a multiple of it. */
  readonly tickSize: number;
  /** Shares per lot. */
  readonly lotSize: number;
  /** Price units per currency unit: price 10050 at scale 100 is 100.50. */
  readonly priceScale: number;
  /** Where the synthetic market starts quoting, in price units. */
  readonly referencePrice: number;
  /**
   * The largest quantity of one order, in lots: pre-trade risk refuses more
   * whatever the account's own limit. 1 to `MAX_ORDER_QTY_CEILING`
   * (`instruments.ts`), `DEFAULT_MAX_ORDER_QTY` when the table has none.
   */
  readonly maxOrderQty: number;
}

/**
 * Anything that matches commands: the native engine and the reference
 * matcher both implement it, and one shared suite runs against both.
 */
export interface Matcher {
  /**
   * Applies one command and returns its events in emission order.
   * Every command yields at least one event; the first is its acknowledgement.
   */
  apply(command: Command): EngineEvent[];
  /**
   * Applies commands in order; element `i` of the result holds command `i`'s
   * events. Same result as calling {@linkcode Matcher.apply} on each, but lets
   * a pipelined engine keep many commands in flight.
   */
  applyAll(commands: readonly Command[]): EngineEvent[][];
  /** FNV-1a 64 over every book, as defined in `state_hash.ts`. */
  stateHash(): bigint;
  /** Releases the matcher's resources; it must not be used afterwards. */
  close(): void;
}
