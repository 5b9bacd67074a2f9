/**
 * Who may open a trader connection: the account store's word on a token
 * that has already checked out (signature, issuer, audience, expiry).
 *
 * A token names an account and a role; the account must be registered in
 * the store (`deno task token` registers it for local use; the admin API
 * creates accounts), and the token's role must be the one the store gives
 * it, so that a role taken away by an admin cannot be used with a token
 * minted before. A disabled account may still connect, to see and cancel
 * its orders: the engine refuses its new orders and replaces (its kill
 * switch is on).
 *
 * @module
 */

import type { AccountStore } from "../admin/mod.ts";
import type { Refusal, Role } from "../gateway/mod.ts";

/**
 * Makes the gateway's `authorize` check over an account store.
 *
 * @param store Where accounts and their roles live.
 * @returns The check: `undefined` to let the connection in, else why not.
 *
 * @example
 * ```ts
 * import { AccountStore } from "../admin/mod.ts";
 * import { accountAuthorizer } from "./login.ts";
 * const kv = await Deno.openKv(":memory:");
 * const store = new AccountStore(kv);
 * await store.createAccount({ name: "ALICE", role: "trader" });
 * const authorize = accountAuthorizer(store);
 * if ((await authorize("ALICE", "trader")) !== undefined) throw new Error("refused ALICE");
 * if ((await authorize("ALICE", "admin"))?.reason !== "role_mismatch") throw new Error("let in");
 * kv.close();
 * ```
 */
export function accountAuthorizer(
  store: AccountStore,
): (account: string, role: Role) => Promise<Refusal | undefined> {
  return async (account, role) => {
    const found = await store.getAccount(account);
    if (!found.ok) {
      return found.fault.reason === "account_not_found"
        ? {
          status: 403,
          reason: "unknown_account",
          message: `Cannot accept connection: account ${
            JSON.stringify(account)
          } is not registered (an admin creates it; for local use, deno task token registers it)`,
        }
        : {
          status: 403,
          reason: found.fault.reason,
          message: `Cannot accept connection: ${found.fault.message}`,
        };
    }
    if (found.value.role !== role) {
      return {
        status: 403,
        reason: "role_mismatch",
        message: `Cannot accept connection: the token says ${role}, but account ${
          JSON.stringify(account)
        } is a ${found.value.role}; mint a new token`,
      };
    }
    return undefined;
  };
}
