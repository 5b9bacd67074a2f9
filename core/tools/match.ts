/**
 * `deno task match`: the replay tool. JSON Lines commands on stdin, JSON
 * Lines events on stdout, through the native engine (or, with
 * `--reference`, the reference matcher). The protocol is documented in
 * `core/matching/protocol.ts`; stdout carries events and nothing else, so
 * the tool composes with `diff` and `jq`.
 *
 * ```sh
 * deno task match [--instruments FILE] [--reference] < commands.jsonl > events.jsonl
 * ```
 *
 * Exit codes: 0 done; 1 the instrument table could not be loaded; 2 bad
 * usage.
 *
 * @module
 */

import {
  CommandParser,
  DEFAULT_INSTRUMENTS_URL,
  type Instrument,
  lines,
  loadInstruments,
  type Matcher,
  ReferenceMatcher,
  replay,
} from "../matching/mod.ts";
import { openNativeMatcher } from "../native/mod.ts";

const USAGE = "Usage: deno task match [--instruments FILE] [--reference] < commands.jsonl";

/** Flush stdout once this many UTF-16 code units are buffered: few writes, bounded memory. */
const FLUSH_AT = 1 << 16;

interface Options {
  instruments: string | URL;
  reference: boolean;
}

/** The options, or the message for a usage error. */
function parseArgs(args: readonly string[]): Options | string {
  const options: Options = { instruments: DEFAULT_INSTRUMENTS_URL, reference: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--reference") {
      options.reference = true;
    } else if (arg === "--instruments" || arg.startsWith("--instruments=")) {
      const value = arg === "--instruments" ? args[++i] : arg.slice("--instruments=".length);
      if (!value) return "--instruments needs a file";
      options.instruments = fromInvocationDir(value);
    } else {
      return `unknown argument ${JSON.stringify(arg)}`;
    }
  }
  return options;
}

/**
 * `deno task` runs in the directory of `deno.json`, not where it was typed;
 * it says where in `INIT_CWD`, so a relative path means what the user meant.
 */
function fromInvocationDir(path: string): string {
  if (path.startsWith("/")) return path;
  const env = Deno.permissions.querySync({ name: "env", variable: "INIT_CWD" });
  const dir = env.state === "granted" ? Deno.env.get("INIT_CWD") : undefined;
  return dir ? `${dir}/${path}` : path;
}

/** Buffers lines and writes them to stdout in large chunks. */
class StdoutLines {
  readonly #encoder = new TextEncoder();
  #lines: string[] = [];
  #size = 0;

  write(line: string): Promise<void> | void {
    this.#lines.push(line);
    this.#size += line.length + 1;
    if (this.#size >= FLUSH_AT) return this.flush();
  }

  async flush(): Promise<void> {
    if (this.#lines.length === 0) return;
    const bytes = this.#encoder.encode(this.#lines.join("\n") + "\n");
    this.#lines = [];
    this.#size = 0;
    // A write may take only part of the buffer.
    for (let written = 0; written < bytes.length;) {
      written += await Deno.stdout.write(bytes.subarray(written));
    }
  }
}

async function main(args: readonly string[]): Promise<number> {
  const options = parseArgs(args);
  if (typeof options === "string") {
    console.error(`match: ${options}\n${USAGE}`);
    return 2;
  }
  let instruments: Instrument[];
  try {
    instruments = loadInstruments(options.instruments);
  } catch (error) {
    console.error(`match: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  const matcher: Matcher = options.reference
    ? new ReferenceMatcher(instruments)
    : openNativeMatcher(instruments);
  const out = new StdoutLines();
  try {
    await replay(
      lines(Deno.stdin.readable),
      matcher,
      new CommandParser(instruments),
      (line) => out.write(line),
    );
    await out.flush();
  } catch (error) {
    // A reader that stops early (`| head`) is not a failure of ours.
    if (error instanceof Deno.errors.BrokenPipe) return 0;
    throw error;
  } finally {
    matcher.close();
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
