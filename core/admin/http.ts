/**
 * The admin HTTP API: a Hono app that the core mounts under `/admin`.
 *
 * Every request needs `Authorization: Bearer <jwt>` with the role `admin`
 * (401 without a valid token, 403 for another role); the token is checked
 * by a verifier the core injects (the gateway's `verifyJwt` with its key,
 * issuer and audience), then against the account store as it is now
 * (`access.ts`): its account must be registered, hold the admin role, be
 * enabled and still be at the token's epoch (403 `unknown_account`,
 * `role_mismatch`, `account_disabled`; 401 `token_revoked`). A change of an
 * account's role or `enabled` ends its tokens at once (its token epoch moves
 * on) and is reported to `onAccessChange` (the core closes the account's
 * connections). Every change is stored and applied to the engine
 * before the answer (see `risk_admin.ts`), and every error is
 * `application/problem+json` (RFC 9457) with a stable `type`
 * (`urn:tradecaptain:problem:<reason>`) and the reason code in `reason`.
 *
 * | method and path | body | answer |
 * | --- | --- | --- |
 * | `GET /admin/state` | | `{ version, killSwitch, accounts: [account…] }` |
 * | `GET /admin/accounts` | | `{ accounts: [{ name, role, enabled, killSwitch, createdAt, revision }…] }` |
 * | `POST /admin/accounts` | `{ name, role, enabled? }` | 201, the account, `Location` |
 * | `GET /admin/accounts/{name}` | | the account: `{ …, limits, overrides }` |
 * | `PATCH /admin/accounts/{name}` | `{ role?, enabled? }` | the account |
 * | `PUT /admin/accounts/{name}/limits` | all six limits | the account |
 * | `PUT /admin/accounts/{name}/limits/{limit}` | `{ value }` | the account |
 * | `PUT /admin/accounts/{name}/overrides/{symbol}` | some limits (`{}`: none) | the account |
 * | `DELETE /admin/accounts/{name}/overrides/{symbol}` | | the account |
 * | `PUT /admin/accounts/{name}/overrides/{symbol}/{limit}` | `{ value }` | the account |
 * | `DELETE /admin/accounts/{name}/overrides/{symbol}/{limit}` | | the account |
 * | `PUT /admin/accounts/{name}/kill-switch` | `{ on }` | the account |
 * | `PUT /admin/accounts/{name}/password` | `{ password }` | 204 |
 * | `PUT /admin/kill-switch` | `{ on }` | `{ killSwitch }` |
 *
 * Limits are `maxOrderQty`, `maxNotional`, `position`, `openOrders`,
 * `ordersPerSecond` and `collarBps`, each a non-negative safe integer, 0 for
 * "no limit". A password is 8 characters to 1 KiB of UTF-8; it is stored
 * only as its scrypt hash (`password.ts`), and setting it ends the
 * account's tokens (its token epoch moves on) and connections. The audit
 * log records a password request with the password replaced by
 * `"[redacted]"`. A kill switch is set, not toggled: `{ "on": true }` twice is
 * one change. Account responses carry `ETag: "<revision>"`; a change sent
 * with `If-Match: "<revision>"` is refused with 412 unless the account is
 * still at that revision.
 *
 * Bodies are JSON objects (`Content-Type: application/json`, at most
 * 16 KiB by default) with no field beyond those listed. A name, symbol or
 * limit in the path that names nothing is a 404; a bad value in a body, a
 * 422.
 *
 * | status | reasons |
 * | --- | --- |
 * | 400 | `malformed_json`, `bad_precondition` |
 * | 401 | `missing_token`, `bad_token`, `token_revoked`, or the verifier's reason (`expired`, …) |
 * | 403 | `forbidden`, `unknown_account`, `role_mismatch`, `account_disabled`, or the verifier's |
 * | 404 | `account_not_found`, `unknown_limit`, `bad_symbol`, `unknown_symbol`, `bad_account_name` (in the path), `no_route` |
 * | 405 | `method_not_allowed` |
 * | 409 | `account_exists`, `conflict` |
 * | 412 | `revision_mismatch` |
 * | 413 | `body_too_large` |
 * | 415 | `unsupported_media_type` |
 * | 422 | `bad_account_name`, `bad_role`, `bad_limit`, `bad_field`, `missing_field`, `unknown_field`, `empty_change` |
 * | 503 | `engine_refused`: the engine refused a command; the change was undone (`risk_admin.ts`) |
 * | 504 | `engine_timeout`: the engine did not acknowledge in time; the change was undone |
 * | 500 | `internal` |
 *
 * @module
 */

