/**
 * The native engine with a journal, as a {@linkcode Matcher}: what
 * `deno task match --journal DIR` runs.
 *
 * Opening it recovers the books from the journal already in the folder (if
 * any) without emitting a single event, so a command stream split across
 * two runs yields exactly the events of one run. Its
 * {@linkcode JournaledMatcher.parser} continues the journal's account
 * numbering, and the matcher names every account a command uses in the
 * journal (a define-account command) before that command, so that tools
 * reading the journal can print names and a later run numbers the same
 * names the same way.
 *
 * It drives {@linkcode NativeEngine} itself rather than wrapping the
 * native `RingMatcher`, because the engine answers a define-account command
 * with an event (`EV_ACCOUNT_DEFINED`) that is no {@linkcode EngineEvent}.
 *
 * @module
 */

import { CommandParser } from "../matching/protocol.ts";
import {
  type Command,
  CommandKind,
  type EngineEvent,
  EventKind,
  type Instrument,
  type Matcher,
} from "../matching/types.ts";
import {
  type Durability,
  EV_ACCOUNT_DEFINED,
  eventFlags,
  eventKind,
  EVF_LAST,
  journalMeta,
  NativeEngine,
  readEvent,
  type RecoveryReport,
} from "../native/mod.ts";

/** Options for {@linkcode JournaledMatcher.open}. */
export interface JournaledMatcherOptions {
  /** The journal folder; created (with its parents) when missing. */
  readonly dir: string;
  /** Default `"process-crash"`; see {@linkcode Durability}. */
  readonly durability?: Durability;
  /** Bytes per journal segment (default: the engine's, 64 MiB). */
  readonly segmentBytes?: number;
  /** Commands between snapshots (default: the engine's, 1,000,000; 0: none). */
  readonly snapshotEvery?: number;
  /** CPU of the engine thread (default -1: the last one). */
  readonly cpu?: number;
}

