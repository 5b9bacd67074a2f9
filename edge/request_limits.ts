/**
 * Limits on a request's size, checked before anything else reads it:
 * a URL longer than `maxUrlLength` is answered 414, header fields over
 * `maxHeaderBytes` in all 431, both as problem+json.
 *
 * # What Deno.serve does first
 *
 * Deno 2.9's HTTP/1.1 server reads a request head of up to about 64 KiB
 * (request line and header fields together) and up to 128 header fields.
 * Beyond either it answers a bare `400 Bad Request` with an empty body and
 * closes the connection; the app never sees the request, so it is not
 * counted in metrics. The defaults here (8 KiB of URL, 16 KiB of headers)
 * sit well inside that, so every oversized request Deno lets through gets
 * a proper 414 or 431.
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";
import { problem } from "./problem.ts";

/** Options of {@linkcode requestLimits}. */
export interface RequestLimitOptions {
  /** The longest URL (scheme, host, path and query), in characters (default 8,192). */
  readonly maxUrlLength?: number;
  /** The most bytes of header fields (names, values and 4 per field), default 16,384. */
  readonly maxHeaderBytes?: number;
}

/** The defaults of {@linkcode RequestLimitOptions}. */
export const REQUEST_LIMIT_DEFAULTS = { maxUrlLength: 8_192, maxHeaderBytes: 16_384 } as const;

/**
 * The limits with their defaults, checked.
 *
 * @param options The limits given.
 * @returns Every limit.
 * @throws {RangeError} When a limit is not a positive integer.
 *
 * @example
 * ```ts
 * import { resolveRequestLimits } from "./request_limits.ts";
 * if (resolveRequestLimits({ maxUrlLength: 100 }).maxHeaderBytes !== 16_384) throw new Error();
 * ```
 */
export function resolveRequestLimits(
  options: RequestLimitOptions = {},
): Required<RequestLimitOptions> {
  const o = { ...REQUEST_LIMIT_DEFAULTS, ...options };
  for (const [name, value] of Object.entries(o)) {
    if (!(Number.isSafeInteger(value) && value > 0)) {
      throw new RangeError(`Cannot set request limits: ${name} must be a positive integer`);
    }
  }
  return o;
}

/**
 * The size of a request's header fields as the limit counts it: names,
 * values and 4 bytes per field (`": "` and CRLF), fields of one name
 * combined as `Headers` iterates them.
 *
 * @param headers The request's headers.
 * @returns The bytes.
 *
 * @example
 * ```ts
 * import { headerBytes } from "./request_limits.ts";
 * if (headerBytes(new Headers({ a: "bc" })) !== 7) throw new Error("miscounted");
 * ```
 */
export function headerBytes(headers: Headers): number {
  let bytes = 0;
  for (const [name, value] of headers) bytes += name.length + value.length + 4;
  return bytes;
}

/**
 * Hono middleware: refuses oversized URLs (414) and header sections (431).
 *
 * @param options The limits.
 * @returns The middleware.
 * @throws {RangeError} When a limit is not a positive integer.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { requestLimits } from "./request_limits.ts";
 * const app = new Hono();
 * app.use(requestLimits({ maxUrlLength: 64 }));
 * app.get("*", (c) => c.text("ok"));
 * if ((await app.request("/" + "a".repeat(100))).status !== 414) throw new Error("let in");
 * ```
 */
export function requestLimits(options: RequestLimitOptions = {}): MiddlewareHandler {
  const o = resolveRequestLimits(options);
  return async function requestLimits(c, next) {
    const url = c.req.url;
    if (url.length > o.maxUrlLength) {
      return problem(
        "uri_too_long",
        `Cannot read the request: its URL is ${url.length} characters, at most ${o.maxUrlLength}`,
      );
    }
    const bytes = headerBytes(c.req.raw.headers);
    if (bytes > o.maxHeaderBytes) {
      return problem(
        "headers_too_large",
        `Cannot read the request: its header fields are ${bytes} bytes, at most ${o.maxHeaderBytes}`,
      );
    }
    await next();
  };
}
