/**
 * The login API: traders log in with an account name and a password and get
 * a short-lived gateway token, which they refresh before it expires and end
 * with a logout. The core mounts it under `/auth` beside the gateway.
 *
 * | method and path | request | answer |
 * | --- | --- | --- |
 * | `POST /auth/login` | `{"account","password"}` (JSON) | 200 `{"token","expiresAt","account","role"}` |
 * | `POST /auth/refresh` | the current token | 200, a new token: the same shape |
 * | `POST /auth/logout` | the token to end | 204 |
 * | `OPTIONS /auth/…` | a CORS preflight | 204 |
 *
 * The token of refresh and logout is sent as `Authorization: Bearer <jwt>`,
 * or as a JSON body `{"token"}`. `expiresAt` is ISO 8601 (UTC); the token
 * is a gateway JWT (`core/gateway/jwt.ts`: HS256, issuer and audience of the
 * gateway) with the account's role and token epoch, and a random `jti`, for
 * `tokenTtlSeconds` (default 15 minutes): the WebSocket takes it as it takes
 * any other (`bearer.<jwt>` subprotocol or `?token=`).
 *
 * # Logging in
 *
 * The password is checked against the account's scrypt hash
 * (`core/admin/password.ts`), in constant time. Every refusal is the same
 * 401 `invalid_credentials` with the same message, whether the account does
 * not exist, has no password, is disabled, or the password is wrong; when
 * there is no hash to check, a dummy hash of the same cost is checked
 * instead, so that the answer takes about as long.
 *
 * Attempts are limited per remote address and per account name (token
 * buckets, {@linkcode AttemptLimiter}; default 20 and 5 a minute): past
 * either, 429 `rate_limited` with `Retry-After`, before any hashing. Every
 * attempt counts, successful or not. The per-account limit lets anyone slow
 * an account's logins down (not lock it: the bucket refills); that is the
 * price of bounding guesses at one password from many addresses.
 *
 * # Ending tokens
 *
 * A logout ends that token only: its `jti` is listed in the account store
 * until the token would have expired (`AccountStore.revokeToken`), which
 * `checkAccess` reads at every handshake and admin request, and the
 * connections opened with it are closed (`onLogout`). The account's other
 * sessions go on. What ends every token of an account at once is its token
 * epoch, moved on by disabling it, changing its role or setting its
 * password. A refresh checks the account as it is now (registered, enabled,
 * same role and epoch, the token not ended) and answers a new token with a
 * new `jti`; the old one stays valid until its own expiry.
 *
 * # Browsers
 *
 * The terminal is served by the edge, another origin: a request with an
 * `Origin` in `allowedOrigins` (the gateway's, `GATEWAY_ORIGINS`) gets
 * `Access-Control-Allow-Origin` with that origin, and its preflight a 204
 * (`POST`, headers `authorization` and `content-type`); another origin is
 * refused with 403 `bad_origin`. Every answer carries `Vary: Origin`. No
 * credentials (cookies) are involved: the token travels in bodies and
 * headers.
 *
 * # Errors
 *
 * `application/problem+json` with `type` `urn:tradecaptain:problem:<reason>`,
 * `title`, `status`, `detail` and `reason`:
 *
 * | status | reasons |
 * | --- | --- |
 * | 400 | `malformed_json` (not JSON, not UTF-8, not an object), `bad_token_header` |
 * | 401 | `invalid_credentials`, `missing_token`, `token_revoked`, or the verifier's (`expired`, `bad_signature`, …) |
 * | 403 | `bad_origin`, `unknown_account`, `role_mismatch`, `account_disabled` (refresh) |
 * | 404 | `no_route` |
 * | 405 | `method_not_allowed` |
 * | 413 | `body_too_large` (over 4 KiB) |
 * | 415 | `unsupported_media_type` (a body that is not `application/json`) |
 * | 422 | `missing_field`, `unknown_field`, `bad_field` (a password over 1 KiB), `no_token_id` |
 * | 429 | `rate_limited` |
 *
 * @module
 */

import {
  type AccountStore,
  checkAccess,
  DEFAULT_SCRYPT,
  hashPassword,
  type PasswordHash,
  passwordSizeProblem,
  verifyPassword,
} from "../admin/mod.ts";
import { AUDIENCE, ISSUER, type JwtClaims, signJwt, verifyJwt } from "../gateway/mod.ts";
import { type AttemptLimit, AttemptLimiter } from "./attempt_limiter.ts";
import { problem } from "./_problem.ts";

