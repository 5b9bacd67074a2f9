/**
 * CORS for the public API: any origin may read it (no credentials), and a
 * preflight is answered here with 204.
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";

/** Options of {@linkcode cors}. */
export interface CorsOptions {
  /** `Access-Control-Allow-Origin` (default `*`). */
  readonly origin?: string;
  /** How long a browser may keep a preflight's answer (default 600 s). */
  readonly maxAgeSeconds?: number;
}

/** The default {@linkcode CorsOptions.origin}: any. */
export const DEFAULT_CORS_ORIGIN = "*";

/** Headers a cross-origin script may read (beyond the safelisted ones). */
export const EXPOSED_HEADERS = "ETag, RateLimit, RateLimit-Policy, Retry-After";

/**
 * Hono middleware: CORS headers on every answer, and preflights answered.
 *
 * @param options The allowed origin and the preflight's lifetime.
 * @returns The middleware.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { cors } from "./cors.ts";
 * const app = new Hono();
 * app.use("/api/*", cors());
 * app.get("/api/x", (c) => c.text("x"));
 * const pre = await app.request("/api/x", {
 *   method: "OPTIONS",
 *   headers: { origin: "https://a.example", "access-control-request-method": "GET" },
 * });
 * if (pre.status !== 204 || pre.headers.get("access-control-allow-origin") !== "*") {
 *   throw new Error("preflight refused");
 * }
 * ```
 */
export function cors(options: CorsOptions = {}): MiddlewareHandler {
  const origin = options.origin ?? DEFAULT_CORS_ORIGIN;
  const preflight: Record<string, string> = {
    "access-control-allow-origin": origin,
    "access-control-allow-methods": "GET, HEAD, OPTIONS",
    "access-control-allow-headers": "If-None-Match, Last-Event-ID, Cache-Control",
    "access-control-max-age": String(options.maxAgeSeconds ?? 600),
    ...(origin === "*" ? {} : { vary: "Origin" }),
  };
  const fields = corsHeaderEntries(origin);
  return async function cors(c, next) {
    if (c.req.method === "OPTIONS") return new Response(null, { status: 204, headers: preflight });
    await next();
    const headers = c.res.headers;
    for (const [name, value] of fields) headers.append(name, value);
  };
}

/**
 * The CORS headers of an answer (not a preflight), in the order they are
 * sent; the quote fast path (`quote_fast_path.ts`) sends the same list.
 *
 * @param origin `Access-Control-Allow-Origin`.
 * @returns The header names (lower case) and values.
 *
 * @example
 * ```ts
 * import { corsHeaderEntries } from "./cors.ts";
 * const vary = corsHeaderEntries("https://a.example").find(([name]) => name === "vary");
 * if (vary?.[1] !== "Origin") throw new Error("a named origin must vary");
 * ```
 */
export function corsHeaderEntries(origin: string): readonly (readonly [string, string])[] {
  return [
    ["access-control-allow-origin", origin],
    ["access-control-expose-headers", EXPOSED_HEADERS],
    ...(origin === "*" ? [] : [["vary", "Origin"] as const]),
  ];
}
