/**
 * `deno task start`: the core and the edge together, each in its own
 * process (the edge must run unchanged as an edge function: it shares
 * nothing with the core but the KV file).
 *
 * Every line either prints is passed on with its origin (`[core] …`,
 * `[edge] …`), so both URLs show. SIGINT and SIGTERM go to both; when one
 * stops, the other is stopped too, and the exit code is the first one's
 * (the core's when it stopped first, e.g. after `RUN_FOR_MS`).
 *
 * Nothing outlives the command that started it (`app/supervision.ts`):
 * this process watches its ancestors (so `kill <pid of npx>` stops all, which
 * npm's `sh -c` would not pass on), and the children watch this process (so
 * they stop even when it is killed with SIGKILL). Whatever does not stop
 * within 10 s of SIGTERM is killed.
 *
 * Both read the same environment (`KV_PATH` is shared; the core's settings
 * are in `app/config.ts`, the edge's `EDGE_PORT` and `EDGE_HOSTNAME` in
 * `edge/main.ts`), with these defaults of their own ({@linkcode childEnvironments}),
 * each only when the variable is unset:
 *
 * - the core lets the edge's origin in (the trader terminal, served by the
 *   edge at `/trade`, logs in and connects from there): `GATEWAY_ORIGINS` is
 *   `http://127.0.0.1:<EDGE_PORT>,http://localhost:<EDGE_PORT>`, and
 *   `EDGE_URL` the first, unless `EDGE_PORT=0` (a port picked at run time
 *   cannot be known in advance: set `GATEWAY_ORIGINS` then);
 * - the edge points the terminal at the core: `EDGE_CORE_URL` is
 *   `http://127.0.0.1:<CORE_PORT>`, unless `CORE_PORT=0`;
 * - the core creates the demo trader `DEMO` on a store with no account
 *   (`DEMO_TRADER`; `none` for no demo), and prints its password once.
 *
 * Once the edge is ready, the starter prints the terminal's URL
 * (`[start] terminal: http://127.0.0.1:8000/trade`).
 *
 * @module
 */

import { lineageOf, PARENT_PID_ENV, type RunPs, runPs, watchAncestors } from "./app/supervision.ts";
import { parseStatusLine } from "../schemas/status_line.ts";

/** One child: its name, its script and the permissions it needs. */
export interface ChildSpec {
  readonly name: string;
  readonly script: string;
  readonly permissions: readonly string[];
  /** Variables set for it beside the inherited environment. */
  readonly env?: Readonly<Record<string, string>>;
}

const ROOT = new URL("../", import.meta.url);

/** The permissions the core's process (`core/main.ts`) runs with. */
export const CORE_PERMISSIONS: readonly string[] = [
  "--allow-read",
  "--allow-write",
  "--allow-ffi",
  "--allow-env",
  "--allow-sys",
  "--allow-net",
];

/**
 * What the starter sets for each child, beside the environment they
 * inherit: only variables the user left unset (see the module documentation).
 *
 * @param env Looks a variable up (default `Deno.env.get`).
 * @returns The core's and the edge's extra variables.
 *
 * @example
 * ```ts
 * import { childEnvironments } from "./start.ts";
 * const { core, edge } = childEnvironments(() => undefined);
 * if (core.GATEWAY_ORIGINS !== "http://127.0.0.1:8000,http://localhost:8000") throw new Error("no edge origin");
 * if (core.DEMO_TRADER !== "DEMO" || edge.EDGE_CORE_URL !== "http://127.0.0.1:8080") throw new Error("bad defaults");
 * const mine = childEnvironments((name) => ({ GATEWAY_ORIGINS: "https://t.example" })[name]);
 * if ("GATEWAY_ORIGINS" in mine.core) throw new Error("the user's setting overridden");
 * ```
 */
