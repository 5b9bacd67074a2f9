/**
 * A child process the gateway and edge benchmarks talk to by lines: the
 * core, a client, a server. Private to `bench/`.
 *
 * Every wait is bounded and says what it waited for, with the child's last
 * lines of output; {@linkcode Child.stop} always ends the process (SIGTERM,
 * then SIGKILL), so that a failed run leaves nothing behind.
 *
 * Every child may run on every CPU ({@linkcode everyCpu}), whatever the
 * bench's own thread is pinned to: the matching bench's rings subject pins
 * Deno's main thread to one CPU (to keep it off the engine's), and a
 * process inherits the affinity of the thread that starts it, so without
 * this every server, client and load generator started afterwards would
 * share that one CPU.
 *
 * @module
 */

import os from "node:os";

/** Lines of output kept for error messages. */
const TAIL_LINES = 40;

/** Options of {@linkcode Child.spawn}. */
export interface ChildOptions {
  /** Arguments after the program. */
  readonly args: readonly string[];
  /** Variables added to (or overriding) the parent's environment. */
  readonly env?: Record<string, string>;
  readonly cwd?: string;
  /** Pipe stdin (for {@linkcode Child.write}); otherwise it is closed. */
  readonly stdin?: boolean;
}

/**
 * A running child process whose stdout and stderr are read line by line.
 *
 * @example
 * ```ts
 * import { Child } from "./_child.ts";
 * import { formatStatusLine, listenAddresses, readyLine } from "../schemas/status_line.ts";
 *
 * // A child that says where it listens in a status line, as our servers do.
 * const ready = formatStatusLine({ event: "ready", pid: 1, addresses: listenAddresses("::1", 4321) });
 * const child = Child.spawn("echo", Deno.execPath(), {
 *   args: ["eval", `console.log(${JSON.stringify(ready)}); setTimeout(() => {}, 60_000)`],
 * });
 * try {
 *   const { addresses } = await child.waitFor(readyLine, 10_000, "its ready status line");
 *   if (addresses.http !== "http://[::1]:4321") throw new Error(addresses.http);
 * } finally {
 *   await child.stop();
 * }
 * ```
 */
export class Child {
  readonly #process: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  readonly #tail: string[] = [];
  readonly #listeners = new Set<(line: string) => void>();
  #exited: Deno.CommandStatus | undefined;
  readonly #onExit = new Set<() => void>();
  /** Resolves when the process has exited and its output has been read. */
  readonly status: Promise<Deno.CommandStatus>;

