/**
 * Changes that reach the engine before they count: each change is written
 * to KV, then applied to the engine through the {@linkcode RiskControlPort},
 * and reported as done only when the engine acknowledged every command.
 *
 * # When the engine refuses
 *
 * When the engine refuses a command (it halted after a journal failure, its
 * ring stayed full, it rejected the command) or does not acknowledge it in
 * time, the change is undone:
 *
 * 1. the KV write is reverted (the account goes back to what it was, or is
 *    removed if the change created it), so the store never claims what the
 *    engine does not hold;
 * 2. the commands already acknowledged are reversed by sending the old
 *    values, in order, stopping at the first refusal;
 * 3. the caller gets `engine_refused` or `engine_timeout`, with the
 *    command that failed and the engine's reason.
 *
 * A halted engine takes nothing more, so step 2 fails too and the engine
 * may keep part of the change; it is lost with the halt anyway (a halt
 * stops the engine; the next start recovers the journal and `applyAll`
 * pushes the store's state). A failed creation is not reversed in the
 * engine: the account is gone from the store, and creating it again sends
 * its whole state. After a timeout the
 * engine may apply the late command after all; step 2's commands follow it
 * in the same ring, so the old values still win.
 *
 * Changes run one at a time (a queue in this process), so the engine
 * receives them in the order KV recorded them.
 *
 * @module
 */

import { type Fault, ok, type Result } from "./fault.ts";
import type { RiskLimitName } from "../../schemas/vocabulary/risk_limits.ts";
import {
  type AccountChange,
  type AccountStore,
  type ChangeOptions,
  type NewAccount,
} from "./store.ts";
import {
  type ControlOp,
  DEFAULT_ENGINE_TIMEOUT_MS,
  type InstrumentIndex,
  instrumentIndex,
  planChange,
  type RiskControlPort,
  runControls,
} from "./port.ts";
import type {
  Account,
  AccountRole,
  AccountState,
  AdminState,
  PartialRiskLimits,
  RiskLimits,
} from "./types.ts";
import { quote } from "./_text.ts";

/** Options of {@linkcode RiskAdmin}. */
export interface RiskAdminOptions {
  /** Where accounts and limits are stored. */
  readonly store: AccountStore;
  /** The engine. */
  readonly port: RiskControlPort;
  /** The instrument table, in engine order (an override's symbol must be in it). */
  readonly instruments: readonly { readonly symbol: string }[];
  /** Engine account numbers already known (what `applyAll` returned). */
  readonly accountNumbers?: ReadonlyMap<string, number>;
  /** How long to wait for each acknowledgement (default 5000 ms). */
  readonly engineTimeoutMs?: number;
  /**
   * Told of every account change once it took effect (stored and
   * acknowledged by the engine), before it is reported; `before` is
   * undefined for a creation. Must not throw.
   */
  readonly onChange?: (before: AccountState | undefined, after: AccountState) => void;
}

/**
 * The store and the engine together: every change is stored, applied to the
 * engine, and reported only once acknowledged; a refused change is undone
 * (see the module documentation).
 *
 * @example
 * ```ts
 * import { AccountStore, RiskAdmin, type RiskControlPort } from "./mod.ts";
 * const kv = await Deno.openKv(":memory:");
 * const applied: string[] = [];
 * let halted = false;
 * const answer = (what: string) =>
 *   halted ? Promise.reject(new Error("engine halted")) : (applied.push(what), Promise.resolve());
 * const port: RiskControlPort = {
 *   defineAccount: () => Promise.resolve(1),
 *   setLimit: (a, _i, limit, v) => answer(`${a} ${limit}=${v}`),
 *   clearLimit: () => answer("clear"),
 *   setKillSwitch: (a, on) => answer(`${a} kill ${on}`),
 * };
 * const admin = new RiskAdmin({ store: new AccountStore(kv), port, instruments: [] });
 * await admin.createAccount({ name: "ALICE", role: "trader" });
 * applied.length = 0;
 * await admin.setLimit("ALICE", "maxOrderQty", 500);
 * if (applied.join() !== "1 maxOrderQty=500") throw new Error(applied.join());
 * halted = true;
 * const refused = await admin.setKillSwitch("ALICE", true);
 * if (refused.ok || refused.fault.reason !== "engine_refused") throw new Error("not refused");
 * const stored = await admin.getAccount("ALICE");
 * if (!stored.ok || stored.value.killSwitch) throw new Error("refused change kept");
 * kv.close();
 * ```
 */
export class RiskAdmin {
  readonly #store: AccountStore;
  readonly #port: RiskControlPort;
  readonly #index: InstrumentIndex;
  readonly #accounts: Map<string, number>;
  readonly #timeoutMs: number;
  readonly #onChange: RiskAdminOptions["onChange"];
  #queue: Promise<unknown> = Promise.resolve();

