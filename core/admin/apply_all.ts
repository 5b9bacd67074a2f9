/**
 * Start-up: push everything the store holds into the engine before it takes
 * orders.
 *
 * @module
 */

import type { AccountStore } from "./store.ts";
import {
  DEFAULT_ENGINE_TIMEOUT_MS,
  instrumentIndex,
  planState,
  type RiskControlPort,
  runControls,
  type SkippedOverride,
} from "./port.ts";

/** What {@linkcode applyAll} did. */
export interface ApplyReport {
  /** Engine account numbers by name, for every stored account. */
  readonly accounts: ReadonlyMap<string, number>;
  /** The store's version that was applied. */
  readonly version: number;
  /** How many commands the engine acknowledged. */
  readonly commands: number;
  /**
   * Overrides left out because the instrument table no longer lists their
   * symbol (they stay stored, and apply again if the symbol comes back).
   */
  readonly skipped: readonly SkippedOverride[];
}

/** Options of {@linkcode applyAll}. */
export interface ApplyAllOptions {
  /** How long to wait for each acknowledgement (default 5000 ms). */
  readonly timeoutMs?: number;
}

/**
 * Pushes the whole stored state into an engine that was just started (fresh,
 * or recovered from its journal): the global kill switch, then every account
 * with its kill switch, limits and overrides. Call it before the gateway
 * takes orders, and pass the returned account numbers on to whoever maps
 * names to numbers. Everything is sent, zeros and switches that are off
 * included, so an engine whose journal disagrees with the store ends up
 * agreeing with the store. Run it before the admin API takes requests too:
 * the API's changes and this would otherwise interleave.
 *
 * @param store The stored state.
 * @param port The engine.
 * @param instruments The instrument table, in engine order.
 * @param options The timeout per acknowledgement.
 * @returns What was applied.
 * @throws {Error} When the engine refused a command or did not answer in
 *   time (the message names the command and why; the engine then holds part
 *   of the state, so it must not take orders).
 *
 * @example
 * ```ts
 * import { AccountStore, applyAll, type RiskControlPort } from "./mod.ts";
 * const kv = await Deno.openKv(":memory:");
 * const store = new AccountStore(kv);
 * await store.createAccount({ name: "ALICE", role: "trader" });
 * await store.setOverride("ALICE", "AAPL", "position", 100);
 * let next = 0;
 * const port: RiskControlPort = {
 *   defineAccount: () => Promise.resolve(next++),
 *   setLimit: () => Promise.resolve(),
 *   clearLimit: () => Promise.resolve(),
 *   setKillSwitch: () => Promise.resolve(),
 * };
 * const report = await applyAll(store, port, [{ symbol: "AAPL" }]);
 * // define, kill switch, six limits, one override, global kill switch.
 * if (report.accounts.get("ALICE") !== 0 || report.commands !== 10) throw new Error("not applied");
 * kv.close();
 * ```
 */
export async function applyAll(
  store: AccountStore,
  port: RiskControlPort,
  instruments: readonly { readonly symbol: string }[],
  options: ApplyAllOptions = {},
): Promise<ApplyReport> {
  const state = await store.snapshot();
  const index = instrumentIndex(instruments);
  const { ops, skipped } = planState(state, index);
  const accounts = new Map<string, number>();
  const result = await runControls(port, ops, {
    accounts,
    index,
    timeoutMs: options.timeoutMs ?? DEFAULT_ENGINE_TIMEOUT_MS,
  });
  if (!result.ok) {
    throw new Error(
      `Cannot apply the stored risk state (version ${state.version}): ${result.fault.message}, ` +
        `after ${result.done} of ${ops.length} commands`,
    );
  }
  return { accounts, version: state.version, commands: ops.length, skipped };
}
