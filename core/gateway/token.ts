/**
 * `deno task token --account ALICE --role trader [--ttl 8h] [--data DIR] [--kv FILE]`:
 * mints a gateway token for local use and prints only the token on stdout,
 * so that `TOKEN=$(deno task token …)` works.
 *
 * The gateway lets in only accounts registered in its account store (Deno
 * KV), with the role the store gives them; for local use this task
 * registers the account with the role asked for when it is missing, and
 * refuses when the store gives it another role (an admin changes roles,
 * through the admin API) or when the account is disabled. The token carries
 * the account's token epoch (`epoch` claim): it stops working when the
 * account's role or `enabled` changes (disabling and re-enabling included),
 * after which a new one must be minted. The store is `--kv FILE`, else
 * `KV_PATH`, else `<DIR>/core.kv`.
 *
 * The secret comes from {@linkcode loadSecret}: `GATEWAY_JWT_SECRET`, or
 * `<DIR>/jwt.secret` (default `data/`), generated when missing. Usage errors
 * exit with status 2, other failures with 1, both with a message on stderr.
 *
 * @module
 */

import {
  AUDIENCE,
  DEFAULT_DATA_DIR,
  DEFAULT_TTL_SECONDS,
  ISSUER,
  type Role,
  ROLES,
} from "./config.ts";
import { accountProblem, signJwt } from "./jwt.ts";
import { AccountStore } from "../admin/mod.ts";
import { loadSecret } from "./secret.ts";
import { parseArgs } from "node:util";
import { argumentFault, fromInvocationDir, messageOf } from "../tools/_cli.ts";

const USAGE = `Usage: deno task token --account NAME --role ${
  ROLES.join("|")
} [--ttl 8h] [--data DIR] [--kv FILE]

Mints a gateway JWT (HS256, issuer ${ISSUER}, audience ${AUDIENCE}) and prints it.
  --account NAME  the account (1 to 48 bytes of UTF-8, printable characters)
  --role ROLE     trader, viewer (market data only) or admin
  --ttl DURATION  lifetime: a whole number of s, m, h or d, at most 366d (default 8h)
  --data DIR      the folder of jwt.secret (default ${DEFAULT_DATA_DIR}/); ignored when
                  GATEWAY_JWT_SECRET is set
  --kv FILE       the account store, where a missing account is registered with the role
                  (default: KV_PATH, else DIR/core.kv)`;

/** The longest lifetime accepted: a year and a day. */
const MAX_TTL_SECONDS = 366 * 86_400;

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** A command-line mistake: exit status 2. */
class UsageError extends Error {
  override name = "UsageError";
}

/**
 * Parses a lifetime such as `90s`, `15m`, `8h` or `7d`.
 *
 * @param text The lifetime.
 * @returns Its seconds.
 * @throws {UsageError} If it is not a positive whole number with a unit, or
 *   is longer than 366 days.
 */
function parseTtl(text: string): number {
  const match = /^([1-9][0-9]{0,8})([smhd])$/.exec(text);
  const seconds = match ? Number(match[1]) * UNIT_SECONDS[match[2]!]! : NaN;
  if (!(seconds <= MAX_TTL_SECONDS)) {
    throw new UsageError(
      `Cannot mint token: --ttl ${JSON.stringify(text)} must be a whole number of s, m, h or d, ` +
        `from 1s to 366d`,
    );
  }
  return seconds;
}

interface Args {
  readonly account: string;
  readonly role: Role;
  readonly ttlSeconds: number;
  readonly dataDir: string;
  readonly kvPath: string;
}

/** The command line, as `node:util`'s `parseArgs` reads it; `multiple` to refuse repeats. */
const FLAGS = {
  account: { type: "string", multiple: true },
  role: { type: "string", multiple: true },
  ttl: { type: "string", multiple: true },
  data: { type: "string", multiple: true },
  kv: { type: "string", multiple: true },
  help: { type: "boolean", short: "h" },
} as const;

