import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { isRole, ROLE_TABLE, ROLES } from "./roles.ts";

Deno.test("roles: trader, viewer and admin, each once, each with its text", () => {
  deepStrictEqual(ROLES, ["trader", "viewer", "admin"]);
  strictEqual(new Set(ROLE_TABLE.map((r) => r.text)).size, ROLE_TABLE.length);
  for (const role of ROLES) strictEqual(isRole(role), true);
  for (const other of ["root", "Admin", "", "constructor", undefined, 1]) {
    strictEqual(isRole(other), false, String(other));
  }
});
