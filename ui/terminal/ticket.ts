/**
 * The order ticket's checks, before anything is sent: the price a positive
 * multiple of the instrument's tick, the quantity a positive whole number of
 * lots no larger than the instrument's maximum, and the fields that must go
 * together (post-only only on a GTC limit, a market order without a price).
 * A refusal is a value with the wire's reason name and the words of
 * `schemas/vocabulary/reasons.ts`, as the core would say it.
 *
 * Prices are typed as decimals ("101.25") and read exactly, digit by digit,
 * into price units (10^priceDecimals per currency unit), never through a
 * float.
 *
 * @module
 */

import type { SymbolInfo } from "../../schemas/quotes.ts";
import { rejectReasonText } from "../../schemas/vocabulary/reasons.ts";
import type { OrderType, Reason, Side, TimeInForce } from "../../schemas/wire/mod.ts";

/** An instrument as the terminal needs it, in the wire's integers. */
export interface Instrument {
  readonly symbol: string;
  readonly name: string;
  /** Price units per currency unit = 10^priceDecimals. */
  readonly priceDecimals: number;
  /** The tick, in price units. */
  readonly tick: number;
  /** Shares per lot (quantities are in lots). */
  readonly lotSize: number;
  /** The largest quantity of one order, in lots; undefined when the edge does not say. */
  readonly maxOrderQty: number | undefined;
}

/**
 * The terminal's instrument from the edge's (`/api/v1/symbols`), whose
 * tick is a decimal: 0.25 with 2 decimals is 25 units.
 *
 * @param info The edge's instrument.
 * @returns The instrument.
 * @throws {RangeError} When the tick is not a positive whole number of price units.
 *
 * @example
 * ```ts
 * import { toInstrument } from "./ticket.ts";
 * const es = toInstrument({
 *   symbol: "ES-FUT", name: "E-mini", priceDecimals: 2, tickSize: 0.25, lotSize: 1,
 * });
 * if (es.tick !== 25 || es.maxOrderQty !== undefined) throw new Error("wrong tick");
 * ```
 */
export function toInstrument(info: SymbolInfo): Instrument {
  const units = info.tickSize * 10 ** info.priceDecimals;
  const tick = Math.round(units);
  if (!(tick >= 1 && Math.abs(units - tick) < 1e-6)) {
    throw new RangeError(
      `Cannot use instrument ${info.symbol}: its tick ${info.tickSize} is not a whole number of ` +
        `price units at ${info.priceDecimals} decimals`,
    );
  }
  return {
    symbol: info.symbol,
    name: info.name,
    priceDecimals: info.priceDecimals,
    tick,
    lotSize: info.lotSize,
    maxOrderQty: info.maxOrderQty,
  };
}

/**
 * Reads a decimal price into price units, exactly.
 *
 * @param text What was typed ("101.25", "101", ".5").
 * @param priceDecimals The instrument's decimals.
 * @returns The price in units, or undefined when the text is not a price
 *   with at most that many decimals, or is beyond 2^53 − 1 units.
 *
 * @example
 * ```ts
 * import { parsePrice } from "./ticket.ts";
 * if (parsePrice("101.25", 2) !== 10125 || parsePrice("101.255", 2) !== undefined) {
 *   throw new Error("misread");
 * }
 * ```
 */
export function parsePrice(text: string, priceDecimals: number): number | undefined {
  const match = /^\s*(\d*)(?:\.(\d*))?\s*$/.exec(text);
  if (match === null) return undefined;
  const whole = match[1] ?? "";
  const fraction = (match[2] ?? "").replace(/0+$/, "");
  if (whole === "" && (match[2] ?? "") === "") return undefined;
  if (fraction.length > priceDecimals) return undefined;
  const units = BigInt(whole || "0") * 10n ** BigInt(priceDecimals) +
    BigInt(fraction.padEnd(priceDecimals, "0") || "0");
  return units <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(units) : undefined;
}

/**
 * Prints price units as a decimal ("101.25"), the inverse of {@linkcode parsePrice}.
 *
 * @param units The price in units (a safe integer).
 * @param priceDecimals The instrument's decimals.
 * @returns The text.
 *
 * @example
 * ```ts
 * import { unitsToText } from "./ticket.ts";
 * if (unitsToText(10125, 2) !== "101.25" || unitsToText(-5, 2) !== "-0.05") throw new Error();
 * ```
 */
