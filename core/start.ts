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
 * Both read the same environment (`KV_PATH` is shared; the core's settings
 * are in `app/config.ts`, the edge's `EDGE_PORT` and `EDGE_HOSTNAME` in
 * `edge/main.ts`).
 *
 * @module
 */

/** One child: its name, its script and the permissions it needs. */
export interface ChildSpec {
  readonly name: string;
  readonly script: string;
  readonly permissions: readonly string[];
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
 * The core's and the edge's processes.
 *
 * @param kvPath The KV file they share (the edge may write only its folder).
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
export function children(kvPath: string): ChildSpec[] {
  const kvDir = kvPath.includes("/") ? kvPath.slice(0, kvPath.lastIndexOf("/")) : ".";
  return [
    {
      name: "core",
      script: new URL("core/main.ts", ROOT).pathname,
      permissions: CORE_PERMISSIONS,
    },
    {
      name: "edge",
      script: new URL("edge/main.ts", ROOT).pathname,
      // Deno opens a KV file read-write (SQLite's -wal and -shm files); the edge writes nothing.
      permissions: ["--allow-net", "--allow-read", "--allow-env", `--allow-write=${kvDir}`],
    },
  ];
}

/** Passes a child's output on, line by line, with its name in front. */
async function relay(
  name: string,
  stream: ReadableStream<Uint8Array<ArrayBuffer>>,
  write: (line: string) => void,
): Promise<void> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const lines = (rest + chunk).split("\n");
    rest = lines.pop()!;
    for (const line of lines) write(`[${name}] ${line}`);
  }
  if (rest !== "") write(`[${name}] ${rest}`);
}

/**
 * Runs the children until one stops or a signal comes, then stops the rest.
 *
 * @param specs What to run.
 * @returns The exit code of the first child to stop.
 *
 * @example
 * ```ts ignore
 * import { children, runTogether } from "./start.ts";
 * Deno.exit(await runTogether(children("data/core.kv")));
 * ```
 */
export async function runTogether(specs: readonly ChildSpec[]): Promise<number> {
  const running = specs.map((spec) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", ...spec.permissions, spec.script],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const output = Promise.all([
      relay(spec.name, child.stdout, (line) => console.log(line)),
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
  const onSignal = (signal: Deno.Signal) => () => stopAll(signal);
  const handlers = (["SIGINT", "SIGTERM"] as const).map((s) => [s, onSignal(s)] as const);
  for (const [signal, handler] of handlers) Deno.addSignalListener(signal, handler);
  try {
    const first = await Promise.race(
      running.map(({ spec, child }) => child.status.then((status) => ({ spec, status }))),
    );
    if (first.status.code !== 0 || first.spec.name !== "core") {
      console.error(
        `[start] ${first.spec.name} stopped (exit ${first.status.code}); stopping the rest`,
      );
    }
    stopAll("SIGTERM");
    // Whatever does not stop within 10 s is killed.
    const timer = setTimeout(() => stopAll("SIGKILL"), 10_000);
    await Promise.all(running.map(({ child, output }) => Promise.all([child.status, output])));
    clearTimeout(timer);
    return first.status.code;
  } finally {
    for (const [signal, handler] of handlers) Deno.removeSignalListener(signal, handler);
  }
}

if (import.meta.main) {
  Deno.exit(await runTogether(children(Deno.env.get("KV_PATH") || "data/core.kv")));
}
