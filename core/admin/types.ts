/**
 * The admin vocabulary: accounts, roles, risk limits, and the checks on each
 * value, shared by the store, the engine port and the HTTP API.
 *
 * @module
 */

import {
  accountNameProblem as nameRuleProblem,
  SYMBOL_PATTERN,
} from "../../schemas/vocabulary/names.ts";
import {
  isRiskLimitName,
  RISK_LIMIT_NAMES,
  type RiskLimitName,
  SYMBOL_RISK_LIMIT_NAMES,
} from "../../schemas/vocabulary/risk_limits.ts";
import { isRole, type Role, ROLES } from "../../schemas/vocabulary/roles.ts";
import { describeType, describeValue } from "./_text.ts";

/**
 * Every risk limit the engine enforces, in the engine's order: the
 * vocabulary's (`schemas/vocabulary/risk_limits.ts`), so a limit the engine
 * gains is stored and applied here too.
 */
export const LIMIT_NAMES: readonly RiskLimitName[] = RISK_LIMIT_NAMES;

/** Every role an account may hold: the vocabulary's roles (`schemas/vocabulary/roles.ts`). */
export const ACCOUNT_ROLES: readonly Role[] = ROLES;

/** An account's role: `trader` trades for itself, `viewer` sees market data, `admin` may administer. */
export type AccountRole = Role;

/**
 * A full set of limits, one value per {@linkcode LIMIT_NAMES} entry, each a
 * non-negative safe integer; 0 means "no limit" (the engine's rule).
 */
export type RiskLimits = { readonly [K in RiskLimitName]: number };

/**
 * The limits a symbol can have of its own (an override): those about one
 * order or one position. The order rate and the open-order count are the
 * account's, whatever the symbol (the engine refuses them per instrument).
 */
export const SYMBOL_LIMIT_NAMES: readonly RiskLimitName[] = SYMBOL_RISK_LIMIT_NAMES;

/** Some limits: a per-symbol override names only the limits it changes. */
export type PartialRiskLimits = { readonly [K in RiskLimitName]?: number };

/** The limits of an account that has none: every one 0, "no limit". */
export const NO_LIMITS: RiskLimits = Object.freeze(
  Object.fromEntries(RISK_LIMIT_NAMES.map((name) => [name, 0])) as RiskLimits,
);

/** An account as stored, without its limits. */
export interface Account {
  /** Its name: 1 to 48 bytes of UTF-8 (the protocol's rule), printable characters only, unique. */
  readonly name: string;
  readonly role: AccountRole;
  /** False stops the account's new orders and replaces (its kill switch is forced on). */
  readonly enabled: boolean;
  /** The account's own kill switch. */
  readonly killSwitch: boolean;
  /** When it was created (ISO 8601, UTC). */
  readonly createdAt: string;
  /** Starts at 1 and grows by one with every change to the account, its limits or overrides. */
  readonly revision: number;
  /**
   * The token epoch: starts at 0 and grows by one with every change of the
   * role or of `enabled` (either way). A token carries the epoch it was
   * minted at (`epoch` claim, absent: 0) and is refused once the account's
   * has moved on, so that such a change ends every token minted before it;
   * re-enabling an account does not revive them (mint new ones).
   */
  readonly tokenEpoch: number;
}

/** An account with its limits: what the engine is told about it. */
export interface AccountState extends Account {
  /** Its limits for every instrument. */
  readonly limits: RiskLimits;
  /**
   * Per-symbol overrides, by symbol (sorted): a value here replaces the
   * all-instruments value for that instrument; a limit not named inherits it.
   */
  readonly overrides: Readonly<Record<string, PartialRiskLimits>>;
}

/** Everything the store holds, read at one version. */
export interface AdminState {
  /** Grows with every change anywhere (the `["admin", "version"]` key). */
  readonly version: number;
  /** The kill switch for every account. */
  readonly killSwitch: boolean;
  /** Every account, by name (KV key order). */
  readonly accounts: readonly AccountState[];
}

