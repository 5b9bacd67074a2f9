/**
 * The roles an account may hold, granted by the account store and carried
 * in gateway tokens (the `role` claim).
 *
 * @module
 */

/** One role: its name and what it lets an account do. */
export interface RoleRow {
  /** The name, in tokens and the account store. */
  readonly name: string;
  /** What the role may do. */
  readonly text: string;
}

/** Every role. */
export const ROLE_TABLE = [
  { name: "trader", text: "trades for its own account" },
  { name: "viewer", text: "receives market data only" },
  { name: "admin", text: "may act for any account and administer accounts, limits and switches" },
] as const satisfies readonly RoleRow[];

/**
 * A role: `trader` trades for its own account, `viewer` receives market
 * data only, `admin` may act for any account.
 */
export type Role = typeof ROLE_TABLE[number]["name"];

/** Every role's name: `trader`, `viewer`, `admin`. */
export const ROLES: readonly Role[] = Object.freeze(ROLE_TABLE.map((r) => r.name));

/**
 * True when `role` names a role.
 *
 * @param role The candidate.
 * @returns Whether it is one of {@linkcode ROLES}.
 *
 * @example
 * ```ts
 * import { isRole } from "./roles.ts";
 * if (!isRole("viewer") || isRole("root") || isRole("toString")) throw new Error("wrong answer");
 * ```
 */
export function isRole(role: unknown): role is Role {
  return typeof role === "string" && (ROLES as readonly string[]).includes(role);
}