  private constructor(readonly name: string, process: Deno.ChildProcess, stdin: boolean) {
    this.#process = process;
    this.#writer = stdin ? process.stdin.getWriter() : undefined;
    const out = this.#read(process.stdout, "");
    const err = this.#read(process.stderr, "stderr: ");
    this.status = (async () => {
      const [status] = await Promise.all([process.status, out, err]);
      this.#exited = status;
      for (const f of this.#onExit) f();
      return status;
    })();
  }

  /**
   * Starts a child.
   *
   * @param name What it is, for messages ("core", "subscribers").
   * @param program The program (e.g. `Deno.execPath()`).
   * @param options Arguments, environment, folder, stdin.
   * @returns The running child.
   * @throws {Deno.errors.NotFound} If the program does not exist.
   */
  static spawn(name: string, program: string, options: ChildOptions): Child {
    const command = everyCpu(program, options.args);
    const process = new Deno.Command(command.program, {
      args: command.args,
      ...(options.env === undefined ? {} : { env: options.env }),
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      stdin: options.stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    return new Child(name, process, options.stdin ?? false);
  }

  /** The process id. */
  get pid(): number {
    return this.#process.pid;
  }

  /** How it exited, once it has. */
  get exited(): Deno.CommandStatus | undefined {
    return this.#exited;
  }

  /** Its last lines of output (stderr ones prefixed `stderr: `). */
  get tail(): string {
    return this.#tail.join("\n");
  }

  async #read(stream: ReadableStream<Uint8Array>, prefix: string): Promise<void> {
    let buffer = "";
    const emit = (line: string) => {
      this.#tail.push(prefix + line);
      if (this.#tail.length > TAIL_LINES) this.#tail.shift();
      if (prefix === "") { for (const f of this.#listeners) f(line); }
    };
    // A TextDecoder rather than a TextDecoderStream: with the DOM library in
    // the program (ui/), the latter's types no longer fit a byte stream.
    const decoder = new TextDecoder();
    try {
      for await (const chunk of stream) {
        buffer += decoder.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = buffer.indexOf("\n")) >= 0) {
          emit(buffer.slice(0, nl));
          buffer = buffer.slice(nl + 1);
        }
      }
    } catch {
      // The stream broke as the process died: what was read is kept.
    }
    if (buffer !== "") emit(buffer);
  }

  /**
   * Calls `f` with every later line of stdout.
   *
   * @param f The listener.
   * @returns A function that removes it.
   */
  onLine(f: (line: string) => void): () => void {
    this.#listeners.add(f);
    return () => this.#listeners.delete(f);
  }

  /**
   * Waits for the first later stdout line that `match` maps to a value.
   *
   * @param match Returns the value, or undefined to keep waiting. If it
   *   throws, the wait fails with its error.
   * @param timeoutMs The longest wait.
   * @param what What is awaited, for the error message.
   * @returns The value.
   * @throws {Error} On timeout, or if the process exits first; the message
   *   ends with its last lines of output.
   */
  waitFor<T>(match: (line: string) => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const finish = (error: Error | undefined, value?: T) => {
        clearTimeout(timer);
        stopLines();
        this.#onExit.delete(onExit);
        if (error === undefined) resolve(value as T);
        else reject(error);
      };
      const fail = (why: string) =>
        finish(
          new Error(`${this.name}: ${why} waiting for ${what}; its last output:\n${this.tail}`),
        );
      const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs);
      const stopLines = this.onLine((line) => {
        let value: T | undefined;
        try {
          value = match(line);
        } catch (error) {
          finish(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        if (value !== undefined) finish(undefined, value);
      });
      const onExit = () => fail(`exited (code ${this.#exited?.code})`);
      if (this.#exited !== undefined) onExit();
      else this.#onExit.add(onExit);
    });
  }

  /**
   * Writes one line to its stdin.
   *
   * @param line The line, without the newline.
   * @throws {TypeError} If stdin was not piped.
   */
  async write(line: string): Promise<void> {
    if (this.#writer === undefined) throw new TypeError(`${this.name}: stdin is not piped`);
    await this.#writer.write(new TextEncoder().encode(line + "\n"));
  }

  /**
   * Ends the process: closes its stdin, waits up to `graceMs` for it to
   * exit (SIGTERM first, unless `signal` is false), then kills it. Never
   * throws.
   *
   * @param graceMs How long it may take to exit on its own.
   * @param signal Send SIGTERM at once (default true); false waits for the
   *   child to exit after stdin closes.
   * @returns How it exited.
   */
  async stop(graceMs = 5_000, signal = true): Promise<Deno.CommandStatus> {
    if (this.#writer !== undefined) {
      try {
        await this.#writer.close();
      } catch {
        // Already closed, or the process is gone.
      }
    }
    if (this.#exited !== undefined) return this.#exited;
    const kill = (sig: Deno.Signal) => {
      try {
        this.#process.kill(sig);
      } catch {
        // It exited in the meantime.
      }
    };
    if (signal) kill("SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = await Promise.race([
      this.status.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs))),
    ]);
    clearTimeout(timer);
    if (late) kill("SIGKILL");
    return await this.status;
  }
}

/** Whether `taskset` (util-linux, in every Debian) can be run; found on first use. */
let tasksetFound: boolean | undefined;

/**
 * A command line that runs `program` on every online CPU: through
 * `taskset --cpu-list 0-<n-1>`, which sets its own affinity and then
 * executes the program in place (same process id). Without `taskset`, or
 * without permission to count the CPUs, the program as given (it then
 * inherits this thread's affinity).
 *
 * @param program The program.
 * @param args Its arguments.
 * @returns What to run.
 *
 * @example
 * ```ts
 * import { everyCpu } from "./_child.ts";
 * const { program, args } = everyCpu("wrk", ["--version"]);
 * console.log(program, args); // taskset [ "--cpu-list", "0-1", "wrk", "--version" ] on two CPUs
 * ```
 */
export function everyCpu(
  program: string,
  args: readonly string[],
): { program: string; args: string[] } {
  let cpus = 0;
  try {
    cpus = os.cpus().length; // every CPU, where navigator.hardwareConcurrency says this thread's
  } catch {
    // No --allow-sys: run as given.
  }
  if (tasksetFound === undefined) {
    try {
      tasksetFound = new Deno.Command("taskset", {
        args: ["--version"],
        stdout: "null",
        stderr: "null",
      }).outputSync().success;
    } catch {
      tasksetFound = false;
    }
  }
  return cpus > 0 && tasksetFound
    ? { program: "taskset", args: ["--cpu-list", `0-${cpus - 1}`, program, ...args] }
    : { program, args: [...args] };
}
