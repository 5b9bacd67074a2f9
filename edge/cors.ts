/**
 * CORS for the public API: any origin may read it (no credentials), and a
 * preflight is answered here with 204.
 *
 * Two halves, so that the edge can put its rate limit between them: the
 * fields go on every answer, a refusal (429, 414, 431) included, so a
 * cross-origin script can read why it was refused ({@linkcode corsFields},
 * outside the limit); the preflight is answered only after the limit took
 * its token, so preflights count like any request ({@linkcode corsPreflight},
 * inside it). {@linkcode cors} is both in one middleware.
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
  const fields = corsFields(options);
  const preflight = corsPreflight(options);
  return function cors(c, next) {
    return fields(c, async () => {
      // As Hono's compose does with a middleware's answer.
      const answer = await preflight(c, next);
      if (answer instanceof Response) c.res = answer;
    });
  };
}

/**
 * Hono middleware: the CORS fields ({@linkcode corsHeaderEntries}) on
 * every answer that does not carry its own (a preflight's).
 *
 * @param options The allowed origin.
 * @returns The middleware.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { corsFields } from "./cors.ts";
 * const app = new Hono();
 * app.use(corsFields());
 * app.get("/x", (c) => c.text("x", 429));
 * const res = await app.request("/x");
 * if (res.headers.get("access-control-allow-origin") !== "*") throw new Error("unreadable");
 * ```
 */
export function corsFields(options: CorsOptions = {}): MiddlewareHandler {
  const fields = corsHeaderEntries(options.origin ?? DEFAULT_CORS_ORIGIN);
  return async function corsFields(c, next) {
    await next();
    const headers = c.res.headers;
    if (headers.has("access-control-allow-origin")) return;
    for (const [name, value] of fields) headers.append(name, value);
  };
}

/**
 * Hono middleware: answers a preflight (`OPTIONS`) with 204 and the
 * methods, headers and lifetime allowed; passes every other request on.
 *
 * @param options The allowed origin and the preflight's lifetime.
 * @returns The middleware.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { corsPreflight } from "./cors.ts";
 * const app = new Hono();
 * app.use(corsPreflight());
 * const pre = await app.request("/x", { method: "OPTIONS" });
 * if (pre.status !== 204 || pre.headers.get("access-control-max-age") !== "600") {
 *   throw new Error("preflight not answered");
 * }
 * ```
 */
export function corsPreflight(options: CorsOptions = {}): MiddlewareHandler {
  const origin = options.origin ?? DEFAULT_CORS_ORIGIN;
  const preflight: Record<string, string> = {
    "access-control-allow-origin": origin,
    "access-control-allow-methods": "GET, HEAD, OPTIONS",
    "access-control-allow-headers": "If-None-Match, Last-Event-ID, Cache-Control",
    "access-control-max-age": String(options.maxAgeSeconds ?? 600),
    ...(origin === "*" ? {} : { vary: "Origin" }),
  };
  return async function corsPreflight(c, next) {
    if (c.req.method === "OPTIONS") return new Response(null, { status: 204, headers: preflight });
    await next();
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
