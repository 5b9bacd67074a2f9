/**
 * Accounts, their roles and risk limits, and the kill switches, in Deno KV.
 *
 * # Key layout
 *
 * Every key starts with {@linkcode KEY_ROOT} (`"admin"`):
 *
 * | key | value |
 * | --- | --- |
 * | `["admin", "accounts", name]` | the account: `{ name, role, enabled, killSwitch, createdAt, revision, tokenEpoch }` (a record without `tokenEpoch`, written before it existed, reads as 0) |
 * | `["admin", "limits", name]` | its limits for every instrument: all six, 0 = no limit |
 * | `["admin", "overrides", name, symbol]` | its overrides for one symbol: only the limits that differ (never empty) |
 * | `["admin", "global"]` | `{ killSwitch, revision }`, absent until first set (off) |
 * | `["admin", "version"]` | a `Deno.KvU64` that every change adds one to |
 * | `["admin", "passwords", name]` | its password hash (`password.ts`: scrypt, salt and parameters), absent until set |
 * | `["admin", "revoked_tokens", jti]` | `{ account, expiresAt }`: a token ended by a logout, kept (`expireIn`) until it would have expired |
 *
 * # Versions
 *
 * Every change to an account (its record, limits or overrides) is one
 * `kv.atomic()` operation that checks the account record's versionstamp,
 * rewrites the record with its `revision` one higher, and adds one to the
 * version key. So the account record's versionstamp stands for the whole
 * account (a reader re-reads it to know its reads were consistent), the
 * revision serves as an ETag (`ifRevision`), and a poller (the edge, another
 * process: `kv.watch` does not see other processes' writes) watches one key.
 * A change that lost a race with another writer is recomputed from the new
 * state, up to three times, unless the caller named the revision it expects.
 *
 * A change that leaves everything as it was writes nothing and keeps the
 * revision.
 *
 * # Token epochs
 *
 * Every change of an account's role or `enabled` (either way) also adds one
 * to its `tokenEpoch`, in the same write. Tokens carry the epoch they were
 * minted at, and the core refuses one whose epoch is not the account's
 * (`access.ts`): so disabling an account, re-enabling it, or changing its
 * role ends every token minted before the change. Setting a password
 * moves it on too (the old password's sessions end).
 *
 * Accounts are never deleted (the journal names them): disable one instead.
 *
 * @module
 */

import { type Fault, ok, refuse, type Result } from "./fault.ts";
import { describeType, quote } from "./_text.ts";
import { parsePasswordHash, type PasswordHash } from "./password.ts";
import {
  type Account,
  ACCOUNT_ROLES,
  accountNameProblem,
  type AccountRole,
  type AccountState,
  type AdminState,
  isAccountRole,
  isLimitName,
  LIMIT_NAMES,
  limitValueProblem,
  NO_LIMITS,
  type PartialRiskLimits,
  type RiskLimits,
  SYMBOL_LIMIT_NAMES,
  symbolProblem,
} from "./types.ts";
import type { RiskLimitName } from "../../schemas/vocabulary/risk_limits.ts";

/** The first part of every key the store writes. */
export const KEY_ROOT = "admin";

/** The store's keys (see the module documentation). */
export const KEYS = {
  /** Prefix of every account record. */
  accounts: [KEY_ROOT, "accounts"] as const,
  /** One account's record. */
  account: (name: string): Deno.KvKey => [KEY_ROOT, "accounts", name],
  /** Prefix of every account's limits. */
  allLimits: [KEY_ROOT, "limits"] as const,
  /** One account's limits for every instrument. */
  limits: (name: string): Deno.KvKey => [KEY_ROOT, "limits", name],
  /** Prefix of every override. */
  allOverrides: [KEY_ROOT, "overrides"] as const,
  /** Prefix of one account's overrides. */
  overrides: (name: string): Deno.KvKey => [KEY_ROOT, "overrides", name],
  /** One account's overrides for one symbol. */
  override: (name: string, symbol: string): Deno.KvKey => [KEY_ROOT, "overrides", name, symbol],
  /** The global kill switch. */
  global: [KEY_ROOT, "global"] as const,
  /** The version every change increments. */
  version: [KEY_ROOT, "version"] as const,
  /** One account's password hash (`password.ts`); absent until one is set. */
  password: (name: string): Deno.KvKey => [KEY_ROOT, "passwords", name],
  /** A token ended before its expiry (a logout), kept until it would have expired. */
  revokedToken: (jti: string): Deno.KvKey => [KEY_ROOT, "revoked_tokens", jti],
} as const;

/** What a change may require of the account's current state. */
export interface ChangeOptions {
  /** Refuse (`revision_mismatch`) unless the account is at this revision. */
  readonly ifRevision?: number;
}

/** The input of {@linkcode AccountStore.createAccount}. */
export interface NewAccount {
  readonly name: string;
  readonly role: AccountRole;
  /** Default true. */
  readonly enabled?: boolean;
}

/** A change to one account, as written: what to apply to the engine, or to revert. */
export interface AccountChange {
  /** The account before, or undefined when the change created it. */
  readonly before: AccountState | undefined;
  /** The account after. */
  readonly after: AccountState;
  /** False when nothing changed (and nothing was written). */
  readonly changed: boolean;
  /** The account record's versionstamp after the change (what a revert checks). */
  readonly versionstamp: string;
}

