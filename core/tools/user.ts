/**
 * `deno task user add|passwd|disable|enable NAME [--role trader] [--kv FILE]`:
 * manages the accounts people log in with, in the core's account store (the
 * KV file `--kv`, else `KV_PATH`, else `data/core.kv`), directly, as
 * `deno task token` does, whether the core runs or not.
 *
 * - `add NAME [--role trader|viewer|admin]` creates the account (a trader
 *   unless told otherwise) with a password;
 * - `passwd NAME` sets a new password;
 * - `disable NAME` refuses its logins and tokens from now on; a running
 *   core closes its connections within its account directory's poll
 *   (half a second: `core/app/account_directory.ts`);
 * - `enable NAME` lets it log in again (tokens of before stay dead).
 *
 * The password is read from the terminal without echo (asked twice), or,
 * when stdin is not a terminal, as its first line (so
 * `echo "$PASSWORD" | deno task user add ALICE` works). It must be 8
 * characters to 1 KiB of UTF-8, and is stored only as its scrypt hash
 * (`core/admin/password.ts`). Setting it ends the account's tokens.
 *
 * Usage errors exit with status 2, other failures with 1, both with a
 * message on stderr; what was done is said on stdout.
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  type AccountRole,
  AccountStore,
  hashPassword,
  isAccountRole,
  MAX_PASSWORD_BYTES,
  passwordProblem,
} from "../admin/mod.ts";
import { accountNameProblem } from "../../schemas/vocabulary/names.ts";
import { ROLES } from "../../schemas/vocabulary/roles.ts";
import { argumentFault, fromInvocationDir, messageOf } from "./_cli.ts";

const USAGE = `Usage: deno task user add|passwd|disable|enable NAME [--role ROLE] [--kv FILE]

Manages the accounts people log in with, in the core's account store.
  add NAME      create the account with a password (asked for, or read from stdin)
  passwd NAME   set a new password (the account's tokens and sessions end)
  disable NAME  refuse its logins and tokens; a running core closes its connections
  enable NAME   let it log in again
  --role ROLE   add only: ${ROLES.join(", ")} (default trader)
  --kv FILE     the account store (default: KV_PATH, else data/core.kv)`;

const COMMANDS = ["add", "passwd", "disable", "enable"] as const;
type Command = typeof COMMANDS[number];

/** A command-line mistake: exit status 2. */
class UsageError extends Error {
  override name = "UsageError";
}

interface Args {
  readonly command: Command;
  readonly name: string;
  readonly role: AccountRole;
  readonly kvPath: string;
}

const FLAGS = {
  role: { type: "string", multiple: true },
  kv: { type: "string", multiple: true },
  help: { type: "boolean", short: "h" },
} as const;