/** Options of {@linkcode authApi}. */
export interface AuthApiOptions {
  /** Accounts and password hashes. */
  readonly store: AccountStore;
  /** The gateway's HS256 key (`loadSecret`). */
  readonly key: CryptoKey;
  /** Browser origins allowed (the gateway's list). */
  readonly allowedOrigins: readonly string[] | ReadonlySet<string>;
  /** The `iss` minted and required (default the gateway's). */
  readonly issuer?: string;
  /** The `aud` minted and required (default the gateway's). */
  readonly audience?: string;
  /** Lifetime of the tokens minted, in seconds (default {@linkcode DEFAULT_TOKEN_TTL_SECONDS}). */
  readonly tokenTtlSeconds?: number;
  /** Login attempts per account name (default 5 a minute, bursts of 5). */
  readonly perAccount?: AttemptLimit;
  /** Login attempts per remote address (default 20 a minute, bursts of 20). */
  readonly perAddress?: AttemptLimit;
  /** Told when a logout ended a token: the core closes its connections. */
  readonly onLogout?: (ended: { readonly account: string; readonly jti: string }) => void;
  /** The wall clock, in ms since the epoch (default `Date.now`). */
  readonly now?: () => number;
  /** Where unexpected errors go (default `console.error`). */
  readonly logError?: (message: string, error: unknown) => void;
}

/** The answer of a login or a refresh. */
export interface TokenAnswer {
  /** The gateway JWT. */
  readonly token: string;
  /** When it expires, ISO 8601 (UTC). */
  readonly expiresAt: string;
  /** Its account. */
  readonly account: string;
  /** The account's role. */
  readonly role: string;
}

/** The default lifetime of a token minted at login or refresh: 15 minutes. */
export const DEFAULT_TOKEN_TTL_SECONDS = 900;

/** The largest body read, in bytes. */
export const MAX_AUTH_BODY_BYTES = 4096;

/** The one refusal of a login, whatever the cause. */
export const INVALID_CREDENTIALS =
  "Cannot log in: the account name or password is wrong, or the account may not log in";

const ROUTES = new Set(["/auth/login", "/auth/refresh", "/auth/logout"]);
const ALLOW = "POST, OPTIONS";

/**
 * Makes the login API's handler (see the module documentation).
 *
 * @param options The store, the key, the origins, the limits.
 * @returns A handler for requests under `/auth`; `info` gives the peer's address.
 * @throws {RangeError} When the lifetime is not 60 s to a day, or a limit is not positive.
 *
 * @example
 * ```ts
 * import { AccountStore, hashPassword } from "../admin/mod.ts";
 * import { authApi } from "./auth_api.ts";
 * const kv = await Deno.openKv(":memory:");
 * const store = new AccountStore(kv);
 * await store.createAccount({ name: "ALICE", role: "trader" });
 * await store.setPassword("ALICE", await hashPassword("open sesame"));
 * const key = await crypto.subtle.generateKey(
 *   { name: "HMAC", hash: "SHA-256", length: 256 }, false, ["sign", "verify"]);
 * const auth = authApi({ store, key, allowedOrigins: ["http://127.0.0.1:8000"] });
 * const login = (password: string) =>
 *   auth(new Request("http://127.0.0.1:8080/auth/login", {
 *     method: "POST",
 *     headers: { "content-type": "application/json" },
 *     body: JSON.stringify({ account: "ALICE", password }),
 *   }));
 * const ok = await login("open sesame");
 * const { token, expiresAt } = await ok.json();
 * if (ok.status !== 200 || typeof token !== "string" || !expiresAt) throw new Error("not logged in");
 * if ((await login("open sesame!")).status !== 401) throw new Error("a wrong password let in");
 * kv.close();
 * ```
 */
