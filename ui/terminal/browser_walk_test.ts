/**
 * The trader terminal walked in headless Chromium against a real core and
 * edge (`ui/_testing/terminal_walk.ts`: log in, subscribe, place, drag to
 * move, cancel, fill, rejects in words, the core killed and restarted).
 * The walk runs in a child `deno test --allow-all` (playwright-core needs
 * every permission to load); this test starts it, bounded in time, and
 * fails with its output. Screenshots of each step are left in
 * ui/terminal/artifacts/walk/ (made at run time, `.gitignore`d).
 *
 * Skipped, saying why, where there is no Chromium (`ui/_testing/chromium.ts`);
 * with `CI=true` a missing browser fails instead.
 */

import { fail } from "node:assert/strict";
import { CHROMIUM } from "../_testing/chromium.ts";

/** The walk's bound: it takes about 10 s; every wait inside it is bounded too. */
const WALK_TIMEOUT_MS = 90_000;

const CI = Deno.env.get("CI") === "true";
const found = await Deno.stat(CHROMIUM).then(() => true, () => false);
if (!found && !CI) {
  console.warn(
    `ui/terminal/browser_walk_test.ts: skipped: no Chromium at ${CHROMIUM} (apt-get install chromium)`,
  );
}

Deno.test({
  name: "browser walk: the terminal against a real core and edge, through a core restart",
  ignore: !found && !CI,
  async fn() {
    if (!found) {
      fail(
        `Cannot run the browser walk: no Chromium at ${CHROMIUM}, and CI=true forbids skipping ` +
          "(.ci/run installs Debian's chromium)",
      );
    }
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "test",
        "--allow-all",
        "--no-prompt",
        new URL("../_testing/terminal_walk.ts", import.meta.url).pathname,
      ],
      cwd: new URL("../../", import.meta.url), // the project's deno.json: imports, lock
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const timer = setTimeout(() => {
      try {
        // The walk's finally stops the core, the edge and the browser; a hung one is killed.
        child.kill("SIGTERM");
      } catch {
        // Already gone.
      }
    }, WALK_TIMEOUT_MS);
    try {
      const out = await child.output();
      const decode = (b: Uint8Array) => new TextDecoder().decode(b);
      const text = decode(out.stdout) + decode(out.stderr);
      if (!out.success) {
        fail(
          `The browser walk failed${
            out.signal === null ? "" : ` (stopped after ${WALK_TIMEOUT_MS} ms)`
          }:\n${text}`,
        );
      }
      const said = /browser walk: \d+ screenshots in .*/.exec(text);
      if (said !== null) console.log(said[0]);
    } finally {
      clearTimeout(timer);
    }
  },
});