export function childEnvironments(
  env: (name: string) => string | undefined = (name) => Deno.env.get(name),
): { core: Record<string, string>; edge: Record<string, string> } {
  const core: Record<string, string> = {};
  const edge: Record<string, string> = {};
  const unset = (name: string) => (env(name) ?? "") === "";
  const edgePort = unset("EDGE_PORT") ? "8000" : env("EDGE_PORT")!.trim();
  const corePort = unset("CORE_PORT") ? "8080" : env("CORE_PORT")!.trim();
  // Ports are checked by the children; a port that is not a number makes no origin here.
  if (/^[1-9][0-9]{0,4}$/.test(edgePort)) {
    const origins = [`http://127.0.0.1:${edgePort}`, `http://localhost:${edgePort}`];
    if (unset("GATEWAY_ORIGINS")) core.GATEWAY_ORIGINS = origins.join(",");
    if (unset("EDGE_URL")) core.EDGE_URL = origins[0]!;
  }
  if (/^[1-9][0-9]{0,4}$/.test(corePort) && unset("EDGE_CORE_URL")) {
    edge.EDGE_CORE_URL = `http://127.0.0.1:${corePort}`;
  }
  if (env("DEMO_TRADER") === undefined) core.DEMO_TRADER = "DEMO";
  return { core, edge };
}

/**
 * The core's and the edge's processes.
 *
 * @param kvPath The KV file they share (the edge may write only its folder).
 * @param env Looks a variable up, for {@linkcode childEnvironments} (default `Deno.env.get`).
 * @returns Their specifications, the core first.
 *
 * @example
 * ```ts
 * import { children } from "./start.ts";
 * const [core, edge] = children("data/core.kv");
 * if (core?.name !== "core" || !edge?.permissions.includes("--allow-write=data")) {
 *   throw new Error("unexpected children");
 * }
 * ```
 */
export function children(
  kvPath: string,
  env: (name: string) => string | undefined = (name) => Deno.env.get(name),
): ChildSpec[] {
  const kvDir = kvPath.includes("/") ? kvPath.slice(0, kvPath.lastIndexOf("/")) : ".";
  const extra = childEnvironments(env);
  return [
    {
      name: "core",
      script: new URL("core/main.ts", ROOT).pathname,
      permissions: CORE_PERMISSIONS,
      env: extra.core,
    },
    {
      name: "edge",
      script: new URL("edge/main.ts", ROOT).pathname,
      // Deno opens a KV file read-write (SQLite's -wal and -shm files); the edge writes nothing.
      permissions: ["--allow-net", "--allow-read", "--allow-env", `--allow-write=${kvDir}`],
      env: extra.edge,
    },
  ];
}

/**
 * Passes a child's output on, line by line, with its name in front. A line
 * that cannot be written (the terminal or pipe that started us is gone) is
 * dropped: the child must still be drained and stopped.
 */
async function relay(
  name: string,
  stream: ReadableStream<Uint8Array<ArrayBuffer>>,
  write: (line: string) => void,
): Promise<void> {
  const say = (line: string) => {
    try {
      write(`[${name}] ${line}`);
    } catch {
      // Nowhere to write to any more.
    }
  };
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const lines = (rest + chunk).split("\n");
    rest = lines.pop()!;
    for (const line of lines) say(line);
  }
  if (rest !== "") say(rest);
}

/**
 * Once the edge says it is ready (its status line, as relayed), prints where
 * the trader terminal is.
 */
function announceTerminal(relayed: string): void {
  const status = parseStatusLine(relayed.replace(/^\[edge\] /, ""));
  if (status?.event !== "ready") return;
  try {
    console.log(
      `[start] terminal: ${status.addresses.http}/trade (log in with an account of ` +
        "deno task user, or the demo trader the core printed on a fresh data folder)",
    );
  } catch {
    // Nowhere to write to any more.
  }
}

/** Says something of the starter's own, unless there is nowhere left to say it. */
function note(line: string): void {
  try {
    console.error(`[start] ${line}`);
  } catch {
    // Nowhere to write to any more.
  }
}

/** Options for {@linkcode runTogether}. */
export interface RunOptions {
  /** When aborted, the children are stopped as on SIGTERM. */
  readonly signal?: AbortSignal;
}

