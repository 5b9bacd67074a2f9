/**
 * HTTP problem details (RFC 9457) for the login API. Private to `core/auth/`.
 *
 * @module
 */

import { problemResponse } from "../../schemas/problem.ts";

/** The status and title of each reason the login API gives itself. */
const PROBLEMS: Readonly<Record<string, { status: number; title: string }>> = {
  malformed_json: { status: 400, title: "Malformed JSON" },
  bad_token_header: { status: 400, title: "Invalid Authorization header" },
  invalid_credentials: { status: 401, title: "Invalid credentials" },
  missing_token: { status: 401, title: "Authentication required" },
  bad_origin: { status: 403, title: "Origin not allowed" },
  no_route: { status: 404, title: "No such resource" },
  method_not_allowed: { status: 405, title: "Method not allowed" },
  body_too_large: { status: 413, title: "Body too large" },
  unsupported_media_type: { status: 415, title: "Unsupported media type" },
  missing_field: { status: 422, title: "Missing field" },
  unknown_field: { status: 422, title: "Unknown field" },
  bad_field: { status: 422, title: "Invalid field" },
  no_token_id: { status: 422, title: "Token has no id" },
  rate_limited: { status: 429, title: "Too many attempts" },
  internal: { status: 500, title: "Internal error" },
};

/** Titles of reasons passed on from elsewhere (the token verifier, `checkAccess`). */
const TITLES: Readonly<Record<number, string>> = {
  401: "Invalid token",
  403: "Forbidden",
};

/**
 * Makes an `application/problem+json` response: `type`
 * (`urn:tradecaptain:problem:<reason>`), `title`, `status`, `detail`, `reason`.
 *
 * @param reason The reason code.
 * @param detail What failed and why.
 * @param headers Extra headers (`retry-after`, `allow`).
 * @param status The status, when the reason is not one of this API's own.
 * @returns The response.
 */
export function problem(
  reason: string,
  detail: string,
  headers: Record<string, string> = {},
  status?: number,
): Response {
  const known = PROBLEMS[reason];
  const code = status ?? known?.status ?? 400;
  const title = known?.title ?? TITLES[code] ?? "Request refused";
  return problemResponse({ status: code, reason, title, detail }, headers);
}