/** A change to the global kill switch. */
export interface GlobalChange {
  readonly before: boolean;
  readonly after: boolean;
  /** False when nothing changed (and nothing was written). */
  readonly changed: boolean;
  /** The record's versionstamp after the change, null while it was never written. */
  readonly versionstamp: string | null;
}

/** Stored form of the global switch. */
interface GlobalRecord {
  readonly killSwitch: boolean;
  readonly revision: number;
}

/** A read account with the versionstamp of its record. */
interface Read {
  readonly state: AccountState;
  readonly versionstamp: string;
}

/** How often a change lost to a concurrent writer is recomputed before `conflict`. */
const ATTEMPTS = 3;
/** How often a read that saw a concurrent change is repeated before giving up. */
const READ_ATTEMPTS = 8;

/**
 * Accounts, roles, risk limits and kill switches over a `Deno.Kv` that the
 * caller opens and closes. Bad input, a missing account, a name taken and a
 * revision that moved come back as {@linkcode Fault}s; exceptions mean the
 * store itself failed (KV errors, a malformed stored record).
 *
 * The store only stores: applying a change to the engine is the job of
 * `RiskAdmin` (`risk_admin.ts`).
 *
 * @example
 * ```ts
 * import { AccountStore } from "./store.ts";
 * const kv = await Deno.openKv(":memory:");
 * const store = new AccountStore(kv);
 * await store.createAccount({ name: "ALICE", role: "trader" });
 * const change = await store.setLimit("ALICE", "maxOrderQty", 500);
 * if (!change.ok || change.value.after.limits.maxOrderQty !== 500) throw new Error("not set");
 * const refused = await store.setLimit("ALICE", "maxOrderQty", -1);
 * if (refused.ok || refused.fault.reason !== "bad_limit") throw new Error("accepted -1");
 * kv.close();
 * ```
 */
export class AccountStore {
  readonly #kv: Deno.Kv;

  /**
   * Makes a store over `kv`.
   *
   * @param kv An open KV database; the store never closes it.
   */
  constructor(kv: Deno.Kv) {
    this.#kv = kv;
  }

  /**
   * Creates an account, enabled unless told otherwise, with no limits and
   * its kill switch off.
   *
   * @param account Its name, role and whether it is enabled.
   * @param options `now`: its creation time (default: now).
   * @returns The change (`before` undefined), or `bad_account_name` (the
   *   protocol's rule, and neither `.` nor `..`), `bad_role`, `bad_field` or
   *   `account_exists`.
   *
   * @example
   * ```ts
   * import { AccountStore } from "./store.ts";
   * const kv = await Deno.openKv(":memory:");
   * const store = new AccountStore(kv);
   * const created = await store.createAccount({ name: "BOB", role: "viewer", enabled: false });
   * if (!created.ok || created.value.after.revision !== 1) throw new Error("not created");
   * const again = await store.createAccount({ name: "BOB", role: "viewer" });
   * if (again.ok || again.fault.reason !== "account_exists") throw new Error("created twice");
   * kv.close();
   * ```
   */
  async createAccount(
    account: NewAccount,
    options: { readonly now?: Date } = {},
  ): Promise<Result<AccountChange>> {
    const what = "Cannot create account";
    const nameProblem = accountNameProblem(account.name);
    if (nameProblem !== undefined) {
      return refuse("bad_account_name", `${what}: its name ${nameProblem}`);
    }
    // URLs resolve these as path segments (even percent-encoded), so the
    // admin API could never name such an account.
    if (account.name === "." || account.name === "..") {
      return refuse(
        "bad_account_name",
        `${what}: its name must not be "." or "..", which a URL path cannot hold`,
      );
    }
    const badRole = roleProblem(account.role);
    if (badRole !== undefined) return refuse("bad_role", `${what}: ${badRole}`);
    const enabled = account.enabled ?? true;
    if (typeof enabled !== "boolean") {
      return refuse(
        "bad_field",
        `${what}: enabled must be a boolean, not ${describeType(enabled)}`,
      );
    }
    const record: Account = {
      name: account.name,
      role: account.role,
      enabled,
      killSwitch: false,
      createdAt: (options.now ?? new Date()).toISOString(),
      revision: 1,
      tokenEpoch: 0,
    };
    const key = KEYS.account(account.name);
    const commit = await this.#kv.atomic()
      .check({ key, versionstamp: null })
      .set(key, record)
      .set(KEYS.limits(account.name), NO_LIMITS)
      .sum(KEYS.version, 1n)
      .commit();
    if (!commit.ok) {
      return refuse("account_exists", `${what}: an account named ${quote(account.name)} exists`);
    }
    const after: AccountState = { ...record, limits: NO_LIMITS, overrides: {} };
    return ok({ before: undefined, after, changed: true, versionstamp: commit.versionstamp });
  }

  /**
   * Reads one account with its limits and overrides, consistently.
   *
   * @param name The account's name.
   * @returns The account, or `bad_account_name` or `account_not_found`.
   * @throws {TypeError} When a stored record is malformed.
   *
   * @example
   * ```ts
   * import { AccountStore } from "./store.ts";
   * const kv = await Deno.openKv(":memory:");
   * const store = new AccountStore(kv);
   * const missing = await store.getAccount("NOBODY");
   * if (missing.ok || missing.fault.reason !== "account_not_found") throw new Error("found");
   * kv.close();
   * ```
   */
  async getAccount(name: string): Promise<Result<AccountState>> {
    const found = await this.#find(name, "Cannot read account");
    return found.ok ? ok(found.value.state) : found;
  }

