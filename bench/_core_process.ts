/**
 * A real core for the gateway benchmarks: `core/main.ts`, the production
 * entry point (`deno task start`), run as a child process on a free
 * loopback port with its own journal, account store and signing secret in a
 * temporary folder. Private to `bench/`.
 *
 * The bench registers its accounts in the core's account store (Deno KV)
 * before the core starts, and mints their tokens with the same secret it
 * hands the core in `GATEWAY_JWT_SECRET`, so that every login goes through
 * the whole production check (signature, claims, then the account store).
 *
 * What the core process does is read from outside, never from the lines it
 * prints for people: its address from its ready status line
 * (`core/app/status.ts`), its open connections from `GET /status` (asked
 * over loopback), its memory and CPU time from `/proc`.
 *
 * @module
 */

import { CORE_PERMISSIONS } from "../core/start.ts";
import { AccountStore } from "../core/admin/mod.ts";
import {
  AUDIENCE,
  ISSUER,
  loadSecret,
  type Role,
  SECRET_ENV,
  signJwt,
} from "../core/gateway/mod.ts";
import { type CoreStatus, parseStatusLine, type ReadyStatus } from "../core/app/status.ts";
import { Child } from "./_child.ts";

const ROOT = new URL("..", import.meta.url);
const CORE_MAIN = new URL("../core/main.ts", import.meta.url);
/** The core's KV file's name in its temporary folder. */
const KV_FILE = "core.kv";

/** Options of {@linkcode CoreProcess.start}. */
export interface CoreProcessOptions {
  /** Synthetic commands per second over the whole instrument table; 0 = market off. */
  readonly syntheticRate: number;
  /** Accounts to register, each with its role. */
  readonly accounts: readonly { readonly name: string; readonly role: Role }[];
  /** `HEARTBEAT_MS` (default the core's, 1000). */
  readonly heartbeatMs?: number;
  /** How often the core prints its stats line for people, ms. Default 5000 (the core's). */
  readonly statsIntervalMs?: number;
  /** The core stops itself after this long, should the bench die without stopping it, ms. */
  readonly runForMs: number;
  /** The longest wait for the core to listen, ms. Default 60,000. */
  readonly startTimeoutMs?: number;
  /** More settings for the core (`GATEWAY_…` limits), added to or overriding the bench's. */
  readonly env?: Readonly<Record<string, string>>;
}

/** The core's memory and CPU, from `/proc`. */
export interface ProcessSample {
  /** Resident set size, bytes. */
  readonly rssBytes: number;
  /** CPU time used since it started (every thread), seconds. */
  readonly cpuSeconds: number;
  /** `performance.now()` when sampled. */
  readonly at: number;
}

/** 32 random bytes as base64url without padding, as `GATEWAY_JWT_SECRET` wants. */
function newSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}

/**
 * Reads the core's ready status line (`tc-status {"event":"ready",…}`).
 *
 * @param line A line the core printed.
 * @returns The status, or undefined for any other line.
 *
 * @example
 * ```ts
 * import { readyIn } from "./_core_process.ts";
 * const ready = readyIn(
 *   'tc-status {"event":"ready","pid":9,"addresses":{"hostname":"127.0.0.1","port":1,' +
 *     '"http":"http://127.0.0.1:1","ws":"ws://127.0.0.1:1/ws"}}',
 * );
 * if (ready?.addresses.ws !== "ws://127.0.0.1:1/ws") throw new Error("misread");
 * if (readyIn("gateway: listening on ws://127.0.0.1:1/ws") !== undefined) throw new Error("human");
 * ```
 */
export function readyIn(line: string): ReadyStatus | undefined {
  const status = parseStatusLine(line);
  return status?.event === "ready" ? status : undefined;
}

/** How often {@linkcode CoreProcess.waitForConnections} asks the core, ms. */
const POLL_MS = 50;

/** Linux reports CPU times in /proc in USER_HZ ticks, 100 per second on every architecture. */
const USER_HZ = 100;

