/**
 * The replay tool's JSON Lines protocol: command lines in, event lines out.
 *
 * The parser only decides whether a line is a command at all; every business
 * rule (unknown symbol, bad quantity or price, …) is the matcher's, so both
 * matchers reject the same things in the same order. Values the matcher
 * judges are passed through as sentinels: quantity `0`, price
 * {@linkcode INVALID_PRICE} or {@linkcode NO_PRICE}, instrument
 * {@linkcode UNKNOWN_INSTRUMENT}. {@linkcode commandToJson} goes the other
 * way, so a journaled command can be replayed as a line.
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
  type PlaceOrder,
  Side,
  TimeInForce,
  UNKNOWN_INSTRUMENT,
} from "./types.ts";
import { accountNameFault, MAX_ACCOUNT_BYTES } from "../../schemas/vocabulary/names.ts";

/** The outcome of {@linkcode CommandParser.parse}: a command, or why the line is not one. */
export type ParsedLine = { ok: true; command: Command } | { ok: false; message: string };

/** Options for the {@linkcode CommandParser} constructor. */
export interface CommandParserOptions {
  /**
   * Accounts numbered by an earlier run, as `[number, name]` pairs (a
   * journal's, in definition order). The parser gives these names these
   * numbers, and new names the numbers after the highest of them.
   */
  readonly accounts?: Iterable<readonly [number, string]>;
}

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

/** Each table turned around: the name of each code, by code. */
const SIDE_NAMES = codeNames(SIDES);
const TYPE_NAMES = codeNames(TYPES);
const TIF_NAMES = codeNames(TIFS);

/**
 * Turns command lines into normalised {@linkcode Command}s. Stateful: it
 * numbers accounts in first-seen order (0, 1, 2, …, or on from the accounts
 * it was given), so one parser serves one run.
 *
 * @example
 * ```ts
 * import { CommandParser, loadInstruments } from "./mod.ts";
 * import assert from "node:assert";
 *
 * const parser = new CommandParser(loadInstruments());
 * const parsed = parser.parse(
 *   '{"op":"new","id":7,"account":"A1","symbol":"AAPL","side":"buy","type":"limit","price":10050,"qty":100}',
 * );
 * assert.deepStrictEqual(parsed, {
 *   ok: true,
 *   command: {
 *     kind: 1, id: 7, account: 0, instrument: 0, side: 0, type: 0, tif: 0,
 *     postOnly: false, price: 10050, qty: 100,
 *   },
 * });
 * assert.deepStrictEqual(parser.parse("[]"), { ok: false, message: "it is not a JSON object" });
 * ```
 */
export class CommandParser {
  /** The instrument table the parser maps symbols against. */
  readonly instruments: readonly Instrument[];
  readonly #symbols = new Map<string, number>();
  readonly #accounts = new Map<string, number>();
  readonly #names = new Map<number, string>();
  #nextAccount = 0;

