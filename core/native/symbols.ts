/**
 * The native library's symbol table: the only `Deno.dlopen` in the project.
 *
 * Each entry mirrors one function in `native/src/ffi.rs`, whose doc comment
 * states its safety contract. Keep the two in step.
 *
 * @module
 */

/** The FFI signatures of `libtradecaptain_native`. */
export const SYMBOLS = {
  native_version: { parameters: [], result: "pointer" },
  tc_last_error: { parameters: ["buffer", "usize"], result: "usize" },
  engine_new: { parameters: ["buffer", "u32", "u32", "u32"], result: "pointer" },
  engine_drop: { parameters: ["pointer"], result: "void" },
  engine_set_max_order_qty: { parameters: ["pointer", "buffer", "u32"], result: "i32" },
  engine_reserve: { parameters: ["pointer", "u64"], result: "i32" },
  engine_apply: { parameters: ["pointer", "buffer"], result: "i64" },
  engine_events: { parameters: ["pointer"], result: "pointer" },
  engine_state_hash: { parameters: ["pointer", "buffer"], result: "i32" },
  engine_resting_orders: { parameters: ["pointer", "u32", "buffer", "u64"], result: "i64" },
  engine_shared: { parameters: ["pointer"], result: "pointer" },
  engine_shared_len: { parameters: ["pointer"], result: "u64" },
  engine_start: { parameters: ["pointer", "i32"], result: "i32" },
  engine_placement: { parameters: ["pointer", "buffer"], result: "i32" },
  engine_stop: { parameters: ["pointer"], result: "i32" },
  engine_wake: { parameters: ["pointer"], result: "void" },
  engine_wait_events: {
    parameters: ["pointer", "u32", "u32"],
    result: "u32",
    nonblocking: true,
  },
  thread_pin: { parameters: ["u32"], result: "i32" },
  heap_trim: { parameters: [], result: "i32" },
  engine_open_journal: {
    parameters: [
      "pointer",
      "buffer",
      "usize",
      "buffer",
      "usize",
      "u32",
      "u32",
      "u64",
      "u64",
      "u32",
    ],
    result: "i32",
  },
  engine_recovery_report: { parameters: ["pointer", "buffer", "usize"], result: "usize" },
  engine_halt_reason: { parameters: ["pointer", "buffer", "usize"], result: "usize" },
  engine_halt_cause: { parameters: ["pointer", "buffer", "usize"], result: "usize" },
  engine_positions: { parameters: ["pointer", "buffer", "u64"], result: "i64" },
  engine_inject_faults: { parameters: ["pointer", "i64", "u64"], result: "i32" },
  engine_bench_core: {
    parameters: ["pointer", "buffer", "u64", "buffer", "usize", "buffer"],
    result: "i32",
  },
  journal_verify: { parameters: ["buffer", "usize", "buffer", "usize", "u32"], result: "i64" },
  journal_writer: { parameters: ["buffer", "usize"], result: "i64" },
  journal_retire: { parameters: ["buffer", "usize"], result: "i64" },
  journal_bench: {
    parameters: ["buffer", "usize", "u64", "u32", "u64", "buffer", "buffer"],
    result: "i32",
  },
  journal_reader_open: { parameters: ["buffer", "usize", "u32"], result: "pointer" },
  journal_reader_next: { parameters: ["pointer", "buffer", "buffer", "usize"], result: "i32" },
  journal_reader_drop: { parameters: ["pointer"], result: "void" },
  engine_bench: {
    parameters: ["pointer", "buffer", "u64", "buffer", "buffer"],
    result: "i32",
  },
} as const;

/** The opened library's functions. */
export type NativeSymbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** Path of the release build, relative to this file. */
const DEFAULT_PATH = new URL(
  "../../native/target/release/libtradecaptain_native.so",
  import.meta.url,
);

let library: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;

/**
 * Opens the native library once per process and returns its symbols.
 * `TRADECAPTAIN_NATIVE_LIB` overrides the path of the release build.
 *
 * @returns The library's functions.
 * @throws {Deno.errors.NotFound} When the library has not been built.
 *
 * @example
 * ```ts
 * import { nativeLibrary } from "./symbols.ts";
 * const lib = nativeLibrary();
 * const version = Deno.UnsafePointerView.getCString(lib.native_version()!);
 * if (!version.startsWith("tradecaptain-native")) throw new Error(version);
 * ```
 */
export function nativeLibrary(): NativeSymbols {
  if (library) return library.symbols;
  const path = Deno.env.get("TRADECAPTAIN_NATIVE_LIB") ?? DEFAULT_PATH;
  try {
    Deno.statSync(path);
  } catch {
    throw new Deno.errors.NotFound(
      `Cannot load native kernels: ${path} does not exist; build them with \`deno task build:native\``,
    );
  }
  library = Deno.dlopen(path, SYMBOLS);
  return library.symbols;
}

/**
 * The calling thread's last native error message.
 *
 * @param lib The opened library.
 * @returns The message, or "" when there is none.
 *
 * @example
 * ```ts
 * import { lastNativeError, nativeLibrary } from "./symbols.ts";
 * const lib = nativeLibrary();
 * lib.engine_new(new BigInt64Array([0n]), 1, 1024, 1024); // tick 0 is refused
 * if (!lastNativeError(lib).includes("tick size 0")) throw new Error("expected a message");
 * ```
 */
export function lastNativeError(lib: NativeSymbols): string {
  const len = Number(lib.tc_last_error(null, 0n));
  if (len === 0) return "";
  const buf = new Uint8Array(len);
  lib.tc_last_error(buf, BigInt(len));
  return new TextDecoder().decode(buf);
}
