/**
 * HTTP problem details (RFC 9457): every error the edge answers is
 * `application/problem+json` with a stable `type`.
 *
 * @module
 */

import { problemResponse } from "../schemas/problem.ts";

export { PROBLEM_TYPE_PREFIX } from "../schemas/problem.ts";

/** The status and title of each reason the edge gives. */
export const PROBLEMS = {
  bad_host: { status: 400, title: "Invalid Host header" },
  bad_symbol: { status: 400, title: "Invalid symbol" },
  bad_parameter: { status: 400, title: "Invalid query parameter" },
  unauthorized: { status: 401, title: "Unauthorized" },
  unknown_symbol: { status: 404, title: "Unknown symbol" },
  no_route: { status: 404, title: "No such resource" },
  method_not_allowed: { status: 405, title: "Method not allowed" },
  uri_too_long: { status: 414, title: "URI too long" },
  rate_limited: { status: 429, title: "Too many requests" },
  too_many_streams_per_address: { status: 429, title: "Too many streams from this address" },
  headers_too_large: { status: 431, title: "Request header fields too large" },
  internal: { status: 500, title: "Internal error" },
  not_ready: { status: 503, title: "Market data not ready" },
  too_many_streams: { status: 503, title: "Too many streams" },
} as const satisfies Record<string, { status: number; title: string }>;

/** A reason the edge gives. */
export type ProblemReason = keyof typeof PROBLEMS;

/** The JSON body of a problem. */
export interface Problem {
  /** {@linkcode PROBLEM_TYPE_PREFIX} + `reason`. */
  readonly type: string;
  readonly title: string;
  readonly status: number;
  /** What failed and why. */
  readonly detail: string;
  /** The reason code. */
  readonly reason: ProblemReason;
  /** The query parameter at fault, for `bad_parameter`. */
  readonly parameter?: string;
}

/**
 * Makes an `application/problem+json` response (`Cache-Control: no-store`).
 *
 * @param reason The reason code; it fixes the status and title.
 * @param detail What failed and why ("Cannot …: …").
 * @param options The query parameter at fault, and extra headers.
 * @returns The response.
 *
 * @example
 * ```ts
 * import { problem } from "./problem.ts";
 * const res = problem("bad_parameter", "Cannot read symbols: entry 2 is empty", {
 *   parameter: "symbols",
 * });
 * const body = await res.json();
 * if (res.status !== 400 || body.parameter !== "symbols") throw new Error("wrong problem");
 * ```
 */
export function problem(
  reason: ProblemReason,
  detail: string,
  options: { parameter?: string; headers?: Record<string, string> } = {},
): Response {
  const { status, title } = PROBLEMS[reason];
  const extra = options.parameter === undefined ? undefined : { parameter: options.parameter };
  return problemResponse(
    { status, reason, title, detail, ...(extra && { extra }) },
    options.headers,
  );
}