  /**
   * Makes a parser for one run.
   *
   * @param instruments The instrument table; a symbol's number is its position.
   * @param options Accounts an earlier run numbered; see {@linkcode CommandParserOptions}.
   * @throws {RangeError} When `options.accounts` gives one name two numbers,
   *   one number two names, or a number that is not a non-negative integer
   *   below 2^32.
   *
   * @example
   * ```ts
   * import { CommandParser, loadInstruments } from "./mod.ts";
   * import assert from "node:assert";
   *
   * // A run that continues one whose journal named accounts 0 and 1.
   * const parser = new CommandParser(loadInstruments(), { accounts: [[0, "A"], [1, "B"]] });
   * const account = (name: string) => {
   *   const parsed = parser.parse(JSON.stringify({ op: "new", id: 1, account: name, side: "buy", type: "market" }));
   *   return parsed.ok && parsed.command.kind === 1 ? parsed.command.account : undefined;
   * };
   * assert.deepStrictEqual([account("B"), account("C"), account("A")], [1, 2, 0]);
   * assert.deepStrictEqual(parser.accountName(2), "C");
   * ```
   */
  constructor(instruments: readonly Instrument[], options: CommandParserOptions = {}) {
    this.instruments = instruments;
    instruments.forEach((instrument, i) => this.#symbols.set(instrument.symbol, i));
    for (const [account, name] of options.accounts ?? []) {
      if (!Number.isInteger(account) || account < 0 || account > 0xffff_ffff) {
        throw new RangeError(
          `Cannot number accounts: account ${account} ("${name}") is not an integer from 0 to 2^32 - 1`,
        );
      }
      const number = this.#accounts.get(name);
      const known = this.#names.get(account);
      // Repeating a pair is harmless; a conflict would give a name two accounts.
      if ((number !== undefined && number !== account) || (known !== undefined && known !== name)) {
        throw new RangeError(
          `Cannot number accounts: account ${account} is "${name}", but ${
            number !== undefined && number !== account
              ? `"${name}" is already account ${number}`
              : `account ${account} is already "${known}"`
          }`,
        );
      }
      this.#accounts.set(name, account);
      this.#names.set(account, name);
      this.#nextAccount = Math.max(this.#nextAccount, account + 1);
    }
  }

  /**
   * The name of an account number this parser gave out or was given.
   *
   * @param account The account number.
   * @returns Its name, or undefined when the parser does not know the number.
   *
   * @example
   * ```ts
   * import { CommandParser, loadInstruments } from "./mod.ts";
   * import assert from "node:assert";
   *
   * const parser = new CommandParser(loadInstruments());
   * parser.parse('{"op":"new","id":1,"account":"ALICE","side":"buy","type":"market","qty":1}');
   * assert.deepStrictEqual([parser.accountName(0), parser.accountName(1)], ["ALICE", undefined]);
   * ```
   */
  accountName(account: number): string | undefined {
    return this.#names.get(account);
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
   * import assert from "node:assert";
   *
   * const parser = new CommandParser(loadInstruments());
   * assert.deepStrictEqual(parser.parse('{"op":"cancel","id":7}'), {
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
    if (typeof account !== "string" || account === "") return invalid("account", ACCOUNT);
    // A known name was checked when it was first seen.
    if (!this.#accounts.has(account)) {
      const why = accountProblem(account);
      if (why !== undefined) return invalid("account", `${ACCOUNT}, ${why}`);
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
      n = this.#nextAccount++;
      this.#accounts.set(account, n);
      this.#names.set(n, account);
    }
    return n;
  }
}

const ACCOUNT = `a string of 1 to ${MAX_ACCOUNT_BYTES} bytes of UTF-8`;
/** Why a non-empty account name cannot be journaled, or undefined when it can. */
function accountProblem(account: string): string | undefined {
  const fault = accountNameFault(account);
  if (fault === undefined) return undefined;
  return fault.kind === "lone_surrogate"
    ? "and this one holds a lone surrogate, which UTF-8 cannot encode"
    : `not ${fault.bytes} bytes`;
}

/**
 * The JSON object of one command line: the inverse of
 * {@linkcode CommandParser.parse}, so that a parser reading the line gets the
 * same command back (its account numbered by that parser). Field order:
 * `op`, `id`, then for `new` `account`, `symbol`, `side`, `type`, `tif`,
 * `price` (not for a market order without one), `qty`, `postOnly`, and for
 * `replace` `price`, `qty`.
 *
 * A command whose line carried invalid values holds the sentinels the parser
 * put there; they are written back as values that parse to the same
 * sentinels, so that replaying the line gets the same rejection:
 * - an instrument not in the table ({@linkcode UNKNOWN_INSTRUMENT} or past
 *   its end) becomes the symbol `"?"`, which no table can configure
 *   (symbols are `[A-Z0-9.-]`): `unknown_symbol`;
 * - quantity `0` stays `0` (`invalid_qty`); a negative price stays negative
 *   (`invalid_price`, or `invalid_order` for a market order, whose price is
 *   written whenever it is not {@linkcode NO_PRICE}).
 *
 * @param command The command.
 * @param instruments The instrument table, for the symbol.
 * @param accountName The name of a `new` command's account number.
 * @returns An object ready for `JSON.stringify`.
 * @throws {RangeError} When a side, type or time in force is not a code
 *   the line format has a name for (a record decoded from foreign bytes).
 *
 * @example
 * ```ts
 * import { commandToJson, CommandParser, loadInstruments } from "./mod.ts";
 * import assert from "node:assert";
 *
 * const instruments = loadInstruments();
 * const command = {
 *   kind: 1, id: 7, account: 0, instrument: 0xffff_ffff, side: 1, type: 1, tif: 0,
 *   postOnly: false, price: 0, qty: 5,
 * } as const;
 * const json = commandToJson(command, instruments, () => "A1");
 * assert.deepStrictEqual(
 *   JSON.stringify(json),
 *   '{"op":"new","id":7,"account":"A1","symbol":"?","side":"sell","type":"market","tif":"gtc","qty":5,"postOnly":false}',
 * );
 * assert.deepStrictEqual(new CommandParser(instruments).parse(JSON.stringify(json)), { ok: true, command });
 * ```
 */
export function commandToJson(
  command: Command,
  instruments: readonly Instrument[],
  accountName: (account: number) => string,
): Record<string, unknown> {
  switch (command.kind) {
    case CommandKind.PlaceOrder:
      return placeToJson(command, instruments, accountName);
    case CommandKind.CancelOrder:
      return { op: "cancel", id: command.id };
    case CommandKind.ReplaceOrder:
      return { op: "replace", id: command.id, price: command.price, qty: command.qty };
  }
}

function placeToJson(
  command: PlaceOrder,
  instruments: readonly Instrument[],
  accountName: (account: number) => string,
): Record<string, unknown> {
  const name = (names: readonly (string | undefined)[], code: number, field: string) => {
    const found = names[code];
    if (found === undefined) {
      throw new RangeError(
        `Cannot write order ${command.id} as a line: ${field} ${code} has no name in the line format`,
      );
    }
    return found;
  };
  const type = name(TYPE_NAMES, command.type, "type");
  const json: Record<string, unknown> = {
    op: "new",
    id: command.id,
    account: accountName(command.account),
    symbol: instruments[command.instrument]?.symbol ?? "?",
    side: name(SIDE_NAMES, command.side, "side"),
    type,
    tif: name(TIF_NAMES, command.tif, "tif"),
  };
  if (command.type !== OrderType.Market || command.price !== NO_PRICE) json.price = command.price;
  json.qty = command.qty;
  json.postOnly = command.postOnly;
  return json;
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
 * import assert from "node:assert";
 *
 * const json = eventToJson(
 *   { kind: 4, id: 7, instrument: 0, leaves: 20, reason: "self_trade" },
 *   loadInstruments(),
 * );
 * assert.deepStrictEqual(
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
 * import assert from "node:assert";
 *
 * assert.deepStrictEqual(
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

function codeNames(table: Readonly<Record<string, number>>): readonly (string | undefined)[] {
  const names: (string | undefined)[] = [];
  for (const [name, code] of Object.entries(table)) names[code] = name;
  return names;
}

function lookup<T>(table: Readonly<Record<string, T>>, key: unknown): T | undefined {
  return typeof key === "string" && Object.hasOwn(table, key) ? table[key] : undefined;
}

/** `value` if it is a positive safe integer, else `otherwise`: the matcher rejects the sentinel. */
function positive(value: unknown, otherwise: number): number {
  return Number.isSafeInteger(value) && (value as number) > 0 ? value as number : otherwise;
}