import { type Context, Hono, type MiddlewareHandler } from "hono";
import { AuditLog, isAuditId, MAX_AUDIT_PAGE } from "./audit.ts";
import { bodyLimit } from "hono/body-limit";
import type { BlankSchema } from "hono/types";
import type { RiskLimitName } from "../../schemas/vocabulary/risk_limits.ts";
import type { Fault, Result } from "./fault.ts";
import type { RiskControlPort } from "./port.ts";
import { RiskAdmin } from "./risk_admin.ts";
import type { AccountStore } from "./store.ts";
import { checkAccess } from "./access.ts";
import { hashPassword, passwordProblem } from "./password.ts";
import {
  type Account,
  accountNameProblem,
  type AccountRole,
  isLimitName,
  LIMIT_NAMES,
  type PartialRiskLimits,
  type RiskLimits,
  symbolProblem,
} from "./types.ts";
import { describeType, quote } from "./_text.ts";
import { problem, PROBLEMS } from "./_problem.ts";

export { PROBLEM_TYPE_PREFIX, type ProblemReason } from "./_problem.ts";

/** What a token verifier says of a bearer token. */
export type TokenCheck =
  | {
    readonly ok: true;
    readonly sub: string;
    readonly role: string;
    /** The token's `epoch` claim (absent: 0), checked against the account's token epoch. */
    readonly epoch?: number;
    /** The token's id (`jti` claim), refused when a logout ended it. */
    readonly jti?: string;
  }
  | {
    readonly ok: false;
    /** 401 (the token is bad) or 403 (it may not be used here); others are answered as 401. */
    readonly status: number;
    readonly reason: string;
    readonly message: string;
  };

/** Checks a bearer token (signature, issuer, audience, expiry): injected by the core. */
export type VerifyToken = (token: string) => Promise<TokenCheck>;

/** Options of {@linkcode adminApi}. */
export interface AdminApiOptions {
  /** Where accounts and limits are stored. */
  readonly store: AccountStore;
  /** The engine. */
  readonly port: RiskControlPort;
  /** Checks bearer tokens. */
  readonly verify: VerifyToken;
  /** Where every request that may change something is recorded (see `audit.ts`). */
  readonly audit: AuditLog;
  /** The instrument table, in engine order. */
  readonly instruments: readonly { readonly symbol: string }[];
  /** Where the API is mounted (default `/admin`); routes are below it. */
  readonly basePath?: string;
  /** The largest body read, in bytes (default 16 KiB). */
  readonly maxBodyBytes?: number;
  /** How long to wait for each engine acknowledgement (default 5000 ms). */
  readonly engineTimeoutMs?: number;
  /** Engine account numbers already known (what `applyAll` returned). */
  readonly accountNumbers?: ReadonlyMap<string, number>;
  /** Where unexpected errors are reported (default `console.error`). */
  readonly logError?: (message: string, error: unknown) => void;
  /**
   * Told after a change of an account's role or `enabled` took effect (its
   * tokens no longer work): the core closes the account's connections.
   * Errors it throws are logged; the change stands.
   */
  readonly onAccessChange?: (change: AccessChange) => void;
}

/** A change of who may use an account, for {@linkcode AdminApiOptions.onAccessChange}. */
export interface AccessChange {
  /** The account. */
  readonly account: string;
  /** What it is now. */
  readonly role: AccountRole;
  readonly enabled: boolean;
  /** Why its connections end, for their close frame ("account disabled by an admin"). */
  readonly why: string;
}

/** The default {@linkcode AdminApiOptions.maxBodyBytes}. */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024;

/** The realm named in `WWW-Authenticate`. */
const REALM = "tradecaptain-admin";

