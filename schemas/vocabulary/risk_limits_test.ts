import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { rustConstants } from "./_rust.ts";
import {
  isRiskLimitName,
  RISK_LIMIT_NAMES,
  RISK_LIMITS,
  RiskLimit,
  SYMBOL_RISK_LIMIT_NAMES,
} from "./risk_limits.ts";

/** `maxOrderQty` → `MAX_ORDER_QTY`, as `native/src/risk.rs` names them. */
const rustName = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();

Deno.test("risk limits: every engine id (native/src/risk.rs limit) has one name, and back", () => {
  const native = rustConstants("risk.rs", "limit");
  deepStrictEqual(
    Object.fromEntries(RISK_LIMITS.map((r) => [rustName(r.name), r.id])),
    Object.fromEntries(native),
  );
  for (const row of RISK_LIMITS) strictEqual(RiskLimit[row.name], row.id);
  deepStrictEqual(RISK_LIMIT_NAMES, RISK_LIMITS.map((r) => r.name));
});

Deno.test("risk limits: ids and names are never used twice; row i is id i + 1", () => {
  RISK_LIMITS.forEach((row, i) => strictEqual(row.id, i + 1, row.name));
  strictEqual(new Set(RISK_LIMITS.map((r) => r.name)).size, RISK_LIMITS.length);
});

Deno.test("risk limits: a symbol may have its own value of the limits the engine's overrides hold", () => {
  // native/src/risk.rs: Override::slot names the limits an override holds.
  const source = Deno.readTextFileSync(new URL("../../native/src/risk.rs", import.meta.url));
  const slot = /fn slot\(&mut self, which: u32\)[^{]*\{([\s\S]*?)\n {4}\}/.exec(source)?.[1] ?? "";
  const native = [...slot.matchAll(/limit::([A-Z_]+) => Some/g)].map(([, name]) => name);
  deepStrictEqual(SYMBOL_RISK_LIMIT_NAMES.map(rustName), native);
  deepStrictEqual(SYMBOL_RISK_LIMIT_NAMES, ["maxOrderQty", "maxNotional", "position", "collarBps"]);
  strictEqual(isRiskLimitName("openOrders"), true);
  strictEqual(isRiskLimitName("hasOwnProperty"), false);
  strictEqual(isRiskLimitName(1), false);
});
