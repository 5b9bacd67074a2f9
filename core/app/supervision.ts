/**
 * Process hygiene for `deno task start`: the processes it starts go when the
 * process that started them goes, however it went.
 *
 * The chain under `npx deno task start` is npm (node) → `sh -c` → `deno task`
 * → `core/start.ts` → the core and the edge. Signals do not travel down it
 * reliably: `kill <npx pid>` makes npm end its `sh`, which dies without
 * passing the signal on, so `deno task` (which does pass SIGINT and SIGTERM
 * to its child) never hears of it and everything below keeps running with
 * its ports. Hence two watches:
 *
 * - `core/start.ts` watches its **ancestors** ({@linkcode watchAncestors}):
 *   its parent and every further ancestor in its process group (the shell
 *   job that started it, so a shell that exits under `nohup` does not count),
 *   read with `ps` (Deno lets only `--allow-all` read `/proc/<pid>`). When one
 *   exits or is re-parented, the starter stops its children as on SIGTERM.
 * - The children watch **their parent** ({@linkcode watchParent}): the starter
 *   passes its pid in {@linkcode PARENT_PID_ENV}, and a child whose parent
 *   is no longer that pid (the starter was killed outright, SIGKILL included)
 *   stops itself. Run on their own, without the variable, they watch nothing.
 *
 * @module
 */

/** The variable through which `core/start.ts` tells its children its pid. */
export const PARENT_PID_ENV = "TC_PARENT_PID";

/** How often {@linkcode watchParent} looks, unless told otherwise. */
export const DEFAULT_WATCH_MS = 500;
/** How often {@linkcode watchAncestors} looks, unless told otherwise (it may run `ps`). */
export const ANCESTOR_WATCH_MS = 1000;

/** One ancestor as first seen: its pid and its parent's. */
export interface Ancestor {
  readonly pid: number;
  readonly ppid: number;
}

/** Runs `ps` with these arguments and returns its output, or undefined when it could not run. */
export type RunPs = (args: readonly string[]) => Promise<string | undefined>;