  /**
   * Lists every account (without limits), by name in KV key order.
   *
   * @returns The accounts.
   * @throws {TypeError} When a stored record is malformed.
   *
   * @example
   * ```ts
   * import { AccountStore } from "./store.ts";
   * const kv = await Deno.openKv(":memory:");
   * const store = new AccountStore(kv);
   * await store.createAccount({ name: "B", role: "trader" });
   * await store.createAccount({ name: "A", role: "admin" });
   * const names = (await store.listAccounts()).map((a) => a.name);
   * if (names.join() !== "A,B") throw new Error(`listed ${names}`);
   * kv.close();
   * ```
   */
  async listAccounts(): Promise<Account[]> {
    const accounts: Account[] = [];
    for await (const entry of this.#kv.list({ prefix: KEYS.accounts })) {
      accounts.push(decodeAccount(entry.key, entry.value));
    }
    return accounts;
  }

  /**
   * Reads everything at one version: the global kill switch and every
   * account with its limits and overrides.
   *
   * @returns The state.
   * @throws {TypeError} When a stored record is malformed.
   * @throws {Error} When the state kept changing through eight reads.
   *
   * @example
   * ```ts
   * import { AccountStore } from "./store.ts";
   * const kv = await Deno.openKv(":memory:");
   * const store = new AccountStore(kv);
   * await store.createAccount({ name: "ALICE", role: "trader" });
   * await store.setGlobalKillSwitch(true);
   * const state = await store.snapshot();
   * if (!state.killSwitch || state.accounts.length !== 1 || state.version !== 2) {
   *   throw new Error("wrong state");
   * }
   * kv.close();
   * ```
   */
  async snapshot(): Promise<AdminState> {
    for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
      const version = await this.#version();
      const accounts = new Map<string, Account>();
      for await (const e of this.#kv.list({ prefix: KEYS.accounts })) {
        const account = decodeAccount(e.key, e.value);
        accounts.set(account.name, account);
      }
      const limits = new Map<string, RiskLimits>();
      for await (const e of this.#kv.list({ prefix: KEYS.allLimits })) {
        limits.set(String(e.key[2]), decodeLimits(e.key, e.value));
      }
      const overrides = new Map<string, Record<string, PartialRiskLimits>>();
      for await (const e of this.#kv.list({ prefix: KEYS.allOverrides })) {
        const [name, symbol] = [String(e.key[2]), String(e.key[3])];
        const map = overrides.get(name) ?? {};
        map[symbol] = decodeOverride(e.key, e.value);
        overrides.set(name, map);
      }
      const global = await this.#kv.get<GlobalRecord>(KEYS.global);
      if (await this.#version() !== version) continue;
      return {
        version,
        killSwitch: global.value === null ? false : decodeGlobal(global.value).killSwitch,
        accounts: [...accounts.values()].map((account) => ({
          ...account,
          limits: limits.get(account.name) ?? NO_LIMITS,
          overrides: overrides.get(account.name) ?? {},
        })),
      };
    }
    throw new Error(
      `Cannot read the admin state: it changed during each of ${READ_ATTEMPTS} reads`,
    );
  }

