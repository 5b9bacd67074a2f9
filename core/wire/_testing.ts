/**
 * Test helpers for the wire: the reference `capnp` tool, frames built by hand.
 *
 * @module
 */

import { Message } from "capnp-es";
import * as gen from "../../schemas/gen/gateway.ts";
import { REPOSITORY_ROOT } from "./schemas.ts";

// Frames by hand live beside the frame check (schemas/wire/frame.ts).
export { framed, words } from "../../schemas/wire/_testing.ts";

/** The schema, relative to the repository root (the `capnp` tool runs there). */
export const SCHEMA = "schemas/gateway.capnp";

/**
 * Runs the reference `capnp` tool in the repository root.
 *
 * @param args Its arguments.
 * @param stdin Bytes for its standard input.
 * @returns Its standard output.
 * @throws {Error} If the tool is not installed (the tests need it: CI installs
 * Debian's `capnproto`), or exits with an error.
 */
export async function capnp(args: string[], stdin: Uint8Array | string): Promise<Uint8Array> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("capnp", {
      args,
      cwd: REPOSITORY_ROOT,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error(
        "The reference Cap'n Proto tool `capnp` is not installed; these tests need it " +
          "(Debian: apt-get install capnproto; .ci/run installs it)",
        { cause: e },
      );
    }
    throw e;
  }
  // Written while the output is read: a large input must not wait on a full pipe.
  const writer = child.stdin.getWriter();
  const writing = (async () => {
    await writer.write(typeof stdin === "string" ? new TextEncoder().encode(stdin) : stdin);
    await writer.close();
  })();
  const [out] = await Promise.all([child.output(), writing]);
  if (!out.success) {
    throw new Error(
      `capnp ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr).trim()}`,
    );
  }
  return out.stdout;
}

/** Whether this is CI (`CI=true`), where a missing `capnp` is a failure, not a skip. */
export const IN_CI = Deno.env.get("CI") === "true";

/** Why `capnp` cannot run here, or undefined if it can. */
export function capnpMissing(): string | undefined {
  try {
    const out = new Deno.Command("capnp", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync();
    return out.success ? undefined : "`capnp --version` failed";
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return "the reference tool `capnp` is not installed";
    throw e;
  }
}

/**
 * Registers a test that needs the reference `capnp` tool. Without the tool
 * it is skipped, with the reason in its name, except in CI (`CI=true`),
 * which installs Debian's `capnproto`: there it runs and fails.
 *
 * @param name The test's name.
 * @param fn The test.
 */
export function capnpTest(name: string, fn: () => Promise<void>): void {
  const missing = capnpMissing();
  if (missing !== undefined && !IN_CI) {
    Deno.test({
      name: `${name} (SKIPPED: ${missing}; apt-get install capnproto)`,
      ignore: true,
      fn,
    });
    return;
  }
  Deno.test(name, fn);
}

/** A struct pointer word: offset (words after the pointer), data words, pointer count. */
export function structPointer(offset: number, dataWords: number, pointers: number): bigint {
  return BigInt((offset << 2) >>> 0) | BigInt(dataWords) << 32n | BigInt(pointers) << 48n;
}

/** A far pointer word: landing pad at word `offset` of segment `segment`. */
export function farPointer(offset: number, segment: number): bigint {
  return BigInt(((offset << 3) | 2) >>> 0) | BigInt(segment) << 32n;
}

/**
 * Builds a client frame with capnp-es directly, for values
 * `encodeClientMessage` cannot express (unknown enumerants, raw 64-bit values).
 */
export function buildClient(fill: (root: gen.ClientMessage) => void): Uint8Array {
  const message = new Message();
  fill(message.initRoot(gen.ClientMessage));
  return new Uint8Array(message.toArrayBuffer());
}

/**
 * The byte offset, in a single-segment frame, of the root struct's data
 * section (where `requestId`, `sentAt` and the union tag live).
 */
export function rootData(frame: Uint8Array): number {
  const pointer = new DataView(frame.buffer, frame.byteOffset).getInt32(8, true);
  return 8 + 8 + (pointer >> 2) * 8;
}

/** Sets a little-endian u16 / u32 in a copy of `frame`. */
export function patched(
  frame: Uint8Array,
  at: number,
  value: number,
  width: 2 | 4 = 4,
): Uint8Array {
  const out = frame.slice();
  const view = new DataView(out.buffer);
  if (width === 2) view.setUint16(at, value, true);
  else view.setUint32(at, value, true);
  return out;
}

/**
 * What capnp-es's own error messages hold (its name, its arena, pointer
 * dumps), which the wire's messages about a frame never do.
 */
export const CAPNP_ES_TEXT: RegExp =
  /CAPNP-TS|capnp-es|arena|Segment ID|Pointer offset|DataView|typed array|Attempted|->|@0x|\[/i;