  /**
   * Makes the admin over a store and an engine.
   *
   * @param options The store, the port, the instruments and the timeout.
   * @throws {RangeError} When a symbol appears twice in the instrument
   *   table, or the timeout is not a positive finite number.
   */
  constructor(options: RiskAdminOptions) {
    this.#store = options.store;
    this.#port = options.port;
    this.#index = instrumentIndex(options.instruments);
    this.#accounts = new Map(options.accountNumbers ?? []);
    this.#timeoutMs = options.engineTimeoutMs ?? DEFAULT_ENGINE_TIMEOUT_MS;
    this.#onChange = options.onChange;
    if (!(this.#timeoutMs > 0 && Number.isFinite(this.#timeoutMs))) {
      throw new RangeError(
        `Cannot make the risk admin: engineTimeoutMs must be a positive number, not ${this.#timeoutMs}`,
      );
    }
  }

  /** The instrument symbols, in engine order. */
  get symbols(): readonly string[] {
    return [...this.#index.keys()];
  }

  /**
   * Reads everything at one version.
   *
   * @returns The stored state (which the engine holds too, but for a change
   *   in flight).
   */
  state(): Promise<AdminState> {
    return this.#store.snapshot();
  }

  /**
   * Lists the accounts.
   *
   * @returns Every account, without limits.
   */
  listAccounts(): Promise<Account[]> {
    return this.#store.listAccounts();
  }

  /**
   * Reads one account.
   *
   * @param name The account.
   * @returns It, or `bad_account_name` or `account_not_found`.
   */
  getAccount(name: string): Promise<Result<AccountState>> {
    return this.#store.getAccount(name);
  }

  /**
   * Creates an account and defines it in the engine (with its kill switch
   * on when it is created disabled).
   *
   * @param account Its name, role and `enabled`.
   * @returns The account, or the store's faults, `engine_refused` or
   *   `engine_timeout`.
   */
  createAccount(account: NewAccount): Promise<Result<AccountState>> {
    return this.#apply("Cannot create account", () => this.#store.createAccount(account));
  }

  /**
   * Changes an account's role or `enabled` (disabling turns its engine kill
   * switch on).
   *
   * @param name The account.
   * @param patch What changes.
   * @param options The revision required.
   * @returns The account, or a fault.
   */
  updateAccount(
    name: string,
    patch: { readonly role?: AccountRole; readonly enabled?: boolean },
    options: ChangeOptions = {},
  ): Promise<Result<AccountState>> {
    return this.#apply(
      "Cannot update account",
      () => this.#store.updateAccount(name, patch, options),
    );
  }

  /**
   * Replaces an account's limits for every instrument.
   *
   * @param name The account.
   * @param limits All six.
   * @param options The revision required.
   * @returns The account, or a fault.
   */
  setLimits(
    name: string,
    limits: RiskLimits,
    options: ChangeOptions = {},
  ): Promise<Result<AccountState>> {
    return this.#apply("Cannot set limits", () => this.#store.setLimits(name, limits, options));
  }

  /**
   * Sets one of an account's limits for every instrument.
   *
   * @param name The account.
   * @param limit Which.
   * @param value Its value (0: no limit).
   * @param options The revision required.
   * @returns The account, or a fault.
   */
  setLimit(
    name: string,
    limit: RiskLimitName,
    value: number,
    options: ChangeOptions = {},
  ): Promise<Result<AccountState>> {
    return this.#apply(
      "Cannot set limit",
      () => this.#store.setLimit(name, limit, value, options),
    );
  }

  /**
   * Replaces an account's overrides for one symbol of the instrument table
   * (`{}` removes them).
   *
   * @param name The account.
   * @param symbol The symbol.
   * @param overrides The limits that differ for it.
   * @param options The revision required.
   * @returns The account, or `unknown_symbol` and the store's faults.
   */
  setOverrides(
    name: string,
    symbol: string,
    overrides: PartialRiskLimits,
    options: ChangeOptions = {},
  ): Promise<Result<AccountState>> {
    const what = "Cannot set overrides";
    // Removing overrides of a symbol the table dropped is allowed: it only
    // tidies the store.
    const unknown = Object.keys(overrides).length > 0
      ? this.#unknownSymbol(what, symbol)
      : undefined;
    if (unknown !== undefined) return Promise.resolve({ ok: false, fault: unknown });
    return this.#apply(what, () => this.#store.setOverrides(name, symbol, overrides, options));
  }

