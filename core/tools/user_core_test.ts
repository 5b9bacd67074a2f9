// deno task user against a running core, each in its own process as people
// run them: the core sees the account store change only by polling it.

import assert from "node:assert";
import { parseStatusLine } from "../app/status.ts";
import { SUBPROTOCOL } from "../gateway/mod.ts";
import { withTempDir } from "../_testing/temp.ts";
import { runTool } from "./_test_support.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

async function user(args: string[], stdin = ""): Promise<void> {
  const run = await runTool("user", args, stdin);
  assert.deepStrictEqual(run.code, 0, run.stderr);
}

Deno.test("deno task user disable, run beside a core, closes the account's live connections within seconds; its login is refused", async () => {
  await withTempDir(async (dir) => {
    const kv = `${dir}/core.kv`;
    await user(["add", "ALICE", "--kv", kv], "correct horse\n");
    await user(["add", "BOB", "--kv", kv], "battery staple\n");
    const core = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-write",
        "--allow-ffi",
        "--allow-env",
        "--allow-sys",
        "--allow-net",
        MAIN,
      ],
      env: {
        CORE_PORT: "0",
        KV_PATH: kv,
        JOURNAL_DIR: "none",
        SYNTHETIC_RATE: "0",
        RUN_FOR_MS: "60000",
        GATEWAY_JWT_SECRET: btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))
          .replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, ""),
      },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(core.stderr).text();
    let out = "";
    const lines = core.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const sockets: WebSocket[] = [];
    try {
      let base: string | undefined;
      let ws: string | undefined;
      const deadline = Date.now() + 20_000;
      while (base === undefined && Date.now() < deadline) {
        const { value, done } = await lines.read();
        if (done) break;
        out += value;
        for (const line of out.split("\n")) {
          const status = parseStatusLine(line);
          if (status?.event === "ready") {
            base = status.addresses.http;
            ws = status.addresses.ws;
          }
        }
      }
      assert(base !== undefined && ws !== undefined, `no ready line:\n${out}`);
      // Drain the rest of the log meanwhile.
      const draining = (async () => {
        for (;;) {
          const { value, done } = await lines.read();
          if (done) return;
          out += value;
        }
      })();
      const login = (account: string, password: string) =>
        fetch(`${base}/auth/login`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ account, password }),
          signal: AbortSignal.timeout(5000),
        });
      const connect = async (account: string, password: string) => {
        const response = await login(account, password);
        assert.deepStrictEqual(response.status, 200, await response.clone().text());
        const { token } = await response.json();
        const socket = new WebSocket(ws!, [SUBPROTOCOL, `bearer.${token}`]);
        sockets.push(socket);
        const closed = new Promise<CloseEvent>((resolve) => (socket.onclose = resolve));
        await new Promise((resolve, reject) => {
          socket.onopen = resolve;
          socket.onerror = () => reject(new Error(`${account}'s socket did not open`));
        });
        // In an object: an async function returning the promise would wait for it.
        return { closed };
      };
      const { closed: alice } = await connect("ALICE", "correct horse");
      const { closed: bob } = await connect("BOB", "battery staple");

      const disabledAt = Date.now();
      await user(["disable", "ALICE", "--kv", kv]);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const event = await Promise.race([
        alice,
        new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), 10_000))),
      ]);
      clearTimeout(timer);
      assert(event !== undefined, `ALICE's connection still open 10 s after the disable:\n${out}`);
      assert.deepStrictEqual([event.code, event.reason], [1008, "account disabled"]);
      // Bounded by the directory's poll (500 ms); generous for a loaded machine.
      assert(Date.now() - disabledAt < 10_000);
      const refused = await login("ALICE", "correct horse");
      assert.deepStrictEqual([refused.status, (await refused.json()).reason], [
        401,
        "invalid_credentials",
      ]);
      // BOB's connection is untouched.
      assert.deepStrictEqual(sockets[1]!.readyState, WebSocket.OPEN);
      sockets[1]!.close();
      await bob;
      core.kill("SIGTERM");
      assert.deepStrictEqual((await core.status).code, 0, await stderr);
      await draining;
    } finally {
      for (const s of sockets) s.close();
      try {
        core.kill("SIGKILL");
      } catch {
        // Already stopped.
      }
      await core.status;
    }
  });
});
