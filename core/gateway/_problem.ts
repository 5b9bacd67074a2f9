/**
 * HTTP errors as `application/problem+json` (RFC 9457). Private to
 * `core/gateway/`.
 *
 * @module
 */

/** The prefix of every problem type: `urn:tradecaptain:problem:<reason>`, stable per reason. */
export const PROBLEM_TYPE_PREFIX = "urn:tradecaptain:problem:";

const TITLES: Readonly<Record<number, string>> = {
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  426: "Upgrade Required",
  503: "Service Unavailable",
};

/**
 * A problem response.
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
  const body = {
    type: PROBLEM_TYPE_PREFIX + reason,
    title: TITLES[status] ?? "Error",
    status,
    detail,
  };
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      "content-type": "application/problem+json",
      "cache-control": "no-store",
      ...headers,
    },
  });
}
