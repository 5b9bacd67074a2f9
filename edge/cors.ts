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
  const origin = options.origin ?? "*";
  const preflight: Record<string, string> = {
    "access-control-allow-origin": origin,
    "access-control-allow-methods": "GET, HEAD, OPTIONS",
    "access-control-allow-headers": "If-None-Match, Last-Event-ID, Cache-Control",
    "access-control-max-age": String(options.maxAgeSeconds ?? 600),
    ...(origin === "*" ? {} : { vary: "Origin" }),
  };
  return async function cors(c, next) {
    if (c.req.method === "OPTIONS") return new Response(null, { status: 204, headers: preflight });
    await next();
    const headers = c.res.headers;
    headers.append("access-control-allow-origin", origin);
    headers.append("access-control-expose-headers", EXPOSED_HEADERS);
    if (origin !== "*") headers.append("vary", "Origin");
  };
}
