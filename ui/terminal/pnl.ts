/**
 * Position and P&L arithmetic, exact: prices in price units and quantities
 * in lots (the wire's integers), money in price units × lots as `bigint`.
 *
 * The method is average cost: buying onto a long (or selling onto a short)
 * moves the average price; reducing the position realises
 * `(fill price − average) × lots` (signed for shorts) and leaves the average
 * alone; going through zero realises the whole old position and opens the
 * rest at the fill's price. The average of mixed prices is rarely a whole
 * number of price units, so averages and realised P&L are fractions
 * ({@linkcode Fraction}, reduced), turned into decimals only when printed.
 * Unrealised P&L is marked to the last trade: `(last − average) × net`.
 *
 * Two identities hold at every step, and the tests check them:
 * `realised + unrealised = soldNotional − boughtNotional + net × last`, and
 * `net = bought − sold`.
 *
 * @module
 */

/** A fraction of integers; `den` is positive and the fraction is reduced. */
export interface Fraction {
  readonly num: bigint;
  readonly den: bigint;
}

const abs = (n: bigint) => (n < 0n ? -n : n);

function gcd(a: bigint, b: bigint): bigint {
  a = abs(a);
  b = abs(b);
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/**
 * Makes a reduced fraction.
 *
 * @param num The numerator.
 * @param den The denominator (nonzero).
 * @returns `num / den`, reduced, with a positive denominator.
 * @throws {RangeError} When `den` is zero.
 *
 * @example
 * ```ts
 * import { fraction } from "./pnl.ts";
 * const f = fraction(6n, -4n);
 * if (f.num !== -3n || f.den !== 2n) throw new Error("not reduced");
 * ```
 */
export function fraction(num: bigint, den = 1n): Fraction {
  if (den === 0n) throw new RangeError("Cannot make a fraction: the denominator is zero");
  if (den < 0n) [num, den] = [-num, -den];
  const g = gcd(num, den);
  return g > 1n ? { num: num / g, den: den / g } : { num, den };
}

/** `a + b`. */
export function add(a: Fraction, b: Fraction): Fraction {
  return fraction(a.num * b.den + b.num * a.den, a.den * b.den);
}

/** `a − b`. */
export function sub(a: Fraction, b: Fraction): Fraction {
  return fraction(a.num * b.den - b.num * a.den, a.den * b.den);
}

/** `a × n`. */
export function times(a: Fraction, n: bigint): Fraction {
  return fraction(a.num * n, a.den);
}

const ZERO: Fraction = { num: 0n, den: 1n };

/**
 * Prints an amount of price units (or of price units × lots) in the
 * instrument's currency, exactly: rounded half away from zero at
 * `priceDecimals + extraDecimals` places, never through a float.
 *
 * @param value The amount, in price units (× lots).
 * @param priceDecimals The instrument's decimals (a currency unit is 10^decimals price units).
 * @param extraDecimals Places beyond the price's (an average price may want them; default 0).
 * @returns The text, with a "-" when negative ("101.26", "-0.50").
 *
 * @example
 * ```ts
 * import { formatAmount, fraction } from "./pnl.ts";
 * if (formatAmount(fraction(20251n, 2n), 2) !== "101.26") throw new Error("wrong rounding");
 * if (formatAmount(fraction(-1n, 3n), 0, 2) !== "-0.33") throw new Error("wrong sign");
 * ```
 */
export function formatAmount(value: Fraction, priceDecimals: number, extraDecimals = 0): string {
  const scale = 10n ** BigInt(extraDecimals);
  const scaled = abs(value.num) * scale;
  let whole = scaled / value.den;
  if ((scaled % value.den) * 2n >= value.den) whole += 1n;
  const places = priceDecimals + extraDecimals;
  const digits = whole.toString().padStart(places + 1, "0");
  const text = places === 0 ? digits : `${digits.slice(0, -places)}.${digits.slice(-places)}`;
  return value.num < 0n && whole !== 0n ? `-${text}` : text;
}

/** One fill of a position. */
export interface Fill {
  readonly side: "buy" | "sell";
  /** Price units. */
  readonly price: number;
  /** Lots (positive). */
  readonly quantity: number;
}

/** A position's state and P&L. */
export interface PositionPnl {
  /** Lots: positive long, negative short. */
  readonly net: number;
  /** Lots bought, and sold. */
  readonly bought: number;
  readonly sold: number;
  /** Σ price × lots of the buys, and of the sells. */
  readonly boughtNotional: bigint;
  readonly soldNotional: bigint;
  /** The open position's average price (price units); undefined when flat. */
  readonly average: Fraction | undefined;
  /** Realised P&L, price units × lots. */
  readonly realised: Fraction;
}

/** A flat position with no history. */
export const FLAT: PositionPnl = {
  net: 0,
  bought: 0,
  sold: 0,
  boughtNotional: 0n,
  soldNotional: 0n,
  average: undefined,
  realised: ZERO,
};

/**
 * A position after one more fill (average cost).
 *
 * @param position The position before.
 * @param fill The fill.
 * @returns The position after.
 * @throws {RangeError} When the fill's price or quantity is not a positive safe integer.
 *
 * @example
 * ```ts
 * import { applyFill, FLAT, formatAmount } from "./pnl.ts";
 * let p = applyFill(FLAT, { side: "buy", price: 10000, quantity: 2 });
 * p = applyFill(p, { side: "buy", price: 10100, quantity: 1 });
 * p = applyFill(p, { side: "sell", price: 10200, quantity: 3 });
 * // Average 10033⅓; realised (10200 − 10033⅓) × 3 = 500 units: 5.00.
 * if (p.net !== 0 || formatAmount(p.realised, 2) !== "5.00") throw new Error("wrong P&L");
 * ```
 */
export function applyFill(position: PositionPnl, fill: Fill): PositionPnl {
  const { price, quantity } = fill;
  for (const [name, value] of [["price", price], ["quantity", quantity]] as const) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new RangeError(`Cannot apply fill: ${name} must be a positive integer, not ${value}`);
    }
  }
  const signed = fill.side === "buy" ? quantity : -quantity;
  const notional = BigInt(price) * BigInt(quantity);
  const before = position.net;
  const net = before + signed;
  const p = fraction(BigInt(price));
  let average = position.average;
  let realised = position.realised;
  if (before === 0 || Math.sign(before) === Math.sign(signed)) {
    // Opening or adding: the average of the old lots and the new.
    const old = average === undefined ? ZERO : times(average, BigInt(Math.abs(before)));
    const cost = add(old, fraction(notional));
    average = fraction(cost.num, cost.den * BigInt(Math.abs(net)));
  } else {
    // Reducing, closing or reversing: realise what closes.
    const closed = Math.min(Math.abs(before), quantity);
    const perLot = before > 0 ? sub(p, average!) : sub(average!, p);
    realised = add(realised, times(perLot, BigInt(closed)));
    average = net === 0 ? undefined : Math.sign(net) === Math.sign(before) ? average : p;
  }
  return {
    net,
    bought: position.bought + (fill.side === "buy" ? quantity : 0),
    sold: position.sold + (fill.side === "sell" ? quantity : 0),
    boughtNotional: position.boughtNotional + (fill.side === "buy" ? notional : 0n),
    soldNotional: position.soldNotional + (fill.side === "sell" ? notional : 0n),
    average,
    realised,
  };
}