/** Parses the arguments; undefined means `--help`. */
function parseCommandLine(args: readonly string[]): Args | undefined {
  let parsed: { [name in keyof typeof FLAGS]?: string[] | boolean };
  try {
    parsed = parseArgs({ args: [...args], options: FLAGS, strict: true }).values;
  } catch (error) {
    const fault = argumentFault(args, FLAGS, false);
    throw new UsageError(
      `Cannot mint token: ${
        fault === undefined
          ? messageOf(error)
          : fault.kind === "unknown"
          ? `unknown argument ${JSON.stringify(fault.arg)}`
          : fault.kind === "needs_value"
          ? `${fault.option} needs a value`
          : `${fault.option} takes no value`
      }`,
    );
  }
  if (parsed.help) return undefined;
  const values = new Map<string, string>();
  for (const [name, given] of Object.entries(parsed)) {
    if (!Array.isArray(given)) continue;
    if (given.length > 1) throw new UsageError(`Cannot mint token: --${name} given twice`);
    if (given[0] === "") throw new UsageError(`Cannot mint token: --${name} needs a value`);
    values.set(`--${name}`, given[0]!);
  }
  const account = values.get("--account");
  const role = values.get("--role");
  if (account === undefined) throw new UsageError("Cannot mint token: --account is required");
  const problem = accountProblem(account);
  if (problem !== undefined) throw new UsageError(`Cannot mint token: ${problem}`);
  if (role === undefined) throw new UsageError("Cannot mint token: --role is required");
  if (!(ROLES as readonly string[]).includes(role)) {
    throw new UsageError(
      `Cannot mint token: --role must be one of ${ROLES.join(", ")}, not ${JSON.stringify(role)}`,
    );
  }
  const data = values.get("--data");
  const dataDir = data === undefined ? DEFAULT_DATA_DIR : fromInvocationDir(data);
  const kv = values.get("--kv");
  return {
    account,
    role: role as Role,
    ttlSeconds: parseTtl(values.get("--ttl") ?? `${DEFAULT_TTL_SECONDS}s`),
    dataDir,
    kvPath: kv !== undefined
      ? fromInvocationDir(kv)
      : Deno.env.get("KV_PATH") || `${dataDir}/core.kv`,
  };
}

/** "a trader", "an admin". */
const withArticle = (role: string) => `${/^[aeiou]/.test(role) ? "an" : "a"} ${role}`;

/**
 * Makes sure the account store knows `account` with `role`, enabled,
 * registering it when missing.
 *
 * @returns An error message, or the account's token epoch, which the token carries.
 */
async function register(args: Args): Promise<string | { readonly epoch: number }> {
  const slash = args.kvPath.lastIndexOf("/");
  if (slash > 0) await Deno.mkdir(args.kvPath.slice(0, slash), { recursive: true });
  const kv = await Deno.openKv(args.kvPath);
  try {
    const store = new AccountStore(kv);
    const found = await store.getAccount(args.account);
    if (found.ok) {
      if (found.value.role !== args.role) {
        return `Cannot mint token: account ${JSON.stringify(args.account)} is ${
          withArticle(found.value.role)
        } in ${args.kvPath}, not ${withArticle(args.role)} ` +
          `(an admin changes roles with the admin API)`;
      }
      if (!found.value.enabled) {
        return `Cannot mint token: account ${
          JSON.stringify(args.account)
        } is disabled in ${args.kvPath} (an admin re-enables it with the admin API)`;
      }
      return { epoch: found.value.tokenEpoch };
    }
    if (found.fault.reason !== "account_not_found") return found.fault.message;
    const created = await store.createAccount({ name: args.account, role: args.role });
    if (!created.ok) return created.fault.message;
    console.error(
      `registered account ${JSON.stringify(args.account)} as ${
        withArticle(args.role)
      } in ${args.kvPath}`,
    );
    return { epoch: created.value.after.tokenEpoch };
  } finally {
    kv.close();
  }
}

async function main(args: readonly string[]): Promise<number> {
  let parsed: Args | undefined;
  try {
    parsed = parseCommandLine(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed === undefined) {
    console.log(USAGE);
    return 0;
  }
  try {
    const registered = await register(parsed);
    if (typeof registered === "string") {
      console.error(registered);
      return 1;
    }
    const key = await loadSecret({ dataDir: parsed.dataDir });
    const iat = Math.floor(Date.now() / 1000);
    const token = await signJwt({
      sub: parsed.account,
      role: parsed.role,
      iss: ISSUER,
      aud: AUDIENCE,
      iat,
      exp: iat + parsed.ttlSeconds,
      jti: crypto.randomUUID(),
      epoch: registered.epoch,
    }, key);
    console.log(token);
    return 0;
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
