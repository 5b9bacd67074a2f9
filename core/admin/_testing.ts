/**
 * What the admin tests share: a fake engine port that records each command,
 * holds what an engine would hold, and refuses or hangs on demand. Private
 * to `core/admin/`.
 *
 * @module
 */

import type { RiskLimitName } from "../../schemas/vocabulary/risk_limits.ts";
import type { RiskControlPort } from "./port.ts";
import { AccountStore } from "./store.ts";

/** The instrument table the tests use: AAPL is 0, MSFT 1, SPY 2. */
export const INSTRUMENTS = [{ symbol: "AAPL" }, { symbol: "MSFT" }, { symbol: "SPY" }] as const;

/** What an engine holds, in a form that compares as JSON. */
export interface EngineView {
  readonly global: boolean;
  /** Account names whose kill switch is on, sorted. */
  readonly killed: readonly string[];
  /** `"NAME * limit"` or `"NAME #i limit"` → value, sorted by key. */
  readonly limits: Readonly<Record<string, number>>;
}

/**
 * A fake engine: numbers accounts from 1 in order of definition, keeps the
 * limits and switches it was given, and logs each command as text:
 * `define ALICE=1`, `set ALICE * maxOrderQty=500`, `set ALICE #1 position=10`,
 * `clear ALICE #1 position`, `kill ALICE on`, `kill all off`.
 */
export class FakePort implements RiskControlPort {
  /** Every command acknowledged, in order. */
  readonly log: string[] = [];
  /** Decides, per command (its log text), to refuse it (a message) or not (undefined). */
  refuse: (command: string) => string | undefined = () => undefined;
  /** Decides, per command, never to answer it. */
  hang: (command: string) => boolean = () => false;

  readonly #numbers = new Map<string, number>();
  readonly #names = new Map<number, string>();
  readonly #limits = new Map<string, number>();
  readonly #killed = new Set<number>();
  #global = false;

  /**
   * Makes an engine that already knows some accounts (as after recovering
   * a journal).
   *
   * @param known Account numbers by name.
   */
  constructor(known: ReadonlyMap<string, number> = new Map()) {
    for (const [name, number] of known) {
      this.#numbers.set(name, number);
      this.#names.set(number, name);
    }
  }

  defineAccount(name: string): Promise<number> {
    const known = this.#numbers.get(name);
    const number = known ?? Math.max(0, ...this.#names.keys()) + 1;
    return this.#answer(`define ${name}=${number}`, () => {
      this.#numbers.set(name, number);
      this.#names.set(number, name);
      return number;
    });
  }

  setLimit(
    account: number,
    instrument: number | undefined,
    limit: RiskLimitName,
    value: number,
  ): Promise<void> {
    const key = `${this.#name(account)} ${
      instrument === undefined ? "*" : `#${instrument}`
    } ${limit}`;
    return this.#answer(`set ${key}=${value}`, () => void this.#limits.set(key, value));
  }

  clearLimit(account: number, instrument: number, limit: RiskLimitName): Promise<void> {
    const key = `${this.#name(account)} #${instrument} ${limit}`;
    return this.#answer(`clear ${key}`, () => void this.#limits.delete(key));
  }

  setKillSwitch(account: number | "all", on: boolean): Promise<void> {
    const who = account === "all" ? "all" : this.#name(account);
    return this.#answer(`kill ${who} ${on ? "on" : "off"}`, () => {
      if (account === "all") this.#global = on;
      else if (on) this.#killed.add(account);
      else this.#killed.delete(account);
    });
  }

  /**
   * The limit the engine would enforce for `account` on `instrument`,
   * following the port's rule: the instrument's value, else the account's.
   */
  effective(account: string, instrument: number, limit: RiskLimitName): number {
    return this.#limits.get(`${account} #${instrument} ${limit}`) ??
      this.#limits.get(`${account} * ${limit}`) ?? 0;
  }

  /** What this engine holds, zeros left out (an unset limit and 0 both mean none). */
  view(): EngineView {
    const limits = [...this.#limits].filter(([key, v]) => v !== 0 || key.includes("#")).sort((
      [a],
      [b],
    ) => (a < b ? -1 : 1));
    return {
      global: this.#global,
      killed: [...this.#killed].map((n) => this.#name(n)).sort(),
      limits: Object.fromEntries(limits),
    };
  }

  #name(account: number): string {
    const name = this.#names.get(account);
    if (name === undefined) throw new RangeError(`FakePort: account ${account} was never defined`);
    return name;
  }

  #answer<T>(command: string, apply: () => T): Promise<T> {
    if (this.hang(command)) return new Promise<T>(() => {});
    const refusal = this.refuse(command);
    if (refusal !== undefined) return Promise.reject(new Error(refusal));
    const value = apply();
    this.log.push(command);
    return Promise.resolve(value);
  }
}

/**
 * Runs `fn` with a store over a fresh in-memory KV, closed afterwards.
 *
 * @param fn The test body.
 * @returns What `fn` returns.
 */
export async function withStore<T>(
  fn: (store: AccountStore, kv: Deno.Kv) => Promise<T>,
): Promise<T> {
  const kv = await Deno.openKv(":memory:");
  try {
    return await fn(new AccountStore(kv), kv);
  } finally {
    kv.close();
  }
}
