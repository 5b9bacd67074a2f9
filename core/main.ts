/**
 * `deno task start`: the colocated core. It reads its configuration from
 * the environment (`app/config.ts`), builds the core with `createCore`
 * (`app/create_core.ts`: the native engine on its pinned thread, the
 * synthetic market, the trader gateway on
 * `ws://<CORE_HOSTNAME>:<CORE_PORT>/ws` with the admin API under `/admin`,
 * health, status, quote snapshots to Deno KV), and prints what it does.
 *
 * Once it serves it prints a status line for programs
 * (`tc-status {"event":"ready",…}`: pid, addresses, what recovery found;
 * see `app/status.ts`), and another (`"event":"stopped"`) once stopped.
 * It stops on SIGINT or SIGTERM, when its starter (`core/start.ts`) is
 * gone, or after `RUN_FOR_MS`. A bad setting, secret, account store or
 * journal stops it with the reason and exit code 2.
 *
 * @module
 */

import { readConfig } from "./app/config.ts";
import { createCore } from "./app/create_core.ts";
import { statusLine } from "./app/status.ts";
import { starterPid, watchParent } from "./app/supervision.ts";

async function main(): Promise<void> {
  const config = readConfig();
  const core = await createCore(config);

  let stopped = false;
  const shutdown = async (why: string) => {
    if (stopped) return;
    stopped = true;
    const stats = await core.close(why);
    console.log(statusLine({ event: "stopped", pid: Deno.pid, why, stats }));
    Deno.exit(0);
  };
  // Listening for signals before the ready line is printed: a parent may
  // stop the core the moment it reads that line (a signal that comes before
  // Deno listens for it ends the process outright).
  Deno.addSignalListener("SIGINT", () => void shutdown("SIGINT"));
  Deno.addSignalListener("SIGTERM", () => void shutdown("SIGTERM"));
  console.log(statusLine({
    event: "ready",
    pid: Deno.pid,
    addresses: core.addresses,
    journal: core.status().journal,
    applied: core.applied,
  }));
  // Under `deno task start`: stop with the starter, even one killed outright.
  const starter = starterPid();
  if (starter !== undefined) {
    watchParent(starter, () => void shutdown(`its starter, process ${starter}, is gone`));
  }
  if (config.runForMs > 0) {
    setTimeout(() => void shutdown(`RUN_FOR_MS=${config.runForMs}`), config.runForMs);
  }
}

if (import.meta.main) {
  try {
    await main();
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    Deno.exit(2);
  }
}
