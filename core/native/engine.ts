/**
 * The native engine from Deno: commands in and events out through the
 * shared-memory rings, with no FFI call and no allocation per order.
 *
 * Deno is the single producer of the command ring and the single consumer
 * of the event ring; the engine thread is the other end of both. Each ring
 * counter has one writer, read and written here with `Atomics` so that a
 * record is complete before the counter that publishes it (see the layout
 * and invariants in `native/src/engine/rings.rs`).
 *
 * @module
 */

import { type Command, type Instrument, Side } from "../matching/types.ts";
import { lastNativeError, nativeLibrary, type NativeSymbols } from "./symbols.ts";
import { RiskLimit, type RiskLimitName } from "../../schemas/vocabulary/risk_limits.ts";
import {
  ALL_ACCOUNTS,
  EV_STATE_HASH,
  eventHash,
  eventKind,
  RECORD_WORDS,
  writeCommand,
  writeDefineAccount,
  writeHashQuery,
  writeKillSwitch,
  writeReferencePrice,
  writeSetRiskLimit,
} from "./records.ts";

// Word offsets of the shared block's counters (byte offsets / 4).
const CMD_TAIL = 0;
const CMD_HEAD = 16;
const EVT_TAIL = 32;
const EVT_HEAD = 48;
const PROCESSED = 64;
const STATUS = 65;
const SLEEPING = 80;
const LAYOUT = 96;
const LAYOUT_VERSION = 1;

/** Engine thread status words. */
export const EngineStatus = {
  NotStarted: 0,
  Running: 1,
  Stopped: 2,
  Failed: 3,
  Halted: 4,
} as const;

/** How durable a command is when its events are released (see `native/src/engine/durability.rs`). */
export type Durability = "process-crash" | "group-commit" | "synchronous";

/** Options for {@linkcode NativeEngine.openJournal}. */
export interface JournalOptions {
  /** The journal folder (created if missing). */
  readonly dir: string;
  /** Default `"process-crash"`: survives kill -9, not power loss. */
  readonly durability?: Durability;
  /** Group commit's longest delay before a sync, in milliseconds (default 2). */
  readonly groupCommitDelayMs?: number;
  /** Bytes per preallocated segment (default 64 MiB). */
  readonly segmentBytes?: number;
  /** Commands between snapshots (default 1,000,000; 0: none). */
  readonly snapshotEvery?: number;
  /** Describes the run (the instrument table); must equal the journal's. */
  readonly meta: string;
  /**
   * What the journal keeps (default `"all"`):
   * - `"all"`: every segment, from the first command on;
   * - `"snapshots"`: what the two newest snapshots need. Each snapshot
   *   releases the segments wholly before the older one, and their files
   *   become the journal's next segments (their pages are still cached, so
   *   preparing them costs a fraction of a new file). The folder stays
   *   bounded; `journal dump` then starts at the first record kept.
   */
  readonly retention?: JournalRetention;
}

/** An order resting in a book ({@linkcode NativeEngine.restingOrders}). */
export interface RestingOrder {
  readonly id: number;
  readonly account: number;
  readonly instrument: number;
  readonly side: Side;
  readonly postOnly: boolean;
  /** Price units. */
  readonly price: number;
  /** Open lots. */
  readonly qty: number;
  /** The client order id its place command carried (the record's `tag`); 0n when none. */
  readonly clientOrderId: bigint;
  /**
   * The engine number of the account that placed it for `account` (an
   * admin), or null when `account` placed it (or its command did not say).
   */
  readonly placer: number | null;
}

/** An account's net position in an instrument ({@linkcode NativeEngine.positions}). */
export interface EnginePosition {
  readonly account: number;
  readonly instrument: number;
  /** Lots held: positive long, negative short. */
  readonly net: number;
}

/** Why the engine halted ({@linkcode NativeEngine.haltCause}). */
export interface EngineHalt {
  /** What failed and why, with the path ("Engine halted: Cannot prepare journal segment …"). */
  readonly reason: string;
  /** The errno of the OS call that failed, or null when none did. */
  readonly errno: number | null;
  /** Its symbolic name (`"ENOSPC"`, `"EIO"`, or `"errno N"`), or null when none did. */
  readonly code: string | null;
}

/** Failures to inject into the next journal opened ({@linkcode NativeEngine.injectFaults}). */
export interface JournalFaults {
  /** Preparing the segment with this index fails as with `ENOSPC`. */
  readonly enospcOnSegment?: number;
  /** The n-th sync (1-based) fails as with `EIO`. */
  readonly failSyncOn?: number;
}