/**
 * Runs the children until one stops or a signal comes, then stops the rest.
 *
 * Each child is told this process's pid ({@linkcode PARENT_PID_ENV}) and
 * stops itself when it is gone.
 *
 * @param specs What to run.
 * @param options A signal that stops them.
 * @returns The exit code of the first child to stop.
 *
 * @example
 * ```ts ignore
 * import { children, runTogether } from "./start.ts";
 * Deno.exit(await runTogether(children("data/core.kv")));
 * ```
 */
export async function runTogether(
  specs: readonly ChildSpec[],
  options: RunOptions = {},
): Promise<number> {
  const running = specs.map((spec) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", ...spec.permissions, spec.script],
      env: { ...spec.env, [PARENT_PID_ENV]: String(Deno.pid) },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const output = Promise.all([
      relay(spec.name, child.stdout, (line) => {
        console.log(line);
        if (spec.name === "edge") announceTerminal(line);
      }),
      relay(spec.name, child.stderr, (line) => console.error(line)),
    ]);
    return { spec, child, output };
  });
  const stopAll = (signal: Deno.Signal) => {
    for (const { child } of running) {
      try {
        child.kill(signal);
      } catch {
        // Already gone.
      }
    }
  };
  note(
    `${running.map(({ spec, child }) => `${spec.name} pid ${child.pid}`).join(", ")}; ` +
      `Ctrl-C or kill ${Deno.pid} stops them`,
  );
  const onSignal = (signal: Deno.Signal) => () => stopAll(signal);
  const handlers = (["SIGINT", "SIGTERM"] as const).map((s) => [s, onSignal(s)] as const);
  for (const [signal, handler] of handlers) Deno.addSignalListener(signal, handler);
  const onAbort = () => stopAll("SIGTERM");
  options.signal?.addEventListener("abort", onAbort);
  if (options.signal?.aborted) onAbort();
  try {
    const first = await Promise.race(
      running.map(({ spec, child }) => child.status.then((status) => ({ spec, status }))),
    );
    if (first.status.code !== 0 || first.spec.name !== "core") {
      note(`${first.spec.name} stopped (exit ${first.status.code}); stopping the rest`);
    }
    stopAll("SIGTERM");
    // Whatever does not stop within 10 s is killed.
    const timer = setTimeout(() => stopAll("SIGKILL"), 10_000);
    await Promise.all(running.map(({ child, output }) => Promise.all([child.status, output])));
    clearTimeout(timer);
    return first.status.code;
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    for (const [signal, handler] of handlers) Deno.removeSignalListener(signal, handler);
  }
}

/**
 * An abort signal that fires when a process this one should not outlive
 * (its parent, or an ancestor in its shell job, such as `npx`) is gone. It
 * is aborted already when the job's first process went before this one
 * started (killed during the build that `deno task start` runs first).
 *
 * @param ps Runs `ps` (default: the real one).
 * @returns The signal; it never fires when `ps` cannot run.
 *
 * @example
 * ```ts
 * import { whenStarterGoes } from "./start.ts";
 * const signal = await whenStarterGoes(() => Promise.resolve(undefined)); // no ps: no watch
 * if (signal.aborted) throw new Error("nothing is gone");
 * ```
 */
export async function whenStarterGoes(ps: RunPs = runPs): Promise<AbortSignal> {
  const controller = new AbortController();
  const { ancestors, orphaned } = await lineageOf(Deno.pid, ps);
  if (orphaned) {
    note("the command that started this one has already gone: not starting the core and the edge");
    controller.abort();
    return controller.signal;
  }
  if (ancestors.length === 0) {
    note("cannot list this process's ancestors (ps): only a signal to this process stops it all");
  }
  watchAncestors(ancestors, (gone) => {
    note(
      `the command that started this one has gone (process ${gone.pid} or its parent): ` +
        "stopping the core and the edge",
    );
    controller.abort();
  }, { ps });
  return controller.signal;
}

if (import.meta.main) {
  const signal = await whenStarterGoes();
  if (signal.aborted) Deno.exit(1);
  Deno.exit(await runTogether(children(Deno.env.get("KV_PATH") || "data/core.kv"), { signal }));
}