/**
 * Reads a process's resident memory and CPU time from the text of
 * `/proc/<pid>/stat` followed by `/proc/<pid>/status`.
 *
 * @param text The two files, one after the other.
 * @returns Bytes and seconds, or undefined when either is missing.
 *
 * @example
 * ```ts
 * import { parseProc } from "./_core_process.ts";
 * const stat = "42 (deno) S 1 42 42 0 -1 4194560 9 0 0 0 150 25 0 0 20 0 9 0 7 0 0 0\n";
 * const s = parseProc(stat + "Name:\tdeno\nVmRSS:\t   81234 kB\n");
 * if (s?.rssBytes !== 81234 * 1024 || s.cpuSeconds !== 1.75) throw new Error("misread");
 * ```
 */
export function parseProc(text: string): { rssBytes: number; cpuSeconds: number } | undefined {
  const rss = /^VmRSS:\s+(\d+) kB$/m.exec(text);
  // The command name may hold spaces and parentheses: fields start after the last ") ".
  const nl = text.indexOf("\n");
  const stat = nl < 0 ? text : text.slice(0, nl);
  const close = stat.lastIndexOf(") ");
  const fields = close < 0 ? undefined : stat.slice(close + 2).split(" ");
  const utime = Number(fields?.[11]);
  const stime = Number(fields?.[12]);
  if (rss === null || !Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return { rssBytes: Number(rss[1]) * 1024, cpuSeconds: (utime + stime) / USER_HZ };
}

/**
 * Samples a process's memory and CPU time from `/proc` (read by `cat`:
 * Deno itself reads `/proc` only with every permission).
 *
 * @param pid The process.
 * @returns The sample.
 * @throws {Error} If the files cannot be read or parsed (the process is gone).
 *
 * @example
 * ```ts ignore
 * const { rssBytes } = await sampleProcess(child.pid);
 * ```
 */
export async function sampleProcess(pid: number): Promise<ProcessSample> {
  const out = await new Deno.Command("cat", {
    args: [`/proc/${pid}/stat`, `/proc/${pid}/status`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const parsed = out.success ? parseProc(new TextDecoder().decode(out.stdout)) : undefined;
  if (parsed === undefined) {
    throw new Error(
      `Cannot sample process ${pid} from /proc: ${
        new TextDecoder().decode(out.stderr).trim() || `exit ${out.code}`
      }`,
    );
  }
  return { ...parsed, at: performance.now() };
}

/** A core running as a child process; see the module documentation. */
export class CoreProcess {
  readonly #child: Child;
  readonly #dir: string;
  readonly #tokens: ReadonlyMap<string, string>;
  readonly #ready: ReadyStatus;

  private constructor(
    child: Child,
    dir: string,
    tokens: ReadonlyMap<string, string>,
    ready: ReadyStatus,
  ) {
    this.#child = child;
    this.#dir = dir;
    this.#tokens = tokens;
    this.#ready = ready;
  }

  /** The gateway's WebSocket, `ws://127.0.0.1:<port>/ws`. */
  get url(): string {
    return this.#ready.addresses.ws;
  }

  /**
   * Registers the accounts, mints their tokens and starts the core; removes
   * everything again if it does not come up.
   *
   * @param options The market, the accounts, the safety timer.
   * @returns The running core.
   * @throws {Error} If the core exits or does not listen in time (with its output).
   */
  static async start(options: CoreProcessOptions): Promise<CoreProcess> {
    const dir = await Deno.makeTempDir({ prefix: "tc-bench-gateway-" });
    let child: Child | undefined;
    try {
      const secret = newSecret();
      const key = await loadSecret({ env: (name) => (name === SECRET_ENV ? secret : undefined) });
      const kvPath = `${dir}/${KV_FILE}`;
      const kv = await Deno.openKv(kvPath);
      try {
        const store = new AccountStore(kv);
        for (const account of options.accounts) {
          const created = await store.createAccount(account);
          if (!created.ok) throw new Error(created.fault.message);
        }
      } finally {
        kv.close();
      }
      const iat = Math.floor(Date.now() / 1000);
      const tokens = new Map<string, string>();
      for (const { name, role } of options.accounts) {
        const claims = { sub: name, role, iss: ISSUER, aud: AUDIENCE, iat, exp: iat + 3600 };
        tokens.set(name, await signJwt(claims, key));
      }
      child = Child.spawn("core", Deno.execPath(), {
        args: [
          "run",
          "--quiet",
          "--config",
          new URL("deno.json", ROOT).pathname,
          ...CORE_PERMISSIONS,
          CORE_MAIN.pathname,
        ],
        cwd: ROOT.pathname,
        env: {
          CORE_HOSTNAME: "127.0.0.1",
          CORE_PORT: "0",
          SYNTHETIC_RATE: String(options.syntheticRate),
          KV_PATH: kvPath,
          JOURNAL_DIR: `${dir}/journal`,
          [SECRET_ENV]: secret,
          ...(options.statsIntervalMs === undefined
            ? {}
            : { STATS_INTERVAL_MS: String(options.statsIntervalMs) }),
          RUN_FOR_MS: String(options.runForMs),
          ...(options.heartbeatMs === undefined
            ? {}
            : { HEARTBEAT_MS: String(options.heartbeatMs) }),
          GATEWAY_ORIGINS: "",
          NO_COLOR: "1",
          ...options.env,
        },
      });
      const ready = await child.waitFor(
        readyIn,
        options.startTimeoutMs ?? 60_000,
        "its ready status line",
      );
      return new CoreProcess(child, dir, tokens, ready);
    } catch (error) {
      await child?.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      throw error;
    }
  }

  /** Its temporary folder (journal, KV, secret), removed by {@linkcode stop}. */
  get dir(): string {
    return this.#dir;
  }

  /** Its KV file (accounts, quote snapshots), in {@linkcode dir}. */
  get kvPath(): string {
    return `${this.#dir}/${KV_FILE}`;
  }

  /** The core's process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Its last lines of output. */
  get tail(): string {
    return this.#child.tail;
  }

  /**
   * Asks the core for its status (`GET /status`, over loopback).
   *
   * @returns Its addresses and counts.
   * @throws {Error} If it does not answer 200 (it is gone, or stopping).
   */
  async status(): Promise<CoreStatus> {
    const response = await fetch(this.#ready.addresses.status);
    if (!response.ok) {
      throw new Error(
        `Cannot read the core's status: ${response.status} ${
          (await response.text()).slice(0, 200)
        }`,
      );
    }
    return await response.json();
  }

  /**
   * Its open connections now, by `GET /status`.
   *
   * @returns The count.
   * @throws {Error} If it does not answer.
   */
  async connections(): Promise<number> {
    return (await this.status()).stats.connections;
  }

  /**
   * The token of a registered account.
   *
   * @param account The account's name.
   * @returns The token (valid for an hour).
   * @throws {RangeError} If the account was not registered.
   */
  token(account: string): string {
    const token = this.#tokens.get(account);
    if (token === undefined) throw new RangeError(`Cannot find a token: ${account} not registered`);
    return token;
  }

  /**
   * Waits until the core has exactly `n` connections open, asking
   * `GET /status` every 50 ms.
   *
   * @param n The count.
   * @param timeoutMs The longest wait.
   * @returns Whether it did in time (false as well if the core is gone).
   */
  async waitForConnections(n: number, timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    let exited = false;
    void this.#child.status.then(() => (exited = true));
    while (!exited) {
      try {
        if ((await this.connections()) === n) return true;
      } catch {
        // Not answering (yet, or any more): asked again until the deadline.
      }
      if (performance.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    return false;
  }

  /**
   * Samples its memory and CPU time ({@linkcode sampleProcess}).
   *
   * @returns The sample.
   * @throws {Error} If it is gone.
   */
  sample(): Promise<ProcessSample> {
    return sampleProcess(this.pid);
  }

  /** Stops the core (SIGTERM, then SIGKILL) and removes its folder. Never throws. */
  async stop(): Promise<void> {
    await this.#child.stop(10_000);
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }
}
