/**
 * The demo trader of a fresh data folder, so that a newcomer can log in to
 * the terminal at once: `deno task start` asks the core for one
 * (`DEMO_TRADER=DEMO`), and the core creates it only when the account store
 * holds no account at all, with a random password that it prints once.
 *
 * @module
 */

import {
  type AccountStore,
  DEFAULT_SCRYPT,
  hashPassword,
  type ScryptParams,
} from "../admin/mod.ts";
import { Buffer } from "node:buffer";

/** What {@linkcode createDemoTrader} made. */
export interface DemoTrader {
  readonly account: string;
  /** The password: shown once, stored only as its hash. */
  readonly password: string;
}

/**
 * Creates `name` as an enabled trader with a random password (16
 * characters from 96 random bits), when the store holds no account.
 *
 * @param store The account store.
 * @param name The account's name.
 * @param params The hash's cost (default the store's default; tests pass less).
 * @returns The account and its password, or undefined when the store
 *   already held an account (nothing is changed).
 * @throws {Error} When the account cannot be created or its password set.
 *
 * @example
 * ```ts
 * import { AccountStore } from "../admin/mod.ts";
 * import { createDemoTrader } from "./demo_trader.ts";
 * const kv = await Deno.openKv(":memory:");
 * const store = new AccountStore(kv);
 * const demo = await createDemoTrader(store, "DEMO", { n: 1024, r: 8, p: 1 });
 * if (demo?.account !== "DEMO" || demo.password.length !== 16) throw new Error("no demo");
 * if (await createDemoTrader(store, "DEMO2") !== undefined) throw new Error("made twice");
 * kv.close();
 * ```
 */
export async function createDemoTrader(
  store: AccountStore,
  name: string,
  params: ScryptParams = DEFAULT_SCRYPT,
): Promise<DemoTrader | undefined> {
  if ((await store.listAccounts()).length > 0) return undefined;
  const password = Buffer.from(crypto.getRandomValues(new Uint8Array(12))).toString("base64url");
  const created = await store.createAccount({ name, role: "trader" });
  if (!created.ok) throw new Error(`Cannot create the demo trader: ${created.fault.message}`);
  const set = await store.setPassword(name, await hashPassword(password, params));
  if (!set.ok) throw new Error(`Cannot create the demo trader: ${set.fault.message}`);
  return { account: name, password };
}