/** See {@linkcode JournalOptions.retention}. */
export type JournalRetention = "all" | "snapshots";

/** What recovery found and did (`engine_open_journal`'s report). */
export interface RecoveryReport {
  /** True when the folder held no journal. */
  readonly created: boolean;
  /** The journal scan: segments, records, last sequence, any torn tail cut. */
  readonly journal: {
    readonly segments: number;
    readonly records: number;
    /** The first record kept (above 1 once segments were released). */
    readonly firstSeq: number | null;
    readonly lastSeq: number | null;
    readonly tornTail: unknown;
    readonly corruption: unknown;
    readonly cut: boolean;
  };
  /** The snapshot restored (its journal sequence), if any. */
  readonly snapshot: number | null;
  /** Snapshots passed over, each with why. */
  readonly snapshotsSkipped: readonly string[];
  /** Commands replayed after the snapshot, and how fast. */
  readonly replayed: number;
  readonly tradesChecked: number;
  readonly replaySeconds: number;
  readonly commandsPerSecond: number;
  /** Account numbers and names from the snapshot and the journal, by number. */
  readonly accounts: readonly (readonly [number, string])[];
  /** The highest order id seen; new orders must go above it (ids are never reused). */
  readonly maxOrderId: number | null;
  /** Huge-page advice on the journal's mapping: bytes advised, or the errno the host answered. */
  readonly journalHugePages: { readonly bytes: number } | { readonly errno: number };
}

const DURABILITY: Readonly<Record<Durability, number>> = {
  "process-crash": 0,
  "group-commit": 1,
  "synchronous": 2,
};

/** Options for {@linkcode NativeEngine.open}. */
export interface EngineOptions {
  /** Command ring slots, a power of two (default 65536). */
  readonly commandCapacity?: number;
  /** Event ring slots, a power of two (default 262144). */
  readonly eventCapacity?: number;
}

/** Where the engine thread and its memory ended up, as the host answered. */
export interface Placement {
  /** The CPU the thread was asked to run on. */
  readonly cpu: number;
  /** True when the thread is pinned to it. */
  readonly pinned: boolean;
  /** Why pinning was refused, when it was. */
  readonly pinError?: string;
  /** The engine thread's kernel thread id. */
  readonly threadId: number;
  /** The CPU's NUMA node, or undefined where the host shows no topology. */
  readonly node?: number;
  /** Whether the thread's memory policy is bound to the node, or why not. */
  readonly memoryPolicy: "bound" | "not attempted" | string;
  /** Bytes of books, orders and rings moved to and bound on the node. */
  readonly boundBytes: number;
  /** Whether binding those bytes succeeded, or why not. */
  readonly binding: "bound" | "not attempted" | string;
  /** Bytes advised for huge pages. */
  readonly hugePageBytes: number;
  /** Whether the advice was taken, or why not. */
  readonly hugePages: "advised" | string;
  /** Transparent huge pages mode of the host. */
  readonly transparentHugePages: "always" | "madvise" | "never" | "unknown";
}

const ERRNO: Readonly<Record<number, string>> = {
  1: "EPERM: not permitted",
  12: "ENOMEM: not enough memory on the node",
  22: "EINVAL: not valid on this host (for a CPU: not in this process's allowed set)",
  38: "ENOSYS: the kernel does not support it",
};

const errnoText = (rc: number): string => ERRNO[rc] ?? `errno ${rc}`;
const THP = ["unknown", "always", "madvise", "never"] as const;

/**
 * One line per placement step, saying what was and wasn't applied.
 *
 * @param p The placement.
 * @returns Human-readable lines.
 *
 * @example
 * ```ts
 * import { describePlacement } from "./engine.ts";
 * const lines = describePlacement({
 *   cpu: 1, pinned: true, threadId: 42, node: 0, memoryPolicy: "bound", boundBytes: 8192,
 *   binding: "bound", hugePageBytes: 8192, hugePages: "advised", transparentHugePages: "madvise",
 * });
 * if (!lines[0]!.includes("pinned to CPU 1")) throw new Error(lines[0]);
 * ```
 */
