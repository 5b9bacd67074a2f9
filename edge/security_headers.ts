/**
 * Security headers on every answer.
 *
 * | header | value |
 * | --- | --- |
 * | `Content-Security-Policy` | {@linkcode API_CSP}, unless the handler set its own (pages set one with their nonce) |
 * | `Strict-Transport-Security` | `max-age=63072000; includeSubDomains` (browsers ignore it over plain HTTP) |
 * | `X-Content-Type-Options` | `nosniff` |
 * | `X-Frame-Options` | `DENY` |
 * | `Referrer-Policy` | `no-referrer` |
 * | `Cross-Origin-Opener-Policy` | `same-origin` |
 *
 * Nothing in the edge sets `X-Powered-By` or `Server` (Hono adds
 * `X-Powered-By` only through its `poweredBy` middleware, and `Deno.serve`
 * sends neither); the tests check they stay absent.
 *
 * A 304 gets no `Content-Security-Policy`: a browser merges a 304's headers
 * into the stored response, so a fresh policy (with a fresh nonce) would no
 * longer match the nonces in the stored page.
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";

/** The policy of everything but pages: nothing may load, nothing may frame. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; " +
  "form-action 'none'";

/** The default HSTS value: two years, subdomains included. */
export const DEFAULT_HSTS = "max-age=63072000; includeSubDomains";

/** Options of {@linkcode securityHeaders}. */
export interface SecurityHeadersOptions {
  /** `Strict-Transport-Security`, or false for none (default {@linkcode DEFAULT_HSTS}). */
  readonly hsts?: string | false;
}

/**
 * The headers every answer carries, in the order they are sent; the
 * `Content-Security-Policy` is not among them (it depends on the answer).
 * The quote fast path (`quote_fast_path.ts`) sends the same list.
 *
 * @param options The HSTS value.
 * @returns The header names (lower case) and values.
 *
 * @example
 * ```ts
 * import { securityHeaderEntries } from "./security_headers.ts";
 * const names = securityHeaderEntries({ hsts: false }).map(([name]) => name);
 * if (names.includes("strict-transport-security")) throw new Error("HSTS not left out");
 * ```
 */
export function securityHeaderEntries(
  options: SecurityHeadersOptions = {},
): readonly (readonly [string, string])[] {
  const fixed: [string, string][] = [
    ["x-content-type-options", "nosniff"],
    ["x-frame-options", "DENY"],
    ["referrer-policy", "no-referrer"],
    ["cross-origin-opener-policy", "same-origin"],
  ];
  const hsts = options.hsts ?? DEFAULT_HSTS;
  if (hsts !== false) fixed.push(["strict-transport-security", hsts]);
  return fixed;
}

/**
 * Hono middleware: sets the security headers above on every answer.
 *
 * @param options The HSTS value.
 * @returns The middleware.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { securityHeaders } from "./security_headers.ts";
 * const app = new Hono();
 * app.use(securityHeaders());
 * app.get("/", (c) => c.text("hi"));
 * const res = await app.request("/");
 * if (res.headers.get("x-frame-options") !== "DENY") throw new Error("framable");
 * ```
 */
export function securityHeaders(options: SecurityHeadersOptions = {}): MiddlewareHandler {
  const fixed = securityHeaderEntries(options);
  return async function securityHeaders(c, next) {
    await next();
    const headers = c.res.headers;
    // append, not set: no handler sets these, and set() searches the list
    // each time (header handling is most of an answer's cost in Deno).
    for (const [name, value] of fixed) headers.append(name, value);
    if (c.res.status !== 304 && !headers.has("content-security-policy")) {
      headers.append("content-security-policy", API_CSP);
    }
  };
}