  /**
   * Changes an account's role or whether it is enabled.
   *
   * @param name The account.
   * @param patch The new role, the new `enabled`, or both.
   * @param options The revision required.
   * @returns The change, or `empty_change`, `bad_role`, `bad_field`,
   *   `account_not_found`, `revision_mismatch` or `conflict`.
   *
   * @example
   * ```ts
   * import { AccountStore } from "./store.ts";
   * const kv = await Deno.openKv(":memory:");
   * const store = new AccountStore(kv);
   * await store.createAccount({ name: "ALICE", role: "trader" });
   * const change = await store.updateAccount("ALICE", { enabled: false }, { ifRevision: 1 });
   * if (!change.ok || change.value.after.enabled || change.value.after.revision !== 2) {
   *   throw new Error("not disabled");
   * }
   * kv.close();
   * ```
   */
  updateAccount(
    name: string,
    patch: { readonly role?: AccountRole; readonly enabled?: boolean },
    options: ChangeOptions = {},
  ): Promise<Result<AccountChange>> {
    const what = "Cannot update account";
    if (patch.role === undefined && patch.enabled === undefined) {
      return Promise.resolve(refuse("empty_change", `${what}: name a role or enabled to change`));
    }
    if (patch.role !== undefined) {
      const problem = roleProblem(patch.role);
      if (problem !== undefined) return Promise.resolve(refuse("bad_role", `${what}: ${problem}`));
    }
    if (patch.enabled !== undefined && typeof patch.enabled !== "boolean") {
      return Promise.resolve(refuse(
        "bad_field",
        `${what}: enabled must be a boolean, not ${describeType(patch.enabled)}`,
      ));
    }
    return this.#change(name, what, options, (s) => {
      const role = patch.role ?? s.role;
      const enabled = patch.enabled ?? s.enabled;
      // Who may use the account changed: tokens minted before stop working.
      const access = role !== s.role || enabled !== s.enabled;
      return ok({ ...s, role, enabled, tokenEpoch: s.tokenEpoch + (access ? 1 : 0) });
    });
  }

  /**
   * Replaces an account's whole set of limits for every instrument.
   *
   * @param name The account.
   * @param limits All six limits (0: no limit).
   * @param options The revision required.
   * @returns The change, or `missing_field`, `unknown_limit`, `bad_limit`,
   *   `account_not_found`, `revision_mismatch` or `conflict`.
   *
   * @example
   * ```ts
   * import { AccountStore } from "./store.ts";
   * import { NO_LIMITS } from "./types.ts";
   * const kv = await Deno.openKv(":memory:");
   * const store = new AccountStore(kv);
   * await store.createAccount({ name: "ALICE", role: "trader" });
   * const change = await store.setLimits("ALICE", { ...NO_LIMITS, position: 1000 });
   * if (!change.ok || change.value.after.limits.position !== 1000) throw new Error("not set");
   * kv.close();
   * ```
   */
  setLimits(
    name: string,
    limits: RiskLimits,
    options: ChangeOptions = {},
  ): Promise<Result<AccountChange>> {
    const what = "Cannot set limits";
    const checked = checkLimits(what, limits, true);
    if (!checked.ok) return Promise.resolve(checked);
    const full = checked.value as RiskLimits;
    return this.#change(name, what, options, (s) => ok({ ...s, limits: full }));
  }

  /**
   * Sets one of an account's limits for every instrument.
   *
   * @param name The account.
   * @param limit Which limit.
   * @param value Its value (0: no limit).
   * @param options The revision required.
   * @returns The change, or `unknown_limit`, `bad_limit`,
   *   `account_not_found`, `revision_mismatch` or `conflict`.
   *
   * @example
   * ```ts
   * import { AccountStore } from "./store.ts";
   * const kv = await Deno.openKv(":memory:");
   * const store = new AccountStore(kv);
   * const missing = await store.setLimit("NOBODY", "position", 10);
   * if (missing.ok || missing.fault.reason !== "account_not_found") throw new Error("set");
   * kv.close();
   * ```
   */
  setLimit(
    name: string,
    limit: RiskLimitName,
    value: number,
    options: ChangeOptions = {},
  ): Promise<Result<AccountChange>> {
    const what = "Cannot set limit";
    const problem = oneLimitProblem(what, limit, value);
    if (problem !== undefined) return Promise.resolve({ ok: false, fault: problem });
    return this.#change(
      name,
      what,
      options,
      (s) => ok({ ...s, limits: { ...s.limits, [limit]: value } }),
    );
  }

  /**
   * Replaces an account's overrides for one symbol: the limits named take
   * the values given for that symbol; the others follow the account's limits
   * for every instrument. `{}` removes every override of the symbol.
   *
   * The store checks the symbol's spelling only: whether the instrument
   * table holds it is the caller's to check.
   *
   * @param name The account.
   * @param symbol The symbol.
   * @param overrides The limits that differ for it.
   * @param options The revision required.
   * @returns The change, or `bad_symbol`, `unknown_limit`, `bad_limit`,
   *   `account_not_found`, `revision_mismatch` or `conflict`.
   *
   * @example
   * ```ts
   * import { AccountStore } from "./store.ts";
   * const kv = await Deno.openKv(":memory:");
   * const store = new AccountStore(kv);
   * await store.createAccount({ name: "ALICE", role: "trader" });
   * const change = await store.setOverrides("ALICE", "AAPL", { position: 50 });
   * if (!change.ok || change.value.after.overrides.AAPL?.position !== 50) throw new Error("not set");
   * kv.close();
   * ```
   */
  setOverrides(
    name: string,
    symbol: string,
    overrides: PartialRiskLimits,
    options: ChangeOptions = {},
  ): Promise<Result<AccountChange>> {
    const what = "Cannot set overrides";
    const problem = symbolProblem(symbol);
    if (problem !== undefined) {
      return Promise.resolve(refuse("bad_symbol", `${what}: the symbol ${problem}`));
    }
    const checked = checkLimits(what, overrides, false);
    if (!checked.ok) return Promise.resolve(checked);
    for (const limit of Object.keys(checked.value)) {
      const fault = perSymbolProblem(what, limit);
      if (fault !== undefined) return Promise.resolve({ ok: false, fault });
    }
    return this.#change(
      name,
      what,
      options,
      (s) => ok({ ...s, overrides: withOverride(s.overrides, symbol, checked.value) }),
    );
  }

  /**
   * Sets or removes one override of one limit for one symbol.
   *
   * @param name The account.
   * @param symbol The symbol (spelling checked only).
   * @param limit Which limit.
   * @param value Its value for the symbol (0: no limit), or undefined to
   *   remove the override, so that the account's limit applies again.
   * @param options The revision required.
   * @returns The change, or `bad_symbol`, `unknown_limit`, `bad_limit`,
   *   `account_not_found`, `revision_mismatch` or `conflict`.
   *
   * @example
   * ```ts
   * import { AccountStore } from "./store.ts";
   * const kv = await Deno.openKv(":memory:");
   * const store = new AccountStore(kv);
   * await store.createAccount({ name: "ALICE", role: "trader" });
   * await store.setOverride("ALICE", "AAPL", "maxOrderQty", 10);
   * const change = await store.setOverride("ALICE", "AAPL", "maxOrderQty", undefined);
   * if (!change.ok || "AAPL" in change.value.after.overrides) throw new Error("not removed");
   * kv.close();
   * ```
   */
  setOverride(
    name: string,
    symbol: string,
    limit: RiskLimitName,
    value: number | undefined,
    options: ChangeOptions = {},
  ): Promise<Result<AccountChange>> {
    const what = value === undefined ? "Cannot remove override" : "Cannot set override";
    const problem = symbolProblem(symbol);
    if (problem !== undefined) {
      return Promise.resolve(refuse("bad_symbol", `${what}: the symbol ${problem}`));
    }
    const fault = value === undefined
      ? (isLimitName(limit) ? undefined : unknownLimit(what, limit))
      : oneLimitProblem(what, limit, value) ?? perSymbolProblem(what, limit);
    if (fault !== undefined) return Promise.resolve({ ok: false, fault });
    return this.#change(name, what, options, (s) => {
      const current: Record<string, number> = { ...s.overrides[symbol] };
      if (value === undefined) delete current[limit];
      else current[limit] = value;
      return ok({ ...s, overrides: withOverride(s.overrides, symbol, current) });
    });
  }

  /**
   * Turns an account's own kill switch on or off.
   *
   * @param name The account.
   * @param on True to stop its new orders and replaces.
   * @param options The revision required.
   * @returns The change, or `bad_field`, `account_not_found`,
   *   `revision_mismatch` or `conflict`.
   *
   * @example
   * ```ts
   * import { AccountStore } from "./store.ts";
   * const kv = await Deno.openKv(":memory:");
   * const store = new AccountStore(kv);
   * await store.createAccount({ name: "ALICE", role: "trader" });
   * const change = await store.setKillSwitch("ALICE", true);
   * if (!change.ok || !change.value.after.killSwitch) throw new Error("not on");
   * kv.close();
   * ```
   */
  setKillSwitch(
    name: string,
    on: boolean,
    options: ChangeOptions = {},
  ): Promise<Result<AccountChange>> {
    const what = "Cannot set kill switch";
    if (typeof on !== "boolean") {
      return Promise.resolve(
        refuse("bad_field", `${what}: on must be a boolean, not ${describeType(on)}`),
      );
    }
    return this.#change(name, what, options, (s) => ok({ ...s, killSwitch: on }));
  }

  /**
   * Sets an account's password hash (made by `hashPassword`, `password.ts`:
   * the store never sees a password). It also moves the account's token
   * epoch on, in the same write, so that every token minted before (every
   * session of the old password) stops working.
   *
   * @param name The account.
   * @param hash The new hash.
   * @param options The revision required.
   * @returns The change (`after.tokenEpoch` one higher), or
   *   `account_not_found`, `bad_account_name`, `bad_field` (not a hash),
   *   `revision_mismatch` or `conflict`.
   *
   * @example
   * ```ts
   * import { AccountStore } from "./store.ts";
   * import { hashPassword, verifyPassword } from "./password.ts";
   * const kv = await Deno.openKv(":memory:");
   * const store = new AccountStore(kv);
   * await store.createAccount({ name: "ALICE", role: "trader" });
   * const cheap = { n: 1024, r: 8, p: 1 }; // tests only
   * const change = await store.setPassword("ALICE", await hashPassword("open sesame", cheap));
   * if (!change.ok || change.value.after.tokenEpoch !== 1) throw new Error("epoch not moved");
   * const stored = await store.passwordHash("ALICE");
   * if (stored === undefined || !(await verifyPassword("open sesame", stored))) throw new Error("lost");
   * kv.close();
   * ```
   */
  setPassword(
    name: string,
    hash: PasswordHash,
    options: ChangeOptions = {},
  ): Promise<Result<AccountChange>> {
    const what = "Cannot set password";
    const checked = parsePasswordHash(hash);
    if (checked === undefined) {
      return Promise.resolve(refuse("bad_field", `${what}: the hash is not a scrypt hash`));
    }
    return this.#change(
      name,
      what,
      options,
      (s) => ok({ ...s, tokenEpoch: s.tokenEpoch + 1 }),
      (op) => op.set(KEYS.password(name), checked),
    );
  }

  /**
   * An account's password hash.
   *
   * @param name The account.
   * @returns The hash, or undefined when the account has none (or does not exist).
   * @throws {TypeError} When the stored value is not a hash.
   *
   * @example
   * ```ts
   * import { AccountStore } from "./store.ts";
   * const kv = await Deno.openKv(":memory:");
   * if (await new AccountStore(kv).passwordHash("NOBODY") !== undefined) throw new Error("found");
   * kv.close();
   * ```
   */
  async passwordHash(name: string): Promise<PasswordHash | undefined> {
    if (accountNameProblem(name) !== undefined) return undefined;
    const entry = await this.#kv.get(KEYS.password(name));
    if (entry.value === null) return undefined;
    const hash = parsePasswordHash(entry.value);
    if (hash === undefined) throw malformed(entry.key, "a password hash");
    return hash;
  }

  /**
   * Ends one token before its expiry (a logout): its id goes on a list that
   * `checkAccess` reads, kept until the token would have expired anyway
   * (KV's `expireIn`). Other tokens of the account are untouched. Not a
   * change of the account: the version key does not move.
   *
   * @param jti The token's id (`jti` claim).
   * @param account Its account, for the record.
   * @param expiresAtMs When the token expires (ms since the epoch).
   * @param now The current time in ms (default `Date.now()`).
   *
   * @example
   * ```ts
   * import { AccountStore } from "./store.ts";
   * const kv = await Deno.openKv(":memory:");
   * const store = new AccountStore(kv);
   * await store.revokeToken("id-1", "ALICE", Date.now() + 60_000);
   * if (!(await store.tokenRevoked("id-1")) || await store.tokenRevoked("id-2")) {
   *   throw new Error("wrong list");
   * }
   * kv.close();
   * ```
   */
  async revokeToken(
    jti: string,
    account: string,
    expiresAtMs: number,
    now: number = Date.now(),
  ): Promise<void> {
    // Kept a minute past expiry: the verifier tolerates 30 s of clock skew.
    const expireIn = Math.max(1000, Math.ceil(expiresAtMs - now) + 60_000);
    await this.#kv.set(KEYS.revokedToken(jti), { account, expiresAt: expiresAtMs }, { expireIn });
  }

  /**
   * Whether a token was ended by {@linkcode AccountStore.revokeToken}.
   *
   * @param jti The token's id.
   * @returns True when it was.
   */
  async tokenRevoked(jti: string): Promise<boolean> {
    return (await this.#kv.get(KEYS.revokedToken(jti))).value !== null;
  }

  /**
   * Turns the kill switch for every account on or off.
   *
   * @param on True to stop every account's new orders and replaces.
   * @returns The change, or `bad_field`.
   *
   * @example
   * ```ts
   * import { AccountStore } from "./store.ts";
   * const kv = await Deno.openKv(":memory:");
   * const store = new AccountStore(kv);
   * const change = await store.setGlobalKillSwitch(true);
   * if (!change.ok || change.value.before || !change.value.after) throw new Error("not on");
   * kv.close();
   * ```
   */
  async setGlobalKillSwitch(on: boolean): Promise<Result<GlobalChange>> {
    if (typeof on !== "boolean") {
      return refuse(
        "bad_field",
        `Cannot set the global kill switch: on must be a boolean, not ${describeType(on)}`,
      );
    }
    for (;;) {
      const current = await this.#kv.get<GlobalRecord>(KEYS.global);
      const record = current.value === null ? undefined : decodeGlobal(current.value);
      const before = record?.killSwitch ?? false;
      if (before === on) {
        return ok({ before, after: on, changed: false, versionstamp: current.versionstamp });
      }
      // Only one field, set to a value that does not depend on the old one
      // beyond the revision: retrying after a lost race is always right.
      const commit = await this.#kv.atomic()
        .check(current)
        .set(KEYS.global, { killSwitch: on, revision: (record?.revision ?? 0) + 1 })
        .sum(KEYS.version, 1n)
        .commit();
      if (commit.ok) {
        return ok({ before, after: on, changed: true, versionstamp: commit.versionstamp });
      }
    }
  }

  /**
   * Reads the global kill switch.
   *
   * @returns True when it is on.
   *
   * @example
   * ```ts
   * import { AccountStore } from "./store.ts";
   * const kv = await Deno.openKv(":memory:");
   * if (await new AccountStore(kv).globalKillSwitch()) throw new Error("on by default");
   * kv.close();
   * ```
   */
  async globalKillSwitch(): Promise<boolean> {
    const current = await this.#kv.get<GlobalRecord>(KEYS.global);
    return current.value === null ? false : decodeGlobal(current.value).killSwitch;
  }

  /**
   * Undoes a change that the engine refused: the account goes back to
   * `change.before` (its revision still grows: a revision is never reused),
   * or is removed when the change created it. Refused with `conflict` when
   * the account changed since (another writer); a change that changed
   * nothing needs no revert.
   *
   * @param change What {@linkcode AccountStore} returned.
   * @returns Nothing, or `conflict`.
   *
   * @example
   * ```ts
   * import { AccountStore } from "./store.ts";
   * const kv = await Deno.openKv(":memory:");
   * const store = new AccountStore(kv);
   * const created = await store.createAccount({ name: "ALICE", role: "trader" });
   * if (!created.ok) throw new Error("not created");
   * await store.revert(created.value);
   * if ((await store.getAccount("ALICE")).ok) throw new Error("still there");
   * kv.close();
   * ```
   */
  async revert(change: AccountChange): Promise<Result<void>> {
    if (!change.changed) return ok(undefined);
    const name = change.after.name;
    const key = KEYS.account(name);
    const op = this.#kv.atomic().check({ key, versionstamp: change.versionstamp })
      .sum(KEYS.version, 1n);
    const { before, after } = change;
    if (before === undefined) {
      op.delete(key).delete(KEYS.limits(name));
      for (const symbol of Object.keys(after.overrides)) op.delete(KEYS.override(name, symbol));
    } else {
      writeState(op, after, { ...before, revision: after.revision + 1 });
    }
    const commit = await op.commit();
    return commit.ok ? ok(undefined) : refuse(
      "conflict",
      `Cannot revert the change to account ${quote(name)}: it changed again since`,
    );
  }

  /**
   * Undoes a change of the global kill switch that the engine refused.
   *
   * @param change What {@linkcode AccountStore.setGlobalKillSwitch} returned.
   * @returns Nothing, or `conflict` when the switch changed since.
   */
  async revertGlobal(change: GlobalChange): Promise<Result<void>> {
    if (!change.changed) return ok(undefined);
    const current = await this.#kv.get<GlobalRecord>(KEYS.global);
    if (current.versionstamp !== change.versionstamp || current.value === null) {
      return refuse("conflict", "Cannot revert the global kill switch: it changed again since");
    }
    const commit = await this.#kv.atomic().check(current)
      .set(KEYS.global, {
        killSwitch: change.before,
        revision: decodeGlobal(current.value).revision + 1,
      })
      .sum(KEYS.version, 1n)
      .commit();
    return commit.ok
      ? ok(undefined)
      : refuse("conflict", "Cannot revert the global kill switch: it changed again since");
  }

  /**
   * The version counter: it grows with every change anywhere in the store,
   * whichever process made it (a poller reads this one key).
   *
   * @returns The version, 0 before any change.
   *
   * @example
   * ```ts
   * import { AccountStore } from "./store.ts";
   * const kv = await Deno.openKv(":memory:");
   * const store = new AccountStore(kv);
   * await store.createAccount({ name: "ALICE", role: "trader" });
   * if (await store.version() !== 1) throw new Error("not counted");
   * kv.close();
   * ```
   */
  version(): Promise<number> {
    return this.#version();
  }

  /** The version counter, 0 before any change. */
  async #version(): Promise<number> {
    const entry = await this.#kv.get<Deno.KvU64>(KEYS.version);
    return entry.value === null ? 0 : Number(entry.value.value);
  }

  /** Reads an account consistently, or says why not. */
  async #find(name: string, what: string): Promise<Result<Read>> {
    const problem = accountNameProblem(name);
    if (problem !== undefined) return refuse("bad_account_name", `${what}: its name ${problem}`);
    const read = await this.#read(name);
    return read === undefined
      ? refuse("account_not_found", `${what}: no account is named ${quote(name)}`)
      : ok(read);
  }

  /**
   * Reads the record, the limits and the overrides, then the record again:
   * every change rewrites the record, so an unchanged versionstamp means
   * the three reads saw one state.
   */
  async #read(name: string): Promise<Read | undefined> {
    const key = KEYS.account(name);
    for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
      const [record, limits] = await this.#kv.getMany<[Account, RiskLimits]>([
        key,
        KEYS.limits(name),
      ]);
      if (record.value === null) return undefined;
      const overrides: Record<string, PartialRiskLimits> = {};
      for await (const e of this.#kv.list({ prefix: KEYS.overrides(name) })) {
        overrides[String(e.key[3])] = decodeOverride(e.key, e.value);
      }
      const again = await this.#kv.get(key);
      if (again.versionstamp !== record.versionstamp) continue;
      const account = decodeAccount(key, record.value);
      return {
        state: {
          ...account,
          limits: limits.value === null ? NO_LIMITS : decodeLimits(limits.key, limits.value),
          overrides,
        },
        versionstamp: record.versionstamp,
      };
    }
    throw new Error(
      `Cannot read account ${quote(name)}: it changed during each of ${READ_ATTEMPTS} reads`,
    );
  }

  /**
   * Reads, computes the next state, and writes it if the account did not
   * change meanwhile; recomputes after a lost race unless a revision was
   * required.
   */
  async #change(
    name: string,
    what: string,
    options: ChangeOptions,
    next: (state: AccountState) => Result<AccountState>,
    /** Writes beside the account's own, in the same operation. */
    extra?: (op: Deno.AtomicOperation) => void,
  ): Promise<Result<AccountChange>> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const found = await this.#find(name, what);
      if (!found.ok) return found;
      const { state: before, versionstamp } = found.value;
      if (options.ifRevision !== undefined && options.ifRevision !== before.revision) {
        return refuse(
          "revision_mismatch",
          `${what}: account ${
            quote(name)
          } is at revision ${before.revision}, not ${options.ifRevision}`,
        );
      }
      const computed = next(before);
      if (!computed.ok) return computed;
      if (sameState(before, computed.value)) {
        return ok({ before, after: before, changed: false, versionstamp });
      }
      const after: AccountState = { ...computed.value, revision: before.revision + 1 };
      const op = this.#kv.atomic().check({ key: KEYS.account(name), versionstamp })
        .sum(KEYS.version, 1n);
      writeState(op, before, after);
      extra?.(op);
      const commit = await op.commit();
      if (commit.ok) return ok({ before, after, changed: true, versionstamp: commit.versionstamp });
    }
    return refuse(
      "conflict",
      `${what}: account ${quote(name)} changed under ${ATTEMPTS} attempts in a row; try again`,
    );
  }
}

