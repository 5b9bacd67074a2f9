/**
 * The account store, readable without waiting: a copy of every account's
 * record (name, role, enabled, token epoch) in memory, for checks that run
 * inside the order path, which never waits on KV (~110 µs a read).
 *
 * The copy is refreshed when the store's version key moves (one KV read
 * every `pollMs`, default 500 ms, since another process — `deno task token`
 * registering an account — writes the same file and `kv.watch` does not see
 * other processes' writes), and at once when told (`refresh()`, which the
 * core calls after each change made through its admin API). So a change
 * made in this process is seen before its answer leaves, and one made by
 * another process within `pollMs`.
 *
 * Each refresh compares the accounts' token epochs with the copy before:
 * an account whose epoch moved on (disabled, re-enabled, its role changed,
 * its password set — by whichever process) is reported to `onAccessChange`,
 * which the core uses to close its connections. So `deno task user disable`
 * in another shell ends a trader's live sessions within `pollMs`.
 *
 * @module
 */

import type { Account, AccountStore } from "../admin/mod.ts";

/** Options of {@linkcode AccountDirectory.open}. */
export interface AccountDirectoryOptions {
  /** How often the store's version is read, in ms (default 500); 0 never polls. */
  readonly pollMs?: number;
  /** Where a failed refresh is reported (default `console.error`); the old copy stays. */
  readonly onError?: (error: unknown) => void;
  /**
   * Told, after a refresh, of each account whose token epoch moved on since
   * the copy before (its tokens of before no longer work), with its record
   * before and after. Not called for the first read. Errors it throws are
   * reported to `onError`.
   */
  readonly onAccessChange?: (before: Account, after: Account) => void;
}

/**
 * Every account of the store, as of its last refresh.
 *
 * @example
 * ```ts
 * import { AccountStore } from "../admin/mod.ts";
 * import { AccountDirectory } from "./account_directory.ts";
 * const kv = await Deno.openKv(":memory:");
 * const store = new AccountStore(kv);
 * await store.createAccount({ name: "ALICE", role: "trader" });
 * const directory = await AccountDirectory.open(store, { pollMs: 0 });
 * if (directory.tradeForProblem("ALICE") !== undefined) throw new Error("ALICE refused");
 * if (directory.tradeForProblem("NOBODY") === undefined) throw new Error("a stranger let in");
 * directory.close();
 * kv.close();
 * ```
 */
export class AccountDirectory {
  readonly #store: AccountStore;
  readonly #onError: (error: unknown) => void;
  readonly #onAccessChange: ((before: Account, after: Account) => void) | undefined;
  #accounts: ReadonlyMap<string, Account> = new Map();
  #version = -1;
  #timer: ReturnType<typeof setInterval> | undefined;
  /** The refresh in flight, which a refresh asked for meanwhile follows. */
  #running: Promise<void> | undefined;
  #again = false;

  private constructor(
    store: AccountStore,
    onError: (error: unknown) => void,
    onAccessChange: ((before: Account, after: Account) => void) | undefined,
  ) {
    this.#store = store;
    this.#onError = onError;
    this.#onAccessChange = onAccessChange;
  }

  /**
   * Reads every account, then keeps the copy fresh (see the module
   * documentation).
   *
   * @param store The account store.
   * @param options How often to poll, where errors go.
   * @returns The directory; `close()` stops its polling.
   * @throws {RangeError} When `pollMs` is not a non-negative integer.
   * @throws {TypeError} When a stored record is malformed (the first read's failure).
   */
  static async open(
    store: AccountStore,
    options: AccountDirectoryOptions = {},
  ): Promise<AccountDirectory> {
    const pollMs = options.pollMs ?? 500;
    if (!(Number.isSafeInteger(pollMs) && pollMs >= 0)) {
      throw new RangeError(
        `Cannot open the account directory: pollMs must be a non-negative integer, not ${pollMs}`,
      );
    }
    const directory = new AccountDirectory(
      store,
      options.onError ?? ((error) => console.error("account directory:", error)),
      options.onAccessChange,
    );
    await directory.#load();
    if (pollMs > 0) directory.#timer = setInterval(() => void directory.refresh(), pollMs);
    return directory;
  }

  /**
   * An account's record, as of the last refresh.
   *
   * @param name The account.
   * @returns Its record, or undefined when no account has that name.
   */
  get(name: string): Account | undefined {
    return this.#accounts.get(name);
  }

  /**
   * Why an admin may not place orders for `name`, or undefined when it may:
   * the account must be registered and enabled.
   *
   * @param name The account an order is for.
   * @returns The reason, for a reject's message, or undefined.
   */
  tradeForProblem(name: string): string | undefined {
    const account = this.#accounts.get(name);
    if (account === undefined) {
      return `account ${JSON.stringify(name)} is not registered (an admin creates it first)`;
    }
    if (!account.enabled) return `account ${JSON.stringify(name)} is disabled`;
    return undefined;
  }

  /**
   * Reads the store again when its version moved. Never throws: a failure
   * is reported and the old copy stays.
   *
   * @returns When the copy is as fresh as the store was when this was called.
   */
  refresh(): Promise<void> {
    if (this.#running !== undefined) {
      // One more read after the one in flight, which may have begun before
      // the change the caller wants to see.
      this.#again = true;
      return this.#running;
    }
    const run = (async () => {
      do {
        this.#again = false;
        try {
          await this.#load();
        } catch (error) {
          this.#onError(error);
        }
      } while (this.#again);
    })();
    this.#running = run.finally(() => (this.#running = undefined));
    return this.#running;
  }

  /** Stops polling. */
  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #load(): Promise<void> {
    const version = await this.#store.version();
    if (version === this.#version) return;
    const accounts = await this.#store.listAccounts();
    const before = this.#accounts;
    const first = this.#version === -1;
    this.#accounts = new Map(accounts.map((a) => [a.name, a]));
    // The version read before the list: a change between the two is read again next time.
    this.#version = version;
    if (first || this.#onAccessChange === undefined) return;
    for (const after of accounts) {
      const old = before.get(after.name);
      if (old === undefined || old.tokenEpoch === after.tokenEpoch) continue;
      try {
        this.#onAccessChange(old, after);
      } catch (error) {
        this.#onError(error);
      }
    }
  }
}
