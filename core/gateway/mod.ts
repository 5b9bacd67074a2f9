/**
 * The trader gateway: who may open a WebSocket, as which account,
 * with which role ({@linkcode authenticateUpgrade}); the `Deno.serve`
 * handler serving `GET /ws` and the `/admin` hook ({@linkcode createGateway});
 * order routing and execution reports per account session
 * ({@linkcode OrderRouter}); and the market data port the gateway delegates
 * subscriptions to ({@linkcode MarketDataPort}, fed by
 * {@linkcode connectMarketData}).
 *
 * Wiring, in short (`core/app/create_core.ts` does it in full, for
 * `core/main.ts` and the tests):
 *
 * ```ts ignore
 * const dispatcher = new Dispatcher({ engine, firstOrderId });      // core/app
 * const accounts = new AccountRegistry({ dispatcher, known });      // core/app
 * const orders = new OrderRouter({ dispatcher, accounts, instruments });
 * connectMarketData(dispatcher, marketData);
 * dispatcher.start();
 * const gateway = createGateway({ key, allowedOrigins, orders, marketData, admin });
 * Deno.serve({ port: 8080 }, gateway.handler);
 * ```
 *
 * # Where the token goes
 *
 * In the upgrade request, since browsers cannot set headers on a WebSocket:
 *
 * - preferably as a subprotocol, `Sec-WebSocket-Protocol: tradecaptain.v1, bearer.<jwt>`
 *   (`new WebSocket(url, ["tradecaptain.v1", "bearer." + jwt])`); the server echoes
 *   `tradecaptain.v1`, never the token;
 * - or as a query parameter, `wss://host/ws?token=<jwt>` (it may be logged by proxies).
 *
 * Exactly one token must be offered.
 *
 * # The token
 *
 * A compact JWT signed with HS256 (and only HS256) by a secret of at least
 * 256 bits: `GATEWAY_JWT_SECRET` (base64url), or `data/jwt.secret`,
 * generated on first start with mode 0600 ({@linkcode loadSecret}). At most
 * 4 KiB. Claims:
 *
 * | claim | rule |
 * | --- | --- |
 * | `sub` | the account: 1 to 48 bytes of UTF-8 (the protocol's account rule) |
 * | `role` | `trader`, `viewer` (market data only) or `admin` |
 * | `iss` | required, exactly {@linkcode ISSUER} |
 * | `aud` | required, {@linkcode AUDIENCE} or an array holding it |
 * | `exp` | required, seconds since the epoch; 30 s leeway |
 * | `nbf`, `iat`, `jti` | optional; `nbf` is enforced with the same leeway |
 *
 * `deno task token --account ALICE --role trader [--ttl 8h] [--data DIR]`
 * mints one for local use.
 *
 * # What is refused, and how
 *
 * {@linkcode authenticateUpgrade} answers before the upgrade, with a value
 * (never an exception) carrying an HTTP status, a reason code and a message
 * ("Cannot accept connection: token expired at 2026-11-25T10:00:00Z"):
 *
 * | status | reason | when |
 * | --- | --- | --- |
 * | 403 | `bad_origin` | an `Origin` header not in the allowlist (exact match; no Origin passes) |
 * | 401 | `missing_token` | no token offered |
 * | 401 | `ambiguous_token` | more than one token offered |
 * | 401 | `malformed` | too long, not three strict base64url parts, not JSON objects, a claim of the wrong type, a `crit` header |
 * | 401 | `bad_algorithm` | `alg` other than exactly `"HS256"` (`none`, `HS384`, `hs256`, missing) |
 * | 401 | `bad_signature` | signed with another key, or altered |
 * | 401 | `missing_claim` | no `sub`, `role`, `iss`, `aud` or `exp` |
 * | 401 | `bad_account` | `sub` breaks the account rule |
 * | 401 | `bad_role` | `role` not one of the three |
 * | 401 | `wrong_issuer` | `iss` is not the core |
 * | 401 | `wrong_audience` | `aud` does not name the gateway |
 * | 401 | `expired` | `exp` passed (beyond the leeway) |
 * | 401 | `not_yet_valid` | `nbf` in the future (beyond the leeway) |
 *
 * @example
 * ```ts
 * import { AUDIENCE, authenticateUpgrade, ISSUER, loadSecret, signJwt } from "./mod.ts";
 * const dataDir = await Deno.makeTempDir();
 * const key = await loadSecret({ env: () => undefined, dataDir });
 * const exp = Math.floor(Date.now() / 1000) + 3600;
 * const jwt = await signJwt({ sub: "ALICE", role: "trader", iss: ISSUER, aud: AUDIENCE, exp }, key);
 * const result = await authenticateUpgrade(new Request(`http://localhost/ws?token=${jwt}`), {
 *   key, issuer: ISSUER, audience: AUDIENCE, allowedOrigins: [],
 * });
 * if (!result.ok || result.role !== "trader") throw new Error("refused");
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 *
 * @module
 */

export * from "./config.ts";
export * from "./jwt.ts";
export * from "./secret.ts";
export * from "./handshake.ts";
export * from "./market_data.ts";
export * from "./orders.ts";
export * from "./server.ts";
