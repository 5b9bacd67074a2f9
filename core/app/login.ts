/**
 * Who may open a trader connection: the account store's word on a token
 * that has already checked out (signature, issuer, audience, expiry).
 *
 * A token names an account, a role and the account's token epoch when it
 * was minted; the account must be registered in the store (`deno task token`
 * registers it for local use; the admin API creates accounts), hold the
 * token's role, be enabled, and still be at the token's epoch
 * ({@linkcode checkAccess}): so a role taken away, or an account disabled,
 * ends the tokens minted before, and re-enabling does not revive them; a
 * token ended by a logout (its `jti` listed in the store) is refused too. A
 * disabled account cannot connect (its open connections are closed when it
 * is disabled); an admin cancels its working orders for it.
 *
 * @module
 */

import { type AccountStore, checkAccess } from "../admin/mod.ts";
import type { Refusal, Role } from "../gateway/mod.ts";

/**
 * Makes the gateway's `authorize` check over an account store.
 *
 * @param store Where accounts and their roles live.
 * @returns The check: `undefined` to let the connection in, else why not
 *   (403 `unknown_account`, `role_mismatch` or `account_disabled`; 401
 *   `token_revoked`).
 *
 * @example
 * ```ts
 * import { AccountStore } from "../admin/mod.ts";
 * import { accountAuthorizer } from "./login.ts";
 * const kv = await Deno.openKv(":memory:");
 * const store = new AccountStore(kv);
 * await store.createAccount({ name: "ALICE", role: "trader" });
 * await store.createAccount({ name: "OFF", role: "trader", enabled: false });
 * const authorize = accountAuthorizer(store);
 * if ((await authorize("ALICE", "trader", { epoch: 0 })) !== undefined) throw new Error("refused ALICE");
 * if ((await authorize("ALICE", "admin"))?.reason !== "role_mismatch") throw new Error("let in");
 * if ((await authorize("OFF", "trader"))?.reason !== "account_disabled") throw new Error("let in");
 * kv.close();
 * ```
 */
export function accountAuthorizer(
  store: AccountStore,
): (
  account: string,
  role: Role,
  claims?: { readonly epoch?: number; readonly jti?: string },
) => Promise<Refusal | undefined> {
  return (account, role, claims) =>
    checkAccess(
      store,
      {
        account,
        role,
        ...(claims?.epoch === undefined ? {} : { epoch: claims.epoch }),
        ...(claims?.jti === undefined ? {} : { jti: claims.jti }),
      },
      "Cannot accept connection",
    );
}
