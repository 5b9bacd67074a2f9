/**
 * HTTP problem details (RFC 9457) for the admin API. Private to `core/admin/`.
 *
 * @module
 */

import type { FaultReason } from "./fault.ts";
import { problemResponse } from "../../schemas/problem.ts";

/** Reasons only the HTTP layer gives. */
export type HttpReason =
  | "missing_token"
  | "bad_token"
  | "forbidden"
  | "unknown_account"
  | "role_mismatch"
  | "account_disabled"
  | "token_revoked"
  | "malformed_json"
  | "bad_query"
  | "unsupported_media_type"
  | "body_too_large"
  | "bad_precondition"
  | "no_route"
  | "method_not_allowed"
  | "internal";

/** Every reason a problem may carry (plus the token verifier's own, passed through). */
export type ProblemReason = FaultReason | HttpReason;

export { PROBLEM_TYPE_PREFIX } from "../../schemas/problem.ts";

/** The status and title of each reason. */
export const PROBLEMS: { readonly [R in ProblemReason]: { status: number; title: string } } = {
  bad_account_name: { status: 422, title: "Invalid account name" },
  bad_role: { status: 422, title: "Invalid role" },
  bad_limit: { status: 422, title: "Invalid limit value" },
  unknown_limit: { status: 422, title: "Unknown limit" },
  bad_symbol: { status: 422, title: "Invalid symbol" },
  unknown_symbol: { status: 422, title: "Unknown symbol" },
  bad_field: { status: 422, title: "Invalid field" },
  missing_field: { status: 422, title: "Missing field" },
  unknown_field: { status: 422, title: "Unknown field" },
  empty_change: { status: 422, title: "Nothing to change" },
  account_exists: { status: 409, title: "Account exists" },
  account_not_found: { status: 404, title: "Account not found" },
  revision_mismatch: { status: 412, title: "Revision mismatch" },
  conflict: { status: 409, title: "Concurrent change" },
  engine_refused: { status: 503, title: "Engine refused the change" },
  engine_timeout: { status: 504, title: "Engine did not acknowledge" },
  missing_token: { status: 401, title: "Authentication required" },
  bad_token: { status: 401, title: "Invalid token" },
  forbidden: { status: 403, title: "Admin role required" },
  unknown_account: { status: 403, title: "Account not registered" },
  role_mismatch: { status: 403, title: "Role mismatch" },
  account_disabled: { status: 403, title: "Account disabled" },
  token_revoked: { status: 401, title: "Token revoked" },
  malformed_json: { status: 400, title: "Malformed JSON" },
  bad_query: { status: 400, title: "Invalid query parameter" },
  unsupported_media_type: { status: 415, title: "Unsupported media type" },
  body_too_large: { status: 413, title: "Body too large" },
  bad_precondition: { status: 400, title: "Invalid precondition" },
  no_route: { status: 404, title: "No such resource" },
  method_not_allowed: { status: 405, title: "Method not allowed" },
  internal: { status: 500, title: "Internal error" },
};

/**
 * Makes an `application/problem+json` response.
 *
 * @param reason The reason code (its `type` is {@linkcode PROBLEM_TYPE_PREFIX} + reason).
 * @param detail What failed and why.
 * @param options A status and title other than the reason's (a path
 *   parameter that names nothing is a 404), and extra headers.
 * @returns The response.
 */
export function problem(
  reason: string,
  detail: string,
  options: { status?: number; title?: string; headers?: Record<string, string> } = {},
): Response {
  const known = (PROBLEMS as Record<string, { status: number; title: string }>)[reason];
  const status = options.status ?? known?.status ?? 400;
  const title = options.title ?? known?.title ?? "Request refused";
  return problemResponse({ status, reason, title, detail }, options.headers);
}
