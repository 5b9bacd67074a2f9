/**
 * The replay tool's JSON Lines protocol: command lines in, event lines out.
 *
 * The parser only decides whether a line is a command at all; every business
 * rule (unknown symbol, bad quantity or price, …) is the matcher's, so both
 * matchers reject the same things in the same order. Values the matcher
 * judges are passed through as sentinels: quantity `0`, price
 * {@linkcode INVALID_PRICE} or {@linkcode NO_PRICE}, instrument
 * {@linkcode UNKNOWN_INSTRUMENT}.
 *
 * @module
 */

import {
  type Command,
  CommandKind,
  type EngineEvent,
  EventKind,
  type Instrument,
  INVALID_PRICE,
  NO_PRICE,
  OrderType,
  Side,
  TimeInForce,
  UNKNOWN_INSTRUMENT,
} from "./types.ts";

/** The outcome of {@linkcode CommandParser.parse}: a command, or why the line is not one. */
export type ParsedLine = { ok: true; command: Command } | { ok: false; message: string };

/** The longest account name a command may carry. */
const MAX_ACCOUNT_LENGTH = 64;

const SIDES: Readonly<Record<string, Side>> = { buy: Side.Buy, sell: Side.Sell };
const TYPES: Readonly<Record<string, OrderType>> = {
  limit: OrderType.Limit,
  market: OrderType.Market,
};
const TIFS: Readonly<Record<string, TimeInForce>> = {
  gtc: TimeInForce.Gtc,
  ioc: TimeInForce.Ioc,
  fok: TimeInForce.Fok,
};

/**
 * Turns command lines into normalised {@linkcode Command}s. Stateful: it
 * numbers accounts in first-seen order (0, 1, 2, …), so one parser serves
 * one run.
 *
 * @example
 * ```ts
 * import { CommandParser, loadInstruments } from "./mod.ts";
 * import { assertEquals } from "../_testing/assert.ts";
 *
 * const parser = new CommandParser(loadInstruments());
 * const parsed = parser.parse(
 *   '{"op":"new","id":7,"account":"A1","symbol":"AAPL","side":"buy","type":"limit","price":10050,"qty":100}',
 * );
 * assertEquals(parsed, {
 *   ok: true,
 *   command: {
 *     kind: 1, id: 7, account: 0, instrument: 0, side: 0, type: 0, tif: 0,
 *     postOnly: false, price: 10050, qty: 100,
 *   },
 * });
 * assertEquals(parser.parse("[]"), { ok: false, message: "it is not a JSON object" });
 * ```
 */
export class CommandParser {
  /** The instrument table the parser maps symbols against. */
  readonly instruments: readonly Instrument[];
  readonly #symbols = new Map<string, number>();
  readonly #accounts = new Map<string, number>();

  /**
   * Makes a parser for one run.
   *
   * @param instruments The instrument table; a symbol's number is its position.
   */
  constructor(instruments: readonly Instrument[]) {
    this.instruments = instruments;
    instruments.forEach((instrument, i) => this.#symbols.set(instrument.symbol, i));
  }

  /**
   * Parses one line. Interns the account only when the line is a command, so
   * a broken line does not use up an account number.
   *
   * @param line One line of input, without its line break.
   * @returns The command, or a message saying what failed and why (without
   *   the line number; see {@linkcode formatError}).
   *
   * @example
   * ```ts
   * import { CommandParser, loadInstruments } from "./mod.ts";
   * import { assertEquals } from "../_testing/assert.ts";
   *
   * const parser = new CommandParser(loadInstruments());
   * assertEquals(parser.parse('{"op":"cancel","id":7}'), {
   *   ok: true,
   *   command: { kind: 2, id: 7 },
   * });
   * ```
   */
  parse(line: string): ParsedLine {
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      return { ok: false, message: "it is not valid JSON" };
    }
    if (typeof json !== "object" || json === null || Array.isArray(json)) {
      return { ok: false, message: "it is not a JSON object" };
    }
    const record = json as Record<string, unknown>;
    const { op, id } = record;
    if (op !== "new" && op !== "cancel" && op !== "replace") {
      return invalid("op", `"new", "cancel" or "replace"`);
    }
    if (!Number.isSafeInteger(id) || (id as number) < 0) {
      return invalid("id", "a non-negative safe integer");
    }
    const orderId = id as number;
    if (op === "cancel") {
      return { ok: true, command: { kind: CommandKind.CancelOrder, id: orderId } };
    }
    if (op === "replace") {
      return {
        ok: true,
        command: {
          kind: CommandKind.ReplaceOrder,
          id: orderId,
          price: positive(record.price, INVALID_PRICE),
          qty: positive(record.qty, 0),
        },
      };
    }
    return this.#parseNew(record, orderId);
  }

