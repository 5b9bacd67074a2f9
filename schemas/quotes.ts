/**
 * The quote snapshots the core publishes to Deno KV and the edge serves: the
 * contract between `core/` (the snapshotter, the only writer) and `edge/`
 * (readers, any number). Neither imports the other; both import this file.
 *
 * # Keys
 *
 * | key | value |
 * | --- | --- |
 * | `["quotes", "version"]` | `bigint`: grows by one with every write; a reader polls it |
 * | `["quotes", "symbols"]` | {@linkcode SymbolList}: the instruments, in engine order |
 * | `["quotes", "symbol", SYMBOL]` | {@linkcode QuoteSnapshot} of one symbol |
 * | `["quotes", "alive"]` | {@linkcode Alive}: when the writer last wrote or said it is alive, and its engine's state |
 *
 * A write sets the snapshots of every symbol that changed, the version and
 * `alive`, in one atomic operation, so a reader that sees version `v` sees
 * every snapshot written up to `v`. When nothing changes, the writer still
 * sets `alive` at least every {@linkcode ALIVE_EVERY_MS} (without moving the
 * version), so a reader tells a quiet market from a stopped core.
 *
 * `alive` also carries the matching engine's state ({@linkcode EngineState}):
 * a halted engine (its journal failed: a full disk, a failed sync) takes no
 * more orders, so the quotes are frozen although the writer lives. The
 * writer sets `alive` at once when the state changes.
 *
 * `sequence` is the core's market data channel sequence: it restarts at 0
 * when the core restarts. Order snapshots by `version`, which never goes
 * back.
 *
 * # Numbers
 *
 * Prices are decimal numbers in the quote currency (the engine's integer
 * price units divided by the instrument's price scale), rounded to
 * `priceDecimals` places, so the edge prints a price without the instrument
 * table (VWAP included); `changePercent` has 4 decimal places. Sizes and
 * volumes are lots: integers up to 2^53 − 1 (`Number.MAX_SAFE_INTEGER`, the
 * largest a JSON number carries exactly; a value that is not such an
 * integer is refused). A day's volume beyond it is written as 2^53 − 1.
 * Times are milliseconds since
 * the Unix epoch (UTC). A value that does not exist yet (no trade today, an
 * empty side of the book) is `null`, never 0.
 *
 * # Evolution
 *
 * Fields are only ever added (a reader ignores fields it does not know); a
 * field's meaning never changes. {@linkcode QUOTES_FORMAT} grows when a
 * change is not backward compatible, and readers refuse other formats.
 *
 * @module
 */

import { SYMBOL_PATTERN, SYMBOL_RULE_TEXT } from "./vocabulary/names.ts";

/** The format of the values under {@linkcode QUOTE_KEYS}; readers refuse others. */
export const QUOTES_FORMAT = 1;

/** The KV keys of the quote snapshots. */
export const QUOTE_KEYS = {
  /** The version: a `bigint` that grows by one with every write. */
  version: ["quotes", "version"] as const,
  /** The instrument list ({@linkcode SymbolList}). */
  symbols: ["quotes", "symbols"] as const,
  /**
   * One symbol's snapshot ({@linkcode QuoteSnapshot}).
   *
   * @param symbol The symbol.
   * @returns Its key.
   */
  symbol: (symbol: string): readonly ["quotes", "symbol", string] => ["quotes", "symbol", symbol],
  /** The writer's liveness ({@linkcode Alive}). */
  alive: ["quotes", "alive"] as const,
} as const;

/** The longest the writer stays silent: `alive` is set at least this often. */
export const ALIVE_EVERY_MS = 1000;

/** The matching engine's state as the writer last saw it (`Alive.engine`). */
export interface EngineState {
  /**
   * `"running"`, or `"halted"`: its journal failed and it takes no more
   * orders until the core is restarted (the quotes are frozen).
   */
  readonly state: "running" | "halted";
  /**
   * Why it halted: the failed OS call's error code (`"ENOSPC"` for a full
   * disk, `"EIO"` for a failed sync, `"errno N"` for one without a name),
   * `"unknown"` when no OS call failed, null while running. Codes only: the
   * message, which names paths, stays on the core.
   */
  readonly cause: string | null;
  /** When the writer saw it halt (ms since the epoch), null while running. */
  readonly since: number | null;
}

/** The value under `QUOTE_KEYS.alive`. */
export interface Alive {
  readonly format: typeof QUOTES_FORMAT;
  /** When the writer last wrote (ms since the epoch). */
  readonly at: number;
  /** The version it had written by then. */
  readonly version: number;
  /** The engine's state; absent from a writer that does not report it. */
  readonly engine?: EngineState;
}

/** Error codes as `EngineState.cause` holds them: a name, `errno N`, or `unknown`. */
const CAUSE_RULE = /^(E[A-Z0-9]{1,15}|errno \d{1,6}|unknown)$/;

