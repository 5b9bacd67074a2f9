/**
 * The engine port: how stored accounts, limits and kill switches reach the
 * matching engine, without this folder importing `core/native/`. The core
 * implements {@linkcode RiskControlPort} over its dispatcher
 * (`core/app/risk_port.ts`), which pushes each control to the engine
 * (`NativeEngine.pushDefineAccount`, `pushRiskControl`) and resolves it
 * when the engine answers (an account defined, a control applied, or a
 * reject); tests use a fake.
 *
 * A change becomes a list of {@linkcode ControlOp}s ({@linkcode planChange},
 * {@linkcode planState}), which {@linkcode runControls} runs one after the
 * other, awaiting each acknowledgement before the next.
 *
 * @module
 */

import type { RiskLimitName } from "../../schemas/vocabulary/risk_limits.ts";
import { type Fault, ok, type Result } from "./fault.ts";
import { quote } from "./_text.ts";
import {
  type AccountState,
  type AdminState,
  engineKillSwitch,
  LIMIT_NAMES,
  type PartialRiskLimits,
} from "./types.ts";

/**
 * What the engine must offer the admin side. Every method resolves once the
 * engine acknowledged (the command is journaled and applied), and rejects
 * with an `Error` saying why when the engine refused it (it halted, the ring
 * stayed full, the command was malformed).
 *
 * The limits the engine enforces for an order on instrument `i` by account
 * `a` are, limit by limit: the value set for `(a, i)` if any, else the value
 * set for `(a, all instruments)`, else none (0).
 */
export interface RiskControlPort {
  /**
   * Names an account in the engine (journaled); resolves with its engine
   * account number. Idempotent: the same name always gets the same number,
   * across restarts too (the journal keeps the names).
   */
  defineAccount(name: string): Promise<number>;
  /**
   * Applies a limit; instrument undefined = all instruments. Resolves when
   * the engine acknowledged. 0 means "no limit" (for an instrument: no limit
   * on that instrument, whatever the all-instruments value).
   */
  setLimit(
    account: number,
    instrument: number | undefined,
    limit: RiskLimitName,
    value: number,
  ): Promise<void>;
  /**
   * Removes an instrument's own value of a limit, so that the
   * all-instruments value applies to it again. Resolves when the engine
   * acknowledged; removing what is not set is no error.
   */
  clearLimit(account: number, instrument: number, limit: RiskLimitName): Promise<void>;
  /** Turns a kill switch on or off: one account's, or `"all"` for everyone's. */
  setKillSwitch(account: number | "all", on: boolean): Promise<void>;
}

/** One command for the engine, naming accounts and symbols as stored. */
export type ControlOp =
  | { readonly kind: "defineAccount"; readonly account: string }
  | { readonly kind: "killSwitch"; readonly account: string; readonly on: boolean }
  | { readonly kind: "globalKillSwitch"; readonly on: boolean }
  | {
    readonly kind: "setLimit";
    readonly account: string;
    /** Undefined: every instrument. */
    readonly symbol?: string;
    readonly limit: RiskLimitName;
    readonly value: number;
  }
  | {
    readonly kind: "clearLimit";
    readonly account: string;
    readonly symbol: string;
    readonly limit: RiskLimitName;
  };

/** An override that names a symbol the instrument table lacks, left out of a plan. */
export interface SkippedOverride {
  readonly account: string;
  readonly symbol: string;
}

/** The ops that carry out a change, and the overrides they had to leave out. */
export interface Plan {
  readonly ops: readonly ControlOp[];
  readonly skipped: readonly SkippedOverride[];
}

/** The instrument numbers by symbol: an instrument's number is its position in the table. */
export type InstrumentIndex = ReadonlyMap<string, number>;

/**
 * Indexes an instrument table by symbol.
 *
 * @param instruments The table, in engine order.
 * @returns Each symbol's instrument number.
 * @throws {RangeError} When a symbol appears twice.
 *
 * @example
 * ```ts
 * import { instrumentIndex } from "./port.ts";
 * const index = instrumentIndex([{ symbol: "AAPL" }, { symbol: "MSFT" }]);
 * if (index.get("MSFT") !== 1) throw new Error("wrong number");
 * ```
 */
