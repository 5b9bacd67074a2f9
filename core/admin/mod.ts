/**
 * Accounts, roles and risk limits: stored in Deno KV, applied to the engine
 * through a port, administered over HTTP.
 *
 * - {@linkcode AccountStore} (`store.ts`): accounts `{ name, role, enabled,
 *   killSwitch, createdAt, revision }`, their limits for every instrument and
 *   per-symbol overrides, the global kill switch; atomic, versioned changes;
 *   bad input as values with reason codes. Its module documentation gives the
 *   KV key layout (every key under `["admin", …]`).
 * - {@linkcode RiskControlPort} (`port.ts`): what the engine offers; the core
 *   implements it over the dispatcher that owns the engine
 *   (`core/app/risk_port.ts`), so nothing here imports `core/native/`.
 * - {@linkcode applyAll} (`apply_all.ts`): at start-up, pushes the stored
 *   state into the engine before it takes orders.
 * - {@linkcode RiskAdmin} (`risk_admin.ts`): a change is stored, then applied
 *   to the engine, and reported only when the engine acknowledged it; a
 *   refused change is undone.
 * - {@linkcode adminApi} (`http.ts`): the Hono app mounted under `/admin`,
 *   admin bearer tokens only, errors as `application/problem+json`.
 * - {@linkcode checkAccess} (`access.ts`): whether a valid token's account
 *   may still use it (registered, same role, enabled, same token epoch, not
 *   ended by a logout), for the admin API and the gateway's handshake.
 * - {@linkcode hashPassword} (`password.ts`): password hashes (scrypt,
 *   salted, parameters stored with each hash), checked in constant time.
 *
 * Deno KV is unstable in Deno 2: `deno.json` enables it (`"unstable": ["kv"]`).
 *
 * @example The core's wiring: the gateway's `verifyJwt` checks admin tokens.
 * ```ts
 * import { AccountStore, adminApi, applyAll, AuditLog, type RiskControlPort, type VerifyToken } from "./mod.ts";
 * import { AUDIENCE, ISSUER, signJwt, verifyJwt } from "../gateway/mod.ts";
 * const key = await crypto.subtle.generateKey(
 *   { name: "HMAC", hash: "SHA-256", length: 256 }, false, ["sign", "verify"]);
 * const verify: VerifyToken = async (token) => {
 *   const result = await verifyJwt(token, key, { issuer: ISSUER, audience: AUDIENCE });
 *   return result.ok
 *     ? { ok: true, sub: result.claims.sub, role: result.claims.role, epoch: result.claims.epoch ?? 0 }
 *     : { ok: false, status: 401, reason: result.reason, message: result.message };
 * };
 * const kv = await Deno.openKv(":memory:");
 * const store = new AccountStore(kv);
 * await store.createAccount({ name: "ROOT", role: "admin" }); // the admin token's account
 * await store.createAccount({ name: "ALICE", role: "trader" });
 * let next = 1;
 * const port: RiskControlPort = { // the core's: core/app/risk_port.ts
 *   defineAccount: () => Promise.resolve(next++),
 *   setLimit: () => Promise.resolve(),
 *   clearLimit: () => Promise.resolve(),
 *   setKillSwitch: () => Promise.resolve(),
 * };
 * const instruments = [{ symbol: "AAPL" }];
 * const { accounts } = await applyAll(store, port, instruments); // before taking orders
 * const audit = new AuditLog(kv);
 * const api = adminApi({ store, port, verify, audit, instruments, accountNumbers: accounts });
 * const exp = Math.floor(Date.now() / 1000) + 60;
 * const jwt = await signJwt({ sub: "ROOT", role: "admin", iss: ISSUER, aud: AUDIENCE, exp }, key);
 * const res = await api.fetch(new Request("http://localhost/admin/accounts/ALICE/limits/position", {
 *   method: "PUT",
 *   headers: { authorization: `Bearer ${jwt}`, "content-type": "application/json" },
 *   body: '{"value":100}',
 * }));
 * if (res.status !== 200 || (await res.json()).limits.position !== 100) throw new Error("not set");
 * const [entry] = (await audit.list()).entries; // who did it, and how it went
 * if (entry?.actor !== "ROOT" || entry.status !== 200) throw new Error("not audited");
 * kv.close();
 * ```
 *
 * @module
 */

export * from "./types.ts";
export * from "./fault.ts";
export * from "./store.ts";
export * from "./port.ts";
export * from "./apply_all.ts";
export * from "./risk_admin.ts";
export * from "./http.ts";
export * from "./audit.ts";
export * from "./access.ts";
export * from "./password.ts";