/** Adds to `op` the writes that turn the stored `from` into `to`. */
function writeState(op: Deno.AtomicOperation, from: AccountState, to: AccountState): void {
  const name = to.name;
  const record: Account = {
    name,
    role: to.role,
    enabled: to.enabled,
    killSwitch: to.killSwitch,
    createdAt: to.createdAt,
    revision: to.revision,
    tokenEpoch: to.tokenEpoch,
  };
  op.set(KEYS.account(name), record);
  if (!sameLimits(from.limits, to.limits)) op.set(KEYS.limits(name), { ...to.limits });
  for (const symbol of new Set([...Object.keys(from.overrides), ...Object.keys(to.overrides)])) {
    const [a, b] = [from.overrides[symbol], to.overrides[symbol]];
    if (b === undefined) op.delete(KEYS.override(name, symbol));
    else if (a === undefined || !sameLimits(a, b)) op.set(KEYS.override(name, symbol), { ...b });
  }
}

/** `overrides` with `symbol`'s entry replaced (removed when empty), sorted by symbol. */
function withOverride(
  overrides: Readonly<Record<string, PartialRiskLimits>>,
  symbol: string,
  entry: PartialRiskLimits,
): Record<string, PartialRiskLimits> {
  const next: Record<string, PartialRiskLimits> = { ...overrides };
  if (Object.keys(entry).length === 0) delete next[symbol];
  else next[symbol] = entry;
  return Object.fromEntries(Object.entries(next).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function sameLimits(a: PartialRiskLimits, b: PartialRiskLimits): boolean {
  return LIMIT_NAMES.every((limit) => a[limit] === b[limit]);
}

function sameState(a: AccountState, b: AccountState): boolean {
  if (
    a.role !== b.role || a.enabled !== b.enabled || a.killSwitch !== b.killSwitch ||
    a.tokenEpoch !== b.tokenEpoch || !sameLimits(a.limits, b.limits)
  ) return false;
  const symbols = new Set([...Object.keys(a.overrides), ...Object.keys(b.overrides)]);
  return [...symbols].every((s) => {
    const [x, y] = [a.overrides[s], b.overrides[s]];
    return x !== undefined && y !== undefined && sameLimits(x, y);
  });
}

function roleProblem(role: unknown): string | undefined {
  if (isAccountRole(role)) return undefined;
  const shown = typeof role === "string" ? quote(role) : describeType(role);
  return `role must be one of ${ACCOUNT_ROLES.join(", ")}, not ${shown}`;
}

function unknownLimit(what: string, limit: unknown): Fault {
  const shown = typeof limit === "string" ? quote(limit) : describeType(limit);
  return {
    reason: "unknown_limit",
    message: `${what}: ${shown} is not a limit (limits: ${LIMIT_NAMES.join(", ")})`,
  };
}

/** A limit that cannot differ by symbol (see {@linkcode SYMBOL_LIMIT_NAMES}). */
function perSymbolProblem(what: string, limit: string): Fault | undefined {
  return (SYMBOL_LIMIT_NAMES as readonly string[]).includes(limit) ? undefined : {
    reason: "bad_limit",
    message: `${what}: ${limit} applies to the whole account, not per symbol ` +
      `(per-symbol limits: ${SYMBOL_LIMIT_NAMES.join(", ")})`,
  };
}

function oneLimitProblem(what: string, limit: unknown, value: unknown): Fault | undefined {
  if (!isLimitName(limit)) return unknownLimit(what, limit);
  const problem = limitValueProblem(value);
  return problem === undefined
    ? undefined
    : { reason: "bad_limit", message: `${what}: ${limit} ${problem}` };
}

/**
 * Checks a set of limits: every key a limit, every value valid, and all six
 * present when `full`. Returns a copy in the engine's order.
 */
function checkLimits(what: string, limits: unknown, full: boolean): Result<PartialRiskLimits> {
  if (typeof limits !== "object" || limits === null || Array.isArray(limits)) {
    return refuse("bad_field", `${what}: limits must be an object, not ${describeType(limits)}`);
  }
  const given = limits as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!isLimitName(key)) return { ok: false, fault: unknownLimit(what, key) };
  }
  const out: Record<string, number> = {};
  for (const limit of LIMIT_NAMES) {
    if (!Object.hasOwn(given, limit)) {
      if (full) {
        return refuse(
          "missing_field",
          `${what}: ${limit} is missing (a whole set names all of ${LIMIT_NAMES.join(", ")})`,
        );
      }
      continue;
    }
    const problem = oneLimitProblem(what, limit, given[limit]);
    if (problem !== undefined) return { ok: false, fault: problem };
    out[limit] = given[limit] as number;
  }
  return ok(out);
}

