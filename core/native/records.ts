/**
 * The 64-byte command and event records, as `native/src/record.rs` lays
 * them out (little-endian). Encoding writes straight into a `Uint32Array`
 * over the shared ring or a scratch buffer, so the hot path allocates nothing.
 *
 * 64-bit integer fields are written and read as two 32-bit halves: JavaScript
 * numbers hold every safe integer exactly, and the halves avoid a `BigInt`
 * per field.
 *
 * @module
 */

import { type Command, CommandKind, type EngineEvent, EventKind } from "../matching/types.ts";
import { MAX_ACCOUNT_BYTES } from "../../schemas/vocabulary/names.ts";
import { engineCancelReasonOf, engineRejectReasonOf } from "../../schemas/vocabulary/reasons.ts";

/** Bytes per record. */
export const RECORD_BYTES = 64;
/** 32-bit words per record. */
export const RECORD_WORDS = 16;

/** Command kind of the state-hash query (a control command; see record.rs). */
export const CMD_QUERY_STATE_HASH = 64;
/** Event kind of the state-hash answer; the hash is in the `maker` field. */
export const EV_STATE_HASH = 64;
/** Command kind that names an account (journaled, so tools can print names). */
export const CMD_DEFINE_ACCOUNT = 65;
/** Event kind acknowledging {@linkcode CMD_DEFINE_ACCOUNT}; the account number is in `id`. */
export const EV_ACCOUNT_DEFINED = 65;
/** Command kind: set one pre-trade risk limit (see `native/src/risk.rs`). */
export const CMD_SET_RISK_LIMIT = 66;
/** Command kind: a kill switch for an account, or everyone. */
export const CMD_SET_KILL_SWITCH = 67;
/** Command kind: an instrument's reference price for the price collar. */
export const CMD_SET_REFERENCE_PRICE = 68;
/** Event kind acknowledging a risk control command; `id` echoes the command's. */
export const EV_CONTROL_APPLIED = 66;
/** The account number meaning "every account" in risk control commands. */
export const ALL_ACCOUNTS = 0xffff_ffff;

/**
 * Writes a set-risk-limit record at word `at` (`CMD_SET_RISK_LIMIT` in
 * `native/src/record.rs`). The record's words carry other things than their
 * names say: the limit's id in `instrument`, the scope (an instrument's
 * number + 1, or 0 for every instrument) in `price`, the value in `qty`.
 *
 * @param u32 The buffer, as 32-bit words.
 * @param at Word offset of the record.
 * @param limit The limit: an account (or {@linkcode ALL_ACCOUNTS}: the
 *   defaults), the limit's id (`RiskLimit` of `schemas/vocabulary/`), the
 *   instrument it is for (undefined: every instrument), and its value (0: no
 *   limit; -1: drop the instrument's override).
 *
 * @example
 * ```ts
 * import { RECORD_WORDS, writeSetRiskLimit } from "./records.ts";
 * import { RiskLimit } from "../../schemas/vocabulary/risk_limits.ts";
 * const u32 = new Uint32Array(RECORD_WORDS);
 * writeSetRiskLimit(u32, 0, { account: 1, limit: RiskLimit.position, value: 100 });
 * if (u32[0] !== 66 || u32[1] !== 3 || u32[6] !== 100 || u32[8] !== 1) throw new Error("bad record");
 * ```
 */
export function writeSetRiskLimit(
  u32: Uint32Array,
  at: number,
  limit: { account: number; limit: number; instrument?: number | undefined; value: number },
): void {
  writeControl(u32, at, CMD_SET_RISK_LIMIT, limit.account, limit.limit, {
    price: limit.instrument === undefined ? 0 : limit.instrument + 1,
    qty: limit.value,
  });
}

/**
 * Writes a kill-switch record at word `at` (`CMD_SET_KILL_SWITCH`): the
 * switch is carried in `qty` (1 on, 0 off).
 *
 * @param u32 The buffer, as 32-bit words.
 * @param at Word offset of the record.
 * @param account The account, or {@linkcode ALL_ACCOUNTS} for everyone.
 * @param on True stops the account's new orders and replaces.
 *
 * @example
 * ```ts
 * import { ALL_ACCOUNTS, RECORD_WORDS, writeKillSwitch } from "./records.ts";
 * const u32 = new Uint32Array(RECORD_WORDS);
 * writeKillSwitch(u32, 0, ALL_ACCOUNTS, true);
 * if (u32[0] !== 67 || u32[6] !== 1 || u32[8] !== 0xffff_ffff) throw new Error("bad record");
 * ```
 */
