/**
 * `deno task build:native`: builds the Rust kernels (`cargo build --release`)
 * and says so only when there is something to build.
 *
 * The tasks that need the library (`start`, `test`, `bench`, …) run this
 * first. Up to date, it prints nothing, so their output starts with their
 * own. When cargo compiles (the first build takes about 20 s of LTO), it
 * first says what is being built and why it takes a while, then passes on
 * cargo's progress lines (`Compiling …`, `Finished …`). Whatever else cargo
 * says (errors, warnings, waiting for another build's lock) is passed on as
 * it comes. The exit code is cargo's.
 *
 * @module
 */

/** The line printed before the first thing cargo compiles. */
export const BUILDING =
  "building the native kernels (cargo build --release, native/): ~20 s on a first build …";

/**
 * Decides which of cargo's status lines to show: a stateful filter fed one
 * line at a time.
 *
 * @returns A function from a line of cargo's stderr to the lines to print
 *   (none, the line, or the {@linkcode BUILDING} header and the line).
 *
 * @example
 * ```ts
 * import { BUILDING, cargoLines } from "./build_native.ts";
 * const quiet = cargoLines();
 * if (quiet("    Finished `release` profile [optimized] target(s) in 0.05s").length !== 0) {
 *   throw new Error("an up-to-date build should print nothing");
 * }
 * const building = cargoLines();
 * const shown = building("   Compiling tradecaptain-native v0.1.0 (/repo/native)");
 * if (shown[0] !== BUILDING) throw new Error("a build should say what it builds first");
 * ```
 */
export function cargoLines(): (line: string) => string[] {
  let compiling = false;
  return (line) => {
    const status = line.trimStart();
    if (status.startsWith("Compiling ") && !compiling) {
      compiling = true;
      return [BUILDING, line];
    }
    // "Finished" (and "Fresh", with -v) alone mean nothing was built.
    if (!compiling && (status.startsWith("Finished ") || status.startsWith("Fresh "))) return [];
    return [line];
  };
}

/**
 * Runs cargo and relays its output through {@linkcode cargoLines}.
 *
 * @param manifest The Cargo manifest to build (`native/Cargo.toml`).
 * @returns Cargo's exit code.
 *
 * @example
 * ```ts ignore
 * import { buildNative } from "./build_native.ts";
 * Deno.exit(await buildNative("native/Cargo.toml"));
 * ```
 */
export async function buildNative(manifest: string): Promise<number> {
  const child = new Deno.Command("cargo", {
    // No --quiet: its status lines are what says whether anything is built.
    args: ["build", "--release", "--locked", "--manifest-path", manifest, "--color", "never"],
    stdin: "null",
    stdout: "inherit",
    stderr: "piped",
  }).spawn();
  const show = cargoLines();
  let rest = "";
  for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
    const lines = (rest + chunk).split("\n");
    rest = lines.pop()!;
    for (const line of lines) for (const shown of show(line)) console.error(shown);
  }
  if (rest !== "") { for (const shown of show(rest)) console.error(shown); }
  return (await child.status).code;
}

if (import.meta.main) {
  Deno.exit(await buildNative(new URL("../../native/Cargo.toml", import.meta.url).pathname));
}
