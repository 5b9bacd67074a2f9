/**
 * `deno task journal`: reads a journal folder, never writes it.
 *
 * ```sh
 * deno task journal verify [--json] [--live] DIR
 * deno task journal dump [--events] [--live] DIR
 * ```
 *
 * `verify` checks every segment and prints what it found, one fact per line
 * (`--json`: the raw report of `verifyJournal` instead). A torn tail (a
 * write a crash cut short, with nothing valid after it) is reported and is
 * no error: recovery cuts it.
 *
 * `dump` prints the journaled commands as JSON Lines in `deno task match`'s
 * input format, with the journal's own instrument table and account names,
 * so `deno task journal dump DIR | deno task match` reproduces the events.
 * `--events` prints after each command its events in `match`'s output
 * format, from a replay through a fresh inline native engine (and checks
 * them against the trades the journal holds). It stops at the last valid
 * record.
 *
 * A journal a running core writes (it holds the folder's lock file) is
 * refused, naming that process: both commands map the segment files, and a
 * segment the core recycles under a mapping would crash the tool (SIGBUS).
 * `--live` reads such a journal by `pread` instead: a view taken while the
 * core writes, in which the record in flight may read as a torn tail, and a
 * segment recycled during the read as corruption.
 *
 * Exit codes: 0 done (the journal is valid, up to a possibly torn tail); 1
 * the journal is corrupt before its tail, or cannot be read or decoded (for
 * `dump`, after printing what came before), or a running core writes it
 * (without `--live`); 2 bad usage, or DIR does not exist or is not a folder.
 *
 * @module
 */

import {
  commandToJson,
  eventToJson,
  type Instrument,
  LineWriter,
  type Matcher,
  type OrderTraded,
  parseInstruments,
} from "../matching/mod.ts";
import { EventKind } from "../matching/types.ts";
import {
  type Damage,
  isTradingCommand,
  journalEntries,
  JournalKind,
  journalWriter,
  openNativeMatcher,
  readCommand,
  readDefineAccount,
  readEvent,
  verifyJournal,
  type VerifyReport,
} from "../native/mod.ts";
import { parseArgs } from "node:util";
import { argumentFault, fromInvocationDir, messageOf } from "./_cli.ts";

const USAGE = `Usage: deno task journal verify [--json] [--live] DIR
       deno task journal dump [--events] [--live] DIR
--live reads a journal a running core writes (by pread, not mapped)`;

/**
 * Where a journal is damaged, in one line: file, byte offset, sequence
 * number, extent and why.
 *
 * @param damage A torn tail or corruption from {@linkcode verifyJournal}.
 * @returns E.g. `segment-0000000000000000.tcj at byte 2320 (sequence 13, 40 bytes): bad CRC`.
 *
 * @example
 * ```ts
 * import { describeDamage } from "./journal.ts";
 * import assert from "node:assert";
 *
 * assert.deepStrictEqual(
 *   describeDamage({
 *     segment: 0, file: "segment-0000000000000000.tcj", offset: 2320, seq: 13, bytes: 96,
 *     reason: "bad CRC",
 *   }),
 *   "segment-0000000000000000.tcj at byte 2320 (sequence 13, 96 bytes): bad CRC",
 * );
 * ```
 */
export function describeDamage(damage: Damage): string {
  const file = damage.file ?? `segment ${damage.segment}`;
  const seq = damage.seq === null ? "" : `sequence ${damage.seq}, `;
  return `${file} at byte ${damage.offset} (${seq}${damage.bytes} bytes): ${damage.reason}`;
}

/**
 * The human-readable form of a verify report, one fact per line: segments,
 * records, first and last sequence, torn tail, corruption, and a verdict.
 *
 * @param report What {@linkcode verifyJournal} found.
 * @returns The lines.
 *
 * @example
 * ```ts
 * import { verifyLines } from "./journal.ts";
 * import assert from "node:assert";
 *
 * assert.deepStrictEqual(
 *   verifyLines({
 *     segments: 2, records: 7, firstSeq: 1, lastSeq: 7, tornTail: null, corruption: null,
 *     cut: false,
 *   }),
 *   [
 *     "segments: 2",
 *     "records: 7",
 *     "first sequence: 1",
 *     "last sequence: 7",
 *     "torn tail: none",
 *     "corruption: none",
 *     "verdict: valid",
 *   ],
 * );
 * ```
 */
