/**
 * HTTP problem details (RFC 9457) as every HTTP answer of ours gives them:
 * the core's gateway, admin and login APIs and the edge. Each keeps its own
 * table of reasons, statuses and titles; the shape of the answer is this
 * one.
 *
 * @module
 */

/** Every problem's `type` is this prefix and its reason code. */
export const PROBLEM_TYPE_PREFIX = "urn:tradecaptain:problem:";

/** One problem, before it becomes an answer. */
export interface ProblemFields {
  readonly status: number;
  /** The reason code: the `type`'s suffix and the `reason` member. */
  readonly reason: string;
  readonly title: string;
  /** What failed and why. */
  readonly detail: string;
  /** Members after the standard ones (the edge's `parameter`). */
  readonly extra?: Readonly<Record<string, string>>;
}

/**
 * Makes an `application/problem+json` answer, never cached:
 * `{"type","title","status","detail","reason",…extra}`.
 *
 * @param problem The problem.
 * @param headers Extra headers (`retry-after`, `allow`, …).
 * @returns The response.
 *
 * @example
 * ```ts
 * import { problemResponse } from "./problem.ts";
 * const res = problemResponse({
 *   status: 404, reason: "no_route", title: "No such resource", detail: "Cannot find /x",
 * });
 * const body = await res.json();
 * if (res.status !== 404 || body.type !== "urn:tradecaptain:problem:no_route") throw new Error();
 * ```
 */
export function problemResponse(
  problem: ProblemFields,
  headers: Readonly<Record<string, string>> = {},
): Response {
  const { status, reason, title, detail, extra } = problem;
  const body = { type: PROBLEM_TYPE_PREFIX + reason, title, status, detail, reason, ...extra };
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      "content-type": "application/problem+json",
      "cache-control": "no-store",
      ...headers,
    },
  });
}
