/**
 * Why a request was refused and why an order was cancelled: one table each,
 * giving every reason its number, its engine name, its wire name and the
 * words a person reads.
 *
 * The number is the engine's code (the `reason` word of an event record,
 * `native/src/record.rs` `reject` and `cancel`, journaled) and the wire's
 * enumerant (`schemas/gateway.capnp` `RejectReason`, `CancelReason`): the
 * same number on both sides. Numbers are never reused or renumbered; a new
 * reason takes the next free one. Reasons 18 and up are the gateway's own
 * (a frame it cannot read, a request the session may not make) and have no
 * engine name; 0 is the wire's "no reason given".
 *
 * Engine names are snake_case (`unknown_symbol`, the replay tool's `reason`
 * field); wire names are the schema's (`unknownSymbol`). The text completes
 * "Cannot place order: …".
 *
 * @module
 */

/** One reject reason: its number, its names, its words. */
export interface RejectReasonRow {
  /** The engine's code and the wire's enumerant. */
  readonly code: number;
  /** The engine's name; undefined for the wire's and the gateway's own reasons. */
  readonly engine: string | undefined;
  /** The schema's enumerant name. */
  readonly wire: string;
  /** What it means, for a person: completes "Cannot place order: …". */
  readonly text: string;
}

/** Every reject reason, by number (the row at index `i` has code `i`). */
export const REJECT_REASONS = [
  { code: 0, engine: undefined, wire: "unspecified", text: "no reason was given" },
  { code: 1, engine: "unknown_symbol", wire: "unknownSymbol", text: "the symbol is not traded" },
  {
    code: 2,
    engine: "invalid_qty",
    wire: "invalidQty",
    text: "the quantity is not a positive number of lots",
  },
  {
    code: 3,
    engine: "invalid_price",
    wire: "invalidPrice",
    text: "the price is not a positive multiple of the tick size",
  },
  {
    code: 4,
    engine: "duplicate_id",
    wire: "duplicateId",
    text: "the engine already has an order with this id",
  },
  {
    code: 5,
    engine: "invalid_order",
    wire: "invalidOrder",
    text: "the order's fields do not go together",
  },
  {
    code: 6,
    engine: "would_cross",
    wire: "wouldCross",
    text: "a post-only order would take liquidity",
  },
  { code: 7, engine: "unknown_order", wire: "unknownOrder", text: "the order is not working" },
  /** Not a command the engine knows (a malformed control record). Native only. */
  {
    code: 8,
    engine: "unknown_command",
    wire: "unknownCommand",
    text: "the engine does not know the command",
  },
  /** The engine has halted (its journal failed) and takes no more orders. Native only. */
  { code: 9, engine: "halted", wire: "halted", text: "the engine has halted and takes no orders" },
  /** The journal could not confirm the command; recovery will tell whether it happened. Native only. */
  {
    code: 10,
    engine: "in_doubt",
    wire: "inDoubt",
    text: "the journal could not confirm the command; recovery will tell whether it happened",
  },
  /** Pre-trade risk (native engine layer), 11 to 17: quantity above the per-order limit. */
  {
    code: 11,
    engine: "max_order_qty",
    wire: "maxOrderQty",
    text:
      "the quantity is above the per-order limit (the account's, or the instrument's maxOrderQty)",
  },
  {
    code: 12,
    engine: "max_notional",
    wire: "maxNotional",
    text: "price × quantity is above the account's per-order notional limit",
  },
  {
    code: 13,
    engine: "price_collar",
    wire: "priceCollar",
    text: "the price is too far from the reference price",
  },
  {
    code: 14,
    engine: "position_limit",
    wire: "positionLimit",
    text: "a full fill would take the position beyond its limit",
  },
  {
    code: 15,
    engine: "open_order_limit",
    wire: "openOrderLimit",
    text: "the account has too many working orders",
  },
  {
    code: 16,
    engine: "order_rate_limit",
    wire: "orderRateLimit",
    text: "the account sends orders too fast",
  },
  {
    code: 17,
    engine: "kill_switch",
    wire: "killSwitch",
    text: "trading is switched off for the account",
  },
  /** The gateway's own, 18 to 21: the frame or the session, never the engine. */
  {
    code: 18,
    engine: undefined,
    wire: "frameTooLarge",
    text: "the frame is larger than the gateway accepts",
  },
  {
    code: 19,
    engine: undefined,
    wire: "malformedFrame",
    text: "the frame is not a valid Cap'n Proto message",
  },
  {
    code: 20,
    engine: undefined,
    wire: "unknownMessage",
    text: "the gateway does not know the request",
  },
  {
    code: 21,
    engine: undefined,
    wire: "notAuthorised",
    text: "the session may not do this",
  },
] as const satisfies readonly RejectReasonRow[];