export function verifyLines(report: VerifyReport): string[] {
  const { tornTail, corruption } = report;
  return [
    `segments: ${report.segments}`,
    `records: ${report.records}`,
    `first sequence: ${report.firstSeq ?? "none"}`,
    `last sequence: ${report.lastSeq ?? "none"}`,
    `torn tail: ${
      tornTail === null ? "none" : `${describeDamage(tornTail)}; recovery would cut it there`
    }`,
    `corruption: ${
      corruption === null
        ? "none"
        : `${describeDamage(corruption)}; valid records follow it, so recovery refuses the journal`
    }`,
    `verdict: ${
      corruption !== null ? "corrupt" : tornTail !== null ? "valid up to a torn tail" : "valid"
    }`,
  ];
}

/** Options for {@linkcode dumpJournal}. */
export interface DumpOptions {
  /** After each command, its events in `match`'s output format. */
  readonly events?: boolean;
  /** Told what the dump leaves out (the tool prints it on stderr). */
  readonly onNote?: (note: string) => void;
  /** Read by `pread`, beside a running core (see `ReadOptions.live`). */
  readonly live?: boolean;
}

/**
 * The journal's commands as lines of `match`'s input format, in journal
 * order (see {@linkcode commandToJson}; orders whose line carried invalid
 * values come out so that replaying them gets the same rejection). Symbols
 * come from the journal's meta record, account names from its account
 * records; an account the journal never names (written by another tool)
 * gets the name `#N` after its number, made unique.
 *
 * With `options.events`, each command's events follow it, in `match`'s
 * output format, from replaying the commands through a fresh inline native
 * engine; the trades are checked against those the journal holds.
 *
 * @param dir The journal folder.
 * @param options See {@linkcode DumpOptions}.
 * @returns The lines, without line breaks; it reads the journal as they are taken.
 * @throws {Error} When the journal is corrupt before its tail, cannot be
 *   read, has a command before its meta record, holds a record that does not
 *   decode, or a trade that differs from the replay's; the message names
 *   the record.
 *
 * @example
 * ```ts
 * import { dumpJournal } from "./journal.ts";
 * import { JournaledMatcher } from "./journaled_matcher.ts";
 * import { loadInstruments } from "../matching/mod.ts";
 * import assert from "node:assert";
 *
 * const dir = Deno.makeTempDirSync();
 * const matcher = JournaledMatcher.open(loadInstruments(), { dir });
 * const parsed = matcher.parser.parse('{"op":"new","id":1,"account":"A","symbol":"AAPL","side":"buy","type":"market","qty":5}');
 * if (!parsed.ok) throw new Error(parsed.message);
 * matcher.apply(parsed.command);
 * matcher.close();
 * assert.deepStrictEqual([...dumpJournal(dir, { events: true })], [
 *   '{"op":"new","id":1,"account":"A","symbol":"AAPL","side":"buy","type":"market","tif":"gtc","qty":5,"postOnly":false}',
 *   '{"ev":"accepted","id":1,"symbol":"AAPL"}',
 *   '{"ev":"expired","id":1,"leaves":5,"symbol":"AAPL"}',
 * ]);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function* dumpJournal(dir: string, options: DumpOptions = {}): Generator<string> {
  let instruments: Instrument[] | undefined;
  let replay: Matcher | undefined;
  const names = new Map<number, string>();
  const accountName = (account: number): string => {
    let name = names.get(account);
    if (name === undefined) {
      const taken = new Set(names.values());
      name = `#${account}`;
      while (taken.has(name)) name = `#${name}`;
      names.set(account, name);
    }
    return name;
  };
  // The trades the replay made for the last command, checked one by one
  // against the journal's trade records that follow the command.
  let trades: OrderTraded[] = [];
  let nextTrade = 0;
  // The record being decoded, for messages; 0 while the journal is read.
  let seq = 0;
  let controls = 0;
  try {
    for (const entry of journalEntries(dir, { live: options.live ?? false })) {
      seq = entry.seq;
      if (instruments === undefined && entry.seq > 1 && entry.kind !== JournalKind.Meta) {
        throw new Error(
          `it starts at record ${entry.seq}: the records before it were released after a ` +
            `snapshot (retention "snapshots"), so its commands cannot be replayed from the start`,
        );
      }
      switch (entry.kind) {
        case JournalKind.Meta:
          // The engine keeps the first meta record (it writes only one).
          if (instruments === undefined) {
            instruments = instrumentsOfMeta(entry.payload);
            if (options.events) replay = openNativeMatcher(instruments, { mode: "inline" });
          }
          break;
        case JournalKind.Account: {
          const [account, name] = readDefineAccount(words(entry.payload), 0);
          names.set(account, name);
          break;
        }
        case JournalKind.Command: {
          if (instruments === undefined) {
            throw new Error(
              "it holds a command, and no meta record (the instrument table) precedes it",
            );
          }
          if (!isTradingCommand(words(entry.payload), 0)) {
            // Risk controls have no line in match's input: say so once.
            if (controls++ === 0) {
              options.onNote?.(
                `record ${entry.seq}: the journal holds risk controls (limits, kill switches, ` +
                  `reference prices); match's input has no line for them, so the dump leaves ` +
                  `them out and a replay of it ignores them`,
              );
            }
            break;
          }
          const command = readCommand(words(entry.payload), 0);
          yield JSON.stringify(commandToJson(command, instruments, accountName));
          if (replay !== undefined) {
            const events = replay.apply(command);
            trades = [];
            nextTrade = 0;
            for (const event of events) {
              if (event.kind === EventKind.OrderTraded) trades.push(event);
              yield JSON.stringify(eventToJson(event, instruments));
            }
          }
          break;
        }
        case JournalKind.Trade:
          if (replay !== undefined) {
            checkTrade(readEvent(words(entry.payload), 0), trades[nextTrade++]);
          }
          break;
        default:
          // Kinds a later engine may add are not commands: a dump passes them over.
          break;
      }
      seq = 0;
    }
  } catch (error) {
    const where = seq === 0 ? dir : `${dir}: record ${seq}`;
    throw new Error(`Cannot dump journal ${where}: ${messageOf(error)}`, { cause: error });
  } finally {
    replay?.close();
  }
}

/** A 64-byte record as words (a batch entry starts 8 bytes into one, so it is aligned). */
function words(payload: Uint8Array): Uint32Array {
  if (payload.length !== 64) {
    throw new RangeError(`it holds ${payload.length} bytes where a 64-byte record belongs`);
  }
  return new Uint32Array(payload.buffer, payload.byteOffset, 16);
}