function parseCommandLine(args: readonly string[]): Args | undefined {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: FLAGS, strict: true, allowPositionals: true });
  } catch (error) {
    const fault = argumentFault(args, FLAGS, true);
    throw new UsageError(
      fault === undefined
        ? messageOf(error)
        : fault.kind === "unknown"
        ? `unknown argument ${JSON.stringify(fault.arg)}`
        : fault.kind === "needs_value"
        ? `${fault.option} needs a value`
        : `${fault.option} takes no value`,
    );
  }
  if (parsed.values.help) return undefined;
  const [command, name, ...rest] = parsed.positionals;
  if (command === undefined) throw new UsageError("name a command: add, passwd, disable or enable");
  if (!(COMMANDS as readonly string[]).includes(command)) {
    throw new UsageError(
      `unknown command ${JSON.stringify(command)} (commands: ${COMMANDS.join(", ")})`,
    );
  }
  if (name === undefined) throw new UsageError(`${command} needs an account name`);
  if (rest.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`);
  const problem = accountNameProblem(name);
  if (problem !== undefined) throw new UsageError(`the account name ${problem}`);
  const one = (flag: "role" | "kv") => {
    const given = parsed.values[flag];
    if (given === undefined) return undefined;
    if (given.length > 1) throw new UsageError(`--${flag} given twice`);
    if (given[0] === "") throw new UsageError(`--${flag} needs a value`);
    return given[0];
  };
  const role = one("role");
  if (role !== undefined && command !== "add") {
    throw new UsageError("--role goes with add only (an admin changes roles with the admin API)");
  }
  if (role !== undefined && !isAccountRole(role)) {
    throw new UsageError(`--role must be one of ${ROLES.join(", ")}, not ${JSON.stringify(role)}`);
  }
  const kv = one("kv");
  return {
    command: command as Command,
    name,
    role: (role ?? "trader") as AccountRole,
    kvPath: kv !== undefined ? fromInvocationDir(kv) : Deno.env.get("KV_PATH") || "data/core.kv",
  };
}

/** The longest line read from stdin: a password over 1 KiB is refused, not cut. */
const MAX_LINE_BYTES = MAX_PASSWORD_BYTES * 4 + 2;

/** Reads stdin's first line (without its end), at most {@linkcode MAX_LINE_BYTES}. */
async function readLine(): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const buffer = new Uint8Array(1024);
  for (;;) {
    const n = await Deno.stdin.read(buffer);
    if (n === null) break;
    const chunk = buffer.slice(0, n);
    const end = chunk.indexOf(10);
    chunks.push(end === -1 ? chunk : chunk.slice(0, end));
    size += end === -1 ? n : end;
    if (end !== -1 || size > MAX_LINE_BYTES) break;
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  return new TextDecoder().decode(bytes).replace(/\r$/, "");
}

/** Asks for a line on the terminal without echoing it; undefined when cancelled. */
async function ask(prompt: string): Promise<string | undefined> {
  const out = new TextEncoder();
  Deno.stderr.writeSync(out.encode(prompt));
  Deno.stdin.setRaw(true);
  const bytes: number[] = [];
  try {
    const buffer = new Uint8Array(64);
    for (;;) {
      const n = await Deno.stdin.read(buffer);
      if (n === null) return undefined;
      for (const byte of buffer.subarray(0, n)) {
        if (byte === 13 || byte === 10) return new TextDecoder().decode(new Uint8Array(bytes));
        if (byte === 3 || (byte === 4 && bytes.length === 0)) return undefined; // Ctrl-C, Ctrl-D
        if (byte === 127 || byte === 8) {
          // Backspace: drop the last character's bytes (UTF-8 continuation bytes too).
          while (bytes.length > 0 && (bytes.pop()! & 0xc0) === 0x80);
          continue;
        }
        if (bytes.length <= MAX_LINE_BYTES) bytes.push(byte);
      }
    }
  } finally {
    Deno.stdin.setRaw(false);
    Deno.stderr.writeSync(out.encode("\n"));
  }
}

/** The new password, from the terminal (twice) or stdin's first line. */
async function readPassword(name: string): Promise<string> {
  let password: string | undefined;
  if (Deno.stdin.isTerminal()) {
    password = await ask(`New password for ${name}: `);
    if (password === undefined) throw new Error("Cannot set password: cancelled");
    const again = await ask("Again: ");
    if (again !== password) throw new Error("Cannot set password: the two entries differ");
  } else {
    password = await readLine();
  }
  const problem = passwordProblem(password);
  if (problem !== undefined) {
    throw new Error(
      `Cannot set password: it ${problem}` +
        (password === "" && !Deno.stdin.isTerminal() ? " (give it on stdin, one line)" : ""),
    );
  }
  return password;
}

async function run(args: Args): Promise<string> {
  const { command, name, kvPath } = args;
  // Asked before the store is opened: no file is created for a refused password.
  const password = command === "add" || command === "passwd" ? await readPassword(name) : undefined;
  const slash = kvPath.lastIndexOf("/");
  if (slash > 0) await Deno.mkdir(kvPath.slice(0, slash), { recursive: true });
  const kv = await Deno.openKv(kvPath);
  try {
    const store = new AccountStore(kv);
    const shown = JSON.stringify(name);
    if (command === "add") {
      const created = await store.createAccount({ name, role: args.role });
      if (!created.ok) {
        throw new Error(
          created.fault.reason === "account_exists"
            ? `Cannot add account ${shown}: it exists in ${kvPath} (deno task user passwd ${name} sets its password)`
            : created.fault.message,
        );
      }
      const set = await store.setPassword(name, await hashPassword(password!));
      if (!set.ok) throw new Error(set.fault.message);
      return `added account ${shown} (${args.role}) with a password to ${kvPath}`;
    }
    if (command === "passwd") {
      const found = await store.getAccount(name);
      if (!found.ok) throw new Error(`Cannot set password: ${found.fault.message} in ${kvPath}`);
      const set = await store.setPassword(name, await hashPassword(password!));
      if (!set.ok) throw new Error(set.fault.message);
      return `set the password of account ${shown} in ${kvPath}; its tokens and sessions end`;
    }
    const enabled = command === "enable";
    const changed = await store.updateAccount(name, { enabled });
    if (!changed.ok) throw new Error(`${changed.fault.message} in ${kvPath}`);
    if (!changed.value.changed) return `account ${shown} was already ${command}d in ${kvPath}`;
    return enabled
      ? `enabled account ${shown} in ${kvPath}: it may log in again (its old tokens stay dead)`
      : `disabled account ${shown} in ${kvPath}: its logins and tokens are refused, and a ` +
        "running core closes its connections within a second";
  } finally {
    kv.close();
  }
}

async function main(argv: readonly string[]): Promise<number> {
  let args: Args | undefined;
  try {
    args = parseCommandLine(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`Cannot run deno task user: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (args === undefined) {
    console.log(USAGE);
    return 0;
  }
  try {
    console.log(await run(args));
    return 0;
  } catch (error) {
    console.error(messageOf(error));
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
