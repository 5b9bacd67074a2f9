/**
 * What the command-line tools share: paths as the user typed them, and
 * error messages.
 *
 * @module
 */

import { parseArgs, type ParseArgsOptionsConfig } from "node:util";

/**
 * A path as the user meant it. `deno task` runs in the directory of
 * `deno.json`, not where it was typed; it says where in `INIT_CWD`, so a
 * relative path is taken from there.
 *
 * @param path The path from the command line.
 * @returns The path to open.
 *
 * @example
 * ```ts
 * import { fromInvocationDir } from "./_cli.ts";
 * if (fromInvocationDir("/tmp/j") !== "/tmp/j") throw new Error("absolute paths stay");
 * ```
 */
export function fromInvocationDir(path: string): string {
  if (path.startsWith("/")) return path;
  const env = Deno.permissions.querySync({ name: "env", variable: "INIT_CWD" });
  const dir = env.state === "granted" ? Deno.env.get("INIT_CWD") : undefined;
  return dir ? `${dir}/${path}` : path;
}

/**
 * The message of anything thrown.
 *
 * @param error What was thrown.
 * @returns Its message.
 *
 * @example
 * ```ts
 * import { messageOf } from "./_cli.ts";
 * if (messageOf(new Error("x")) !== "x" || messageOf(3) !== "3") throw new Error("bad message");
 * ```
 */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** What is wrong with a command line that `node:util`'s `parseArgs` refused. */
export type ArgumentFault =
  | {
    /** An option the tool does not know, or an argument where it takes none. */
    readonly kind: "unknown";
    /** The argument as typed (an option's name without its `=value`). */
    readonly arg: string;
  }
  | {
    /** An option that takes a value, given none (or one that looks like an option). */
    readonly kind: "needs_value";
    /** The option as typed, with its dashes. */
    readonly option: string;
  }
  | {
    /** A flag given a value (`--flag=x`). */
    readonly kind: "takes_no_value";
    /** The option as typed, with its dashes. */
    readonly option: string;
  };

/**
 * Says which argument made `parseArgs` (strict) refuse `args`, so that a
 * tool can word it in its own usage message: the first option that is not
 * in `options`, lacks its value or has one it does not take, or the first
 * positional argument when none are allowed. Reads `parseArgs`'s own tokens
 * (non-strict), so the command line is split exactly as it was refused.
 *
 * @param args The arguments.
 * @param options The options given to `parseArgs`.
 * @param allowPositionals Whether the tool takes positional arguments.
 * @returns The fault, or undefined when the arguments parse strictly.
 *
 * @example
 * ```ts
 * import { argumentFault } from "./_cli.ts";
 * const options = { journal: { type: "string" }, events: { type: "boolean" } } as const;
 * const fault = argumentFault(["--events", "--jounral", "j"], options, false);
 * if (fault?.kind !== "unknown" || fault.arg !== "--jounral") throw new Error("typo let in");
 * if (argumentFault(["--journal"], options, false)?.kind !== "needs_value") {
 *   throw new Error("missing value let in");
 * }
 * if (argumentFault(["--journal=j", "--events"], options, false) !== undefined) {
 *   throw new Error("good arguments refused");
 * }
 * ```
 */
export function argumentFault(
  args: readonly string[],
  options: ParseArgsOptionsConfig,
  allowPositionals: boolean,
): ArgumentFault | undefined {
  const { tokens } = parseArgs({
    args: [...args],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  for (const token of tokens) {
    if (token.kind === "option-terminator") continue;
    if (token.kind === "positional") {
      if (!allowPositionals) return { kind: "unknown", arg: token.value };
      continue;
    }
    const type = Object.hasOwn(options, token.name) ? options[token.name]!.type : undefined;
    if (type === undefined) return { kind: "unknown", arg: token.rawName };
    const value = token.value;
    if (type === "boolean" && value !== undefined) {
      return { kind: "takes_no_value", option: token.rawName };
    }
    // Strict parsing refuses a separate value that starts with a dash as ambiguous.
    if (
      type === "string" && (value === undefined || (!token.inlineValue && value.startsWith("-")))
    ) {
      return { kind: "needs_value", option: token.rawName };
    }
  }
  return undefined;
}