export function instrumentIndex(
  instruments: readonly { readonly symbol: string }[],
): InstrumentIndex {
  const index = new Map<string, number>();
  instruments.forEach(({ symbol }, i) => {
    if (index.has(symbol)) {
      throw new RangeError(`Cannot index instruments: ${quote(symbol)} appears twice`);
    }
    index.set(symbol, i);
  });
  return index;
}

/**
 * The ops that turn an engine holding `before` into one holding `after`
 * (one account). `before` undefined means the account is new to the store,
 * though the engine may know its name from its journal (engine accounts are
 * never forgotten): it is defined, then its whole state is sent.
 *
 * When the account's kill switch turns on it goes first, and when it turns
 * off it goes last, so that the account never trades under a mix of old and
 * new limits.
 *
 * @param before The account as the engine holds it, or undefined.
 * @param after The account as it should be.
 * @param index The instrument table's index.
 * @returns The ops, and the overrides on symbols the table lacks.
 *
 * @example
 * ```ts
 * import { instrumentIndex, planChange } from "./port.ts";
 * import { NO_LIMITS } from "./types.ts";
 * const before = {
 *   name: "ALICE", role: "trader", enabled: true, killSwitch: false, createdAt: "", revision: 1,
 *   tokenEpoch: 0, limits: NO_LIMITS, overrides: {},
 * } as const;
 * const after = { ...before, limits: { ...NO_LIMITS, position: 100 }, revision: 2 };
 * const { ops } = planChange(before, after, instrumentIndex([{ symbol: "AAPL" }]));
 * if (ops.length !== 1 || ops[0]!.kind !== "setLimit") throw new Error("wrong plan");
 * ```
 */
export function planChange(
  before: AccountState | undefined,
  after: AccountState,
  index: InstrumentIndex,
): Plan {
  if (before === undefined) return planAccount(after, index);
  const account = after.name;
  const ops: ControlOp[] = [];
  const skipped: SkippedOverride[] = [];
  const wasKilled = engineKillSwitch(before);
  const killed = engineKillSwitch(after);
  if (killed && !wasKilled) ops.push({ kind: "killSwitch", account, on: true });
  for (const limit of LIMIT_NAMES) {
    if (after.limits[limit] !== before.limits[limit]) {
      ops.push({ kind: "setLimit", account, limit, value: after.limits[limit] });
    }
  }
  const from = before.overrides;
  const symbols = [...new Set([...Object.keys(from), ...Object.keys(after.overrides)])].sort();
  for (const symbol of symbols) {
    const changes = overrideOps(account, symbol, from[symbol] ?? {}, after.overrides[symbol] ?? {});
    if (changes.length === 0) continue;
    if (!index.has(symbol)) skipped.push({ account, symbol });
    else ops.push(...changes);
  }
  if (!killed && wasKilled) ops.push({ kind: "killSwitch", account, on: false });
  return { ops, skipped };
}

/**
 * The ops that give an engine one account's whole state, whatever it held:
 * its definition, its kill switch (first when on, last when off), all six
 * limits and its overrides.
 */
function planAccount(a: AccountState, index: InstrumentIndex): Plan {
  const account = a.name;
  const ops: ControlOp[] = [{ kind: "defineAccount", account }];
  const skipped: SkippedOverride[] = [];
  const killed = engineKillSwitch(a);
  if (killed) ops.push({ kind: "killSwitch", account, on: true });
  for (const limit of LIMIT_NAMES) {
    ops.push({ kind: "setLimit", account, limit, value: a.limits[limit] });
  }
  for (const [symbol, overrides] of Object.entries(a.overrides)) {
    if (!index.has(symbol)) {
      skipped.push({ account, symbol });
      continue;
    }
    for (const limit of LIMIT_NAMES) {
      const value = overrides[limit];
      if (value !== undefined) ops.push({ kind: "setLimit", account, symbol, limit, value });
    }
  }
  if (!killed) ops.push({ kind: "killSwitch", account, on: false });
  return { ops, skipped };
}