  /**
   * Sets (a value) or removes (undefined) one override.
   *
   * @param name The account.
   * @param symbol A symbol of the instrument table.
   * @param limit Which limit.
   * @param value Its value for the symbol, or undefined to remove it.
   * @param options The revision required.
   * @returns The account, or `unknown_symbol` and the store's faults.
   */
  setOverride(
    name: string,
    symbol: string,
    limit: RiskLimitName,
    value: number | undefined,
    options: ChangeOptions = {},
  ): Promise<Result<AccountState>> {
    const what = value === undefined ? "Cannot remove override" : "Cannot set override";
    const unknown = value !== undefined ? this.#unknownSymbol(what, symbol) : undefined;
    if (unknown !== undefined) return Promise.resolve({ ok: false, fault: unknown });
    return this.#apply(what, () => this.#store.setOverride(name, symbol, limit, value, options));
  }

  /**
   * Turns an account's kill switch on or off.
   *
   * @param name The account.
   * @param on True to stop its new orders.
   * @param options The revision required.
   * @returns The account, or a fault.
   */
  setKillSwitch(
    name: string,
    on: boolean,
    options: ChangeOptions = {},
  ): Promise<Result<AccountState>> {
    return this.#apply(
      "Cannot set kill switch",
      () => this.#store.setKillSwitch(name, on, options),
    );
  }

  /**
   * Turns the kill switch for every account on or off.
   *
   * @param on True to stop every account's new orders.
   * @returns The switch's new position, or a fault.
   */
  setGlobalKillSwitch(on: boolean): Promise<Result<boolean>> {
    const what = "Cannot set the global kill switch";
    return this.#serial(async () => {
      const change = await this.#store.setGlobalKillSwitch(on);
      if (!change.ok || !change.value.changed) return change.ok ? ok(change.value.after) : change;
      const op: ControlOp = { kind: "globalKillSwitch", on: change.value.after };
      const run = await runControls(this.#port, [op], this.#runOptions());
      if (run.ok) return ok(change.value.after);
      const reverted = await this.#store.revertGlobal(change.value);
      const undo = await runControls(
        this.#port,
        [{ kind: "globalKillSwitch", on: change.value.before }],
        this.#runOptions(),
      );
      const engine = undo.ok
        ? "the engine holds the old value"
        : "the engine may hold the new value until the stored state is applied at the next start";
      return { ok: false, fault: refusal(what, run.fault, reverted, engine) };
    });
  }

  #unknownSymbol(what: string, symbol: string): Fault | undefined {
    if (this.#index.has(symbol)) return undefined;
    return {
      reason: "unknown_symbol",
      message: `${what}: the instrument table has no symbol ${quote(symbol)}`,
    };
  }

  #runOptions() {
    return { accounts: this.#accounts, index: this.#index, timeoutMs: this.#timeoutMs };
  }

  /** Stores a change, applies it, and undoes it when the engine refuses. */
  #apply(
    what: string,
    store: () => Promise<Result<AccountChange>>,
  ): Promise<Result<AccountState>> {
    return this.#serial(async () => {
      const change = await store();
      if (!change.ok) return change;
      const { before, after, changed } = change.value;
      if (!changed) return ok(after);
      const plan = planChange(before, after, this.#index);
      const run = await runControls(this.#port, plan.ops, this.#runOptions());
      if (run.ok) {
        this.#onChange?.(before, after);
        return ok(after);
      }
      const reverted = await this.#store.revert(change.value);
      return {
        ok: false,
        fault: refusal(what, run.fault, reverted, await this.#undo(before, after)),
      };
    });
  }

  /**
   * Sends the old value of everything a refused change touched: that covers
   * the commands acknowledged and the one that failed (after a timeout it
   * may still land, and these follow it in the same ring); the others only
   * repeat what the engine holds. Stops at the first refusal.
   *
   * @returns What the engine now holds, for the message.
   */
  async #undo(before: AccountState | undefined, after: AccountState): Promise<string> {
    const partial =
      "the engine may hold part of the change until the stored state is applied at the next start";
    if (before === undefined) {
      // A creation: the engine keeps the name (it never forgets one) and
      // what it applied of the account, which nothing uses until the account
      // is created again, when its whole state is sent anew.
      return "the engine may keep the account's name and part of its state, unused";
    }
    const reverse = planChange(after, before, this.#index).ops;
    const undone = await runControls(this.#port, reverse, this.#runOptions());
    return undone.ok ? "the engine holds the old values" : partial;
  }

  /** Runs `task` after every task queued before it. */
  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task);
    this.#queue = run.catch(() => {});
    return run;
  }
}

/** The fault reported when the engine refused a change. */
function refusal(what: string, cause: Fault, reverted: Result<void>, engine: string): Fault {
  const stored = reverted.ok
    ? "the stored state was restored"
    : `the stored state could not be restored (${reverted.fault.message})`;
  return { reason: cause.reason, message: `${what}: ${cause.message}; ${stored}; ${engine}` };
}
