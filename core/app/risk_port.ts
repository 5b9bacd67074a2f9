/**
 * The admin API's way into the engine: {@linkcode RiskControlPort} over the
 * dispatcher (limits and kill switches, journaled like orders) and the
 * account registry (names ↔ engine numbers).
 *
 * Each call resolves when the engine acknowledged the control, and rejects
 * with the engine's reason when it refused one (a halted engine refuses
 * everything), so the admin API reports success only for what the engine
 * holds.
 *
 * @module
 */

import type { RiskControlPort } from "../admin/mod.ts";
import type { RiskLimitName } from "../../schemas/vocabulary/risk_limits.ts";
import type { AccountRegistry } from "./accounts.ts";
import type { Control, ControlResult, Dispatcher, Origin } from "./dispatcher.ts";

const ORIGIN: Origin = Object.freeze({ source: "admin" });

/**
 * A {@linkcode RiskControlPort} for a running engine.
 *
 * @param dispatcher Where controls are submitted.
 * @param accounts Names and numbers of accounts; new names are defined through it.
 * @returns The port.
 *
 * @example
 * ```ts
 * import { riskControlPort } from "./risk_port.ts";
 * import { AccountRegistry } from "./accounts.ts";
 * import type { Control } from "./dispatcher.ts";
 *
 * const sent: Control[] = [];
 * const dispatcher = {
 *   submitControl: (c: Control) => (sent.push(c), Promise.resolve({ ok: true as const })),
 * };
 * const accounts = new AccountRegistry({ dispatcher });
 * const port = riskControlPort(dispatcher, accounts);
 * const alice = await port.defineAccount("ALICE");
 * await port.setLimit(alice, 2, "position", 500);
 * if (sent.length !== 2 || !("limit" in sent[1]!) || sent[1].instrument !== 2) {
 *   throw new Error("expected the definition, then a limit for instrument 2");
 * }
 * ```
 */
export function riskControlPort(
  dispatcher: Pick<Dispatcher, "submitControl">,
  accounts: AccountRegistry,
): RiskControlPort {
  const apply = async (control: Control, what: string): Promise<void> => {
    const answer: ControlResult = await dispatcher.submitControl(control, ORIGIN);
    if (!answer.ok) throw new Error(`Cannot ${what}: the engine refused (${answer.reason})`);
  };
  return {
    defineAccount(name: string): Promise<number> {
      return accounts.defined(name);
    },
    setLimit(account, instrument, limit: RiskLimitName, value) {
      return apply(
        instrument === undefined
          ? { limit, account, value }
          : { limit, account, instrument, value },
        `set ${limit} of account ${account}`,
      );
    },
    clearLimit(account, instrument, limit: RiskLimitName) {
      return apply(
        { limit, account, instrument, value: "clear" },
        `clear ${limit} of account ${account} for instrument ${instrument}`,
      );
    },
    setKillSwitch(account, on) {
      return apply({ killSwitch: on, account }, `turn ${on ? "on" : "off"} a kill switch`);
    },
  };
}
