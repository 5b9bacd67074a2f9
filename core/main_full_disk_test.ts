// The core (core/main.ts) started with its journal on a full disk: a small
// tmpfs, where one is allowed (root with CAP_SYS_ADMIN); skipped elsewhere.
// The same failure without a mount is tested in-process through the
// journal's fault seam (core/app/engine_watch_test.ts).

import { CORE_PERMISSIONS } from "./start.ts";
import { encodeBase64Url } from "./gateway/_base64url.ts";
import assert from "node:assert";

const MAIN = new URL("./main.ts", import.meta.url).pathname;

/** Mounts a tmpfs of `size` at a new folder; undefined where mounting is not allowed. */
async function mountTmpfs(size: string): Promise<string | undefined> {
  const dir = await Deno.makeTempDir({ prefix: "tc-full-disk-" });
  try {
    const { success } = await new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir],
      stdout: "null",
      stderr: "null",
    }).output();
    if (success) return dir;
  } catch {
    // No mount command, or no permission to run it.
  }
  await Deno.remove(dir);
  return undefined;
}

async function unmount(dir: string): Promise<void> {
  await new Deno.Command("umount", { args: [dir] }).output();
  await Deno.remove(dir, { recursive: true });
}

const probe = await mountTmpfs("64k");
if (probe !== undefined) await unmount(probe);

Deno.test({
  name: "the core started with its journal on a full disk exits 2 naming ENOSPC and the segment",
  ignore: probe === undefined,
  async fn() {
    const disk = (await mountTmpfs("1m"))!;
    const kv = await Deno.makeTempDir();
    try {
      const journal = `${disk}/journal`;
      const { code, stderr } = await new Deno.Command(Deno.execPath(), {
        args: ["run", ...CORE_PERMISSIONS, MAIN],
        env: {
          CORE_PORT: "0",
          GATEWAY_JWT_SECRET: encodeBase64Url(crypto.getRandomValues(new Uint8Array(32))),
          KV_PATH: `${kv}/core.kv`,
          JOURNAL_DIR: journal,
          SYNTHETIC_RATE: "0",
          RUN_FOR_MS: "5000",
        },
        stdout: "null",
        stderr: "piped",
      }).output();
      const err = new TextDecoder().decode(stderr);
      assert.deepStrictEqual(code, 2, err);
      assert(
        err.includes(
          `Cannot prepare journal segment ${journal}/segment-0000000000000000.tcj: ` +
            "no space left on device (ENOSPC)",
        ),
        err,
      );
    } finally {
      await unmount(disk);
      await Deno.remove(kv, { recursive: true });
    }
  },
});