export function authApi(
  options: AuthApiOptions,
): (request: Request, info?: Deno.ServeHandlerInfo) => Promise<Response> {
  const ttl = options.tokenTtlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
  if (!(Number.isSafeInteger(ttl) && ttl >= 60 && ttl <= 86_400)) {
    throw new RangeError(
      `Cannot make the login API: tokenTtlSeconds must be an integer from 60 to 86400, not ${ttl}`,
    );
  }
  const { store, key } = options;
  const issuer = options.issuer ?? ISSUER;
  const audience = options.audience ?? AUDIENCE;
  const now = options.now ?? Date.now;
  const logError = options.logError ?? ((message, error) => console.error(message, error));
  const allowed = options.allowedOrigins;
  const isAllowed = (origin: string) =>
    "has" in allowed ? allowed.has(origin) : allowed.includes(origin);
  const perAccount = new AttemptLimiter(options.perAccount ?? { perMinute: 5 });
  const perAddress = new AttemptLimiter(options.perAddress ?? { perMinute: 20 });
  // A hash of the current cost to check when there is none, made once.
  let dummy: Promise<PasswordHash> | undefined;
  const dummyHash = () =>
    dummy ??= hashPassword(crypto.randomUUID(), DEFAULT_SCRYPT).catch((error) => {
      dummy = undefined;
      throw error;
    });

  const mint = async (
    account: string,
    role: JwtClaims["role"],
    epoch: number,
  ): Promise<Response> => {
    const iat = Math.floor(now() / 1000);
    const exp = iat + ttl;
    const token = await signJwt({
      sub: account,
      role,
      iss: issuer,
      aud: audience,
      iat,
      exp,
      jti: crypto.randomUUID(),
      epoch,
    }, key);
    const answer: TokenAnswer = {
      token,
      expiresAt: new Date(exp * 1000).toISOString(),
      account,
      role,
    };
    return json(answer);
  };

  async function login(request: Request, info?: Deno.ServeHandlerInfo): Promise<Response> {
    const what = "Cannot log in";
    const body = await readJson(request, what);
    if (body instanceof Response) return body;
    if (body === undefined) {
      return problem("missing_field", `${what}: send {"account","password"} as JSON`);
    }
    const fields = checkFields(body, what, ["account", "password"]);
    if (fields !== undefined) return fields;
    const { account, password } = body as { account: unknown; password: unknown };
    if (typeof account !== "string" || account === "" || account.length > 256) {
      return problem(
        "bad_field",
        `${what}: account must be a non-empty string of at most 256 characters`,
      );
    }
    const bad = passwordSizeProblem(password);
    if (bad !== undefined) return problem("bad_field", `${what}: password ${bad}`);
    // Before any hashing: the address first, so that one address spraying
    // account names is stopped by its own bucket.
    const remote = info?.remoteAddr;
    const address = remote !== undefined && "hostname" in remote ? remote.hostname : "unknown";
    for (
      const [limiter, which, key] of [
        [perAddress, "this address", address],
        [perAccount, "this account", account],
      ] as const
    ) {
      const attempt = limiter.take(key);
      if (!attempt.ok) {
        return problem(
          "rate_limited",
          `${what}: too many attempts for ${which}; try again in ${attempt.retryAfterSeconds} s`,
          { "retry-after": String(attempt.retryAfterSeconds) },
        );
      }
    }
    const found = await store.getAccount(account);
    const hash = found.ok ? await store.passwordHash(account) : undefined;
    // The same work whether or not there is a hash to check.
    const matches = await verifyPassword(password as string, hash ?? await dummyHash());
    if (!found.ok || hash === undefined || !matches || !found.value.enabled) {
      return problem("invalid_credentials", INVALID_CREDENTIALS, {
        "www-authenticate": 'Bearer realm="tradecaptain"',
      });
    }
    return await mint(found.value.name, found.value.role, found.value.tokenEpoch);
  }

  /** The token of a refresh or logout, verified; or the refusal. */
  async function bearer(request: Request, what: string) {
    const header = request.headers.get("authorization");
    let token: string;
    if (header !== null) {
      const match = /^Bearer +([^ ]+) *$/i.exec(header);
      if (match === null) {
        return problem(
          "bad_token_header",
          `${what}: the Authorization header must be Bearer followed by one token`,
        );
      }
      token = match[1]!;
    } else {
      const body = await readJson(request, what);
      if (body instanceof Response) return body;
      if (body === undefined) {
        return problem(
          "missing_token",
          `${what}: send the token as Authorization: Bearer <token>, or as {"token"}`,
        );
      }
      const fields = checkFields(body, what, ["token"]);
      if (fields !== undefined) return fields;
      if (typeof body.token !== "string") {
        return problem("bad_field", `${what}: token must be a string`);
      }
      token = body.token;
    }
    const verified = await verifyJwt(token, key, { issuer, audience, now: new Date(now()) });
    if (!verified.ok) return problem(verified.reason, `${what}: ${verified.message}`, {}, 401);
    return verified.claims;
  }

  async function refresh(request: Request): Promise<Response> {
    const what = "Cannot refresh the token";
    const claims = await bearer(request, what);
    if (claims instanceof Response) return claims;
    const refused = await checkAccess(store, {
      account: claims.sub,
      role: claims.role,
      ...(claims.epoch === undefined ? {} : { epoch: claims.epoch }),
      ...(claims.jti === undefined ? {} : { jti: claims.jti }),
    }, what);
    if (refused !== undefined) {
      return problem(refused.reason, refused.message, {}, refused.status);
    }
    return await mint(claims.sub, claims.role, claims.epoch ?? 0);
  }

  async function logout(request: Request): Promise<Response> {
    const what = "Cannot log out";
    const claims = await bearer(request, what);
    if (claims instanceof Response) return claims;
    if (claims.jti === undefined) {
      return problem(
        "no_token_id",
        `${what}: the token has no id (jti), so it cannot be ended alone; ` +
          "an admin ends all of an account's tokens by disabling it",
      );
    }
    await store.revokeToken(claims.jti, claims.sub, claims.exp * 1000, now());
    try {
      options.onLogout?.({ account: claims.sub, jti: claims.jti });
    } catch (error) {
      logError(`login API: cannot close the connections of a token of ${claims.sub}`, error);
    }
    return new Response(null, { status: 204, headers: { "cache-control": "no-store" } });
  }

  async function route(request: Request, info?: Deno.ServeHandlerInfo): Promise<Response> {
    const path = new URL(request.url).pathname;
    if (!ROUTES.has(path)) {
      return problem(
        "no_route",
        `Cannot find ${path}: the login API has ${[...ROUTES].join(", ")}`,
      );
    }
    const origin = request.headers.get("origin");
    if (origin !== null && !isAllowed(origin)) {
      return problem(
        "bad_origin",
        `Cannot answer ${path}: origin ${JSON.stringify(origin.slice(0, 100))} is not allowed ` +
          "(GATEWAY_ORIGINS lists the origins allowed)",
      );
    }
    if (request.method === "OPTIONS") {
      return new Response(null, {
        status: 204,
        headers: {
          "access-control-allow-methods": "POST",
          "access-control-allow-headers": "authorization, content-type",
          "access-control-max-age": "600",
          allow: ALLOW,
        },
      });
    }
    if (request.method !== "POST") {
      return problem("method_not_allowed", `Cannot ${request.method} ${path}: use POST`, {
        allow: ALLOW,
      });
    }
    if (path === "/auth/login") return await login(request, info);
    if (path === "/auth/refresh") return await refresh(request);
    return await logout(request);
  }

  return async function auth(request, info) {
    let response: Response;
    try {
      response = await route(request, info);
    } catch (error) {
      logError(`login API: ${request.method} ${new URL(request.url).pathname} failed`, error);
      response = problem(
        "internal",
        "Cannot answer: an internal error occurred (see the core's log)",
      );
    }
    const origin = request.headers.get("origin");
    response.headers.append("vary", "Origin");
    if (origin !== null && isAllowed(origin)) {
      response.headers.set("access-control-allow-origin", origin);
    }
    return response;
  };
}

