import assert from "node:assert";
import { encodeBase64Url } from "./gateway/_base64url.ts";
import { parseStatusLine } from "./app/status.ts";

const START = new URL("./start.ts", import.meta.url).pathname;

Deno.test("task start runs the core and the edge; the edge serves the core's quotes; both stop together", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tc-start-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-env", "--allow-run", START],
    env: {
      CORE_PORT: "0",
      EDGE_PORT: "0",
      RUN_FOR_MS: "6000",
      SYNTHETIC_RATE: "2000",
      JOURNAL_DIR: "none",
      KV_PATH: `${dir}/core.kv`,
      GATEWAY_JWT_SECRET: encodeBase64Url(crypto.getRandomValues(new Uint8Array(32))),
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  const reading = (async () => {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) out += chunk;
  })();
  const stderr = new Response(child.stderr).text();
  try {
    // Both URLs are printed, each line marked with its process.
    let edge: string | undefined;
    for (let waited = 0; edge === undefined && waited < 10_000; waited += 50) {
      await new Promise((r) => setTimeout(r, 50));
      edge = /\[edge\] edge: listening on (http:\/\/127\.0\.0\.1:\d+)\//.exec(out)?.[1];
    }
    assert(edge !== undefined, `no edge URL in:\n${out}`);
    assert(/\[core\] gateway: listening on ws:\/\/127\.0\.0\.1:\d+\/ws/.test(out), out);
    // The synthetic market trades; the snapshotter writes; the edge serves it.
    let ticker: { ticker?: string; lastTrade?: unknown } | undefined;
    for (let waited = 0; waited < 4_000; waited += 100) {
      const response = await fetch(`${edge}/api/v1/quotes/AAPL`);
      const body = await response.json();
      if (response.status === 200 && body.ticker?.lastTrade) {
        ticker = body.ticker;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepStrictEqual(ticker?.ticker, "AAPL");
    assert(ticker?.lastTrade !== null, "a trade reached the edge");
    // The core stops after RUN_FOR_MS; the edge is stopped with it.
    const status = await child.status;
    await reading;
    assert.deepStrictEqual(status.code, 0, await stderr);
    assert(out.includes("[core] stopped (RUN_FOR_MS=6000)"), out);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await Deno.remove(dir, { recursive: true });
  }
});

/** A running `start.ts` (possibly under other processes), as seen from its output. */
interface Started {
  readonly child: Deno.ChildProcess;
  /** Everything printed so far, stdout and stderr. */
  readonly output: () => string;
  /** Resolves when both streams have ended (every process holding them has exited). */
  readonly ended: Promise<void>;
  readonly pids: { start: number; core: number; edge: number };
  readonly ports: { core: number; edge: number };
}

/** The core's port, from its ready status line as the starter passes it on (`[core] tc-status …`). */
function corePort(text: string): number[] | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith("[core] ")) continue;
    const status = parseStatusLine(line.slice("[core] ".length));
    if (status?.event === "ready") return [status.addresses.port];
  }
  return undefined;
}