function malformed(key: Deno.KvKey, what: string): TypeError {
  return new TypeError(
    `Cannot read ${
      JSON.stringify(key)
    }: the stored value is not ${what}; was it written by another program?`,
  );
}

function decodeAccount(key: Deno.KvKey, value: unknown): Account {
  const v = value as Partial<Record<keyof Account, unknown>> | null;
  if (
    typeof v !== "object" || v === null || typeof v.name !== "string" || !isAccountRole(v.role) ||
    typeof v.enabled !== "boolean" || typeof v.killSwitch !== "boolean" ||
    typeof v.createdAt !== "string" || !Number.isSafeInteger(v.revision) ||
    !(v.tokenEpoch === undefined ||
      (Number.isSafeInteger(v.tokenEpoch) && v.tokenEpoch as number >= 0))
  ) throw malformed(key, "an account");
  return {
    name: v.name,
    role: v.role,
    enabled: v.enabled,
    killSwitch: v.killSwitch,
    createdAt: v.createdAt,
    revision: v.revision as number,
    // Records written before token epochs existed: epoch 0, which tokens
    // without an epoch claim carry.
    tokenEpoch: (v.tokenEpoch ?? 0) as number,
  };
}

function decodeLimits(key: Deno.KvKey, value: unknown): RiskLimits {
  const checked = checkLimits("", value, true);
  if (!checked.ok) throw malformed(key, "a set of limits");
  return checked.value as RiskLimits;
}

function decodeOverride(key: Deno.KvKey, value: unknown): PartialRiskLimits {
  const checked = checkLimits("", value, false);
  if (!checked.ok) throw malformed(key, "a set of overrides");
  return checked.value;
}

function decodeGlobal(value: unknown): GlobalRecord {
  const v = value as Partial<Record<keyof GlobalRecord, unknown>> | null;
  if (
    typeof v !== "object" || v === null || typeof v.killSwitch !== "boolean" ||
    !Number.isSafeInteger(v.revision)
  ) throw malformed(KEYS.global, "the global kill switch");
  return { killSwitch: v.killSwitch, revision: v.revision as number };
}
