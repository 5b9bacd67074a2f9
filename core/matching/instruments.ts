/**
 * Loads and validates the instrument table (`core/config/instruments.json`).
 * An instrument's position in the table is its number on the engine's wire
 * and in the state hash, so the table is returned in file order.
 *
 * # Quantities
 * Every instrument has a maximum order quantity (`maxOrderQty`, default
 * {@linkcode DEFAULT_MAX_ORDER_QTY}), which the engine's pre-trade risk
 * applies to every order, and which may not exceed
 * {@linkcode MAX_ORDER_QTY_CEILING} = 2^21 − 1. That ceiling is what keeps
 * the sums of open quantities exact in JavaScript: the engine indexes
 * resting orders with 32 bits, so fewer than 2^32 orders rest at once, and
 * any sum of their open quantities — a price level's total, an account's
 * open buys of a symbol — stays below 2^32 × 2^21 = 2^53. Totals that grow
 * with time instead (volumes, positions, notionals) are kept by their owners
 * with saturating or `bigint` arithmetic.
 *
 * @module
 */

import type { Instrument } from "./types.ts";
import { SYMBOL_PATTERN } from "../../schemas/vocabulary/names.ts";

/**
 * Where the instrument table lives in this repository.
 *
 * @example
 * ```ts
 * import { DEFAULT_INSTRUMENTS_URL } from "./instruments.ts";
 * import assert from "node:assert";
 *
 * assert(DEFAULT_INSTRUMENTS_URL.pathname.endsWith("/core/config/instruments.json"));
 * ```
 */
export const DEFAULT_INSTRUMENTS_URL: URL = new URL("../config/instruments.json", import.meta.url);

/**
 * An instrument's maximum order quantity when the table gives none, in lots.
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_ORDER_QTY, parseInstruments } from "./instruments.ts";
 * import assert from "node:assert";
 *
 * const [x] = parseInstruments({
 *   instruments: [{ symbol: "X", name: "X", tickSize: 1, lotSize: 1, priceScale: 100, referencePrice: 100 }],
 * }, "inline");
 * assert.deepStrictEqual(x?.maxOrderQty, DEFAULT_MAX_ORDER_QTY);
 * ```
 */
export const DEFAULT_MAX_ORDER_QTY = 1_000_000;

/**
 * The largest maximum order quantity an instrument may have, in lots:
 * 2^21 − 1, so that fewer than 2^32 resting orders never sum past 2^53 − 1
 * (see the module documentation).
 *
 * @example
 * ```ts
 * import { MAX_ORDER_QTY_CEILING } from "./instruments.ts";
 * if ((2 ** 32 - 1) * MAX_ORDER_QTY_CEILING > Number.MAX_SAFE_INTEGER) throw new Error("unsafe");
 * ```
 */
export const MAX_ORDER_QTY_CEILING = 2 ** 21 - 1;

const INTEGER_FIELDS = ["tickSize", "lotSize", "priceScale", "referencePrice"] as const;
const FIELDS: ReadonlySet<string> = new Set([
  "$comment",
  "symbol",
  "name",
  "maxOrderQty",
  ...INTEGER_FIELDS,
]);

/**
 * Reads and validates an instrument table file. Synchronous because it runs
 * once at start-up, before anything else can happen.
 *
 * @param path The JSON file; defaults to {@linkcode DEFAULT_INSTRUMENTS_URL}.
 * @returns The instruments in file order.
 * @throws {Error} If the file cannot be read (the cause is Deno's error).
 * @throws {SyntaxError} If the file is not JSON.
 * @throws {TypeError} If the table is invalid; see {@linkcode parseInstruments}.
 *
 * @example
 * ```ts
 * import { loadInstruments } from "./instruments.ts";
 * import assert from "node:assert";
 *
 * const instruments = loadInstruments();
 * assert.deepStrictEqual(instruments[0]?.symbol, "AAPL");
 * ```
 */
export function loadInstruments(path: string | URL = DEFAULT_INSTRUMENTS_URL): Instrument[] {
  const source = path instanceof URL && path.protocol === "file:"
    ? decodeURIComponent(path.pathname)
    : String(path);
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new Error(`Cannot load instruments: ${source}: ${reason}`, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new SyntaxError(`Cannot load instruments: ${source}: not valid JSON (${reason})`, {
      cause,
    });
  }
  return parseInstruments(json, source);
}

