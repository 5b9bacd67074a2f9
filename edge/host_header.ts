/**
 * The `Host` header check: a request whose `Host` is not a host name or
 * address (optionally with a port) is answered 400 `bad_host`, as RFC 9112
 * (§3.2) asks, before anything reads its URL.
 *
 * # Why
 *
 * `Deno.serve` builds a request's URL from its `Host` as sent, without
 * checking it. `Host: a b` or `Host: [::1` made a URL that `new URL()`
 * refuses (the pages' handler threw: a 500 and a stack trace in the log),
 * and `Host: a/b` or `Host: a?b` moved part of the host into the path that
 * Hono routes on, so a request could reach another route than the one it
 * named.
 *
 * # What passes
 *
 * A name of letters, digits, `-`, `.` and `_`, or a bracketed IPv6
 * literal, optionally followed by `:` and up to five digits, at most 263
 * characters, that the WHATWG URL parser also accepts as a host (so not
 * `1.2.3.999`, an invalid `xn--` label or a port over 65535). An absent or
 * empty `Host` passes: `Deno.serve` then uses its own address. Names are
 * not matched against a list (the edge runs behind names it does not
 * know).
 *
 * # Performance
 *
 * The quote fast path checks every request, so hosts found valid are
 * remembered (at most {@linkcode KNOWN_HOSTS_KEPT}; an edge sees a few):
 * a known host costs one set lookup. Invalid ones are not remembered, so
 * no client can fill the set with them.
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";
import { problem } from "./problem.ts";

/** The most valid hosts remembered. */
export const KNOWN_HOSTS_KEPT = 256;

const HOST_SHAPE = /^(?:[A-Za-z0-9_.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{0,5})?$/;
const MAX_HOST_LENGTH = 263; // a 255-character name, ":" and a port

const known = new Set<string>();

/**
 * Whether a `Host` header is one the edge answers (see the module doc).
 *
 * @param host The header's value, or null when there is none.
 * @returns True for a host name or address with an optional port, and for
 *   an absent or empty header.
 *
 * @example
 * ```ts
 * import { isValidHost } from "./host_header.ts";
 * console.log(isValidHost("quotes.example:8000"), isValidHost("[::1]"), isValidHost(null));
 * // true true true
 * console.log(isValidHost("a b"), isValidHost("[::1"), isValidHost("a/b")); // false false false
 * ```
 */
export function isValidHost(host: string | null): boolean {
  if (host === null || host === "" || known.has(host)) return true;
  if (
    host.length > MAX_HOST_LENGTH || !HOST_SHAPE.test(host) || !URL.canParse(`http://${host}/`)
  ) {
    return false;
  }
  if (known.size < KNOWN_HOSTS_KEPT) known.add(host);
  return true;
}

/**
 * Hono middleware: answers 400 `bad_host` to a request whose `Host` is
 * not valid ({@linkcode isValidHost}), or whose URL does not parse
 * whatever the reason, and passes every other request on.
 *
 * @returns The middleware.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { hostCheck } from "./host_header.ts";
 * const app = new Hono();
 * app.use(hostCheck());
 * app.get("/", (c) => c.text("hi"));
 * const res = await app.request("/", { headers: { host: "a b" } });
 * if (res.status !== 400 || (await res.json()).reason !== "bad_host") throw new Error("let in");
 * ```
 */
export function hostCheck(): MiddlewareHandler {
  return async function hostCheck(c, next) {
    const host = c.req.header("host") ?? null;
    if (!isValidHost(host) || !URL.canParse(c.req.url)) {
      const shown = host === null ? "" : ` ${JSON.stringify(host.slice(0, 64))}`;
      return problem(
        "bad_host",
        `Cannot answer: the Host header${shown} is not a host name or address with an optional port`,
      );
    }
    await next();
  };
}