export function describePlacement(p: Placement): string[] {
  const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
  return [
    p.pinned
      ? `engine thread ${p.threadId} pinned to CPU ${p.cpu}`
      : `engine thread ${p.threadId} NOT pinned to CPU ${p.cpu}: ${p.pinError}; running unpinned`,
    p.node === undefined
      ? "NUMA: the host shows no topology; memory left where the allocator put it"
      : `NUMA node ${p.node}: thread memory policy ${p.memoryPolicy}; ${
        mib(p.boundBytes)
      } of books, orders and rings ${p.binding === "bound" ? "bound" : `not bound (${p.binding})`}`,
    `huge pages: ${mib(p.hugePageBytes)} ${
      p.hugePages === "advised" ? "advised" : `not advised (${p.hugePages})`
    } (transparent huge pages: ${p.transparentHugePages})`,
  ];
}

/**
 * What recovery did, one line per fact.
 *
 * @param dir The journal folder.
 * @param durability The durability mode in force.
 * @param r The recovery report.
 * @returns Human-readable lines.
 *
 * @example
 * ```ts
 * import { describeRecovery } from "./engine.ts";
 * const lines = describeRecovery("data/journal", "process-crash", {
 *   created: true, snapshot: null, snapshotsSkipped: [], replayed: 0, tradesChecked: 0,
 *   replaySeconds: 0, commandsPerSecond: 0, accounts: [], maxOrderId: null,
 *   journalHugePages: { bytes: 67108864 },
 *   journal: {
 *     segments: 0, records: 0, firstSeq: null, lastSeq: null, tornTail: null, corruption: null,
 *     cut: false,
 *   },
 * });
 * if (!lines[0]!.startsWith("data/journal: new journal")) throw new Error(lines[0]);
 * ```
 */
export function describeRecovery(
  dir: string,
  durability: Durability,
  r: RecoveryReport,
): string[] {
  const lines = [
    r.created
      ? `${dir}: new journal, ${durability}`
      : `${dir}: ${r.journal.records} records in ${r.journal.segments} segments, last sequence ${r.journal.lastSeq}, ${durability}`,
  ];
  if (r.journal.cut) lines.push(`torn tail cut: ${JSON.stringify(r.journal.tornTail)}`);
  const huge = r.journalHugePages;
  lines.push(
    "bytes" in huge
      ? `huge pages: ${(huge.bytes / 1048576).toFixed(1)} MiB of the active segment advised`
      : `huge pages: not advised for the journal mapping (${
        errnoText(huge.errno)
      }); it runs on 4 KiB pages`,
  );
  for (const skipped of r.snapshotsSkipped) lines.push(`snapshot skipped: ${skipped}`);
  if (!r.created) {
    lines.push(
      `recovered ${
        r.snapshot === null ? "from the start" : `from the snapshot at ${r.snapshot}`
      }: ` +
        `replayed ${r.replayed} commands in ${r.replaySeconds.toFixed(3)} s ` +
        `(${
          (r.commandsPerSecond / 1e6).toFixed(2)
        } M commands/s), ${r.tradesChecked} trades checked`,
    );
  }
  return lines;
}

/**
 * Pins the calling thread (Deno's main thread, when called from the event
 * loop) to `cpu`, so it does not share the engine thread's CPU.
 *
 * @param cpu The CPU index.
 * @returns Undefined when pinned, else why the host refused.
 *
 * @example
 * ```ts
 * import { pinCurrentThread } from "./engine.ts";
 * const refused = pinCurrentThread(0);
 * if (refused !== undefined) console.log(refused);
 * ```
 */
export function pinCurrentThread(cpu: number): string | undefined {
  const rc = nativeLibrary().thread_pin(cpu);
  return rc === 0 ? undefined : errnoText(rc);
}

/**
 * Gives the free pages of the process's C heap back to the kernel (glibc's
 * `malloc_trim(0)`). Deno's WebSocket queues hold a copy and a write task
 * per frame in small blocks of the C heap; once freed (their connections
 * closed), those stay resident until trimmed. It holds the allocator's
 * locks while it runs (milliseconds on a large heap): call it now and then,
 * not per connection.
 *
 * @returns Whether any memory was released (false where the C library
 *   cannot).
 *
 * @example
 * ```ts
 * import { trimHeap } from "./engine.ts";
 * if (typeof trimHeap() !== "boolean") throw new Error("expected a boolean");
 * ```
 */
export function trimHeap(): boolean {
  return nativeLibrary().heap_trim() === 1;
}