export function writeKillSwitch(u32: Uint32Array, at: number, account: number, on: boolean): void {
  writeControl(u32, at, CMD_SET_KILL_SWITCH, account, 0, { price: 0, qty: on ? 1 : 0 });
}

/**
 * Writes a reference-price record at word `at` (`CMD_SET_REFERENCE_PRICE`):
 * the instrument's price for the price collar.
 *
 * @param u32 The buffer, as 32-bit words.
 * @param at Word offset of the record.
 * @param instrument The instrument's number.
 * @param price The reference price, in price units.
 *
 * @example
 * ```ts
 * import { RECORD_WORDS, writeReferencePrice } from "./records.ts";
 * const u32 = new Uint32Array(RECORD_WORDS);
 * writeReferencePrice(u32, 0, 2, 12_345);
 * if (u32[0] !== 68 || u32[1] !== 2 || u32[4] !== 12_345) throw new Error("bad record");
 * ```
 */
export function writeReferencePrice(
  u32: Uint32Array,
  at: number,
  instrument: number,
  price: number,
): void {
  writeControl(u32, at, CMD_SET_REFERENCE_PRICE, 0, instrument, { price, qty: 0 });
}

/** Writes a control record: kind, account, the instrument word, price and quantity words. */
function writeControl(
  u32: Uint32Array,
  at: number,
  kind: number,
  account: number,
  instrumentWord: number,
  words: { price: number; qty: number },
): void {
  u32.fill(0, at, at + RECORD_WORDS);
  u32[at + KIND] = kind;
  u32[at + INSTRUMENT] = instrumentWord >>> 0;
  writeI64(u32, at + PRICE, words.price);
  writeI64(u32, at + QTY, words.qty);
  u32[at + CMD_ACCOUNT] = account >>> 0;
}

/** Event flag: the order is a sell. */
export const EVF_SELL = 1;
/** Event flag: first event of its command. */
export const EVF_FIRST = 2;
/** Event flag: last event of its command. */
export const EVF_LAST = 4;

// Word offsets inside a record.
const KIND = 0;
const INSTRUMENT = 1;
const ID = 2;
const PRICE = 4;
const QTY = 6;
const CMD_ACCOUNT = 8;
const CMD_BYTES = 9; // side, type, tif, flags
const INGRESS = 10;
const CMD_TAG = 12;
const CMD_PLACER = 14; // u32; word 15 is reserved (0)
const EV_MAKER = 8;
const EV_REASON = 10;
const EV_FLAGS = 11;
const EV_SEQ = 14;

const TWO_32 = 4294967296;

function writeI64(u32: Uint32Array, at: number, value: number): void {
  if (value >= 0 && value < TWO_32) {
    // The common case, without a division.
    u32[at] = value;
    u32[at + 1] = 0;
  } else {
    u32[at] = value >>> 0;
    u32[at + 1] = Math.floor(value / TWO_32) >>> 0;
  }
}

/** Reads a 64-bit field as a number (exact for safe integers). */
export function readI64(u32: Uint32Array, at: number): number {
  return (u32[at + 1]! | 0) * TWO_32 + u32[at]!;
}

/** Reads a 64-bit field as an unsigned bigint (hashes, sequence numbers). */
export function readU64(u32: Uint32Array, at: number): bigint {
  return (BigInt(u32[at + 1]!) << 32n) | BigInt(u32[at]!);
}

const positiveOr = (value: number, fallback: number): number =>
  Number.isSafeInteger(value) && value > 0 ? value : fallback;