/**
 * True when the engine must refuse the account's new orders: its kill
 * switch is on, or it is disabled.
 *
 * @param account The account.
 * @returns The kill switch the engine holds for it.
 *
 * @example
 * ```ts
 * import { engineKillSwitch } from "./types.ts";
 * const base = { name: "A", role: "trader", createdAt: "", revision: 1 } as const;
 * if (!engineKillSwitch({ ...base, enabled: false, killSwitch: false })) throw new Error("disabled trades");
 * if (engineKillSwitch({ ...base, enabled: true, killSwitch: false })) throw new Error("enabled stopped");
 * ```
 */
export function engineKillSwitch(account: Pick<Account, "killSwitch" | "enabled">): boolean {
  return account.killSwitch || !account.enabled;
}

/**
 * True when `name` is one of {@linkcode LIMIT_NAMES}.
 *
 * @param name The candidate.
 * @returns Whether it names a limit.
 *
 * @example
 * ```ts
 * import { isLimitName } from "./types.ts";
 * if (!isLimitName("position") || isLimitName("toString")) throw new Error("wrong answer");
 * ```
 */
export function isLimitName(name: unknown): name is RiskLimitName {
  return isRiskLimitName(name);
}

/**
 * True when `role` is one of {@linkcode ACCOUNT_ROLES}.
 *
 * @param role The candidate.
 * @returns Whether it names a role.
 *
 * @example
 * ```ts
 * import { isAccountRole } from "./types.ts";
 * if (!isAccountRole("viewer") || isAccountRole("root")) throw new Error("wrong answer");
 * ```
 */
export function isAccountRole(role: unknown): role is AccountRole {
  return isRole(role);
}

/**
 * Why `name` cannot name an account, or undefined when it can: a string,
 * and the vocabulary's rule for a person's account
 * (`schemas/vocabulary/names.ts`: 1 to 48 bytes of UTF-8, no lone surrogate,
 * printable characters only), so that every account here can be journaled,
 * can sign in, and prints safely in logs and pages.
 *
 * @param name The candidate.
 * @returns The problem ("must be 1 to 48 bytes of UTF-8, not 50 bytes"), or undefined.
 *
 * @example
 * ```ts
 * import { accountNameProblem } from "./types.ts";
 * if (accountNameProblem("ALICE") !== undefined) throw new Error("ALICE refused");
 * if (accountNameProblem("") === undefined) throw new Error("empty name accepted");
 * if (accountNameProblem("EVE\u001b[2J") === undefined) throw new Error("escape code accepted");
 * ```
 */
export function accountNameProblem(name: unknown): string | undefined {
  if (typeof name !== "string") return `must be a string, not ${describeType(name)}`;
  return nameRuleProblem(name);
}

/**
 * Why `symbol` cannot be a symbol, or undefined when it can (1 to 12 of
 * `[A-Z0-9.-]`, the instrument table's rule).
 *
 * @param symbol The candidate.
 * @returns The problem, or undefined.
 *
 * @example
 * ```ts
 * import { symbolProblem } from "./types.ts";
 * if (symbolProblem("AAPL") !== undefined) throw new Error("AAPL refused");
 * if (symbolProblem("aapl") === undefined) throw new Error("lower case accepted");
 * ```
 */
export function symbolProblem(symbol: unknown): string | undefined {
  if (typeof symbol !== "string") return `must be a string, not ${describeType(symbol)}`;
  return SYMBOL_PATTERN.test(symbol) ? undefined : "must be 1 to 12 of A-Z, 0-9, '.' and '-'";
}

/**
 * Why `value` cannot be a limit's value, or undefined when it can: a
 * non-negative safe integer (0: no limit), which the engine's 64-bit
 * field holds exactly.
 *
 * @param value The candidate.
 * @returns The problem, or undefined.
 *
 * @example
 * ```ts
 * import { limitValueProblem } from "./types.ts";
 * if (limitValueProblem(0) !== undefined) throw new Error("0 refused");
 * if (limitValueProblem(1.5) === undefined) throw new Error("1.5 accepted");
 * ```
 */
export function limitValueProblem(value: unknown): string | undefined {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return undefined;
  return `must be a non-negative safe integer (0: no limit), not ${describeValue(value)}`;
}