/**
 * Validates a parsed instrument table: `{"instruments": [...]}` with at least
 * one instrument, each with a unique `symbol` of 1–12 of `[A-Z0-9.-]`, a
 * string `name`, positive integer `tickSize`, `lotSize`, `priceScale`
 * and `referencePrice` (a multiple of `tickSize`), and optionally
 * `maxOrderQty`, an integer from 1 to {@linkcode MAX_ORDER_QTY_CEILING}
 * ({@linkcode DEFAULT_MAX_ORDER_QTY} when absent). `"$comment"` keys are
 * ignored; any other unknown key is an error, since it is most likely a
 * misspelt field.
 *
 * @param json The parsed JSON.
 * @param source Where it came from, for error messages.
 * @returns The instruments in table order, holding only the known fields
 *   (`maxOrderQty` always).
 * @throws {TypeError} If the table is invalid, e.g.
 *   "Cannot load instruments: x.json: instrument 3 has tickSize 0; it must be a positive integer".
 *
 * @example
 * ```ts
 * import { parseInstruments } from "./instruments.ts";
 * import assert from "node:assert";
 *
 * const [es] = parseInstruments({
 *   instruments: [{
 *     symbol: "ES-FUT", name: "E-mini", tickSize: 25, lotSize: 1, priceScale: 100,
 *     referencePrice: 560000,
 *   }],
 * }, "inline");
 * assert.deepStrictEqual([es?.tickSize, es?.maxOrderQty], [25, 1_000_000]);
 * ```
 */
export function parseInstruments(json: unknown, source: string): Instrument[] {
  const fail = (message: string): never => {
    throw new TypeError(`Cannot load instruments: ${source}: ${message}`);
  };
  if (!isRecord(json)) return fail("the table must be a JSON object");
  for (const key of Object.keys(json)) {
    if (key !== "$comment" && key !== "instruments") fail(`unknown field ${JSON.stringify(key)}`);
  }
  const list = json.instruments;
  if (!Array.isArray(list) || list.length === 0) {
    return fail(`field "instruments" must be a non-empty array`);
  }
  const seen = new Set<string>();
  return list.map((entry: unknown, i): Instrument => {
    if (!isRecord(entry)) return fail(`instrument ${i} must be a JSON object`);
    for (const key of Object.keys(entry)) {
      if (!FIELDS.has(key)) fail(`instrument ${i} has unknown field ${JSON.stringify(key)}`);
    }
    const { symbol, name } = entry;
    if (typeof symbol !== "string" || !SYMBOL_PATTERN.test(symbol)) {
      return fail(
        `instrument ${i} ${has("symbol", symbol)}; it must be 1 to 12 of A-Z, 0-9, "." and "-"`,
      );
    }
    if (seen.has(symbol)) {
      fail(`instrument ${i} repeats symbol "${symbol}"; symbols must be unique`);
    }
    seen.add(symbol);
    if (typeof name !== "string") {
      return fail(`instrument ${i} ${has("name", name)}; it must be a string`);
    }
    const [tickSize, lotSize, priceScale, referencePrice] = INTEGER_FIELDS.map((field) => {
      const value = entry[field];
      if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) {
        return fail(`instrument ${i} ${has(field, value)}; it must be a positive integer`);
      }
      return value;
    }) as [number, number, number, number];
    if (referencePrice % tickSize !== 0) {
      fail(
        `instrument ${i} has referencePrice ${referencePrice}; it must be a multiple of tickSize ${tickSize}`,
      );
    }
    const maxOrderQty = entry.maxOrderQty === undefined ? DEFAULT_MAX_ORDER_QTY : entry.maxOrderQty;
    if (
      typeof maxOrderQty !== "number" || !Number.isSafeInteger(maxOrderQty) || maxOrderQty < 1 ||
      maxOrderQty > MAX_ORDER_QTY_CEILING
    ) {
      return fail(
        `instrument ${i} ${
          has("maxOrderQty", maxOrderQty)
        }; it must be an integer from 1 to ${MAX_ORDER_QTY_CEILING} (lots per order)`,
      );
    }
    return { symbol, name, tickSize, lotSize, priceScale, referencePrice, maxOrderQty };
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function has(field: string, value: unknown): string {
  return value === undefined ? `has no ${field}` : `has ${field} ${JSON.stringify(value)}`;
}