/**
 * Writes a command record at word `at` of `u32`.
 *
 * Values a matcher must reject are normalised to the engine's sentinels, so
 * that the native engine and the reference matcher see the same thing: a
 * quantity that is not a positive safe integer becomes 0, a price that is
 * not a non-negative safe integer becomes -1.
 *
 * @param u32 The buffer, as 32-bit words.
 * @param at Word offset of the record (a multiple of 16).
 * A place-order record's `tag` and `placer` label the order: it keeps them
 * while it rests (through replaces, in snapshots), and
 * `NativeEngine.restingOrders` returns them after a restart. The gateway
 * puts the client's order id in `tag`, and the engine number of the
 * account that placed the order for another (an admin) in `placer`; the
 * record holds `placer + 1`, 0 meaning the order's own account.
 *
 * @param u32 The buffer, as 32-bit words.
 * @param at Word offset of the record (a multiple of 16).
 * @param command The command.
 * @param tag The caller's correlation tag, echoed on events: a safe integer,
 *   or a bigint taken modulo 2^64 (a client order id).
 * @param placer For a place order: the engine number (below 2^32 − 1) of
 *   the account that placed it, when not its own; undefined when it is.
 *
 * @example
 * ```ts
 * import { writeCommand, RECORD_WORDS } from "./records.ts";
 * import { CommandKind } from "../matching/types.ts";
 * const u32 = new Uint32Array(RECORD_WORDS);
 * writeCommand(u32, 0, { kind: CommandKind.CancelOrder, id: 7 });
 * if (u32[0] !== 2 || u32[2] !== 7) throw new Error("bad record");
 * // An order account 3 placed for account 1, with client order id 2^64 − 1.
 * writeCommand(u32, 0, {
 *   kind: CommandKind.PlaceOrder, id: 8, account: 1, instrument: 0, side: 0, type: 0, tif: 0,
 *   postOnly: false, price: 100, qty: 1,
 * }, 2n ** 64n - 1n, 3);
 * if (u32[12] !== 0xffff_ffff || u32[13] !== 0xffff_ffff || u32[14] !== 4 || u32[15] !== 0) {
 *   throw new Error("bad labels");
 * }
 * ```
 */
export function writeCommand(
  u32: Uint32Array,
  at: number,
  command: Command,
  tag: number | bigint = 0,
  placer?: number,
): void {
  // Every word is written (no fill first): this runs once per order.
  u32[at + KIND] = command.kind;
  writeI64(u32, at + ID, command.id);
  switch (command.kind) {
    case CommandKind.PlaceOrder: {
      u32[at + INSTRUMENT] = command.instrument >>> 0;
      const price = Number.isSafeInteger(command.price) && command.price >= 0 ? command.price : -1;
      writeI64(u32, at + PRICE, price);
      writeI64(u32, at + QTY, positiveOr(command.qty, 0));
      u32[at + CMD_ACCOUNT] = command.account >>> 0;
      u32[at + CMD_BYTES] = command.side | (command.type << 8) | (command.tif << 16) |
        ((command.postOnly ? 1 : 0) << 24);
      break;
    }
    case CommandKind.ReplaceOrder:
      u32[at + INSTRUMENT] = 0;
      writeI64(u32, at + PRICE, positiveOr(command.price, -1));
      writeI64(u32, at + QTY, positiveOr(command.qty, 0));
      u32[at + CMD_ACCOUNT] = 0;
      u32[at + CMD_BYTES] = 0;
      break;
    default:
      u32[at + INSTRUMENT] = 0;
      writeI64(u32, at + PRICE, 0);
      writeI64(u32, at + QTY, 0);
      u32[at + CMD_ACCOUNT] = 0;
      u32[at + CMD_BYTES] = 0;
  }
  writeI64(u32, at + INGRESS, 0);
  if (typeof tag === "number") {
    writeI64(u32, at + CMD_TAG, tag);
  } else {
    const bits = BigInt.asUintN(64, tag);
    u32[at + CMD_TAG] = Number(bits & 0xffff_ffffn);
    u32[at + CMD_TAG + 1] = Number(bits >> 32n);
  }
  u32[at + CMD_PLACER] = placer === undefined ? 0 : (placer + 1) >>> 0;
  u32[at + CMD_PLACER + 1] = 0;
}