/**
 * Unrealised P&L marked to a price: `(mark − average) × net`.
 *
 * @param position The position.
 * @param mark The last trade's price (units), or undefined when there has been none.
 * @returns Price units × lots; zero when flat; undefined when there is no mark.
 *
 * @example
 * ```ts
 * import { applyFill, FLAT, unrealised } from "./pnl.ts";
 * const short = applyFill(FLAT, { side: "sell", price: 10000, quantity: 2 });
 * if (unrealised(short, 9900)?.num !== 200n) throw new Error("a short gains when the price falls");
 * ```
 */
export function unrealised(position: PositionPnl, mark: number | undefined): Fraction | undefined {
  if (position.average === undefined) return ZERO;
  if (mark === undefined) return undefined;
  return times(sub(fraction(BigInt(mark)), position.average), BigInt(position.net));
}

/**
 * A position known only by its totals (the core's `positions` message,
 * when the fills behind it are not at hand, e.g. older than the core
 * keeps). Its average and realised P&L are those of the buys and the sells
 * each taken at their own average: exact when the position never went
 * through zero, an estimate otherwise. Net, totals and total P&L are exact.
 *
 * @param totals Lots and notionals bought and sold.
 * @returns The position.
 *
 * @example
 * ```ts
 * import { formatAmount, fromTotals } from "./pnl.ts";
 * const p = fromTotals({ bought: 3, sold: 1, boughtNotional: 30000n, soldNotional: 10100n });
 * if (p.net !== 2 || formatAmount(p.realised, 2) !== "1.00" || formatAmount(p.average!, 2) !== "100.00") {
 *   throw new Error("wrong position");
 * }
 * ```
 */
export function fromTotals(totals: {
  readonly bought: number;
  readonly sold: number;
  readonly boughtNotional: bigint;
  readonly soldNotional: bigint;
}): PositionPnl {
  const { bought, sold, boughtNotional, soldNotional } = totals;
  const net = bought - sold;
  const avgBuy = bought > 0 ? fraction(boughtNotional, BigInt(bought)) : undefined;
  const avgSell = sold > 0 ? fraction(soldNotional, BigInt(sold)) : undefined;
  const closed = Math.min(bought, sold);
  const realised = closed > 0 ? times(sub(avgSell!, avgBuy!), BigInt(closed)) : ZERO;
  return {
    net,
    bought,
    sold,
    boughtNotional,
    soldNotional,
    average: net > 0 ? avgBuy : net < 0 ? avgSell : undefined,
    realised,
  };
}