/**
 * Makes the admin API. Mount it with `app.fetch`: from `Deno.serve`,
 * `(req) => new URL(req.url).pathname.startsWith("/admin/") ? api.fetch(req) : …`,
 * or from another Hono app, `app.route("/", api)`.
 *
 * @param options The store, the engine port, the token verifier, the
 *   instruments and limits.
 * @returns The Hono app; `app.fetch(request)` answers a request.
 * @throws {RangeError} When the instrument table names a symbol twice, or a
 *   limit option is not positive.
 *
 * @example
 * ```ts
 * import { adminApi, AccountStore, AuditLog, type RiskControlPort } from "./mod.ts";
 * const kv = await Deno.openKv(":memory:");
 * const store = new AccountStore(kv);
 * // The token's account, as the store must hold it: registered, admin, enabled.
 * await store.createAccount({ name: "ROOT", role: "admin" });
 * const port: RiskControlPort = {
 *   defineAccount: () => Promise.resolve(1),
 *   setLimit: () => Promise.resolve(),
 *   clearLimit: () => Promise.resolve(),
 *   setKillSwitch: () => Promise.resolve(),
 * };
 * const api = adminApi({
 *   store,
 *   audit: new AuditLog(kv),
 *   port,
 *   instruments: [{ symbol: "AAPL" }],
 *   // The core passes the gateway's verifyJwt here; this one trusts a fixed word.
 *   verify: (token) =>
 *     Promise.resolve(token === "let-me-in"
 *       ? { ok: true, sub: "ROOT", role: "admin" }
 *       : { ok: false, status: 401, reason: "bad_signature", message: "Cannot verify token" }),
 * });
 * const res = await api.fetch(new Request("http://localhost/admin/accounts", {
 *   method: "POST",
 *   headers: { authorization: "Bearer let-me-in", "content-type": "application/json" },
 *   body: JSON.stringify({ name: "ALICE", role: "trader" }),
 * }));
 * if (res.status !== 201) throw new Error(await res.text());
 * const denied = await api.fetch(new Request("http://localhost/admin/state"));
 * if (denied.status !== 401) throw new Error("no token let in");
 * kv.close();
 * ```
 */