/**
 * Encodes a whole stream into consecutive records (benches and batch calls).
 *
 * @param commands The commands, in order.
 * @returns `commands.length` records of {@linkcode RECORD_BYTES} bytes.
 *
 * @example
 * ```ts
 * import { encodeCommands, RECORD_BYTES } from "./records.ts";
 * const bytes = encodeCommands([{ kind: 2, id: 1 }, { kind: 2, id: 2 }]);
 * if (bytes.length !== 2 * RECORD_BYTES || bytes[64] !== 2) throw new Error("bad encoding");
 * ```
 */
export function encodeCommands(commands: readonly Command[]): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(commands.length * RECORD_BYTES);
  const u32 = new Uint32Array(bytes.buffer);
  commands.forEach((c, i) => writeCommand(u32, i * RECORD_WORDS, c));
  return bytes;
}

/**
 * Writes the state-hash query at word `at`.
 *
 * @param u32 The buffer, as 32-bit words.
 * @param at Word offset of the record.
 *
 * @example
 * ```ts
 * import { RECORD_WORDS, writeHashQuery } from "./records.ts";
 * const u32 = new Uint32Array(RECORD_WORDS);
 * writeHashQuery(u32, 0);
 * if (u32[0] !== 64) throw new Error("bad record");
 * ```
 */
export function writeHashQuery(u32: Uint32Array, at: number): void {
  u32.fill(0, at, at + RECORD_WORDS);
  u32[at + KIND] = CMD_QUERY_STATE_HASH;
}

const utf8 = new TextEncoder();

/**
 * Writes a define-account record at word `at`: the account number in the
 * instrument word, the name's byte length at byte 8, the UTF-8 name from
 * byte 9 (see `CMD_DEFINE_ACCOUNT` in `native/src/record.rs`).
 *
 * @param u32 The buffer, as 32-bit words.
 * @param at Word offset of the record.
 * @param account The account number.
 * @param name The account's name, 1 to {@linkcode MAX_ACCOUNT_BYTES} UTF-8 bytes.
 * @throws {RangeError} When the name is empty or too long.
 *
 * @example
 * ```ts
 * import { RECORD_WORDS, writeDefineAccount } from "./records.ts";
 * const u32 = new Uint32Array(RECORD_WORDS);
 * writeDefineAccount(u32, 0, 3, "ALICE");
 * if (u32[0] !== 65 || u32[1] !== 3) throw new Error("bad record");
 * ```
 */
export function writeDefineAccount(
  u32: Uint32Array,
  at: number,
  account: number,
  name: string,
): void {
  const bytes = utf8.encode(name);
  if (bytes.length === 0 || bytes.length > MAX_ACCOUNT_BYTES) {
    throw new RangeError(
      `Cannot define account ${account}: its name must be 1 to ${MAX_ACCOUNT_BYTES} bytes of UTF-8, not ${bytes.length}`,
    );
  }
  u32.fill(0, at, at + RECORD_WORDS);
  u32[at + KIND] = CMD_DEFINE_ACCOUNT;
  u32[at + INSTRUMENT] = account >>> 0;
  const view = new Uint8Array(u32.buffer, u32.byteOffset + at * 4, RECORD_BYTES);
  view[8] = bytes.length;
  view.set(bytes, 9);
}

/**
 * True when the command record at word `at` places, cancels or replaces an
 * order (what {@linkcode readCommand} decodes); false for a control (a risk
 * limit, a kill switch, a reference price), which the journal holds among
 * the commands too.
 *
 * @param u32 The buffer, as 32-bit words.
 * @param at Word offset of the record.
 * @returns Whether it is a trading command.
 *
 * @example
 * ```ts
 * import { isTradingCommand, RECORD_WORDS, writeKillSwitch } from "./records.ts";
 * const u32 = new Uint32Array(RECORD_WORDS);
 * writeKillSwitch(u32, 0, 1, true);
 * if (isTradingCommand(u32, 0)) throw new Error("a kill switch is no order");
 * ```
 */
export function isTradingCommand(u32: Uint32Array, at: number): boolean {
  const kind = u32[at + KIND];
  return kind === CommandKind.PlaceOrder || kind === CommandKind.CancelOrder ||
    kind === CommandKind.ReplaceOrder;
}