  #parseNew(record: Record<string, unknown>, id: number): ParsedLine {
    const { account, side, type, tif, postOnly, price, symbol } = record;
    if (
      typeof account !== "string" || account.length === 0 || account.length > MAX_ACCOUNT_LENGTH
    ) {
      return invalid("account", `a string of 1 to ${MAX_ACCOUNT_LENGTH} characters`);
    }
    const sideCode = lookup(SIDES, side);
    if (sideCode === undefined) return invalid("side", `"buy" or "sell"`);
    const typeCode = lookup(TYPES, type);
    if (typeCode === undefined) return invalid("type", `"limit" or "market"`);
    const tifCode = tif === undefined ? TimeInForce.Gtc : lookup(TIFS, tif);
    if (tifCode === undefined) return invalid("tif", `"gtc", "ioc" or "fok" when present`);
    if (postOnly !== undefined && typeof postOnly !== "boolean") {
      return invalid("postOnly", "true or false when present");
    }
    const noPrice = price === undefined || price === null;
    return {
      ok: true,
      command: {
        kind: CommandKind.PlaceOrder,
        id,
        account: this.#intern(account),
        instrument: (typeof symbol === "string" ? this.#symbols.get(symbol) : undefined) ??
          UNKNOWN_INSTRUMENT,
        side: sideCode,
        type: typeCode,
        tif: tifCode,
        postOnly: postOnly ?? false,
        // A market order's only valid price is none; any price it carries is
        // passed as invalid so the matcher rejects it (`invalid_order`).
        price: typeCode === OrderType.Market
          ? (noPrice ? NO_PRICE : INVALID_PRICE)
          : positive(price, INVALID_PRICE),
        qty: positive(record.qty, 0),
      },
    };
  }

  #intern(account: string): number {
    let n = this.#accounts.get(account);
    if (n === undefined) {
      n = this.#accounts.size;
      this.#accounts.set(account, n);
    }
    return n;
  }
}

/**
 * The JSON object of one event line: `"ev"` first, then the event's fields,
 * then `"symbol"` when the instrument is in the table.
 *
 * @param event The event.
 * @param instruments The instrument table, for the symbol.
 * @returns An object ready for `JSON.stringify`.
 *
 * @example
 * ```ts
 * import { eventToJson, loadInstruments } from "./mod.ts";
 * import { assertEquals } from "../_testing/assert.ts";
 *
 * const json = eventToJson(
 *   { kind: 4, id: 7, instrument: 0, leaves: 20, reason: "self_trade" },
 *   loadInstruments(),
 * );
 * assertEquals(
 *   JSON.stringify(json),
 *   '{"ev":"cancelled","id":7,"leaves":20,"reason":"self_trade","symbol":"AAPL"}',
 * );
 * ```
 */
export function eventToJson(
  event: EngineEvent,
  instruments: readonly Instrument[],
): Record<string, unknown> {
  let json: Record<string, unknown>;
  switch (event.kind) {
    case EventKind.OrderAccepted:
      json = { ev: "accepted", id: event.id };
      break;
    case EventKind.OrderRejected:
      json = { ev: "rejected", id: event.id, reason: event.reason };
      break;
    case EventKind.OrderTraded:
      json = {
        ev: "trade",
        taker: event.taker,
        maker: event.maker,
        price: event.price,
        qty: event.qty,
      };
      break;
    case EventKind.OrderCancelled:
      json = { ev: "cancelled", id: event.id, leaves: event.leaves };
      // An owner's cancel is the norm; only prevention says why.
      if (event.reason === "self_trade") json.reason = event.reason;
      break;
    case EventKind.OrderExpired:
      json = { ev: "expired", id: event.id, leaves: event.leaves };
      break;
    case EventKind.OrderReplaced:
      json = { ev: "replaced", id: event.id, price: event.price, qty: event.qty };
      break;
  }
  const symbol = instruments[event.instrument]?.symbol;
  if (symbol !== undefined) json.symbol = symbol;
  return json;
}

/**
 * The error event for a line that is not a command.
 *
 * @param line The 1-based line number.
 * @param message Why, as {@linkcode CommandParser.parse} says it.
 * @returns `{"ev":"error","line":N,"message":"Cannot read line N: …"}` as an object.
 *
 * @example
 * ```ts
 * import { formatError } from "./protocol.ts";
 * import { assertEquals } from "../_testing/assert.ts";
 *
 * assertEquals(
 *   JSON.stringify(formatError(3, `field "side" must be "buy" or "sell"`)),
 *   '{"ev":"error","line":3,"message":"Cannot read line 3: field \\"side\\" must be \\"buy\\" or \\"sell\\""}',
 * );
 * ```
 */
export function formatError(line: number, message: string): Record<string, unknown> {
  return { ev: "error", line, message: `Cannot read line ${line}: ${message}` };
}

function invalid(field: string, what: string): ParsedLine {
  return { ok: false, message: `field "${field}" must be ${what}` };
}

function lookup<T>(table: Readonly<Record<string, T>>, key: unknown): T | undefined {
  return typeof key === "string" && Object.hasOwn(table, key) ? table[key] : undefined;
}

/** `value` if it is a positive safe integer, else `otherwise`: the matcher rejects the sentinel. */
function positive(value: unknown, otherwise: number): number {
  return Number.isSafeInteger(value) && (value as number) > 0 ? value as number : otherwise;
}