export function unitsToText(units: number, priceDecimals: number): string {
  const digits = Math.abs(units).toString().padStart(priceDecimals + 1, "0");
  const text = priceDecimals === 0
    ? digits
    : `${digits.slice(0, -priceDecimals)}.${digits.slice(-priceDecimals)}`;
  return units < 0 ? `-${text}` : text;
}

/** What the ticket holds. */
export interface TicketInput {
  readonly side: Side;
  readonly orderType: OrderType;
  readonly timeInForce: TimeInForce;
  readonly postOnly: boolean;
  /** The typed price (ignored for a market order). */
  readonly price: string;
  /** The typed quantity, in lots. */
  readonly quantity: string;
}

/** An order that passed the checks: the new order's fields, in the wire's integers. */
export interface CheckedOrder {
  readonly symbol: string;
  readonly side: Side;
  readonly orderType: OrderType;
  readonly timeInForce: TimeInForce;
  readonly postOnly: boolean;
  /** Price units; 0 for a market order. */
  readonly price: number;
  /** Lots. */
  readonly quantity: number;
}

/** Why the ticket refused: the wire's reason name and what to tell the trader. */
export interface TicketRefusal {
  readonly reason: Reason;
  /** "Cannot place order: the price is not a positive multiple of the tick size (0.25)". */
  readonly message: string;
}

/** What {@linkcode checkTicket} returns. */
export type TicketCheck =
  | { readonly ok: true; readonly order: CheckedOrder }
  | { readonly ok: false; readonly refusal: TicketRefusal };

function refuse(reason: Reason, detail = ""): TicketCheck {
  const message = `Cannot place order: ${rejectReasonText(reason)}${detail}`;
  return { ok: false, refusal: { reason, message } };
}

/**
 * Checks a ticket against its instrument.
 *
 * @param instrument The instrument.
 * @param input The ticket.
 * @returns The order to send, or why not.
 *
 * @example
 * ```ts
 * import { checkTicket } from "./ticket.ts";
 * const es = {
 *   symbol: "ES-FUT", name: "E-mini", priceDecimals: 2, tick: 25, lotSize: 1, maxOrderQty: 100,
 * };
 * const base = { side: "buy", orderType: "limit", timeInForce: "gtc", postOnly: false } as const;
 * const ok = checkTicket(es, { ...base, price: "5432.25", quantity: "2" });
 * if (!ok.ok || ok.order.price !== 543225) throw new Error("refused a good order");
 * const off = checkTicket(es, { ...base, price: "5432.10", quantity: "2" });
 * if (off.ok || off.refusal.reason !== "invalidPrice") throw new Error("off the tick");
 * ```
 */
export function checkTicket(instrument: Instrument, input: TicketInput): TicketCheck {
  const quantityText = input.quantity.trim();
  const quantity = /^\d{1,16}$/.test(quantityText) ? Number(quantityText) : NaN;
  if (!(Number.isSafeInteger(quantity) && quantity > 0)) {
    return refuse("invalidQty", ` (got ${JSON.stringify(quantityText.slice(0, 24))})`);
  }
  const max = instrument.maxOrderQty;
  if (max !== undefined && quantity > max) {
    return refuse("invalidQty", ` (at most ${max} lots of ${instrument.symbol} an order)`);
  }
  const limit = input.orderType === "limit";
  if (input.postOnly && !(limit && input.timeInForce === "gtc")) {
    return refuse("invalidOrder", " (post-only needs a GTC limit order)");
  }
  let price = 0;
  if (limit) {
    const parsed = parsePrice(input.price, instrument.priceDecimals);
    const tickText = unitsToText(instrument.tick, instrument.priceDecimals);
    if (parsed === undefined || parsed <= 0 || parsed % instrument.tick !== 0) {
      return refuse("invalidPrice", ` (${tickText})`);
    }
    price = parsed;
  }
  return {
    ok: true,
    order: {
      symbol: instrument.symbol,
      side: input.side,
      orderType: input.orderType,
      timeInForce: input.timeInForce,
      postOnly: input.postOnly,
      price,
      quantity,
    },
  };
}
