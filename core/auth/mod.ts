/**
 * Logging in: the core's `/auth` routes, by which traders trade a password
 * for a short-lived gateway token, refresh it and end it.
 *
 * - {@linkcode authApi} (`auth_api.ts`): `POST /auth/login`, `/auth/refresh`,
 *   `/auth/logout`, with CORS for the gateway's origins; its module
 *   documentation gives the HTTP contract.
 * - {@linkcode createDemoTrader} (`demo_trader.ts`): a fresh store's demo
 *   trader, with a random password shown once.
 * - {@linkcode AttemptLimiter} (`attempt_limiter.ts`): login attempts per
 *   account and per address, token buckets in a bounded map.
 *
 * Password hashes and the list of ended tokens live in the account store
 * (`core/admin/store.ts`, `core/admin/password.ts`).
 *
 * @module
 */

export * from "./auth_api.ts";
export * from "./attempt_limiter.ts";
export * from "./demo_trader.ts";