export function adminApi(options: AdminApiOptions): Hono<AdminApiEnv, BlankSchema, string> {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!(Number.isSafeInteger(maxBodyBytes) && maxBodyBytes > 0)) {
    throw new RangeError(
      `Cannot make the admin API: maxBodyBytes must be a positive integer, not ${maxBodyBytes}`,
    );
  }
  const logError = options.logError ?? ((message, error) => console.error(message, error));
  const onAccessChange = options.onAccessChange;
  const admin = new RiskAdmin({
    store: options.store,
    port: options.port,
    instruments: options.instruments,
    ...(onAccessChange === undefined ? {} : {
      onChange: (before: Account | undefined, after: Account) => {
        if (before === undefined || before.tokenEpoch === after.tokenEpoch) return;
        const why = !after.enabled
          ? "account disabled by an admin"
          : before.role !== after.role
          ? `account's role changed to ${after.role} by an admin`
          : "account re-enabled by an admin: mint a new token";
        try {
          onAccessChange({ account: after.name, role: after.role, enabled: after.enabled, why });
        } catch (error) {
          logError(`admin API: cannot end the sessions of ${quote(after.name)}`, error);
        }
      },
    }),
    ...(options.engineTimeoutMs === undefined ? {} : { engineTimeoutMs: options.engineTimeoutMs }),
    ...(options.accountNumbers === undefined ? {} : { accountNumbers: options.accountNumbers }),
  });
  const symbols = new Set(admin.symbols);
  const base = options.basePath ?? "/admin";
  const app = new Hono<AdminApiEnv>().basePath(base);
  const audit = options.audit;

  app.onError((error, c) => {
    logError(`admin API: ${c.req.method} ${c.req.path} failed`, error);
    return problem("internal", "Cannot answer: an internal error occurred (see the core's log)");
  });
  app.notFound((c) => problem("no_route", `Cannot find ${quote(c.req.path)}: no such route`));

  app.use("*", requireAdmin({ verify: options.verify, store: options.store }));
  app.use(
    "*",
    bodyLimit({
      maxSize: maxBodyBytes,
      onError: () =>
        problem("body_too_large", `Cannot read the body: it is over ${maxBodyBytes} bytes`),
    }),
  );
  // Every request that may change something, on record before it is tried
  // (a KV failure here answers 500 and tries nothing), with its answer's
  // status after.
  app.use("*", async (c, next) => {
    if (c.req.method === "GET" || c.req.method === "HEAD") return await next();
    // The raw bytes, which the handler then reads from Hono's cache as they came.
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    const body = redactPasswords(c.req.path, lenient.decode(bytes));
    const id = await audit.begin({
      actor: c.get("adminActor"),
      method: c.req.method,
      path: c.req.path,
      ...(body === "" ? {} : { body }),
    });
    await next();
    try {
      await audit.finish(id, c.res.status);
    } catch (error) {
      // The change stands and is answered; only its status is missing from the record.
      logError(`admin API: cannot record the status of audit entry ${id}`, error);
    }
  });

  // Path parameters: each checked before anything is read.
  const accountParam = (c: Context): string | Response => {
    const name = c.req.param("name") ?? "";
    const bad = accountNameProblem(name);
    return bad === undefined
      ? name
      : problem("bad_account_name", `Cannot find account: its name ${bad}`, { status: 404 });
  };
  const limitParam = (c: Context): RiskLimitName | Response => {
    const limit = c.req.param("limit");
    return isLimitName(limit) ? limit : problem(
      "unknown_limit",
      `Cannot find limit ${quote(limit ?? "")}: limits are ${LIMIT_NAMES.join(", ")}`,
      { status: 404, title: "Unknown limit" },
    );
  };
  const symbolParam = (c: Context, mustBeListed: boolean): string | Response => {
    const symbol = c.req.param("symbol") ?? "";
    const bad = symbolProblem(symbol);
    if (bad !== undefined) {
      return problem("bad_symbol", `Cannot find symbol: it ${bad}`, { status: 404 });
    }
    if (mustBeListed && !symbols.has(symbol)) {
      return problem(
        "unknown_symbol",
        `Cannot find symbol ${quote(symbol)}: the instrument table has no such symbol`,
        { status: 404 },
      );
    }
    return symbol;
  };

  app.get("/state", async () => json(await admin.state()));

  app.get("/audit", async (c) => {
    const limitText = c.req.query("limit");
    const before = c.req.query("before");
    const limit = limitText === undefined ? 100 : Number(limitText);
    if (
      limitText !== undefined &&
      !(/^\d{1,4}$/.test(limitText) && limit >= 1 && limit <= MAX_AUDIT_PAGE)
    ) {
      return problem(
        "bad_query",
        `Cannot list the audit log: limit must be an integer from 1 to ${MAX_AUDIT_PAGE}, not ${
          quote(limitText.slice(0, 32))
        }`,
      );
    }
    if (before !== undefined && !isAuditId(before)) {
      return problem(
        "bad_query",
        `Cannot list the audit log: before must be an entry id such as 001764000000000-000000, not ${
          quote(before.slice(0, 32))
        }`,
      );
    }
    return json(await audit.list({ limit, ...(before === undefined ? {} : { before }) }));
  });

  app.get("/accounts", async () => json({ accounts: await admin.listAccounts() }));

  app.post("/accounts", async (c) => {
    const body = await readBody(c, "Cannot create account", ["name", "role", "enabled"], [
      "name",
      "role",
    ]);
    if (body instanceof Response) return body;
    const created = await admin.createAccount({
      name: body.name as string,
      role: body.role as AccountRole,
      ...(body.enabled === undefined ? {} : { enabled: body.enabled as boolean }),
    });
    if (!created.ok) return fail(created.fault);
    const location = `${base}/accounts/${encodeURIComponent(created.value.name)}`;
    return account(created, 201, { location });
  });

  app.get("/accounts/:name", async (c) => {
    const name = accountParam(c);
    if (name instanceof Response) return name;
    return account(await admin.getAccount(name));
  });

  app.patch("/accounts/:name", async (c) => {
    const what = "Cannot update account";
    const name = accountParam(c);
    if (name instanceof Response) return name;
    const precondition = ifRevision(c);
    if (precondition instanceof Response) return precondition;
    const body = await readBody(c, what, ["role", "enabled"], []);
    if (body instanceof Response) return body;
    const patch: { role?: AccountRole; enabled?: boolean } = {};
    if ("role" in body) patch.role = body.role as AccountRole;
    if ("enabled" in body) patch.enabled = body.enabled as boolean;
    return account(await admin.updateAccount(name, patch, precondition));
  });

  app.put("/accounts/:name/limits", async (c) => {
    const name = accountParam(c);
    if (name instanceof Response) return name;
    const precondition = ifRevision(c);
    if (precondition instanceof Response) return precondition;
    const body = await readBody(c, "Cannot set limits", LIMIT_NAMES, LIMIT_NAMES);
    if (body instanceof Response) return body;
    return account(await admin.setLimits(name, body as RiskLimits, precondition));
  });

  app.put("/accounts/:name/limits/:limit", async (c) => {
    const name = accountParam(c);
    if (name instanceof Response) return name;
    const limit = limitParam(c);
    if (limit instanceof Response) return limit;
    const precondition = ifRevision(c);
    if (precondition instanceof Response) return precondition;
    const body = await readBody(c, "Cannot set limit", ["value"], ["value"]);
    if (body instanceof Response) return body;
    return account(await admin.setLimit(name, limit, body.value as number, precondition));
  });

  app.put("/accounts/:name/overrides/:symbol", async (c) => {
    const name = accountParam(c);
    if (name instanceof Response) return name;
    const symbol = symbolParam(c, true);
    if (symbol instanceof Response) return symbol;
    const precondition = ifRevision(c);
    if (precondition instanceof Response) return precondition;
    const body = await readBody(c, "Cannot set overrides", LIMIT_NAMES, []);
    if (body instanceof Response) return body;
    return account(
      await admin.setOverrides(name, symbol, body as PartialRiskLimits, precondition),
    );
  });

  app.delete("/accounts/:name/overrides/:symbol", async (c) => {
    const name = accountParam(c);
    if (name instanceof Response) return name;
    // A symbol the table dropped may still have overrides to remove.
    const symbol = symbolParam(c, false);
    if (symbol instanceof Response) return symbol;
    const precondition = ifRevision(c);
    if (precondition instanceof Response) return precondition;
    return account(await admin.setOverrides(name, symbol, {}, precondition));
  });

  app.put("/accounts/:name/overrides/:symbol/:limit", async (c) => {
    const name = accountParam(c);
    if (name instanceof Response) return name;
    const symbol = symbolParam(c, true);
    if (symbol instanceof Response) return symbol;
    const limit = limitParam(c);
    if (limit instanceof Response) return limit;
    const precondition = ifRevision(c);
    if (precondition instanceof Response) return precondition;
    const body = await readBody(c, "Cannot set override", ["value"], ["value"]);
    if (body instanceof Response) return body;
    const value = body.value as number;
    return account(await admin.setOverride(name, symbol, limit, value, precondition));
  });

  app.delete("/accounts/:name/overrides/:symbol/:limit", async (c) => {
    const name = accountParam(c);
    if (name instanceof Response) return name;
    const symbol = symbolParam(c, false);
    if (symbol instanceof Response) return symbol;
    const limit = limitParam(c);
    if (limit instanceof Response) return limit;
    const precondition = ifRevision(c);
    if (precondition instanceof Response) return precondition;
    return account(await admin.setOverride(name, symbol, limit, undefined, precondition));
  });

  app.put("/accounts/:name/kill-switch", async (c) => {
    const name = accountParam(c);
    if (name instanceof Response) return name;
    const precondition = ifRevision(c);
    if (precondition instanceof Response) return precondition;
    const body = await readBody(c, "Cannot set kill switch", ["on"], ["on"]);
    if (body instanceof Response) return body;
    return account(await admin.setKillSwitch(name, body.on as boolean, precondition));
  });

  app.put("/accounts/:name/password", async (c) => {
    const what = "Cannot set password";
    const name = accountParam(c);
    if (name instanceof Response) return name;
    const precondition = ifRevision(c);
    if (precondition instanceof Response) return precondition;
    const body = await readBody(c, what, ["password"], ["password"]);
    if (body instanceof Response) return body;
    const bad = passwordProblem(body.password);
    if (bad !== undefined) return problem("bad_field", `${what}: the password ${bad}`);
    // Hashed only for an account that exists (the hash costs ~0.2 s).
    const found = await options.store.getAccount(name);
    if (!found.ok) return fail(found.fault);
    const hash = await hashPassword(body.password as string);
    const set = await options.store.setPassword(name, hash, precondition);
    if (!set.ok) return fail(set.fault);
    const after = set.value.after;
    try {
      onAccessChange?.({
        account: name,
        role: after.role,
        enabled: after.enabled,
        why: "account's password changed by an admin: log in again",
      });
    } catch (error) {
      logError(`admin API: cannot end the sessions of ${quote(name)}`, error);
    }
    return new Response(null, {
      status: 204,
      headers: { etag: `"${after.revision}"`, "cache-control": "no-store" },
    });
  });

  app.put("/kill-switch", async (c) => {
    const body = await readBody(c, "Cannot set the global kill switch", ["on"], ["on"]);
    if (body instanceof Response) return body;
    const result = await admin.setGlobalKillSwitch(body.on as boolean);
    return result.ok ? json({ killSwitch: result.value }) : fail(result.fault);
  });

  // Known paths with a method they do not take: 405 with the methods they do.
  const allowed: [string, string][] = [
    ["/state", "GET"],
    ["/audit", "GET"],
    ["/accounts", "GET, POST"],
    ["/accounts/:name", "GET, PATCH"],
    ["/accounts/:name/limits", "PUT"],
    ["/accounts/:name/limits/:limit", "PUT"],
    ["/accounts/:name/overrides/:symbol", "PUT, DELETE"],
    ["/accounts/:name/overrides/:symbol/:limit", "PUT, DELETE"],
    ["/accounts/:name/kill-switch", "PUT"],
    ["/accounts/:name/password", "PUT"],
    ["/kill-switch", "PUT"],
  ];
  for (const [path, methods] of allowed) {
    app.all(path, (c) =>
      problem(
        "method_not_allowed",
        `Cannot ${c.req.method} ${quote(c.req.path)}: it takes ${methods}`,
        { headers: { allow: methods } },
      ));
  }
  return app;
}

