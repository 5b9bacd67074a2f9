/**
 * Authentication of a WebSocket upgrade request, before the upgrade.
 *
 * Browsers cannot set headers on a WebSocket, but they can offer
 * subprotocols, so the token travels as one of them:
 *
 * ```ts ignore
 * new WebSocket(url, ["tradecaptain.v1", `bearer.${jwt}`]);
 * ```
 *
 * A JWT is three base64url parts joined by dots, which are all characters a
 * subprotocol name may hold (RFC 6455 §4.1, RFC 7230 `token`). The server
 * must echo one offered subprotocol, and browsers fail the connection when
 * it echoes none after some were offered, so the client offers
 * {@linkcode SUBPROTOCOL} beside the token and the server echoes that one,
 * returned here as `protocol`. The server never echoes `bearer.…`: the token
 * would come back in a response header. A client that offers the token
 * without `tradecaptain.v1` is still authenticated (bots may not care), but
 * `protocol` is then absent and a browser will drop the connection.
 *
 * The token may instead be the `token` query parameter
 * (`wss://host/ws?token=<jwt>`). It is simpler, but URLs end up in proxy and
 * access logs: prefer the subprotocol.
 *
 * @module
 */

import { BEARER_PREFIX, type Role, SUBPROTOCOL } from "./config.ts";
import { type JwtClaims, type JwtFailureReason, VERIFY_MESSAGE_PREFIX, verifyJwt } from "./jwt.ts";

/** Options of {@linkcode authenticateUpgrade}. */
export interface UpgradeOptions {
  /** The HMAC SHA-256 key that verifies tokens (see `loadSecret`). */
  readonly key: CryptoKey;
  /** The `iss` required (normally `ISSUER`). */
  readonly issuer: string;
  /** The audience required (normally `AUDIENCE`). */
  readonly audience: string;
  /**
   * The origins browsers may connect from, compared exactly with the
   * `Origin` header, so written as browsers send them: `https://trade.example`,
   * `http://localhost:5173` (lower case, no default port, no trailing slash).
   */
  readonly allowedOrigins: readonly string[] | ReadonlySet<string>;
  /** The time to check expiry against (default: now). */
  readonly now?: Date;
  /** Clock skew tolerated on `exp` and `nbf`, in seconds (default 30). */
  readonly leewaySeconds?: number;
}

/** Why an upgrade was refused: the JWT's reasons, plus the handshake's own. */
export type UpgradeFailureReason =
  | JwtFailureReason
  | "bad_origin"
  | "missing_token"
  | "ambiguous_token";

/** The outcome of {@linkcode authenticateUpgrade}. */
export type UpgradeResult =
  | {
    readonly ok: true;
    /** The account the session acts for (the token's `sub`). */
    readonly account: string;
    readonly role: Role;
    /** The subprotocol to echo in the response, when the client offered it. */
    readonly protocol?: string;
    /** All the token's claims, for example `exp` to end the session when it expires. */
    readonly claims: JwtClaims;
  }
  | {
    readonly ok: false;
    /** 403 for a bad Origin, 401 for anything about the token. */
    readonly status: 401 | 403;
    readonly reason: UpgradeFailureReason;
    readonly message: string;
  };

const PREFIX = "Cannot accept connection: ";

/**
 * Decides whether a WebSocket upgrade request may proceed, and as whom.
 *
 * Checks, in order: the `Origin` header, when there is one, must be in
 * `allowedOrigins` (403 `bad_origin`; a request without Origin is not from
 * a browser and may pass); exactly one token must be offered, as a
 * `bearer.<jwt>` subprotocol or the `token` query parameter (401
 * `missing_token`, or `ambiguous_token` when there are several); the token
 * must pass {@linkcode verifyJwt} (401 with its reason). Never throws on a
 * bad request.
 *
 * @param request The upgrade request.
 * @param options The key, issuer, audience and allowed origins.
 * @returns The account, role and subprotocol to echo; or the status, reason
 *   and a message saying what failed and why.
 * @throws {TypeError} If the key is not an HMAC SHA-256 verifying key.
 *
 * @example
 * ```ts
 * import { authenticateUpgrade, signJwt } from "./mod.ts";
 * const key = await crypto.subtle.generateKey(
 *   { name: "HMAC", hash: "SHA-256", length: 256 }, false, ["sign", "verify"]);
 * const iss = "tradecaptain-core", aud = "tradecaptain-gateway";
 * const exp = Math.floor(Date.now() / 1000) + 60;
 * const jwt = await signJwt({ sub: "ALICE", role: "viewer", iss, aud, exp }, key);
 * const request = new Request("https://tc.example/ws", {
 *   headers: {
 *     origin: "https://tc.example",
 *     "sec-websocket-protocol": `tradecaptain.v1, bearer.${jwt}`,
 *   },
 * });
 * const result = await authenticateUpgrade(request, {
 *   key, issuer: iss, audience: aud, allowedOrigins: ["https://tc.example"],
 * });
 * if (!result.ok || result.account !== "ALICE" || result.protocol !== "tradecaptain.v1") {
 *   throw new Error("refused");
 * }
 * // Then: Deno.upgradeWebSocket(request, { protocol: result.protocol })
 * ```
 */
export async function authenticateUpgrade(
  request: Request,
  options: UpgradeOptions,
): Promise<UpgradeResult> {
  const origin = request.headers.get("origin");
  const allowed = options.allowedOrigins;
  if (origin !== null && !("has" in allowed ? allowed.has(origin) : allowed.includes(origin))) {
    return {
      ok: false,
      status: 403,
      reason: "bad_origin",
      message: `${PREFIX}Origin ${JSON.stringify(origin)} is not allowed`,
    };
  }

  const offered = (request.headers.get("sec-websocket-protocol") ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "");
  const tokens = offered
    .filter((p) => p.startsWith(BEARER_PREFIX))
    .map((p) => p.slice(BEARER_PREFIX.length));
  let query: string[] = [];
  try {
    query = new URL(request.url).searchParams.getAll("token");
  } catch {
    // A Request's url is always absolute; nothing to read if it were not.
  }
  tokens.push(...query);
  const given = tokens.filter((t) => t !== "");
  if (given.length === 0) {
    return {
      ok: false,
      status: 401,
      reason: "missing_token",
      message: `${PREFIX}no token; offer the subprotocol "${BEARER_PREFIX}<jwt>" ` +
        `(beside "${SUBPROTOCOL}") or add ?token=<jwt>`,
    };
  }
  if (given.length > 1) {
    // Refused rather than picking one: which one was checked would be a guess.
    return {
      ok: false,
      status: 401,
      reason: "ambiguous_token",
      message: `${PREFIX}${given.length} tokens offered; send exactly one`,
    };
  }

  const verified = await verifyJwt(given[0]!, options.key, {
    issuer: options.issuer,
    audience: options.audience,
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.leewaySeconds === undefined ? {} : { leewaySeconds: options.leewaySeconds }),
  });
  if (!verified.ok) {
    return {
      ok: false,
      status: 401,
      reason: verified.reason,
      message: PREFIX + verified.message.slice(VERIFY_MESSAGE_PREFIX.length),
    };
  }
  return {
    ok: true,
    account: verified.claims.sub,
    role: verified.claims.role,
    ...(offered.includes(SUBPROTOCOL) ? { protocol: SUBPROTOCOL } : {}),
    claims: verified.claims,
  };
}