/**
 * A native engine and its rings.
 *
 * Use it inline-free: {@linkcode NativeEngine.start} the thread, then
 * {@linkcode NativeEngine.push} commands, {@linkcode NativeEngine.flush}
 * them, and {@linkcode NativeEngine.drain} events. While waiting for space in
 * the command ring, keep draining: the engine waits for event-ring space.
 *
 * @example
 * ```ts
 * import { NativeEngine } from "./engine.ts";
 * import { eventKind, EVF_LAST, eventFlags } from "./records.ts";
 * import { CommandKind } from "../matching/types.ts";
 * import { loadInstruments } from "../matching/instruments.ts";
 *
 * const engine = NativeEngine.open(loadInstruments());
 * engine.start();
 * engine.push({ kind: CommandKind.CancelOrder, id: 1 });
 * engine.flush();
 * let done = false;
 * while (!done) {
 *   engine.drain((u32, at) => {
 *     if (eventKind(u32, at) !== 2) throw new Error("expected a reject");
 *     done = (eventFlags(u32, at) & EVF_LAST) !== 0;
 *   });
 * }
 * engine.close();
 * ```
 */
export class NativeEngine {
  readonly #lib: NativeSymbols;
  #handle: Deno.PointerValue;
  readonly #u32: Uint32Array;
  readonly #cmdBase: number;
  readonly #evtBase: number;
  readonly #cmdMask: number;
  readonly #evtMask: number;
  #cmdTail = 0;
  #cmdHeadSeen = 0;
  #evtHead = 0;
  #pushed = 0;
  #placement: Placement | undefined;