type RejectRow = typeof REJECT_REASONS[number];
type EngineRejectRow = Extract<RejectRow, { engine: string }>;

/** An engine reject reason's name (`"unknown_symbol"`). */
export type EngineRejectReason = EngineRejectRow["engine"];
/** A wire reject reason's name (`"unknownSymbol"`), the gateway's own included. */
export type WireRejectReason = RejectRow["wire"];

/** The engine's reject codes by name, as the replay tool and the matchers name them. */
export const ENGINE_REJECT_CODES: {
  readonly [R in EngineRejectRow as R["engine"]]: R["code"];
} = Object.freeze(
  Object.fromEntries(
    REJECT_REASONS.flatMap((r) => r.engine === undefined ? [] : [[r.engine, r.code]]),
  ),
) as never;

/** The wire's reject codes by name (`schemas/gateway.capnp` `RejectReason`). */
export const WIRE_REJECT_CODES: { readonly [R in RejectRow as R["wire"]]: R["code"] } = Object
  .freeze(Object.fromEntries(REJECT_REASONS.map((r) => [r.wire, r.code]))) as never;

const REJECT_BY_ENGINE: ReadonlyMap<string, RejectRow> = new Map(
  REJECT_REASONS.flatMap((r) => r.engine === undefined ? [] : [[r.engine, r]]),
);
const REJECT_BY_WIRE: ReadonlyMap<string, RejectRow> = new Map(
  REJECT_REASONS.map((r) => [r.wire, r]),
);

/**
 * The engine's name of a reject code (an event record's `reason` word).
 *
 * @param code The code.
 * @returns Its name, or undefined when the engine has no reason of that number.
 *
 * @example
 * ```ts
 * import { engineRejectReasonOf } from "./reasons.ts";
 * if (engineRejectReasonOf(17) !== "kill_switch") throw new Error("wrong name");
 * if (engineRejectReasonOf(18) !== undefined) throw new Error("a gateway reason named by the engine");
 * ```
 */
export function engineRejectReasonOf(code: number): EngineRejectReason | undefined {
  return (REJECT_REASONS[code] as RejectRow | undefined)?.engine;
}

/**
 * The wire's name of an engine reject reason (the same number).
 *
 * @param reason The engine's name.
 * @returns The schema's enumerant name.
 *
 * @example
 * ```ts
 * import { wireRejectReason } from "./reasons.ts";
 * if (wireRejectReason("max_order_qty") !== "maxOrderQty") throw new Error("wrong name");
 * ```
 */
export function wireRejectReason<R extends EngineRejectReason>(
  reason: R,
): Extract<EngineRejectRow, { engine: R }>["wire"] {
  return REJECT_BY_ENGINE.get(reason)!.wire as never;
}

/**
 * What a reject reason means, in words a person reads: it completes
 * "Cannot place order: …".
 *
 * @param reason An engine name (`"kill_switch"`) or a wire name (`"killSwitch"`).
 * @returns The text.
 *
 * @example
 * ```ts
 * import { rejectReasonText } from "./reasons.ts";
 * if (rejectReasonText("unknown_order") !== "the order is not working") throw new Error("wrong text");
 * if (rejectReasonText("unknownOrder") !== rejectReasonText("unknown_order")) throw new Error("two texts");
 * ```
 */
