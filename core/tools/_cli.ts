/**
 * What the command-line tools share: paths as the user typed them, and
 * error messages.
 *
 * @module
 */

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

/**
 * Reads the value of option `name` at `args[i]`, as `--name value` or
 * `--name=value`.
 *
 * @param args The arguments.
 * @param i The index of the option.
 * @param name The option, with its dashes.
 * @returns The value and the index of the last argument used; undefined when
 *   `args[i]` is not the option; a value of undefined when it lacks one.
 *
 * @example
 * ```ts
 * import { optionValue } from "./_cli.ts";
 * import { assertEquals } from "../_testing/assert.ts";
 *
 * assertEquals(optionValue(["--journal", "j"], 0, "--journal"), { value: "j", last: 1 });
 * assertEquals(optionValue(["--journal=j"], 0, "--journal"), { value: "j", last: 0 });
 * assertEquals(optionValue(["--journal"], 0, "--journal"), { value: undefined, last: 0 });
 * assertEquals(optionValue(["--journalx"], 0, "--journal"), undefined);
 * ```
 */
export function optionValue(
  args: readonly string[],
  i: number,
  name: string,
): { value: string | undefined; last: number } | undefined {
  const arg = args[i];
  if (arg === name) {
    const value = args[i + 1];
    return value === undefined ? { value: undefined, last: i } : { value, last: i + 1 };
  }
  if (arg?.startsWith(`${name}=`)) {
    const value = arg.slice(name.length + 1);
    return { value: value === "" ? undefined : value, last: i };
  }
  return undefined;
}