function overrideOps(
  account: string,
  symbol: string,
  was: PartialRiskLimits,
  now: PartialRiskLimits,
): ControlOp[] {
  const ops: ControlOp[] = [];
  for (const limit of LIMIT_NAMES) {
    const [a, b] = [was[limit], now[limit]];
    if (b !== undefined && b !== a) {
      ops.push({ kind: "setLimit", account, symbol, limit, value: b });
    } else if (b === undefined && a !== undefined) {
      ops.push({ kind: "clearLimit", account, symbol, limit });
    }
  }
  return ops;
}

/**
 * The ops that give an engine the whole stored state, whatever it held
 * before (a fresh engine, or one that replayed a journal): the global kill
 * switch (first when on, last when off), then per account its definition,
 * its kill switch (first when on, last when off), all six limits and its
 * overrides. Overrides the engine
 * may hold from its journal but the store no longer has are not cleared:
 * every removal went through the engine, which journaled it.
 *
 * @param state What the store holds.
 * @param index The instrument table's index.
 * @returns The ops, and the overrides on symbols the table lacks.
 *
 * @example
 * ```ts
 * import { instrumentIndex, planState } from "./port.ts";
 * const { ops } = planState({ version: 0, killSwitch: true, accounts: [] }, instrumentIndex([]));
 * if (ops.length !== 1 || ops[0]!.kind !== "globalKillSwitch") throw new Error("wrong plan");
 * ```
 */
export function planState(state: AdminState, index: InstrumentIndex): Plan {
  const ops: ControlOp[] = [];
  const skipped: SkippedOverride[] = [];
  if (state.killSwitch) ops.push({ kind: "globalKillSwitch", on: true });
  for (const account of state.accounts) {
    const plan = planAccount(account, index);
    ops.push(...plan.ops);
    skipped.push(...plan.skipped);
  }
  if (!state.killSwitch) ops.push({ kind: "globalKillSwitch", on: false });
  return { ops, skipped };
}

/**
 * Describes an op for a message: `set maxOrderQty to 500 for "ALICE" on
 * all instruments`.
 *
 * @param op The op.
 * @returns Its description.
 *
 * @example
 * ```ts
 * import { describeOp } from "./port.ts";
 * const text = describeOp({ kind: "globalKillSwitch", on: true });
 * if (text !== "turn the global kill switch on") throw new Error(text);
 * ```
 */
export function describeOp(op: ControlOp): string {
  switch (op.kind) {
    case "defineAccount":
      return `define account ${quote(op.account)}`;
    case "killSwitch":
      return `turn the kill switch of ${quote(op.account)} ${op.on ? "on" : "off"}`;
    case "globalKillSwitch":
      return `turn the global kill switch ${op.on ? "on" : "off"}`;
    case "setLimit":
      return `set ${op.limit} to ${op.value} for ${quote(op.account)} on ${
        op.symbol ?? "all instruments"
      }`;
    case "clearLimit":
      return `remove the ${op.limit} override of ${quote(op.account)} on ${op.symbol}`;
  }
}

/** Options of {@linkcode runControls}. */
export interface RunOptions {
  /** Engine account numbers by name, filled in as accounts are defined. */
  readonly accounts: Map<string, number>;
  /** The instrument table's index. */
  readonly index: InstrumentIndex;
  /** How long to wait for each acknowledgement, in milliseconds. */
  readonly timeoutMs: number;
}

/** Default wait for one acknowledgement of the engine. */
export const DEFAULT_ENGINE_TIMEOUT_MS = 5000;

/**
 * Runs ops through the port one at a time, stopping at the first refusal.
 * An account not yet in `options.accounts` is defined first (the port
 * makes that idempotent).
 *
 * @param port The engine.
 * @param ops The ops, in order.
 * @param options Account numbers, instruments and the timeout.
 * @returns Nothing, or `engine_refused` (the port rejected: its message is
 *   kept) or `engine_timeout` (no answer in time: the op may still be
 *   applied later), with how many ops were done first.
 * @throws {RangeError} When an op names a symbol the index lacks (plans
 *   leave those out).
 *
 * @example
 * ```ts
 * import { instrumentIndex, runControls, type RiskControlPort } from "./port.ts";
 * const seen: string[] = [];
 * const port: RiskControlPort = {
 *   defineAccount: () => Promise.resolve(7),
 *   setLimit: (a, i, limit, v) => (seen.push(`${a} ${i} ${limit} ${v}`), Promise.resolve()),
 *   clearLimit: () => Promise.resolve(),
 *   setKillSwitch: () => Promise.resolve(),
 * };
 * const result = await runControls(port, [
 *   { kind: "setLimit", account: "ALICE", symbol: "MSFT", limit: "position", value: 10 },
 * ], { accounts: new Map(), index: instrumentIndex([{ symbol: "AAPL" }, { symbol: "MSFT" }]), timeoutMs: 1000 });
 * if (!result.ok || seen[0] !== "7 1 position 10") throw new Error(seen.join());
 * ```
 */
