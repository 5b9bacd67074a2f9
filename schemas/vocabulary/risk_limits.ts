/**
 * The pre-trade risk limits the engine enforces (`native/src/risk.rs`
 * `limit`): one table giving each its id (the number a set-limit record
 * carries, journaled, so never reused or renumbered), its name (the admin
 * API's and the account store's) and whether a symbol may have its own.
 * A limit's value is a non-negative integer; 0 means "no limit".
 *
 * @module
 */

/** One risk limit. */
export interface RiskLimitRow {
  /** The engine's id (`native/src/risk.rs` `limit`). */
  readonly id: number;
  /** Its name in the admin API and the account store. */
  readonly name: string;
  /**
   * Whether a symbol may have a value of its own (an override): true for the
   * limits about one order or one position; the order rate and the
   * open-order count are the account's, whatever the symbol.
   */
  readonly perSymbol: boolean;
  /** What it limits, and in what unit. */
  readonly text: string;
}

/** Every risk limit, in the engine's order (the row at index `i` has id `i + 1`). */
export const RISK_LIMITS = [
  {
    id: 1,
    name: "maxOrderQty",
    perSymbol: true,
    text: "the largest quantity of one order, in lots",
  },
  {
    id: 2,
    name: "maxNotional",
    perSymbol: true,
    text: "the largest price × quantity of one order, in price units × lots",
  },
  {
    id: 3,
    name: "position",
    perSymbol: true,
    text: "the largest absolute position per instrument, in lots",
  },
  { id: 4, name: "openOrders", perSymbol: false, text: "the most working orders at once" },
  {
    id: 5,
    name: "ordersPerSecond",
    perSymbol: false,
    text: "the most new orders and replaces per second",
  },
  {
    id: 6,
    name: "collarBps",
    perSymbol: true,
    text: "the farthest a limit price may be from the reference price, in basis points",
  },
] as const satisfies readonly RiskLimitRow[];

type LimitRow = typeof RISK_LIMITS[number];

/** A risk limit's name (`"maxOrderQty"`). */
export type RiskLimitName = LimitRow["name"];

/** The engine's id of each limit, by name. */
export const RiskLimit: { readonly [R in LimitRow as R["name"]]: R["id"] } = Object.freeze(
  Object.fromEntries(RISK_LIMITS.map((r) => [r.name, r.id])),
) as never;

/** Every limit's name, in the engine's order. */
export const RISK_LIMIT_NAMES: readonly RiskLimitName[] = Object.freeze(
  RISK_LIMITS.map((r) => r.name),
);

/** The limits a symbol may have of its own (see {@linkcode RiskLimitRow.perSymbol}). */
export const SYMBOL_RISK_LIMIT_NAMES: readonly Extract<LimitRow, { perSymbol: true }>["name"][] =
  Object.freeze(RISK_LIMITS.flatMap((r) => r.perSymbol ? [r.name] : []));

/**
 * True when `name` names a risk limit.
 *
 * @param name The candidate.
 * @returns Whether it is one of {@linkcode RISK_LIMIT_NAMES}.
 *
 * @example
 * ```ts
 * import { isRiskLimitName } from "./risk_limits.ts";
 * if (!isRiskLimitName("position") || isRiskLimitName("toString")) throw new Error("wrong answer");
 * ```
 */
export function isRiskLimitName(name: unknown): name is RiskLimitName {
  return typeof name === "string" && (RISK_LIMIT_NAMES as readonly string[]).includes(name);
}