/** A problem type's reason: what the verifier says, when it is a plain code. */
const REASON_CODE = /^[a-z][a-z0-9_]{0,63}$/;

/**
 * Refuses requests without a valid bearer token of role `admin`.
 *
 * @param options `verify`: the token verifier.
 * @returns The middleware.
 */
/** What the admin API's middleware hands its routes: the token's subject. */
export type AdminApiEnv = {
  Variables: {
    /** The admin token's subject. */
    adminActor: string;
  };
};

/** Decodes bodies for the audit log: bytes that are not UTF-8 become U+FFFD. */
const lenient = new TextDecoder();

/**
 * A body as the audit log may hold it: no password. On a password route
 * every member's value is replaced by `"[redacted]"` (so a password sent in
 * the wrong field is not kept either); elsewhere, a JSON object's members
 * named like a password are. A body that still mentions a password, or is
 * not a JSON object on a password route, is not kept at all.
 */
function redactPasswords(path: string, body: string): string {
  const passwordRoute = path.endsWith("/password");
  if (!passwordRoute && !/password/i.test(body)) return body;
  const dropped = "[redacted: the body mentioned a password]";
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return dropped;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return dropped;
  const copy: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    copy[key] = passwordRoute || /password/i.test(key) ? "[redacted]" : v;
  }
  const text = JSON.stringify(copy);
  const rest = text.replaceAll(/"[^"]*password[^"]*":"\[redacted\]"/gi, "");
  return passwordRoute || !/password/i.test(rest) ? text : dropped;
}