function instrumentsOfMeta(payload: Uint8Array): Instrument[] {
  let meta: unknown;
  try {
    meta = JSON.parse(new TextDecoder().decode(payload));
  } catch (cause) {
    throw new SyntaxError(`its meta record is not JSON (${messageOf(cause)})`, { cause });
  }
  // Only the table: other fields a later writer may add are not ours to judge.
  const table = typeof meta === "object" && meta !== null
    ? (meta as Record<string, unknown>).instruments
    : undefined;
  return parseInstruments({ instruments: table }, "the journal's meta record");
}

function checkTrade(journaled: ReturnType<typeof readEvent>, replayed: OrderTraded | undefined) {
  const text = (t: OrderTraded) => `${t.taker} x ${t.maker}, ${t.qty} at ${t.price}`;
  if (journaled.kind !== EventKind.OrderTraded) {
    throw new Error(`a trade record holds event kind ${journaled.kind}`);
  }
  if (
    replayed === undefined || replayed.instrument !== journaled.instrument ||
    replayed.taker !== journaled.taker || replayed.maker !== journaled.maker ||
    replayed.price !== journaled.price || replayed.qty !== journaled.qty
  ) {
    throw new Error(
      `the journaled trade ${text(journaled)} differs from the replay's ${
        replayed === undefined ? "(none)" : text(replayed)
      }; the journal or the engine build is inconsistent`,
    );
  }
}

/** The folder argument, or the message when it is missing or not a folder. */
function folder(path: string): string | { error: string } {
  const dir = fromInvocationDir(path);
  try {
    if (!Deno.statSync(dir).isDirectory) return { error: `${dir} is not a folder` };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { error: `${dir} does not exist` };
    throw error;
  }
  return dir;
}