/**
 * Decodes the command record at word `at` (the inverse of
 * {@linkcode writeCommand} for the values it writes; invalid values come back
 * as the engine's sentinels).
 *
 * @param u32 The buffer, as 32-bit words.
 * @param at Word offset of the record.
 * @returns The command.
 * @throws {RangeError} When the kind is not a trading command.
 *
 * @example
 * ```ts
 * import { readCommand, RECORD_WORDS, writeCommand } from "./records.ts";
 * const u32 = new Uint32Array(RECORD_WORDS);
 * writeCommand(u32, 0, { kind: 3, id: 7, price: 10040, qty: 80 });
 * const c = readCommand(u32, 0);
 * if (c.kind !== 3 || c.price !== 10040 || c.qty !== 80) throw new Error("bad decode");
 * ```
 */
export function readCommand(u32: Uint32Array, at: number): Command {
  const kind = u32[at + KIND]!;
  const id = readI64(u32, at + ID);
  switch (kind) {
    case CommandKind.PlaceOrder: {
      const bytes = u32[at + CMD_BYTES]!;
      return {
        kind,
        id,
        account: u32[at + CMD_ACCOUNT]!,
        instrument: u32[at + INSTRUMENT]!,
        side: (bytes & 0xff) as 0 | 1,
        type: ((bytes >>> 8) & 0xff) as 0 | 1,
        tif: ((bytes >>> 16) & 0xff) as 0 | 1 | 2,
        postOnly: ((bytes >>> 24) & 1) === 1,
        price: readI64(u32, at + PRICE),
        qty: readI64(u32, at + QTY),
      };
    }
    case CommandKind.CancelOrder:
      return { kind, id };
    case CommandKind.ReplaceOrder:
      return { kind, id, price: readI64(u32, at + PRICE), qty: readI64(u32, at + QTY) };
    default:
      throw new RangeError(`Cannot decode command: kind ${kind} is not a trading command`);
  }
}

const utf8Strict = new TextDecoder("utf-8", { fatal: true });

/**
 * Decodes the define-account record at word `at` (the inverse of
 * {@linkcode writeDefineAccount}), e.g. a journal's account record.
 *
 * @param u32 The buffer, as 32-bit words.
 * @param at Word offset of the record.
 * @returns The account number and its name.
 * @throws {RangeError} When the record is not a define-account record, or
 *   its name is empty, longer than {@linkcode MAX_ACCOUNT_BYTES} or not UTF-8.
 *
 * @example
 * ```ts
 * import { readDefineAccount, RECORD_WORDS, writeDefineAccount } from "./records.ts";
 * const u32 = new Uint32Array(RECORD_WORDS);
 * writeDefineAccount(u32, 0, 3, "ALICE");
 * const [account, name] = readDefineAccount(u32, 0);
 * if (account !== 3 || name !== "ALICE") throw new Error("bad decode");
 * ```
 */
export function readDefineAccount(u32: Uint32Array, at: number): readonly [number, string] {
  const kind = u32[at + KIND]!;
  if (kind !== CMD_DEFINE_ACCOUNT) {
    throw new RangeError(
      `Cannot decode account definition: kind ${kind} is not ${CMD_DEFINE_ACCOUNT}`,
    );
  }
  const account = u32[at + INSTRUMENT]!;
  const view = new Uint8Array(u32.buffer, u32.byteOffset + at * 4, RECORD_BYTES);
  const length = view[8]!;
  if (length === 0 || length > MAX_ACCOUNT_BYTES) {
    throw new RangeError(
      `Cannot decode account definition: account ${account}'s name is ${length} bytes, not 1 to ${MAX_ACCOUNT_BYTES}`,
    );
  }
  try {
    return [account, utf8Strict.decode(view.subarray(9, 9 + length))];
  } catch (cause) {
    throw new RangeError(
      `Cannot decode account definition: account ${account}'s name is not UTF-8`,
      { cause },
    );
  }
}

/** The kind word of the record at `at`. */
export function eventKind(u32: Uint32Array, at: number): number {
  return u32[at + KIND]!;
}

/** The flags word (`EVF_*`) of the event at `at`. */
export function eventFlags(u32: Uint32Array, at: number): number {
  return u32[at + EV_FLAGS]!;
}

/** The engine sequence number of the event at `at`. */
export function eventSeq(u32: Uint32Array, at: number): number {
  return readI64(u32, at + EV_SEQ);
}