function requireAdmin(
  { verify, store }: { readonly verify: VerifyToken; readonly store: AccountStore },
): MiddlewareHandler<AdminApiEnv> {
  return async function requireAdmin(c, next) {
    const header = c.req.header("authorization");
    const match = header === undefined ? null : /^Bearer +([^ ]+) *$/i.exec(header);
    if (header === undefined || header.trim() === "") {
      return problem(
        "missing_token",
        "Cannot authenticate: send Authorization: Bearer <token> with an admin token",
        { headers: { "www-authenticate": `Bearer realm="${REALM}"` } },
      );
    }
    if (match === null) {
      return problem(
        "bad_token",
        "Cannot authenticate: the Authorization header must be Bearer followed by one token",
        { headers: { "www-authenticate": `Bearer realm="${REALM}", error="invalid_request"` } },
      );
    }
    const check = await verify(match[1]!);
    if (!check.ok) {
      const status = check.status === 403 ? 403 : 401;
      const reason = REASON_CODE.test(check.reason) ? check.reason : "bad_token";
      return problem(reason, check.message, {
        status,
        title: status === 403 ? "Forbidden" : "Invalid token",
        headers: { "www-authenticate": `Bearer realm="${REALM}", error="invalid_token"` },
      });
    }
    if (check.role !== "admin") {
      return problem(
        "forbidden",
        `Cannot administer: ${quote(check.sub)} holds the role ${
          quote(check.role)
        }, and this needs admin`,
        { headers: { "www-authenticate": `Bearer realm="${REALM}", error="insufficient_scope"` } },
      );
    }
    // The token alone is not enough: its account as it is now.
    const refused = await checkAccess(
      store,
      {
        account: check.sub,
        role: "admin",
        ...(check.epoch === undefined ? {} : { epoch: check.epoch }),
        ...(check.jti === undefined ? {} : { jti: check.jti }),
      },
      "Cannot administer",
    );
    if (refused !== undefined) {
      const error = refused.status === 401 ? "invalid_token" : "insufficient_scope";
      return problem(refused.reason, refused.message, {
        headers: { "www-authenticate": `Bearer realm="${REALM}", error="${error}"` },
      });
    }
    c.set("adminActor", check.sub);
    await next();
  };
}