function engineStateProblem(v: unknown): SnapshotProblem | undefined {
  if (!isObject(v)) return "engine must be {state, cause, since}";
  if (v.state === "running") {
    return v.cause === null && v.since === null
      ? undefined
      : "a running engine has null cause and since";
  }
  if (v.state !== "halted") return 'engine.state must be "running" or "halted"';
  if (typeof v.cause !== "string" || !CAUSE_RULE.test(v.cause)) {
    return 'a halted engine\'s cause must be an error code ("ENOSPC"), "errno N" or "unknown"';
  }
  return isCount(v.since) ? undefined : "a halted engine's since must be a non-negative integer";
}

/** One instrument, as the public sees it. */
export interface SymbolInfo {
  readonly symbol: string;
  readonly name: string;
  /** Decimal places of its prices (2 for a price scale of 100). */
  readonly priceDecimals: number;
  /** The smallest price step, as a decimal number. */
  readonly tickSize: number;
  /** Shares per lot. */
  readonly lotSize: number;
  /**
   * The largest quantity of one order, in lots (the engine refuses more).
   * Absent in lists written before it was added.
   */
  readonly maxOrderQty?: number;
}

/** The value under `QUOTE_KEYS.symbols`. */
export interface SymbolList {
  readonly format: typeof QUOTES_FORMAT;
  readonly symbols: readonly SymbolInfo[];
}

/** A price and a size (lots). */
export interface PriceSize {
  readonly price: number;
  readonly size: number;
}

/** The last trade. */
export interface LastTrade extends PriceSize {
  /** When it happened (ms since the epoch). */
  readonly time: number;
}

/** Today's session so far. */
export interface DayStats {
  /** The first trade's price. */
  readonly open: number;
  readonly high: number;
  readonly low: number;
  /** The last trade's price. */
  readonly close: number;
  /** Lots traded; 2^53 − 1 stands for that many or more. */
  readonly volume: number;
  /** Volume-weighted average price. */
  readonly vwap: number;
  /** Trades. */
  readonly trades: number;
}

/** One symbol's quote: the value under `QUOTE_KEYS.symbol(symbol)`. */
export interface QuoteSnapshot {
  readonly format: typeof QUOTES_FORMAT;
  readonly symbol: string;
  readonly name: string;
  readonly priceDecimals: number;
  /** The last trade, or null before the first. */
  readonly lastTrade: LastTrade | null;
  /** Best bid, or null when no one bids. */
  readonly bid: PriceSize | null;
  /** Best ask (offer), or null when no one offers. */
  readonly ask: PriceSize | null;
  /** Today's statistics, or null before today's first trade. */
  readonly day: DayStats | null;
  /** The previous session's close, or null when unknown. */
  readonly prevClose: number | null;
  /** Last price − previous close, or null when either is missing. */
  readonly change: number | null;
  /** The change as a percentage of the previous close, or null. */
  readonly changePercent: number | null;
  /** The 52-week range, or null until history exists. */
  readonly week52: { readonly high: number; readonly low: number } | null;
  /** The market data channel's sequence this snapshot reflects. */
  readonly sequence: number;
  /** When this snapshot was made (ms since the epoch). */
  readonly updated: number;
  /** The KV version it was written with. */
  readonly version: number;
}

/** Why a stored value is not a valid snapshot. */
export type SnapshotProblem = string;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

function priceSizeProblem(v: unknown, what: string): SnapshotProblem | undefined {
  if (v === null) return undefined;
  if (!isObject(v) || !isNumber(v.price) || !isCount(v.size)) {
    return `${what} must be null or {price, size}`;
  }
  return undefined;
}

/**
 * Checks a value read from KV before the edge trusts it: the edge serves
 * whatever it holds to the public, so a malformed value is refused, not
 * half-served.
 *
 * @param value What KV returned under a symbol's key.
 * @returns The snapshot, or what is wrong with it.
 *
 * @example
 * ```ts
 * import { parseQuoteSnapshot } from "./quotes.ts";
 * const result = parseQuoteSnapshot({ format: 1, symbol: "AAPL" });
 * if (result.ok) throw new Error("a partial snapshot passed");
 * ```
 */
