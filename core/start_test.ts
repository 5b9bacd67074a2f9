import assert from "node:assert";
import { encodeBase64Url } from "./gateway/_base64url.ts";
import { childEnvironments, children } from "./start.ts";
import {
  parseStatusLine,
  type ReadyLine,
  type StatusLine,
  type StoppedLine,
} from "../schemas/status_line.ts";

const START = new URL("./start.ts", import.meta.url).pathname;
/** `deno task start`'s command line, without the task runner. */
const START_COMMAND = [Deno.execPath(), "run", "--allow-read", "--allow-env", "--allow-run", START];

/**
 * The environment every start here runs with: ports picked by the system,
 * no journal, the KV file in `dir`, a fresh token secret; `settings` add
 * to it or override it.
 */
function startEnv(dir: string, settings: Record<string, string> = {}): Record<string, string> {
  return {
    CORE_PORT: "0",
    EDGE_PORT: "0",
    JOURNAL_DIR: "none",
    KV_PATH: `${dir}/core.kv`,
    GATEWAY_JWT_SECRET: encodeBase64Url(crypto.getRandomValues(new Uint8Array(32))),
    ...settings,
  };
}

Deno.test("task start runs the core and the edge; the edge serves the core's quotes; both stop together", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tc-start-" });
  const [program, ...args] = START_COMMAND;
  const child = new Deno.Command(program!, {
    args,
    env: startEnv(dir, { RUN_FOR_MS: "6000", SYNTHETIC_RATE: "2000" }),
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  const reading = (async () => {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) out += chunk;
  })();
  const stderr = new Response(child.stderr).text();
  try {
    // Where each listens, from its ready status line as the starter passes it on.
    let edge: string | undefined;
    let core: string | undefined;
    for (let waited = 0; (!edge || !core) && waited < 10_000; waited += 50) {
      await new Promise((r) => setTimeout(r, 50));
      edge = statusIn(out, "edge", "ready")?.addresses.http;
      core = statusIn(out, "core", "ready")?.addresses.ws;
    }
    assert(edge !== undefined && core !== undefined, `no ready status lines in:\n${out}`);
    // Both URLs are printed for people too, each line marked with its process.
    assert(out.includes(`[edge] edge: listening on ${edge}/\n`), out);
    assert(out.includes(`[core] gateway: listening on ${core}, admin API on `), out);
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
    assert.deepStrictEqual(statusIn(out, "core", "stopped")?.why, "RUN_FOR_MS=6000", out);
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

/**
 * The first status line with `event` that the child `name` printed, as the
 * starter passes it on (`[core] tc-status …`, `[edge] tc-status …`).
 */
function statusIn<E extends StatusLine["event"]>(
  text: string,
  name: "core" | "edge",
  event: E,
): Extract<StatusLine, { event: E }> | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith(`[${name}] `)) continue;
    const status = parseStatusLine(line.slice(name.length + 3));
    if (status?.event === event) return status as Extract<StatusLine, { event: E }>;
  }
  return undefined;
}

/** The parent of a process, from `ps`. */
async function parentOf(pid: number): Promise<number> {
  const { stdout } = await new Deno.Command("ps", {
    args: ["-o", "ppid=", "-p", String(pid)],
    stdout: "piped",
    stderr: "null",
  }).output();
  const parent = Number(new TextDecoder().decode(stdout).trim());
  assert(Number.isSafeInteger(parent) && parent > 0, `no parent of process ${pid}`);
  return parent;
}