interface Args {
  command: "verify" | "dump";
  dir: string;
  json: boolean;
  events: boolean;
  live: boolean;
}

/** The flags, as `node:util`'s `parseArgs` reads them (`--json` is verify's, `--events` dump's). */
const FLAGS = {
  json: { type: "boolean" },
  events: { type: "boolean" },
  live: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** The arguments, "help", or the message for a usage error. */
function parseCommandLine(args: readonly string[]): Args | "help" | string {
  if (args.includes("--help") || args.includes("-h")) return "help";
  const [command, ...rest] = args;
  if (command !== "verify" && command !== "dump") {
    return command === undefined
      ? "a command is needed: verify or dump"
      : `unknown command ${JSON.stringify(command)}: it must be verify or dump`;
  }
  let values;
  let paths;
  try {
    ({ values, positionals: paths } = parseArgs({
      args: rest,
      options: FLAGS,
      strict: true,
      allowPositionals: true,
    }));
  } catch (error) {
    const fault = argumentFault(rest, FLAGS, true);
    if (fault === undefined) return messageOf(error);
    return fault.kind === "unknown"
      ? `unknown option ${JSON.stringify(fault.arg)} for ${command}`
      : `${fault.option} takes no value`;
  }
  const other = command === "verify" ? "events" : "json";
  if (values[other]) return `unknown option "--${other}" for ${command}`;
  if (paths.length !== 1) {
    return paths.length === 0
      ? `${command} needs the journal folder`
      : `${command} takes one folder, not ${paths.length}`;
  }
  return {
    command,
    dir: paths[0]!,
    json: values.json ?? false,
    events: values.events ?? false,
    live: values.live ?? false,
  };
}

/**
 * Why a journal a running process writes is not read without `--live`, or
 * undefined when none writes it.
 */
function liveRefusal(command: string, dir: string): string | undefined {
  const pid = journalWriter(dir);
  if (pid === null) return undefined;
  const who = pid === 0 ? "another process" : `process ${pid}`;
  return `Cannot ${command} ${dir}: ${who} is writing it (it holds ${dir}/lock); its segment ` +
    `files are not mapped while it may recycle them (that would crash this tool): stop that ` +
    `process, or read the journal as it is written with --live`;
}

async function main(args: readonly string[]): Promise<number> {
  const parsed = parseCommandLine(args);
  if (parsed === "help") {
    console.log(USAGE);
    return 0;
  }
  if (typeof parsed === "string") {
    console.error(`journal: ${parsed}\n${USAGE}`);
    return 2;
  }
  const dir = folder(parsed.dir);
  if (typeof dir !== "string") {
    console.error(`journal: ${dir.error}`);
    return 2;
  }
  if (!parsed.live) {
    let refusal: string | undefined;
    try {
      refusal = liveRefusal(parsed.command, dir);
    } catch (error) {
      refusal = `Cannot ${parsed.command} ${dir}: ${messageOf(error)}`;
    }
    if (refusal !== undefined) {
      console.error(`journal: ${refusal}`);
      return 1;
    }
  }
  if (parsed.command === "verify") {
    let report: VerifyReport;
    try {
      report = verifyJournal(dir, { live: parsed.live });
    } catch (error) {
      console.error(`journal: Cannot verify ${dir}: ${messageOf(error)}`);
      return 1;
    }
    console.log(parsed.json ? JSON.stringify(report) : verifyLines(report).join("\n"));
    return report.corruption === null ? 0 : 1;
  }
  const out = new LineWriter(Deno.stdout);
  try {
    const onNote = (note: string) => console.error(`journal dump: ${note}`);
    const options = { events: parsed.events, onNote, live: parsed.live };
    for (const line of dumpJournal(dir, options)) {
      const done = out.write(line);
      if (done !== undefined) await done;
    }
    await out.flush();
  } catch (error) {
    // A reader that stops early (`| head`) is not a failure of ours.
    if (error instanceof Deno.errors.BrokenPipe) return 0;
    await out.flush().catch(() => {});
    console.error(`journal: ${messageOf(error)}`);
    return 1;
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
