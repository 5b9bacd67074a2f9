/**
 * `deno task match`: the replay tool. JSON Lines commands on stdin, JSON
 * Lines events on stdout, through the native engine (or, with
 * `--reference`, the reference matcher). The protocol is documented in
 * `core/matching/protocol.ts`; stdout carries events and nothing else, so
 * the tool composes with `diff` and `jq`.
 *
 * ```sh
 * deno task match [--instruments FILE] [--reference] < commands.jsonl > events.jsonl
 * deno task match [--instruments FILE] --journal DIR [--durability MODE] < commands.jsonl
 * ```
 *
 * With `--journal DIR` the run is journaled in DIR. When DIR already holds a
 * journal, the engine first recovers from it, printing nothing for the
 * commands it replays, and the parser numbers accounts on from the
 * journal's: a stream split across runs prints exactly the events of one
 * run (error events count lines from 1 in each run: they name a line of
 * that run's input). `--durability` is `process-crash` (default),
 * `group-commit` or `synchronous`.
 *
 * Exit codes: 0 done; 1 the instrument table could not be loaded, the
 * journal could not be opened (another instrument table, corruption, …) or
 * the engine halted because its journal failed (the events up to then are
 * printed); 2 bad usage.
 *
 * @module
 */

import {
  CommandParser,
  DEFAULT_INSTRUMENTS_URL,
  type Instrument,
  lines,
  LineWriter,
  loadInstruments,
  type Matcher,
  ReferenceMatcher,
  replay,
} from "../matching/mod.ts";
import { parseArgs } from "node:util";
import { type Damage, type Durability, openNativeMatcher } from "../native/mod.ts";
import { argumentFault, fromInvocationDir, messageOf } from "./_cli.ts";
import { describeDamage } from "./journal.ts";
import { JournaledMatcher } from "./journaled_matcher.ts";

const USAGE = `Usage: deno task match [--instruments FILE] [--reference] < commands.jsonl
       deno task match [--instruments FILE] --journal DIR [--durability MODE] < commands.jsonl
MODE: process-crash (default), group-commit or synchronous`;

const DURABILITIES: readonly Durability[] = ["process-crash", "group-commit", "synchronous"];

interface Options {
  instruments: string | URL;
  reference: boolean;
  journal?: string;
  durability?: Durability;
  help: boolean;
}

/** The command line, as `node:util`'s `parseArgs` reads it. */
const FLAGS = {
  instruments: { type: "string" },
  reference: { type: "boolean" },
  journal: { type: "string" },
  durability: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** What a string option lacking its value is told. */
const NEEDS: Record<string, string> = {
  "--instruments": "--instruments needs a file",
  "--journal": "--journal needs a folder",
  "--durability": `--durability must be one of ${DURABILITIES.join(", ")}`,
};

/** The options, or the message for a usage error. */
function parseOptions(args: readonly string[]): Options | string {
  let values;
  try {
    ({ values } = parseArgs({ args: [...args], options: FLAGS, strict: true }));
  } catch (error) {
    const fault = argumentFault(args, FLAGS, false);
    if (fault === undefined) return messageOf(error);
    if (fault.kind === "unknown") return `unknown argument ${JSON.stringify(fault.arg)}`;
    if (fault.kind === "takes_no_value") return `${fault.option} takes no value`;
    return NEEDS[fault.option] ?? `${fault.option} needs a value`;
  }
  // `--journal=` is a value, but not a folder.
  for (const [name, value] of Object.entries(values)) {
    if (value === "") return NEEDS[`--${name}`]!;
  }
  const options: Options = {
    instruments: values.instruments === undefined
      ? DEFAULT_INSTRUMENTS_URL
      : fromInvocationDir(values.instruments),
    reference: values.reference ?? false,
    help: values.help ?? false,
  };
  if (values.journal !== undefined) options.journal = fromInvocationDir(values.journal);
  if (values.durability !== undefined) {
    const mode = values.durability as Durability;
    if (!DURABILITIES.includes(mode)) return NEEDS["--durability"]!;
    options.durability = mode;
  }
  if (options.reference && options.journal !== undefined) {
    return "--reference cannot be combined with --journal: only the native engine journals";
  }
  if (options.durability !== undefined && options.journal === undefined) {
    return "--durability needs --journal";
  }
  return options;
}

/** The matcher and parser of a run, or the exit code when they cannot be made. */
function openRun(
  options: Options,
  instruments: Instrument[],
): { matcher: Matcher; parser: CommandParser; journaled?: JournaledMatcher } | number {
  if (options.journal === undefined) {
    return {
      matcher: options.reference
        ? new ReferenceMatcher(instruments)
        : openNativeMatcher(instruments),
      parser: new CommandParser(instruments),
    };
  }
  let journaled: JournaledMatcher;
  try {
    journaled = JournaledMatcher.open(instruments, {
      dir: options.journal,
      ...(options.durability === undefined ? {} : { durability: options.durability }),
    });
  } catch (error) {
    console.error(`match: ${messageOf(error)}`);
    return 1;
  }
  const { tornTail, cut } = journaled.report.journal;
  if (cut && tornTail !== null) {
    // The engine reports the tail it cut as `journal verify` reports damage.
    const where = describeDamage(tornTail as Damage);
    // Worth knowing, and no event: stdout stays the events of the commands.
    console.error(
      `match: ${options.journal}: cut a torn tail (a write a crash cut short): ${where}`,
    );
  }
  return { matcher: journaled, parser: journaled.parser, journaled };
}

async function main(args: readonly string[]): Promise<number> {
  const options = parseOptions(args);
  if (typeof options === "string") {
    console.error(`match: ${options}\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  let instruments: Instrument[];
  try {
    instruments = loadInstruments(options.instruments);
  } catch (error) {
    console.error(`match: ${messageOf(error)}`);
    return 1;
  }
  const run = openRun(options, instruments);
  if (typeof run === "number") return run;
  const out = new LineWriter(Deno.stdout);
  let halted: string | undefined;
  try {
    await replay(lines(Deno.stdin.readable), run.matcher, run.parser, (line) => out.write(line));
    await out.flush();
  } catch (error) {
    // A reader that stops early (`| head`) is not a failure of ours.
    if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
  } finally {
    halted = run.journaled?.haltReason();
    run.matcher.close();
  }
  if (halted !== undefined) {
    console.error(`match: ${halted}`);
    return 1;
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
