/**
 * Clients that never read: a real core (`core/main.ts` as a child process,
 * default limits) and 200 viewer connections that subscribe to every
 * symbol and then never read. Before the limits, 120 such clients
 * took the core from ~100 MiB to ~1.2 GiB, and it stayed there after they
 * closed.
 */

import assert from "node:assert";
import { loadInstruments } from "../matching/mod.ts";
import { CoreProcess } from "../../bench/_core_process.ts";
import { runSlowReaders } from "../../bench/_slow_readers.ts";

const MiB = 2 ** 20;
const CLIENTS = 200;
/** The most the core may grow while they are held: ~5x what it takes now, ~1/5 of what it took. */
const HELD_BOUND = 256 * MiB;
/** The most it may keep once they have closed. */
const AFTER_BOUND = 48 * MiB;

Deno.test({
  name:
    "gateway: 200 clients that subscribe and never read hold the core's memory under a bound, and it comes back down after they close",
  // Linux only: the core's memory is read from /proc.
  ignore: Deno.build.os !== "linux",
  async fn() {
    // Eight viewer accounts (25 connections each, within the default cap of
    // 32 per account; 200 from one address, within 256).
    const accounts = Array.from({ length: 8 }, (_, i) => ({
      name: `SLOW-${i + 1}`,
      role: "viewer" as const,
    }));
    const core = await CoreProcess.start({
      // Enough market data that a never-reading socket's kernel buffers fill
      // within the hold, and its queue in the core then grows.
      syntheticRate: 3000,
      accounts,
      runForMs: 120_000,
      // The journal's mapped pages would count in the core's RSS.
      env: { JOURNAL_DIR: "none" },
    });
    try {
      const run = await runSlowReaders(core, {
        clients: CLIENTS,
        tokens: accounts.map((a) => core.token(a.name)),
        symbols: loadInstruments().map((i) => i.symbol),
        holdMs: 15_000,
        settleMs: 25_000,
        settleWithinBytes: AFTER_BOUND,
      }).catch((error) => {
        throw new Error(`${error}\ncore output:\n${core.tail}`);
      });
      const mib = (bytes: number) => `${(bytes / MiB).toFixed(0)} MiB`;
      const figures = `before ${mib(run.rssBeforeBytes)}, held ${mib(run.rssPeakBytes)}, after ` +
        `${mib(run.rssAfterBytes)} (${run.opened} opened, ${run.refused} refused: ${
          run.firstRefusal ?? "-"
        })`;
      assert(run.opened === CLIENTS, figures);
      assert(run.rssPeakBytes - run.rssBeforeBytes <= HELD_BOUND, `grew too much: ${figures}`);
      assert(
        run.rssAfterBytes - run.rssBeforeBytes <= AFTER_BOUND,
        `did not come back down: ${figures}`,
      );
      console.log(`core RSS with ${CLIENTS} clients that never read: ${figures}`);
    } finally {
      await core.stop();
    }
  },
});