/** The state hash carried by an `EV_STATE_HASH` event at `at` (in its `maker` word). */
export function eventHash(u32: Uint32Array, at: number): bigint {
  return readU64(u32, at + EV_MAKER);
}

/**
 * The account number an `EV_ACCOUNT_DEFINED` event at `at` acknowledges (in
 * its `id` word).
 *
 * @param u32 The buffer, as 32-bit words.
 * @param at Word offset of the record.
 * @returns The account number.
 *
 * @example
 * ```ts
 * import { EV_ACCOUNT_DEFINED, eventDefinedAccount, RECORD_WORDS } from "./records.ts";
 * const u32 = new Uint32Array(RECORD_WORDS);
 * u32[0] = EV_ACCOUNT_DEFINED; u32[2] = 7;
 * if (eventDefinedAccount(u32, 0) !== 7) throw new Error("bad decode");
 * ```
 */
export function eventDefinedAccount(u32: Uint32Array, at: number): number {
  return readI64(u32, at + ID);
}

/**
 * The account number of the resting order (the maker) in an
 * `OrderTraded` event at `at` (in its `reason` word).
 *
 * @param u32 The buffer, as 32-bit words.
 * @param at Word offset of the record.
 * @returns The maker's account number.
 *
 * @example
 * ```ts
 * import { eventMakerAccount, RECORD_WORDS } from "./records.ts";
 * const u32 = new Uint32Array(RECORD_WORDS);
 * u32[0] = 3; u32[10] = 4; // traded; the maker's account is 4
 * if (eventMakerAccount(u32, 0) !== 4) throw new Error("bad decode");
 * ```
 */
export function eventMakerAccount(u32: Uint32Array, at: number): number {
  return u32[at + EV_REASON]!;
}

/**
 * Decodes the event record at word `at` into an {@linkcode EngineEvent}.
 *
 * @param u32 The buffer, as 32-bit words.
 * @param at Word offset of the record.
 * @returns The event.
 * @throws {RangeError} When the kind or reason code is not one this build knows.
 *
 * @example
 * ```ts
 * import { readEvent, RECORD_WORDS } from "./records.ts";
 * const u32 = new Uint32Array(RECORD_WORDS);
 * u32[0] = 1; u32[1] = 0; u32[2] = 42; // accepted, instrument 0, id 42
 * const ev = readEvent(u32, 0);
 * if (ev.kind !== 1 || ev.id !== 42) throw new Error("bad decode");
 * ```
 */
export function readEvent(u32: Uint32Array, at: number): EngineEvent {
  const kind = u32[at + KIND]!;
  const instrument = u32[at + INSTRUMENT]!;
  const id = readI64(u32, at + ID);
  switch (kind) {
    case EventKind.OrderAccepted:
      return { kind, id, instrument };
    case EventKind.OrderRejected: {
      const code = u32[at + EV_REASON]!;
      const reason = engineRejectReasonOf(code);
      if (reason === undefined) {
        throw new RangeError(`Cannot decode event: unknown reject reason ${code} for order ${id}`);
      }
      return { kind, id, instrument, reason };
    }
    case EventKind.OrderTraded:
      return {
        kind,
        instrument,
        taker: id,
        maker: readI64(u32, at + EV_MAKER),
        price: readI64(u32, at + PRICE),
        qty: readI64(u32, at + QTY),
      };
    case EventKind.OrderCancelled: {
      const code = u32[at + EV_REASON]!;
      const reason = engineCancelReasonOf(code);
      if (reason === undefined) {
        throw new RangeError(`Cannot decode event: unknown cancel reason ${code} for order ${id}`);
      }
      return { kind, id, instrument, leaves: readI64(u32, at + QTY), reason };
    }
    case EventKind.OrderExpired:
      return { kind, id, instrument, leaves: readI64(u32, at + QTY) };
    case EventKind.OrderReplaced:
      return {
        kind,
        id,
        instrument,
        price: readI64(u32, at + PRICE),
        qty: readI64(u32, at + QTY),
      };
    default:
      throw new RangeError(`Cannot decode event: unknown kind ${kind}`);
  }
}