/** Starts `start.ts` through the command line `wrap` makes of deno's. */
async function launch(wrap: (command: string) => string[], dir: string): Promise<Started> {
  const [program, ...args] = wrap(START_COMMAND.map((a) => `'${a}'`).join(" "));
  const child = new Deno.Command(program!, {
    args,
    env: startEnv(dir, { SYNTHETIC_RATE: "200" }),
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
  // Each child's pid and port from its ready status line; the starter is their parent.
  let core: ReadyLine | undefined;
  let edge: ReadyLine | undefined;
  for (let waited = 0; waited < 20_000; waited += 50) {
    core ??= statusIn(text, "core", "ready");
    edge ??= statusIn(text, "edge", "ready");
    if ((core && edge) || exited) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert(core && edge, `start.ts did not come up:\n${text}`);
  const start = await parentOf(core.pid);
  assert.deepStrictEqual(await parentOf(edge.pid), start, "the core and the edge have one starter");
  return {
    child,
    output: () => text,
    ended,
    pids: { core: core.pid, edge: edge.pid, start },
    ports: { core: core.addresses.port, edge: edge.addresses.port },
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
    assert.deepStrictEqual(
      statusIn(started.output(), "core", "stopped")?.why,
      "SIGTERM",
      started.output(),
    );
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
    for (const name of ["core", "edge"] as const) {
      const stopped: StoppedLine | undefined = statusIn(started.output(), name, "stopped");
      assert.deepStrictEqual(
        [stopped?.pid, stopped?.why],
        [started.pids[name], "SIGTERM"],
        started.output(),
      );
    }
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
    const command = START_COMMAND.map((a) => `'${a}'`).join(" ");
    // setsid: sh leads a job of its own (as npx does), and exits at once; the
    // rest of the job (as deno task after the build) starts start.ts a second later.
    const child = new Deno.Command("setsid", {
      args: ["sh", "-c", `(sleep 1; ${command}; echo "exit $?") & exit 0`],
      env: startEnv(dir),
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

Deno.test("task start's children: the edge's origins let in by the core, the core named to the edge, a demo trader asked for; the user's settings win", () => {
  const from = (vars: Record<string, string>) => (name: string) => vars[name];
  assert.deepStrictEqual(childEnvironments(from({ EDGE_PORT: "9000", CORE_PORT: "9001" })), {
    core: {
      GATEWAY_ORIGINS: "http://127.0.0.1:9000,http://localhost:9000",
      EDGE_URL: "http://127.0.0.1:9000",
      DEMO_TRADER: "DEMO",
    },
    edge: { EDGE_CORE_URL: "http://127.0.0.1:9001" },
  });
  // Ports picked at run time cannot be named in advance; the user's own settings stay.
  assert.deepStrictEqual(
    childEnvironments(from({
      EDGE_PORT: "0",
      CORE_PORT: "0",
      GATEWAY_ORIGINS: "https://t.example",
      DEMO_TRADER: "none",
    })),
    { core: {}, edge: {} },
  );
  assert.deepStrictEqual(
    childEnvironments(from({ GATEWAY_ORIGINS: "https://t.example", EDGE_URL: "https://q.example" }))
      .core,
    { DEMO_TRADER: "DEMO" },
  );
  const [core, edge] = children("data/core.kv", from({}));
  assert.deepStrictEqual(core?.env?.GATEWAY_ORIGINS, "http://127.0.0.1:8000,http://localhost:8000");
  assert.deepStrictEqual(edge?.env, { EDGE_CORE_URL: "http://127.0.0.1:8080" });
});

Deno.test("task start on a fresh data folder prints the terminal's URL and a demo trader's password, which logs in from the edge's origin", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tc-start-demo-" });
  // A free port for the edge, so that its origin is known in advance.
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const edgePort = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const [program, ...args] = START_COMMAND;
  const child = new Deno.Command(program!, {
    args,
    env: startEnv(dir, { EDGE_PORT: String(edgePort), SYNTHETIC_RATE: "0" }),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  const reading = (async () => {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) out += chunk;
  })();
  const stderr = new Response(child.stderr).text();
  try {
    const edgeUrl = `http://127.0.0.1:${edgePort}`;
    const terminalLine = `[start] terminal: ${edgeUrl}/trade (`;
    let core: string | undefined;
    let demo: RegExpExecArray | null = null;
    for (let waited = 0; waited < 20_000; waited += 50) {
      core ??= statusIn(out, "core", "ready")?.addresses.http;
      demo ??= /\[core\] demo trader: account DEMO, password ([A-Za-z0-9_-]{16}) \(shown once/
        .exec(out);
      if (core && demo && out.includes(terminalLine)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert(core !== undefined && demo !== null && out.includes(terminalLine), out);
    const response = await fetch(`${core}/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: edgeUrl },
      body: JSON.stringify({ account: "DEMO", password: demo[1] }),
    });
    assert.deepStrictEqual(response.status, 200, await response.clone().text());
    assert.deepStrictEqual(response.headers.get("access-control-allow-origin"), edgeUrl);
    const { role, account } = await response.json();
    assert.deepStrictEqual([account, role], ["DEMO", "trader"]);
    // The password appears once, and nowhere else in the log.
    assert.deepStrictEqual(
      out.split(demo[1]!).length,
      2,
      "the password was printed more than once",
    );
    child.kill("SIGTERM");
    assert.deepStrictEqual((await child.status).code, 0, await stderr);
    await reading;
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await child.status;
    await Deno.remove(dir, { recursive: true });
  }
});