/** `ps` through `Deno.Command` (needs `--allow-run`). */
export const runPs: RunPs = async (args) => {
  try {
    const { stdout } = await new Deno.Command("ps", {
      args: [...args],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).output();
    // ps exits 1 when none of the pids asked for exists: the empty answer is the answer.
    return new TextDecoder().decode(stdout);
  } catch {
    return undefined;
  }
};

/** Reads `pid ppid [pgid]` lines into a map. */
function parse(text: string): Map<number, number[]> {
  const rows = new Map<number, number[]>();
  for (const line of text.split("\n")) {
    const fields = line.trim().split(/\s+/).map(Number);
    if (fields.length >= 2 && fields.every(Number.isSafeInteger)) {
      rows.set(fields[0]!, fields.slice(1));
    }
  }
  return rows;
}

/** A process's ancestors as {@linkcode lineageOf} finds them. */
export interface Lineage {
  /** Those it should live no longer than, parent first. */
  readonly ancestors: readonly Ancestor[];
  /**
   * True when the process that started its process group (the shell job,
   * e.g. `npx`) has already exited: it was killed before this one started
   * (during `deno task start`'s build), so this one should not start at all.
   */
  readonly orphaned: boolean;
}

/**
 * The ancestors a process should live no longer than: its parent, then each
 * further ancestor in its process group (pid 1 never); and whether the
 * group's leader has gone already.
 *
 * @param pid The process (default this one).
 * @param ps Runs `ps` (default {@linkcode runPs}).
 * @returns Parent first; no ancestors (and not orphaned) when `ps` cannot
 *   run or does not list `pid`.
 *
 * @example
 * ```ts
 * import { lineageOf } from "./supervision.ts";
 * // A made-up process table: 40 (a shell, group 40) → 50 (npm, group 50) → 60 → 70 (group 50).
 * const table = "40 1 40\n50 40 50\n60 50 50\n70 60 50\n";
 * const { ancestors, orphaned } = await lineageOf(70, () => Promise.resolve(table));
 * if (ancestors.map((a) => a.pid).join() !== "60,50" || orphaned) throw new Error("wrong lineage");
 * ```
 */
export async function lineageOf(pid: number = Deno.pid, ps: RunPs = runPs): Promise<Lineage> {
  const text = await ps(["-A", "-o", "pid=,ppid=,pgid="]);
  const table = parse(text ?? "");
  const group = table.get(pid)?.[1];
  const ancestors: Ancestor[] = [];
  let parent = table.get(pid)?.[0];
  while (parent !== undefined && parent > 1) {
    const row = table.get(parent);
    if (row === undefined || (ancestors.length > 0 && row[1] !== group)) break;
    ancestors.push({ pid: parent, ppid: row[0]! });
    parent = row[0];
  }
  const orphaned = group !== undefined && group !== pid && !table.has(group);
  return { ancestors, orphaned };
}

/** Options for the watches. */
export interface WatchOptions {
  /** Milliseconds between looks (default {@linkcode DEFAULT_WATCH_MS} or {@linkcode ANCESTOR_WATCH_MS}). */
  readonly intervalMs?: number;
  /** Runs `ps` (default {@linkcode runPs}); for {@linkcode watchAncestors} only. */
  readonly ps?: RunPs;
}

/**
 * Calls `onGone` once, when one of `ancestors` has exited or been given
 * another parent (its own parent exited). The timer does not keep the
 * process alive.
 *
 * @param ancestors From {@linkcode lineageOf}; nothing is watched when empty.
 * @param onGone Called with the first ancestor found gone.
 * @param options How often to look, and how to run `ps`.
 * @returns Stops watching.
 *
 * @example
 * ```ts
 * import { watchAncestors } from "./supervision.ts";
 * // Process 60's parent was 50; now ps says it is 1: 50 has gone.
 * const gone = await new Promise<number>((resolve) => {
 *   const hold = setTimeout(() => {}, 5_000); // the watch's timer does not hold the process
 *   const stop = watchAncestors([{ pid: 60, ppid: 50 }], (a) => {
 *     stop();
 *     clearTimeout(hold);
 *     resolve(a.pid);
 *   }, { intervalMs: 10, ps: () => Promise.resolve("60 1\n") });
 * });
 * if (gone !== 60) throw new Error(`expected 60, got ${gone}`);
 * ```
 */
export function watchAncestors(
  ancestors: readonly Ancestor[],
  onGone: (ancestor: Ancestor) => void,
  options: WatchOptions = {},
): () => void {
  if (ancestors.length === 0) return () => {};
  const ps = options.ps ?? runPs;
  // Our own parent is checked without spawning anything (getppid); ps runs
  // only for ancestors above it (under npx), about once a second (~10 ms of CPU).
  const direct = ancestors[0]!.pid === Deno.ppid ? ancestors[0] : undefined;
  const above = direct === undefined ? ancestors : ancestors.slice(1);
  const pids = above.map((a) => a.pid).join(",");
  let looking = false;
  let done = false;
  const gone = (ancestor: Ancestor) => {
    done = true;
    clearInterval(timer);
    onGone(ancestor);
  };
  const timer = setInterval(async () => {
    if (looking || done) return;
    if (direct !== undefined && Deno.ppid !== direct.pid) return gone(direct);
    if (above.length === 0) return;
    looking = true;
    try {
      const text = await ps(["-o", "pid=,ppid=", "-p", pids]);
      if (text === undefined || done) return; // ps could not run this time: look again later.
      const now = parse(text);
      const missing = above.find((a) => now.get(a.pid)?.[0] !== a.ppid);
      if (missing !== undefined) gone(missing);
    } finally {
      looking = false;
    }
  }, options.intervalMs ?? ANCESTOR_WATCH_MS);
  Deno.unrefTimer(timer);
  return () => {
    done = true;
    clearInterval(timer);
  };
}

/**
 * Calls `onGone` once, when this process's parent is no longer `parent`
 * (it exited, however: the process was handed to another). The timer does
 * not keep the process alive.
 *
 * @param parent The pid the parent had (from {@linkcode PARENT_PID_ENV}).
 * @param onGone Called once.
 * @param options How often to look.
 * @returns Stops watching.
 *
 * @example
 * ```ts
 * import { watchParent } from "./supervision.ts";
 * const stop = watchParent(Deno.ppid, () => {
 *   throw new Error("our parent is still here");
 * }, { intervalMs: 10 });
 * await new Promise((resolve) => setTimeout(resolve, 30));
 * stop();
 * ```
 */
export function watchParent(
  parent: number,
  onGone: () => void,
  options: WatchOptions = {},
): () => void {
  const timer = setInterval(() => {
    if (Deno.ppid === parent) return;
    clearInterval(timer);
    onGone();
  }, options.intervalMs ?? DEFAULT_WATCH_MS);
  Deno.unrefTimer(timer);
  return () => clearInterval(timer);
}

/**
 * The starter's pid when this process was started by `core/start.ts`
 * ({@linkcode PARENT_PID_ENV}), else undefined. Never throws: a process
 * allowed only some variables reads as not started so.
 *
 * @returns The pid, or undefined.
 *
 * @example
 * ```ts
 * import { starterPid } from "./supervision.ts";
 * console.log(starterPid()); // undefined unless run by `deno task start`
 * ```
 */
export function starterPid(): number | undefined {
  let raw: string | undefined;
  try {
    raw = Deno.env.get(PARENT_PID_ENV);
  } catch {
    return undefined;
  }
  const pid = Number(raw);
  return raw !== undefined && Number.isSafeInteger(pid) && pid > 1 ? pid : undefined;
}
