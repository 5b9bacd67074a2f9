/**
 * HTTP errors as `application/problem+json` (RFC 9457), and the security
 * headers of every answer of the core's HTTP side. Private to
 * `core/gateway/`.
 *
 * @module
 */

import { problemResponse } from "../../schemas/problem.ts";

export { PROBLEM_TYPE_PREFIX } from "../../schemas/problem.ts";

const TITLES: Readonly<Record<number, string>> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  426: "Upgrade Required",
  429: "Too Many Requests",
  503: "Service Unavailable",
};

/**
 * The policy of everything the core answers over HTTP: nothing may load,
 * nothing may frame (the edge's `API_CSP`).
 */
export const CORE_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; " +
  "form-action 'none'";

/**
 * The security headers of every HTTP answer of the core (not the 101 of an
 * upgrade): the edge's set (`edge/security_headers.ts`, which `core/` does
 * not import), so that both processes answer alike.
 */
export const SECURITY_HEADERS: readonly (readonly [string, string])[] = [
  ["x-content-type-options", "nosniff"],
  ["x-frame-options", "DENY"],
  ["referrer-policy", "no-referrer"],
  ["cross-origin-opener-policy", "same-origin"],
  ["strict-transport-security", "max-age=63072000; includeSubDomains"],
  ["content-security-policy", CORE_CSP],
];

/**
 * Adds {@linkcode SECURITY_HEADERS} to an answer, leaving those it already
 * has (a handler's own policy wins).
 *
 * @param response The answer; its headers are changed in place.
 * @returns The same answer.
 */
export function withSecurityHeaders(response: Response): Response {
  if (response.status === 101) return response;
  const headers = response.headers;
  try {
    for (const [name, value] of SECURITY_HEADERS) {
      if (!headers.has(name)) headers.set(name, value);
    }
  } catch {
    // Immutable headers (a fetched response passed through): answered as they are.
  }
  return response;
}

/**
 * A problem response: `type`, `title`, `status`, `detail` and `reason`, as
 * the admin API and the edge send them.
 *
 * @param status The HTTP status.
 * @param reason A stable reason code (`bad_origin`, `not_found`); the type is derived from it.
 * @param detail What failed and why, for people.
 * @param headers Extra headers (`allow`, `upgrade`).
 * @returns The response.
 */
export function problem(
  status: number,
  reason: string,
  detail: string,
  headers: Record<string, string> = {},
): Response {
  return problemResponse({ status, reason, title: TITLES[status] ?? "Error", detail }, headers);
}
