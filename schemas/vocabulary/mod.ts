/**
 * The domain's words, defined once: reject and cancel reasons (engine code,
 * wire enumerant and text in one table each), risk limit names, roles, and
 * the rules for symbols and account names. The core, the edge and the
 * browser import them from here (the edge may import `schemas/`, never
 * `core/`); nothing here imports anything.
 *
 * @example
 * ```ts
 * import { rejectReasonText, SYMBOL_PATTERN, wireRejectReason } from "./mod.ts";
 * if (!SYMBOL_PATTERN.test("BRK.B")) throw new Error("BRK.B refused");
 * if (wireRejectReason("kill_switch") !== "killSwitch") throw new Error("wrong name");
 * if (rejectReasonText("killSwitch") === "") throw new Error("no text");
 * ```
 *
 * @module
 */

export * from "./names.ts";
export * from "./reasons.ts";
export * from "./risk_limits.ts";
export * from "./roles.ts";