/** Answers JSON, never cached. */
function json(value: unknown): Response {
  return new Response(JSON.stringify(value), {
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  });
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Reads a JSON object body of at most {@linkcode MAX_AUTH_BODY_BYTES}; an
 * empty body is undefined.
 */
async function readJson(
  request: Request,
  what: string,
): Promise<Record<string, unknown> | Response | undefined> {
  const bytes = await readCapped(request);
  if (bytes === undefined) {
    return problem("body_too_large", `${what}: the body is over ${MAX_AUTH_BODY_BYTES} bytes`);
  }
  if (bytes.length === 0) return undefined;
  const type = request.headers.get("content-type");
  if (type?.split(";")[0]?.trim().toLowerCase() !== "application/json") {
    return problem(
      "unsupported_media_type",
      `${what}: the body must be application/json, not ${
        type === null ? "absent" : JSON.stringify(type.slice(0, 100))
      }`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(bytes));
  } catch (error) {
    const why = error instanceof TypeError ? "it is not UTF-8" : "it is not JSON";
    return problem("malformed_json", `${what}: cannot read the body: ${why}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return problem(
      "malformed_json",
      `${what}: the body must be a JSON object, not ${
        value === null ? "null" : Array.isArray(value) ? "an array" : typeof value
      }`,
    );
  }
  return value as Record<string, unknown>;
}

/** The body's bytes, or undefined past the cap (not read further). */
async function readCapped(request: Request): Promise<Uint8Array | undefined> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_AUTH_BODY_BYTES) return undefined;
  if (request.body === null) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body) {
    size += chunk.length;
    if (size > MAX_AUTH_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** Refuses unknown fields and missing ones. */
function checkFields(
  body: Record<string, unknown>,
  what: string,
  fields: readonly string[],
): Response | undefined {
  for (const field of Object.keys(body)) {
    if (!fields.includes(field)) {
      return problem(
        "unknown_field",
        `${what}: unknown field ${JSON.stringify(field.slice(0, 40))} (fields: ${
          fields.join(", ")
        })`,
      );
    }
  }
  for (const field of fields) {
    if (!Object.hasOwn(body, field)) {
      return problem("missing_field", `${what}: the field ${JSON.stringify(field)} is required`);
    }
  }
  return undefined;
}