/**
 * The native engine on its thread, journaling every command; see the module
 * documentation.
 *
 * @example
 * ```ts
 * import { JournaledMatcher } from "./journaled_matcher.ts";
 * import { loadInstruments } from "../matching/mod.ts";
 * import assert from "node:assert";
 *
 * const dir = Deno.makeTempDirSync();
 * const line = '{"op":"new","id":1,"account":"A","symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":5}';
 * const first = JournaledMatcher.open(loadInstruments(), { dir });
 * const parsed = first.parser.parse(line);
 * if (!parsed.ok) throw new Error(parsed.message);
 * assert.deepStrictEqual(first.apply(parsed.command), [{ kind: 1, id: 1, instrument: 0 }]);
 * first.close();
 *
 * // The next run recovers order 1 and account "A" from the journal.
 * const second = JournaledMatcher.open(loadInstruments(), { dir });
 * assert.deepStrictEqual(second.report.accounts, [[0, "A"]]);
 * assert.deepStrictEqual(second.apply({ kind: 2, id: 1 }), [
 *   { kind: 4, id: 1, instrument: 0, leaves: 5, reason: "requested" },
 * ]);
 * second.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class JournaledMatcher implements Matcher {
  /** What recovery found and did when the matcher opened. */
  readonly report: RecoveryReport;
  /**
   * The parser for this run: it numbers the journal's account names as the
   * journal does, and new names after them. The matcher journals an
   * account's name from it before the first command that uses the account.
   */
  readonly parser: CommandParser;
  readonly #engine: NativeEngine;
  /** Accounts the journal names. */
  readonly #defined: Set<number>;

  private constructor(engine: NativeEngine, report: RecoveryReport, parser: CommandParser) {
    this.#engine = engine;
    this.report = report;
    this.parser = parser;
    this.#defined = new Set(report.accounts.map(([account]) => account));
  }

  /**
   * Opens the journal in `options.dir` (creating it when there is none),
   * recovers the books from it, and starts the engine thread.
   *
   * @param instruments The instrument table; the journal must have been
   *   written for the same one ({@linkcode journalMeta}).
   * @param options Folder, durability, segment size, snapshot cadence, CPU.
   * @returns The matcher; call {@linkcode JournaledMatcher.close} when done.
   * @throws {Error} When the journal was written for another instrument
   *   table, is corrupt before its tail, or cannot be opened; the message
   *   says which.
   */
  static open(
    instruments: readonly Instrument[],
    options: JournaledMatcherOptions,
  ): JournaledMatcher {
    const engine = NativeEngine.open(instruments);
    try {
      const report = engine.openJournal({
        dir: options.dir,
        meta: journalMeta(instruments),
        ...(options.durability === undefined ? {} : { durability: options.durability }),
        ...(options.segmentBytes === undefined ? {} : { segmentBytes: options.segmentBytes }),
        ...(options.snapshotEvery === undefined ? {} : { snapshotEvery: options.snapshotEvery }),
      });
      const parser = new CommandParser(instruments, { accounts: report.accounts });
      engine.start(options.cpu ?? -1);
      return new JournaledMatcher(engine, report, parser);
    } catch (error) {
      engine.close();
      throw error;
    }
  }

  /**
   * Applies one command; see {@linkcode JournaledMatcher.applyAll}.
   *
   * @param command The command.
   * @returns Its events.
   * @throws {RangeError} When it places an order for an account the parser has no name for.
   */
  apply(command: Command): EngineEvent[] {
    return this.applyAll([command])[0]!;
  }

  /**
   * Applies commands in order, pipelined through the rings. Before the first
   * order of an account the journal does not name yet, it defines the
   * account (its name from {@linkcode JournaledMatcher.parser}); the
   * definition's acknowledgement is not among the events returned.
   *
   * @param commands The commands.
   * @returns Element `i` holds command `i`'s events.
   * @throws {RangeError} When an order's account has no name in the parser
   *   (nothing is applied then).
   * @throws {Error} When the engine refuses a definition for a reason other
   *   than a journal failure (after one, the engine has halted and every
   *   command is rejected `halted`; see {@linkcode JournaledMatcher.haltReason}).
   */
  applyAll(commands: readonly Command[]): EngineEvent[][] {
    const engine = this.#engine;
    // What goes into the ring, in order: a command's index, or -1 - account
    // for the definition of an account.
    const items: number[] = [];
    const names = new Map<number, string>();
    for (let i = 0; i < commands.length; i++) {
      const command = commands[i]!;
      if (
        command.kind === CommandKind.PlaceOrder && !this.#defined.has(command.account) &&
        !names.has(command.account)
      ) {
        const name = this.parser.accountName(command.account);
        if (name === undefined) {
          throw new RangeError(
            `Cannot journal order ${command.id}: account ${command.account} has no name; number accounts with the matcher's parser`,
          );
        }
        names.set(command.account, name);
        items.push(-1 - command.account);
      }
      items.push(i);
    }
    for (const account of names.keys()) this.#defined.add(account);

    const results: EngineEvent[][] = commands.map(() => []);
    let next = 0;
    let current = 0;
    const onEvent = (u32: Uint32Array, at: number) => {
      const item = items[current]!;
      if (item >= 0) results[item]!.push(readEvent(u32, at));
      else checkDefined(u32, at, -1 - item);
      if (eventFlags(u32, at) & EVF_LAST) current++;
    };
    const push = (item: number) =>
      item >= 0
        ? engine.push(commands[item]!)
        : engine.pushDefineAccount(-1 - item, names.get(-1 - item)!);
    while (current < items.length) {
      while (next < items.length && push(items[next]!)) next++;
      engine.flush();
      engine.drain(onEvent);
    }
    return results;
  }

  /**
   * The state hash, asked of the running engine thread.
   *
   * @returns FNV-1a 64 over every book (`core/matching/STATE_HASH.md`).
   */
  stateHash(): bigint {
    return this.#engine.queryStateHash();
  }

  /**
   * Why the engine halted (its journal failed), or undefined while it runs.
   *
   * @returns The reason, saying what failed and why.
   */
  haltReason(): string | undefined {
    return this.#engine.haltReason();
  }

  /** Stops the engine thread and frees the engine; the journal stays in its folder. */
  close(): void {
    this.#engine.close();
  }
}

/** Accepts a definition's answer: acknowledged, or refused because the journal failed. */
function checkDefined(u32: Uint32Array, at: number, account: number): void {
  if (eventKind(u32, at) === EV_ACCOUNT_DEFINED) return;
  const event = readEvent(u32, at);
  // The journal failed (`halted`), or its sync did (`in_doubt`): the engine
  // has halted, and the orders that follow say so themselves.
  if (
    event.kind === EventKind.OrderRejected &&
    (event.reason === "halted" || event.reason === "in_doubt")
  ) return;
  throw new Error(
    `Cannot define account ${account} in the journal: the engine answered ${JSON.stringify(event)}`,
  );
}
