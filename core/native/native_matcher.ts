/**
 * The native engine as a {@linkcode Matcher}, in its two modes:
 *
 * - `"ring"` (the default): commands go through the shared-memory rings to
 *   the pinned engine thread, many in flight at once. This is the production
 *   path, and what `deno task match` uses.
 * - `"inline"`: one FFI call per command on the caller's thread. Simple and
 *   synchronous; for tests and tools that want no second thread.
 *
 * Both decode events into objects, which is fine for tools and tests; hot
 * paths read records in place through {@linkcode NativeEngine.drain}.
 *
 * @module
 */

import type { Command, EngineEvent, Instrument, Matcher } from "../matching/types.ts";
import { type EngineOptions, NativeEngine } from "./engine.ts";
import { lastNativeError } from "./symbols.ts";
import {
  eventFlags,
  EVF_LAST,
  readEvent,
  RECORD_BYTES,
  RECORD_WORDS,
  writeCommand,
} from "./records.ts";

/** Options for {@linkcode openNativeMatcher}. */
export interface NativeMatcherOptions extends EngineOptions {
  /** `"ring"` (engine thread, default) or `"inline"` (caller's thread). */
  readonly mode?: "ring" | "inline";
  /** CPU for the engine thread in ring mode (default: the last one). */
  readonly cpu?: number;
}

/**
 * Opens the native engine as a {@linkcode Matcher}.
 *
 * @param instruments The instrument table.
 * @param options Mode and ring sizes.
 * @returns A matcher; call `close()` when done.
 *
 * @example
 * ```ts
 * import { openNativeMatcher } from "./native_matcher.ts";
 * import { loadInstruments } from "../matching/instruments.ts";
 * import { CommandKind, OrderType, Side, TimeInForce } from "../matching/types.ts";
 *
 * const m = openNativeMatcher(loadInstruments(), { mode: "inline" });
 * const events = m.apply({
 *   kind: CommandKind.PlaceOrder, id: 1, account: 0, instrument: 0, side: Side.Buy,
 *   type: OrderType.Limit, tif: TimeInForce.Gtc, postOnly: false, price: 10050, qty: 5,
 * });
 * if (events[0]?.kind !== 1) throw new Error("expected accepted");
 * m.close();
 * ```
 */
export function openNativeMatcher(
  instruments: readonly Instrument[],
  options: NativeMatcherOptions = {},
): Matcher {
  const engine = NativeEngine.open(instruments, options);
  if (options.mode === "inline") return new InlineMatcher(engine);
  engine.start(options.cpu ?? -1);
  return new RingMatcher(engine);
}

/** One FFI call per command, on the caller's thread. */
class InlineMatcher implements Matcher {
  readonly #engine: NativeEngine;
  readonly #cmd = new Uint32Array(RECORD_WORDS);
  #events = new Uint32Array(RECORD_WORDS * 64);

  constructor(engine: NativeEngine) {
    this.#engine = engine;
  }

  apply(command: Command): EngineEvent[] {
    const { lib, handle } = this.#engine;
    writeCommand(this.#cmd, 0, command);
    const n = Number(lib.engine_apply(handle, this.#cmd));
    if (n < 0) throw new Error(lastNativeError(lib));
    if (this.#events.length < n * RECORD_WORDS) this.#events = new Uint32Array(n * RECORD_WORDS);
    const ptr = lib.engine_events(handle);
    if (ptr === null) throw new Error("Cannot read events: the engine returned none");
    new Deno.UnsafePointerView(ptr).copyInto(
      new Uint8Array(this.#events.buffer, 0, n * RECORD_BYTES),
    );
    const out: EngineEvent[] = [];
    for (let i = 0; i < n; i++) out.push(readEvent(this.#events, i * RECORD_WORDS));
    return out;
  }

  applyAll(commands: readonly Command[]): EngineEvent[][] {
    return commands.map((c) => this.apply(c));
  }

  stateHash(): bigint {
    return this.#engine.stateHash();
  }

  close(): void {
    this.#engine.close();
  }
}

/** Commands through the rings to the engine thread, pipelined. */
class RingMatcher implements Matcher {
  readonly #engine: NativeEngine;

  constructor(engine: NativeEngine) {
    this.#engine = engine;
  }

  apply(command: Command): EngineEvent[] {
    return this.applyAll([command])[0]!;
  }

  applyAll(commands: readonly Command[]): EngineEvent[][] {
    const engine = this.#engine;
    const results: EngineEvent[][] = commands.map(() => []);
    let next = 0;
    let current = 0;
    const onEvent = (u32: Uint32Array, at: number) => {
      results[current]!.push(readEvent(u32, at));
      if (eventFlags(u32, at) & EVF_LAST) current++;
    };
    while (current < commands.length) {
      while (next < commands.length && engine.push(commands[next]!)) next++;
      engine.flush();
      engine.drain(onEvent);
    }
    return results;
  }

  stateHash(): bigint {
    return this.#engine.queryStateHash();
  }

  close(): void {
    this.#engine.close();
  }
}