export async function runControls(
  port: RiskControlPort,
  ops: readonly ControlOp[],
  options: RunOptions,
): Promise<Result<void> & { readonly done: number }> {
  let done = 0;
  for (const op of ops) {
    const failure = await runOne(port, op, options);
    if (failure !== undefined) return { ok: false, fault: failure, done };
    done++;
  }
  return { ...ok(undefined), done };
}

async function runOne(
  port: RiskControlPort,
  op: ControlOp,
  options: RunOptions,
): Promise<Fault | undefined> {
  const instrument = (symbol: string) => {
    const number = options.index.get(symbol);
    if (number === undefined) {
      throw new RangeError(`Cannot ${describeOp(op)}: the instrument table has no ${symbol}`);
    }
    return number;
  };
  const account = async (name: string): Promise<number | Fault> => {
    const known = options.accounts.get(name);
    if (known !== undefined) return known;
    const defined = await acknowledged(
      () => port.defineAccount(name),
      options.timeoutMs,
      `define account ${quote(name)}`,
    );
    if (typeof defined === "object") return defined;
    if (!Number.isSafeInteger(defined) || defined < 0) {
      return {
        reason: "engine_refused",
        message: `the engine answered the definition of ${quote(name)} with ${
          String(defined)
        }, not an account number`,
      };
    }
    options.accounts.set(name, defined);
    return defined;
  };
  const what = describeOp(op);
  const settled = (answer: void | Fault) => answer ?? undefined;
  switch (op.kind) {
    case "defineAccount": {
      const a = await account(op.account);
      return typeof a === "number" ? undefined : a;
    }
    case "globalKillSwitch":
      return settled(
        await acknowledged(() => port.setKillSwitch("all", op.on), options.timeoutMs, what),
      );
    case "killSwitch": {
      const a = await account(op.account);
      if (typeof a !== "number") return a;
      return settled(
        await acknowledged(() => port.setKillSwitch(a, op.on), options.timeoutMs, what),
      );
    }
    case "setLimit": {
      const i = op.symbol === undefined ? undefined : instrument(op.symbol);
      const a = await account(op.account);
      if (typeof a !== "number") return a;
      return settled(
        await acknowledged(
          () => port.setLimit(a, i, op.limit, op.value),
          options.timeoutMs,
          what,
        ),
      );
    }
    case "clearLimit": {
      const i = instrument(op.symbol);
      const a = await account(op.account);
      if (typeof a !== "number") return a;
      return settled(
        await acknowledged(() => port.clearLimit(a, i, op.limit), options.timeoutMs, what),
      );
    }
  }
}

/**
 * Awaits one port call with a deadline; turns a rejection or a timeout into
 * a fault. Resolves with the call's value when it had one.
 */
async function acknowledged<T>(
  call: () => Promise<T>,
  timeoutMs: number,
  what: string,
): Promise<T | Fault> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<Fault>((resolve) => {
    timer = setTimeout(() =>
      resolve({
        reason: "engine_timeout",
        message: `the engine did not acknowledge "${what}" within ${timeoutMs} ms ` +
          "(it may still apply it)",
      }), timeoutMs);
  });
  try {
    const answer = Promise.resolve().then(call).then(
      (value) => value,
      (error: unknown): Fault => ({
        reason: "engine_refused",
        message: `the engine refused to ${what}: ${
          error instanceof Error ? error.message : String(error)
        }`,
      }),
    );
    return await Promise.race([answer, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