  private constructor(lib: NativeSymbols, handle: Deno.PointerObject) {
    this.#lib = lib;
    this.#handle = handle;
    const ptr = lib.engine_shared(handle);
    const len = Number(lib.engine_shared_len(handle));
    if (ptr === null || len === 0) {
      throw new Error(`Cannot map engine rings: ${lastNativeError(lib)}`);
    }
    this.#u32 = new Uint32Array(Deno.UnsafePointerView.getArrayBuffer(ptr, len));
    const [version, cmdCap, evtCap, recordBytes, cmdOffset, evtOffset] = this.#u32.subarray(
      LAYOUT,
      LAYOUT + 6,
    );
    if (version !== LAYOUT_VERSION || recordBytes !== RECORD_WORDS * 4) {
      throw new Error(
        `Cannot map engine rings: shared layout ${version}/${recordBytes} is not ${LAYOUT_VERSION}/64; rebuild native/`,
      );
    }
    this.#cmdMask = cmdCap! - 1;
    this.#evtMask = evtCap! - 1;
    this.#cmdBase = cmdOffset! / 4;
    this.#evtBase = evtOffset! / 4;
  }

  /**
   * Creates an engine for these instruments (not yet started): their tick
   * sizes, and their maximum order quantities, which pre-trade risk applies
   * to every order whatever the account's own limit.
   *
   * @param instruments The instrument table; position = instrument number.
   * @param options Ring sizes.
   * @returns The engine.
   * @throws {RangeError} When the native side refuses the configuration.
   */
  static open(instruments: readonly Instrument[], options: EngineOptions = {}): NativeEngine {
    const lib = nativeLibrary();
    const ticks = new BigInt64Array(instruments.map((i) => BigInt(i.tickSize)));
    const handle = lib.engine_new(
      ticks,
      instruments.length,
      options.commandCapacity ?? 1 << 16,
      options.eventCapacity ?? 1 << 18,
    );
    if (handle === null) throw new RangeError(lastNativeError(lib));
    const maxQty = new BigInt64Array(instruments.map((i) => BigInt(i.maxOrderQty)));
    if (lib.engine_set_max_order_qty(handle, maxQty, instruments.length) !== 0) {
      const message = lastNativeError(lib);
      lib.engine_drop(handle);
      throw new RangeError(message);
    }
    return new NativeEngine(lib, handle);
  }

  /** The native handle (for inline use by `InlineMatcher` and benches). */
  get handle(): Deno.PointerObject {
    if (this.#handle === null) throw new Error("Cannot use engine: it is closed");
    return this.#handle;
  }

  /** The opened library. */
  get lib(): NativeSymbols {
    return this.#lib;
  }

  /**
   * Starts the engine thread, pinned to `cpu` (default: the last CPU).
   * Pinning is best effort; the placement says what the host allowed.
   *
   * @param cpu The CPU index, or -1 for the last one.
   * @returns Where the thread runs.
   * @throws {Error} When the thread cannot start.
   */
  start(cpu = -1): Placement {
    const rc = this.#lib.engine_start(this.handle, cpu);
    if (rc < 0) throw new Error(lastNativeError(this.#lib));
    const out = new BigInt64Array(10);
    this.#lib.engine_placement(this.handle, out);
    const [onCpu, , tid, node, policy, bound, bind, huge, hugeErr, thp] = Array.from(out, Number);
    const outcome = (code: number, ok: string) =>
      code === 0 ? ok : code === -1 ? "not attempted" : errnoText(code);
    const placement: Placement = {
      cpu: onCpu!,
      pinned: rc === 0,
      threadId: tid!,
      ...(rc === 0 ? {} : { pinError: errnoText(rc) }),
      ...(node! >= 0 ? { node: node! } : {}),
      memoryPolicy: outcome(policy!, "bound"),
      boundBytes: bound!,
      binding: outcome(bind!, "bound"),
      hugePageBytes: huge!,
      hugePages: outcome(hugeErr!, "advised"),
      transparentHugePages: THP[thp!] ?? "unknown",
    };
    this.#placement = placement;
    return placement;
  }

  /** The placement of the running thread, if started. */
  get placement(): Placement | undefined {
    return this.#placement;
  }

  /** The engine thread's status (one of {@linkcode EngineStatus}). */
  get status(): number {
    return Atomics.load(this.#u32, STATUS);
  }

  /** Commands pushed so far (wrapping at 2^32). */
  get pushed(): number {
    return this.#pushed;
  }

  /** Commands whose events are all published (wrapping at 2^32). */
  get processed(): number {
    return Atomics.load(this.#u32, PROCESSED);
  }

  /**
   * Writes a command into the next free slot, unpublished until
   * {@linkcode NativeEngine.flush}.
   *
   * @param command The command.
   * @param tag The caller's correlation tag, echoed on its events; for a
   *   place order, the client's order id, which the order keeps while it
   *   rests (see {@linkcode NativeEngine.restingOrders}).
   * @param placer For a place order: the engine number of the account that
   *   placed it for another (an admin), kept with it as its tag is;
   *   undefined when its own account placed it.
   * @returns False when the ring is full (drain events, then retry).
   */
  push(command: Command, tag: number | bigint = 0, placer?: number): boolean {
    const at = this.#reserve();
    if (at < 0) return false;
    writeCommand(this.#u32, at, command, tag, placer);
    this.#commit();
    return true;
  }

  /**
   * Writes a define-account command (journaled, so that tools can print the
   * account's name); its answer is an `EV_ACCOUNT_DEFINED` event.
   *
   * @param account The account number.
   * @param name Its name (1 to 48 bytes of UTF-8).
   * @returns False when the ring is full.
   * @throws {RangeError} When the name is empty or too long.
   */
  pushDefineAccount(account: number, name: string): boolean {
    const at = this.#reserve();
    if (at < 0) return false;
    writeDefineAccount(this.#u32, at, account, name);
    this.#commit();
    return true;
  }

  /**
   * Writes a risk control command (journaled like an order, so replay
   * restores it); its answer is an `EV_CONTROL_APPLIED` event, or a reject.
   *
   * @param control What to set: a limit (0 removes it) for an account or
   *   `"all"` (the defaults), for every instrument or, for an account, one
   *   instrument (`maxOrderQty`, `maxNotional`, `position` and `collarBps`
   *   only; `"clear"` returns it to the account's own); a kill switch; or an
   *   instrument's reference price.
   * @returns False when the ring is full.
   *
   * @example
   * ```ts
   * import { NativeEngine } from "./engine.ts";
   * import { loadInstruments } from "../matching/instruments.ts";
   * const engine = NativeEngine.open(loadInstruments());
   * engine.start();
   * engine.pushRiskControl({ limit: "maxOrderQty", account: "all", value: 1000 });
   * engine.flush();
   * engine.close();
   * ```
   */
  pushRiskControl(
    control:
      | {
        limit: RiskLimitName;
        account: number | "all";
        /** `undefined`: every instrument; a number: an override for that instrument alone. */
        instrument?: number;
        /** Non-negative, 0 = no limit; `"clear"` drops an instrument's override. */
        value: number | "clear";
      }
      | { killSwitch: boolean; account: number | "all" }
      | { referencePrice: number; instrument: number },
  ): boolean {
    const at = this.#reserve();
    if (at < 0) return false;
    const account = (a: number | "all") => (a === "all" ? ALL_ACCOUNTS : a);
    if ("limit" in control) {
      writeSetRiskLimit(this.#u32, at, {
        account: account(control.account),
        limit: RiskLimit[control.limit],
        instrument: control.instrument,
        value: control.value === "clear" ? -1 : control.value,
      });
    } else if ("killSwitch" in control) {
      writeKillSwitch(this.#u32, at, account(control.account), control.killSwitch);
    } else {
      writeReferencePrice(this.#u32, at, control.instrument, control.referencePrice);
    }
    this.#commit();
    return true;
  }

  /**
   * Writes a state-hash query; its answer is an `EV_STATE_HASH` event.
   *
   * @returns False when the ring is full.
   */
  pushHashQuery(): boolean {
    const at = this.#reserve();
    if (at < 0) return false;
    writeHashQuery(this.#u32, at);
    this.#commit();
    return true;
  }

  /**
   * Reserves the next command slot for a caller that encodes in place.
   *
   * @returns The slot's word offset in {@linkcode NativeEngine.words}, or -1 when full.
   */
  reserve(): number {
    return this.#reserve();
  }

  /** Commits the slot returned by {@linkcode NativeEngine.reserve}. */
  commit(): void {
    this.#commit();
  }

  /** The shared block as 32-bit words (for in-place encoders). */
  get words(): Uint32Array {
    return this.#u32;
  }

  #reserve(): number {
    if (((this.#cmdTail - this.#cmdHeadSeen) >>> 0) > this.#cmdMask) {
      this.#cmdHeadSeen = Atomics.load(this.#u32, CMD_HEAD);
      if (((this.#cmdTail - this.#cmdHeadSeen) >>> 0) > this.#cmdMask) return -1;
    }
    return this.#cmdBase + (this.#cmdTail & this.#cmdMask) * RECORD_WORDS;
  }

  #commit(): void {
    this.#cmdTail = (this.#cmdTail + 1) >>> 0;
    this.#pushed = (this.#pushed + 1) >>> 0;
  }

  /** Publishes pushed commands and wakes the engine thread if it sleeps. */
  flush(): void {
    // SeqCst store then load: pairs with the engine's store(sleeping) then
    // load(cmd_tail), so either it sees our tail or we see it asleep.
    Atomics.store(this.#u32, CMD_TAIL, this.#cmdTail);
    if (Atomics.load(this.#u32, SLEEPING) === 1) this.#lib.engine_wake(this.handle);
  }

  /**
   * Consumes every published event, calling `onEvent` with the shared words
   * and the record's word offset (valid only during the call).
   *
   * @param onEvent Called once per event, in order.
   * @returns The number of events consumed.
   * @throws {Error} When the engine thread has failed.
   */
  drain(onEvent: (u32: Uint32Array, at: number) => void): number {
    const tail = Atomics.load(this.#u32, EVT_TAIL);
    let head = this.#evtHead;
    if (head === tail) {
      if (Atomics.load(this.#u32, STATUS) === EngineStatus.Failed) {
        throw new Error("Cannot read events: the engine thread failed");
      }
      return 0;
    }
    const n = (tail - head) >>> 0;
    for (let i = 0; i < n; i++) {
      onEvent(this.#u32, this.#evtBase + (head & this.#evtMask) * RECORD_WORDS);
      head = (head + 1) >>> 0;
    }
    this.#evtHead = head;
    Atomics.store(this.#u32, EVT_HEAD, head);
    return n;
  }

  /**
   * Waits, off the event loop, until events arrive or `timeoutMs` passes.
   *
   * @param timeoutMs The longest wait.
   */
  async waitForEvents(timeoutMs: number): Promise<void> {
    await this.#lib.engine_wait_events(this.handle, this.#evtHead, timeoutMs);
  }

  /**
   * Stops the engine thread after it drains the command ring (inline use is
   * possible again afterwards).
   *
   * @throws {Error} When the thread had failed.
   */
  stop(): void {
    if (this.#lib.engine_stop(this.handle) !== 0) throw new Error(lastNativeError(this.#lib));
  }

  /**
   * Opens (or creates) the journal, recovers the books from it (newest valid
   * snapshot, then the journal after it) and journals every command from
   * then on. Call it before {@linkcode NativeEngine.start}, on a fresh engine.
   *
   * @param options Folder, durability, segment size, snapshot cadence, meta.
   * @returns What recovery found and did.
   * @throws {Error} When the journal is corrupt before its tail, was written
   *   for other instruments, or cannot be opened; the message says which.
   */
  openJournal(options: JournalOptions): RecoveryReport {
    const dir = new TextEncoder().encode(options.dir);
    const meta = new TextEncoder().encode(options.meta);
    const args = [
      DURABILITY[options.durability ?? "process-crash"],
      Math.round((options.groupCommitDelayMs ?? 2) * 1000),
      BigInt(options.segmentBytes ?? 64 * 1024 * 1024),
      BigInt(options.snapshotEvery ?? 1_000_000),
      options.retention === "snapshots" ? 1 : 0,
    ] as const;
    const rc = this.#lib.engine_open_journal(
      this.handle,
      dir,
      BigInt(dir.length),
      meta,
      BigInt(meta.length),
      ...args,
    );
    if (rc !== 0) throw new Error(lastNativeError(this.#lib));
    return this.recoveryReport()!;
  }

  /**
   * The last recovery report, or undefined before any.
   *
   * @returns What recovery found and did.
   */
  recoveryReport(): RecoveryReport | undefined {
    const len = Number(this.#lib.engine_recovery_report(this.handle, null, 0n));
    if (len === 0) return undefined;
    const buf = new Uint8Array(len);
    this.#lib.engine_recovery_report(this.handle, buf, BigInt(len));
    return JSON.parse(new TextDecoder().decode(buf)) as RecoveryReport;
  }

  /**
   * Why the engine halted (its journal failed), or undefined.
   *
   * @returns The reason, saying what failed and why.
   */
  haltReason(): string | undefined {
    const len = Number(this.#lib.engine_halt_reason(this.handle, null, 0n));
    if (len === 0) return undefined;
    const buf = new Uint8Array(len);
    this.#lib.engine_halt_reason(this.handle, buf, BigInt(len));
    return new TextDecoder().decode(buf);
  }

  /**
   * Why the engine halted, with the errno of the OS call that failed, or
   * undefined while it has not halted. Cheap enough to call once a status
   * change is seen ({@linkcode NativeEngine.status} is
   * {@linkcode EngineStatus.Halted}); any thread's state may be read.
   *
   * @returns The reason, errno and its name.
   *
   * @example
   * ```ts
   * import { NativeEngine } from "./engine.ts";
   * import { loadInstruments } from "../matching/instruments.ts";
   * const engine = NativeEngine.open(loadInstruments());
   * if (engine.haltCause() !== undefined) throw new Error("a new engine has not halted");
   * engine.close();
   * ```
   */
  haltCause(): EngineHalt | undefined {
    const len = Number(this.#lib.engine_halt_cause(this.handle, null, 0n));
    if (len === 0) return undefined;
    const buf = new Uint8Array(len);
    this.#lib.engine_halt_cause(this.handle, buf, BigInt(len));
    return JSON.parse(new TextDecoder().decode(buf)) as EngineHalt;
  }

  /**
   * Test seam: failures the next {@linkcode NativeEngine.openJournal} injects
   * into its journal, so that tests can see what a full disk or a failed
   * sync does without filling a disk. Never set in production.
   *
   * @param faults Which segment's preparation fails with `ENOSPC`, which sync with `EIO`.
   * @throws {Error} When the native side refuses.
   *
   * @example
   * ```ts
   * import { NativeEngine } from "./engine.ts";
   * import { loadInstruments } from "../matching/instruments.ts";
   * const dir = Deno.makeTempDirSync();
   * const engine = NativeEngine.open(loadInstruments());
   * engine.injectFaults({ enospcOnSegment: 0 });
   * let message = "";
   * try {
   *   engine.openJournal({ dir, meta: "{}" });
   * } catch (error) {
   *   message = (error as Error).message;
   * }
   * if (!message.includes("(ENOSPC)")) throw new Error(message);
   * engine.close();
   * Deno.removeSync(dir, { recursive: true });
   * ```
   */
  injectFaults(faults: JournalFaults): void {
    const rc = this.#lib.engine_inject_faults(
      this.handle,
      BigInt(faults.enospcOnSegment ?? -1),
      BigInt(faults.failSyncOn ?? 0),
    );
    if (rc !== 0) throw new Error(lastNativeError(this.#lib));
  }

  /**
   * Every account's non-zero net position per instrument, from the
   * engine's risk state (every fill since the journal began, recovered on
   * restart), read on the caller's thread while the engine thread is not
   * running (after recovery, before {@linkcode NativeEngine.start}).
   *
   * @returns Positions ascending by account, then instrument.
   * @throws {Error} While the engine thread runs.
   *
   * @example
   * ```ts
   * import { NativeEngine } from "./engine.ts";
   * import { loadInstruments } from "../matching/instruments.ts";
   * const engine = NativeEngine.open(loadInstruments());
   * if (engine.positions().length !== 0) throw new Error("a new engine holds no position");
   * engine.close();
   * ```
   */
  positions(): EnginePosition[] {
    let out = new BigUint64Array(2 * 256);
    let n: number;
    for (;;) {
      n = Number(this.#lib.engine_positions(this.handle, out, BigInt(out.length / 2)));
      if (n < 0) throw new Error(lastNativeError(this.#lib));
      if (n * 2 <= out.length) break;
      out = new BigUint64Array(2 * n);
    }
    const positions: EnginePosition[] = [];
    for (let i = 0; i < n; i++) {
      const key = out[2 * i]!;
      positions.push({
        account: Number(key & 0xffff_ffffn),
        instrument: Number(key >> 32n),
        net: Number(BigInt.asIntN(64, out[2 * i + 1]!)),
      });
    }
    return positions;
  }

  /**
   * Asks the running engine thread for its state hash (a query through the
   * rings, answered in order after every command pushed before it), draining
   * and discarding other events meanwhile: call it when no events are
   * outstanding that the caller still needs.
   *
   * @returns FNV-1a 64 over every book (`core/matching/STATE_HASH.md`).
   * @throws {Error} When the engine thread has failed.
   */
  queryStateHash(): bigint {
    while (!this.pushHashQuery()) this.drain(() => {});
    this.flush();
    let hash: bigint | undefined;
    while (hash === undefined) {
      this.drain((u32, at) => {
        if (eventKind(u32, at) === EV_STATE_HASH) hash = eventHash(u32, at);
      });
    }
    return hash;
  }

  /**
   * The state hash, read on the caller's thread: only while the engine
   * thread is not running (before {@linkcode NativeEngine.start} or after
   * {@linkcode NativeEngine.stop}). While it runs, push a hash query.
   *
   * @returns FNV-1a 64 over every book (`core/matching/STATE_HASH.md`).
   * @throws {Error} While the engine thread runs.
   */
  stateHash(): bigint {
    const out = new BigUint64Array(1);
    if (this.#lib.engine_state_hash(this.handle, out) !== 0) {
      throw new Error(lastNativeError(this.#lib));
    }
    return out[0]!;
  }

  /**
   * An instrument's resting orders, read on the caller's thread while the
   * engine thread is not running (e.g. after recovery, before
   * {@linkcode NativeEngine.start}), so that the market data can start from
   * the recovered books.
   *
   * Each order comes with the client order id and placer its place
   * command carried ({@linkcode NativeEngine.push}), so that the gateway
   * gives it back to whoever placed it after a restart.
   *
   * @param instrument The instrument's number.
   * @returns Bids then asks, best price first, each level in time priority.
   * @throws {Error} While the engine thread runs, or for an unknown instrument.
   */
  restingOrders(instrument: number): RestingOrder[] {
    const words = 6; // per order: see engine_resting_orders in native/src/ffi.rs
    let out = new BigUint64Array(words * 256);
    let n: number;
    for (;;) {
      n = Number(
        this.#lib.engine_resting_orders(this.handle, instrument, out, BigInt(out.length / words)),
      );
      if (n < 0) throw new Error(lastNativeError(this.#lib));
      if (n * words <= out.length) break;
      out = new BigUint64Array(words * n);
    }
    const orders: RestingOrder[] = [];
    for (let i = 0; i < n; i++) {
      const at = words * i;
      const bits = out[at + 1]!;
      // The record holds the placer's number + 1; 0: the order's own account.
      const placer = Number(out[at + 5]! & 0xffff_ffffn);
      orders.push({
        id: Number(out[at]!),
        account: Number(bits & 0xffff_ffffn),
        instrument,
        side: Number((bits >> 32n) & 0xffn) === Side.Buy ? Side.Buy : Side.Sell,
        postOnly: ((bits >> 40n) & 1n) === 1n,
        price: Number(BigInt.asIntN(64, out[at + 2]!)),
        qty: Number(BigInt.asIntN(64, out[at + 3]!)),
        clientOrderId: out[at + 4]!,
        placer: placer === 0 ? null : placer - 1,
      });
    }
    return orders;
  }

  /** Stops the thread and frees the engine. Idempotent. */
  close(): void {
    if (this.#handle === null) return;
    this.#lib.engine_drop(this.#handle);
    this.#handle = null;
  }
}