export function parseQuoteSnapshot(
  value: unknown,
): { ok: true; snapshot: QuoteSnapshot } | { ok: false; problem: SnapshotProblem } {
  const fail = (problem: string) => ({ ok: false as const, problem });
  if (!isObject(value)) return fail("not an object");
  if (value.format !== QUOTES_FORMAT) {
    return fail(`format ${JSON.stringify(value.format)} is not ${QUOTES_FORMAT}`);
  }
  if (typeof value.symbol !== "string" || !SYMBOL_PATTERN.test(value.symbol)) {
    return fail(`symbol must be ${SYMBOL_RULE_TEXT}`);
  }
  if (typeof value.name !== "string") return fail("name must be a string");
  if (!isCount(value.priceDecimals) || value.priceDecimals > 12) {
    return fail("priceDecimals must be an integer from 0 to 12");
  }
  const lt = value.lastTrade;
  if (
    lt !== null && (!isObject(lt) || !isNumber(lt.price) || !isCount(lt.size) || !isCount(lt.time))
  ) {
    return fail("lastTrade must be null or {price, size, time}");
  }
  for (const side of ["bid", "ask"] as const) {
    const problem = priceSizeProblem(value[side], side);
    if (problem !== undefined) return fail(problem);
  }
  const day = value.day;
  if (
    day !== null &&
    (!isObject(day) ||
      !["open", "high", "low", "close", "vwap"].every((k) => isNumber(day[k])) ||
      !isCount(day.volume) || !isCount(day.trades))
  ) {
    return fail("day must be null or {open, high, low, close, volume, vwap, trades}");
  }
  for (const k of ["prevClose", "change", "changePercent"] as const) {
    if (value[k] !== null && !isNumber(value[k])) return fail(`${k} must be null or a number`);
  }
  const w = value.week52;
  if (w !== null && (!isObject(w) || !isNumber(w.high) || !isNumber(w.low))) {
    return fail("week52 must be null or {high, low}");
  }
  for (const k of ["sequence", "updated", "version"] as const) {
    if (!isCount(value[k])) return fail(`${k} must be a non-negative integer`);
  }
  return { ok: true, snapshot: value as unknown as QuoteSnapshot };
}

/**
 * Checks the liveness value read from KV.
 *
 * @param value What KV returned under `QUOTE_KEYS.alive`.
 * @returns The value, or what is wrong with it.
 *
 * @example
 * ```ts
 * import { parseAlive } from "./quotes.ts";
 * if (!parseAlive({ format: 1, at: 1_764_000_000_000, version: 7 }).ok) throw new Error("refused");
 * const halted = { state: "halted", cause: "ENOSPC", since: 1_764_000_000_000 };
 * if (!parseAlive({ format: 1, at: 1_764_000_000_000, version: 7, engine: halted }).ok) {
 *   throw new Error("refused a halted engine");
 * }
 * ```
 */
export function parseAlive(
  value: unknown,
): { ok: true; alive: Alive } | { ok: false; problem: SnapshotProblem } {
  if (!isObject(value)) return { ok: false, problem: "not an object" };
  if (value.format !== QUOTES_FORMAT) {
    return { ok: false, problem: `format ${JSON.stringify(value.format)} is not ${QUOTES_FORMAT}` };
  }
  if (!isCount(value.at) || !isCount(value.version)) {
    return { ok: false, problem: "at and version must be non-negative integers" };
  }
  if (value.engine !== undefined) {
    const problem = engineStateProblem(value.engine);
    if (problem !== undefined) return { ok: false, problem };
  }
  return { ok: true, alive: value as unknown as Alive };
}

/**
 * Checks the instrument list read from KV.
 *
 * @param value What KV returned under `QUOTE_KEYS.symbols`.
 * @returns The list, or what is wrong with it.
 *
 * @example
 * ```ts
 * import { parseSymbolList } from "./quotes.ts";
 * const ok = parseSymbolList({ format: 1, symbols: [
 *   { symbol: "AAPL", name: "Apple Inc.", priceDecimals: 2, tickSize: 0.01, lotSize: 1 },
 * ] });
 * if (!ok.ok || ok.list.symbols[0]?.symbol !== "AAPL") throw new Error("refused");
 * ```
 */
export function parseSymbolList(
  value: unknown,
): { ok: true; list: SymbolList } | { ok: false; problem: SnapshotProblem } {
  const fail = (problem: string) => ({ ok: false as const, problem });
  if (!isObject(value)) return fail("not an object");
  if (value.format !== QUOTES_FORMAT) {
    return fail(`format ${JSON.stringify(value.format)} is not ${QUOTES_FORMAT}`);
  }
  if (!Array.isArray(value.symbols)) return fail("symbols must be an array");
  for (const [i, s] of value.symbols.entries()) {
    if (
      !isObject(s) || typeof s.symbol !== "string" || !SYMBOL_PATTERN.test(s.symbol) ||
      typeof s.name !== "string" || !isCount(s.priceDecimals) || !isNumber(s.tickSize) ||
      !isCount(s.lotSize) || (s.maxOrderQty !== undefined && !isCount(s.maxOrderQty))
    ) {
      return fail(
        `symbols[${i}] must be {symbol, name, priceDecimals, tickSize, lotSize, maxOrderQty?}`,
      );
    }
  }
  return { ok: true, list: value as unknown as SymbolList };
}
