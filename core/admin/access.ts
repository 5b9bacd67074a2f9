/**
 * Whether a token that checked out (signature, issuer, audience, expiry)
 * may still be used: the account store's word on its account, as it is
 * now. One rule for the admin API (every request) and the gateway's
 * handshake (every connection):
 *
 * | refused when | status | reason |
 * | --- | --- | --- |
 * | the token's name is no account | 403 | `unknown_account` |
 * | the account holds another role than the token claims | 403 | `role_mismatch` |
 * | the account is disabled | 403 | `account_disabled` |
 * | the account's token epoch moved on since the token was minted | 401 | `token_revoked` |
 * | the token itself was ended by a logout (its `jti` is on the store's list) | 401 | `token_revoked` |
 *
 * An account's token epoch grows with every change of its role or of
 * `enabled` (`store.ts`), so such a change ends every token minted before
 * it; re-enabling an account does not bring them back: mint new ones
 * (`deno task token`, or log in again). Setting a password moves the epoch
 * on as well. A logout (`POST /auth/logout`, `core/auth/`) ends one token
 * only: its id (`jti`) is listed in the store until the token would have
 * expired (`AccountStore.revokeToken`), and checked here last, so only
 * tokens that pass everything else cost the extra read.
 *
 * @module
 */

import type { AccountStore } from "./store.ts";
import type { AccountRole } from "./types.ts";

/** What a token claims: its account (`sub`), role and token epoch. */
export interface AccessClaim {
  readonly account: string;
  readonly role: AccountRole;
  /** The token's `epoch` claim; absent means 0. */
  readonly epoch?: number;
  /** The token's id (`jti` claim): refused when a logout ended it. */
  readonly jti?: string;
}

/** Why a token may not be used. */
export type AccessReason =
  | "unknown_account"
  | "role_mismatch"
  | "account_disabled"
  | "token_revoked"
  | "bad_account_name";

/** A refusal: an HTTP status, a reason code and a message saying what failed and why. */
export interface AccessRefusal {
  readonly status: 401 | 403;
  readonly reason: AccessReason;
  readonly message: string;
}

/**
 * Checks a token's claim against the account store: registered, the same
 * role, enabled, the same token epoch (see the module documentation).
 *
 * @param store The account store.
 * @param claim The token's account, role and epoch.
 * @param what How messages start ("Cannot accept connection").
 * @returns Undefined when the token may be used, else why not.
 * @throws {TypeError} When the stored record is malformed (the store's own failure).
 *
 * @example
 * ```ts
 * import { AccountStore } from "./store.ts";
 * import { checkAccess } from "./access.ts";
 * const kv = await Deno.openKv(":memory:");
 * const store = new AccountStore(kv);
 * await store.createAccount({ name: "ALICE", role: "trader" });
 * if (await checkAccess(store, { account: "ALICE", role: "trader" }, "Cannot log in")) {
 *   throw new Error("ALICE refused");
 * }
 * await store.updateAccount("ALICE", { enabled: false });
 * await store.updateAccount("ALICE", { enabled: true }); // the old token stays dead
 * const refusal = await checkAccess(store, { account: "ALICE", role: "trader" }, "Cannot log in");
 * if (refusal?.reason !== "token_revoked") throw new Error("old token let in");
 * kv.close();
 * ```
 */
export async function checkAccess(
  store: AccountStore,
  claim: AccessClaim,
  what: string,
): Promise<AccessRefusal | undefined> {
  const name = JSON.stringify(claim.account);
  const found = await store.getAccount(claim.account);
  if (!found.ok) {
    return found.fault.reason === "account_not_found"
      ? {
        status: 403,
        reason: "unknown_account",
        message: `${what}: account ${name} is not registered ` +
          "(an admin creates it; for local use, deno task token registers it)",
      }
      : { status: 403, reason: "bad_account_name", message: `${what}: ${found.fault.message}` };
  }
  const account = found.value;
  if (account.role !== claim.role) {
    return {
      status: 403,
      reason: "role_mismatch",
      message:
        `${what}: the token says ${claim.role}, but account ${name} is a ${account.role}; mint a new token`,
    };
  }
  if (!account.enabled) {
    return {
      status: 403,
      reason: "account_disabled",
      message: `${what}: account ${name} is disabled (an admin re-enables it)`,
    };
  }
  const epoch = claim.epoch ?? 0;
  if (epoch !== account.tokenEpoch) {
    return {
      status: 401,
      reason: "token_revoked",
      message: `${what}: the token was minted before account ${name}'s role or enabled ` +
        `last changed (token epoch ${epoch}, the account's ${account.tokenEpoch}); mint a new token`,
    };
  }
  if (claim.jti !== undefined && await store.tokenRevoked(claim.jti)) {
    return {
      status: 401,
      reason: "token_revoked",
      message: `${what}: the token was ended by a logout; log in again`,
    };
  }
  return undefined;
}