/** Starts `start.ts` through the command line `wrap` makes of deno's. */
async function launch(wrap: (command: string) => string[], dir: string): Promise<Started> {
  const command = [Deno.execPath(), "run", "--allow-read", "--allow-env", "--allow-run", START]
    .map((a) => `'${a}'`).join(" ");
  const [program, ...args] = wrap(command);
  const child = new Deno.Command(program!, {
    args,
    env: {
      CORE_PORT: "0",
      EDGE_PORT: "0",
      SYNTHETIC_RATE: "200",
      JOURNAL_DIR: "none",
      KV_PATH: `${dir}/core.kv`,
      GATEWAY_JWT_SECRET: encodeBase64Url(crypto.getRandomValues(new Uint8Array(32))),
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const read = async (stream: ReadableStream<Uint8Array<ArrayBuffer>>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) text += chunk;
  };
  const ended = Promise.all([read(child.stdout), read(child.stderr)]).then(() => {});
  let exited = false;
  child.status.then(() => (exited = true));
  const find = (pattern: RegExp) => pattern.exec(text)?.slice(1).map(Number);
  let pids: number[] | undefined;
  let core: number[] | undefined;
  let edge: number[] | undefined;
  for (let waited = 0; waited < 20_000; waited += 50) {
    pids ??= find(/\[start\] core pid (\d+), edge pid (\d+); Ctrl-C or kill (\d+) /);
    core ??= corePort(text);
    edge ??= find(/\[edge\] edge: listening on http:\/\/127\.0\.0\.1:(\d+)\//);
    if ((pids && core && edge) || exited) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert(pids && core && edge, `start.ts did not come up:\n${text}`);
  return {
    child,
    output: () => text,
    ended,
    pids: { core: pids[0]!, edge: pids[1]!, start: pids[2]! },
    ports: { core: core[0]!, edge: edge[0]! },
  };
}

/** Whether something accepts connections on a loopback port. */
async function listening(port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

/** The pids among `pids` that still run (ps lists them, zombies aside). */
async function alive(pids: readonly number[]): Promise<number[]> {
  const { stdout } = await new Deno.Command("ps", {
    args: ["-o", "pid=,stat=", "-p", pids.join(",")],
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(stdout).split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter(([pid, stat]) => pid !== "" && !stat?.startsWith("Z"))
    .map(([pid]) => Number(pid));
}

/** Waits up to `ms` for every pid to be gone and both ports closed; says what is left. */
async function waitGone(started: Started, ms: number): Promise<string> {
  const { pids, ports } = started;
  let left = "";
  for (let waited = 0; waited < ms; waited += 200) {
    const running = await alive([pids.start, pids.core, pids.edge]);
    const open = [];
    for (const port of [ports.core, ports.edge]) if (await listening(port)) open.push(port);
    left = running.length + open.length === 0 ? "" : `pids ${running} running, ports ${open} open`;
    if (left === "") return "";
    await new Promise((r) => setTimeout(r, 200));
  }
  return left;
}

/** Kills whatever is left of a launch, by pid. */
async function cleanUp(started: Started | undefined, child?: Deno.ChildProcess): Promise<void> {
  for (const pid of started ? Object.values(started.pids) : []) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  try {
    (child ?? started?.child)?.kill("SIGKILL");
  } catch {
    // Already gone.
  }
  await (child ?? started?.child)?.status;
  await started?.ended.catch(() => {});
}

Deno.test("task start: when a process above the starter goes (npx's sh -c), the core and the edge stop and free their ports", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tc-start-" });
  // As under `npx deno task start`: npm's sh -c (killed) → deno task (lives on,
  // re-parented) → start.ts. Each sh stays a parent: a command follows.
  let started: Started | undefined;
  try {
    started = await launch((command) => ["sh", "-c", `sh -c "${command}; true"; true`], dir);
    Deno.kill(started.child.pid, "SIGKILL");
    const left = await waitGone(started, 15_000);
    assert.deepStrictEqual(left, "", started.output());
    await started.ended;
    assert(
      /\[start\] the command that started this one has gone \(process \d+ or its parent\)/.test(
        started.output(),
      ),
    );
    assert(started.output().includes("[core] stopped (SIGTERM)"), started.output());
  } finally {
    await cleanUp(started);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("task start: when the starter is killed outright (SIGKILL), the core and the edge stop and free their ports", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tc-start-" });
  let started: Started | undefined;
  try {
    started = await launch((command) => ["sh", "-c", `exec ${command}`], dir);
    assert.deepStrictEqual(started.pids.start, started.child.pid);
    Deno.kill(started.pids.start, "SIGKILL");
    const left = await waitGone(started, 15_000);
    // (What the children say now goes nowhere: their output went through the starter.)
    assert.deepStrictEqual(left, "", started.output());
    await started.ended;
  } finally {
    await cleanUp(started);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("task start: SIGTERM to the starter stops the core and the edge cleanly, exit code 0", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tc-start-" });
  let started: Started | undefined;
  try {
    started = await launch((command) => ["sh", "-c", `exec ${command}`], dir);
    Deno.kill(started.pids.start, "SIGTERM");
    const status = await started.child.status;
    await started.ended;
    assert.deepStrictEqual(status.code, 0, started.output());
    assert.deepStrictEqual(await waitGone(started, 5_000), "", started.output());
    assert(started.output().includes("[core] stopped (SIGTERM)"), started.output());
    assert(started.output().includes("[edge] edge: shutting down"), started.output());
  } finally {
    await cleanUp(started);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name:
    "task start: a starter whose command went before it started (npx killed during the build) starts nothing",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "tc-start-" });
    const command = [Deno.execPath(), "run", "--allow-read", "--allow-env", "--allow-run", START]
      .map((a) => `'${a}'`).join(" ");
    // setsid: sh leads a job of its own (as npx does), and exits at once; the
    // rest of the job (as deno task after the build) starts start.ts a second later.
    const child = new Deno.Command("setsid", {
      args: ["sh", "-c", `(sleep 1; ${command}; echo "exit $?") & exit 0`],
      env: {
        CORE_PORT: "0",
        EDGE_PORT: "0",
        JOURNAL_DIR: "none",
        KV_PATH: `${dir}/core.kv`,
        GATEWAY_JWT_SECRET: encodeBase64Url(crypto.getRandomValues(new Uint8Array(32))),
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      // Both pipes close when the last process holding them (start.ts's shell) exits.
      const output = Promise.all([
        new Response(child.stdout).text(),
        new Response(child.stderr).text(),
      ]);
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error("start.ts (or what it started) still runs")),
          15_000,
        );
      });
      const [out, err] = await Promise.race([output, late]);
      await child.status;
      assert(
        err.includes("[start] the command that started this one has already gone: not starting"),
        out + err,
      );
      assert(!/\[(core|edge)\]/.test(out + err), out + err);
      assert.deepStrictEqual(out.trim(), "exit 1");
    } finally {
      clearTimeout(timer);
      // Whatever is left of the job setsid made (its group is sh's pid).
      try {
        Deno.kill(-child.pid, "SIGKILL");
      } catch {
        // All gone.
      }
      await child.status;
      await Deno.remove(dir, { recursive: true });
    }
  },
});
