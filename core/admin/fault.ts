/**
 * Refusals as values: every bad input, missing account, concurrent change
 * and engine refusal comes back as a {@linkcode Fault} with a stable reason
 * code and a message saying what failed and why. Exceptions are left for
 * programming errors and a broken store.
 *
 * @module
 */

/**
 * Why an admin operation was refused. Codes are stable: the HTTP API turns
 * each into a problem type (`urn:tradecaptain:problem:<reason>`).
 */
export type FaultReason =
  // Bad input.
  | "bad_account_name"
  | "bad_role"
  | "bad_limit"
  | "unknown_limit"
  | "bad_symbol"
  | "unknown_symbol"
  | "bad_field"
  | "missing_field"
  | "unknown_field"
  | "empty_change"
  // The stored state.
  | "account_exists"
  | "account_not_found"
  | "revision_mismatch"
  | "conflict"
  // The engine.
  | "engine_refused"
  | "engine_timeout";

/** A refusal: its reason code and what failed and why ("Cannot set limit: …"). */
export interface Fault {
  readonly reason: FaultReason;
  readonly message: string;
}

/** A value, or the reason there is none. */
export type Result<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly fault: Fault };

/**
 * Makes a refusal.
 *
 * @param reason The reason code.
 * @param message What failed and why.
 * @returns `{ ok: false, fault }`.
 *
 * @example
 * ```ts
 * import { refuse } from "./fault.ts";
 * const r = refuse("bad_limit", "Cannot set limit: maxOrderQty must be a non-negative safe integer");
 * if (r.ok || r.fault.reason !== "bad_limit") throw new Error("not a refusal");
 * ```
 */
export function refuse(reason: FaultReason, message: string): { ok: false; fault: Fault } {
  return { ok: false, fault: { reason, message } };
}

/**
 * Wraps a value.
 *
 * @param value The value.
 * @returns `{ ok: true, value }`.
 *
 * @example
 * ```ts
 * import { ok } from "./fault.ts";
 * if (ok(3).value !== 3) throw new Error("lost the value");
 * ```
 */
export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}