/** Answers JSON, never cached. */
function json(value: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(value), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
  });
}

/** Answers an account with its ETag, or the fault. */
function account(
  result: Result<{ readonly revision: number }>,
  status = 200,
  headers: Record<string, string> = {},
): Response {
  if (!result.ok) return fail(result.fault);
  return json(result.value, status, { etag: `"${result.value.revision}"`, ...headers });
}

/** Answers a fault with its reason's status. */
function fail(fault: Fault): Response {
  return problem(fault.reason, fault.message, { status: PROBLEMS[fault.reason].status });
}

/** The revision `If-Match` requires: none, a number, or a 400. */
function ifRevision(c: Context): { ifRevision?: number } | Response {
  const header = c.req.header("if-match")?.trim();
  if (header === undefined || header === "*") return {};
  const match = /^"([1-9][0-9]{0,15})"$/.exec(header);
  const revision = match === null ? NaN : Number(match[1]);
  if (!Number.isSafeInteger(revision)) {
    return problem(
      "bad_precondition",
      `Cannot check If-Match: it must be an account's ETag such as "3", not ${quote(header)}`,
    );
  }
  return { ifRevision: revision };
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/**
 * Reads a JSON object body: `application/json`, UTF-8, an object, with only
 * `allowed` fields and every `required` one. Values are checked by the
 * store.
 */
async function readBody(
  c: Context,
  what: string,
  allowed: readonly string[],
  required: readonly string[],
): Promise<Record<string, unknown> | Response> {
  const type = c.req.header("content-type");
  const media = type?.split(";")[0]?.trim().toLowerCase();
  if (media !== "application/json") {
    return problem(
      "unsupported_media_type",
      `${what}: the body must be application/json, not ${
        type === undefined ? "absent" : quote(type)
      }`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(await c.req.arrayBuffer()));
  } catch (error) {
    const why = error instanceof TypeError ? "it is not UTF-8" : "it is not JSON";
    return problem("malformed_json", `${what}: cannot read the body: ${why}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return problem(
      "malformed_json",
      `${what}: the body must be a JSON object, not ${describeType(value)}`,
    );
  }
  const body = value as Record<string, unknown>;
  for (const field of Object.keys(body)) {
    if (!allowed.includes(field)) {
      return problem(
        "unknown_field",
        `${what}: unknown field ${quote(field)} (fields: ${allowed.join(", ") || "none"})`,
      );
    }
  }
  for (const field of required) {
    if (!Object.hasOwn(body, field)) {
      return problem("missing_field", `${what}: the field ${quote(field)} is required`);
    }
  }
  return body;
}