export function rejectReasonText(reason: EngineRejectReason | WireRejectReason): string {
  return (REJECT_BY_ENGINE.get(reason) ?? REJECT_BY_WIRE.get(reason))!.text;
}

/** One cancel reason: why a resting order left the book without trading. */
export interface CancelReasonRow {
  /** The engine's code and the wire's enumerant. */
  readonly code: number;
  /** The engine's name. */
  readonly engine: string;
  /** The schema's enumerant name. */
  readonly wire: string;
  /** What it means, for a person: completes "The order was cancelled: …". */
  readonly text: string;
}

/** Every cancel reason, by number (the row at index `i` has code `i`). */
export const CANCEL_REASONS = [
  /** By its owner (cancel, cancelAll); also the value in reports that are no cancel. */
  { code: 0, engine: "requested", wire: "requested", text: "its owner asked" },
  /** Self-trade prevention: an order of the same account would have traded with it. */
  {
    code: 1,
    engine: "self_trade",
    wire: "selfTrade",
    text: "an order of the same account would have traded with it",
  },
] as const satisfies readonly CancelReasonRow[];

type CancelRow = typeof CANCEL_REASONS[number];

/** An engine cancel reason's name (`"self_trade"`). */
export type EngineCancelReason = CancelRow["engine"];
/** A wire cancel reason's name (`"selfTrade"`). */
export type WireCancelReason = CancelRow["wire"];

/** The engine's cancel codes by name. */
export const ENGINE_CANCEL_CODES: { readonly [R in CancelRow as R["engine"]]: R["code"] } = Object
  .freeze(Object.fromEntries(CANCEL_REASONS.map((r) => [r.engine, r.code]))) as never;

/** The wire's cancel codes by name (`schemas/gateway.capnp` `CancelReason`). */
export const WIRE_CANCEL_CODES: { readonly [R in CancelRow as R["wire"]]: R["code"] } = Object
  .freeze(Object.fromEntries(CANCEL_REASONS.map((r) => [r.wire, r.code]))) as never;

const CANCEL_BY_ENGINE: ReadonlyMap<string, CancelRow> = new Map(
  CANCEL_REASONS.map((r) => [r.engine, r]),
);
const CANCEL_BY_WIRE: ReadonlyMap<string, CancelRow> = new Map(
  CANCEL_REASONS.map((r) => [r.wire, r]),
);

/**
 * The engine's name of a cancel code (an event record's `reason` word).
 *
 * @param code The code.
 * @returns Its name, or undefined when the engine has no cancel reason of that number.
 *
 * @example
 * ```ts
 * import { engineCancelReasonOf } from "./reasons.ts";
 * if (engineCancelReasonOf(1) !== "self_trade") throw new Error("wrong name");
 * ```
 */
export function engineCancelReasonOf(code: number): EngineCancelReason | undefined {
  return (CANCEL_REASONS[code] as CancelRow | undefined)?.engine;
}

/**
 * The wire's name of an engine cancel reason (the same number).
 *
 * @param reason The engine's name.
 * @returns The schema's enumerant name.
 *
 * @example
 * ```ts
 * import { wireCancelReason } from "./reasons.ts";
 * if (wireCancelReason("self_trade") !== "selfTrade") throw new Error("wrong name");
 * ```
 */
export function wireCancelReason(reason: EngineCancelReason): WireCancelReason {
  return CANCEL_BY_ENGINE.get(reason)!.wire;
}

/**
 * What a cancel reason means, in words a person reads: it completes "The
 * order was cancelled: …".
 *
 * @param reason An engine name (`"self_trade"`) or a wire name (`"selfTrade"`).
 * @returns The text.
 *
 * @example
 * ```ts
 * import { cancelReasonText } from "./reasons.ts";
 * if (cancelReasonText("selfTrade") !== cancelReasonText("self_trade")) throw new Error("two texts");
 * ```
 */
export function cancelReasonText(reason: EngineCancelReason | WireCancelReason): string {
  return (CANCEL_BY_ENGINE.get(reason) ?? CANCEL_BY_WIRE.get(reason))!.text;
}
