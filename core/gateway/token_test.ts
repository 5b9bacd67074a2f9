import assert from "node:assert";
import { AUDIENCE, ISSUER } from "./config.ts";
import { AccountStore } from "../admin/mod.ts";
import { verifyJwt } from "./jwt.ts";
import { loadSecret } from "./secret.ts";
import { withTempDir } from "../_testing/temp.ts";

const SCRIPT = new URL("./token.ts", import.meta.url).pathname;
const ROOT = new URL("../..", import.meta.url).pathname;

/** Runs `deno task token`'s script with `args`, GATEWAY_JWT_SECRET unset unless given. */
async function mint(args: string[], env: Record<string, string> = {}) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--allow-read", "--allow-write", "--allow-env", SCRIPT, ...args],
    cwd: ROOT,
    env: { GATEWAY_JWT_SECRET: "", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return {
    code: output.code,
    stdout: text.decode(output.stdout),
    stderr: text.decode(output.stderr),
  };
}

Deno.test("token mints, on stdout alone, a token verifyJwt accepts with the data folder's secret", async () => {
  await withTempDir(async (dataDir) => {
    const before = Math.floor(Date.now() / 1000);
    const run = await mint(["--account", "ALICE", "--role", "trader", "--data", dataDir]);
    assert.deepStrictEqual({ code: run.code, stderr: run.stderr }, {
      code: 0,
      stderr: `registered account "ALICE" as a trader in ${dataDir}/core.kv\n`,
    });
    assert(/^[\w-]+\.[\w-]+\.[\w-]+\n$/.test(run.stdout), JSON.stringify(run.stdout));
    const key = await loadSecret({ env: () => undefined, dataDir });
    const result = await verifyJwt(run.stdout.trim(), key, { issuer: ISSUER, audience: AUDIENCE });
    assert(result.ok, JSON.stringify(result));
    const { sub, role, iss, aud, exp, iat, jti } = result.claims;
    assert.deepStrictEqual({ sub, role, iss, aud }, {
      sub: "ALICE",
      role: "trader",
      iss: ISSUER,
      aud: AUDIENCE,
    });
    assert(iat !== undefined && iat >= before && exp === iat + 8 * 3600, `iat ${iat}, exp ${exp}`);
    assert(jti !== undefined && jti.length > 0);
  });
});

Deno.test("token --ttl sets the lifetime, and GATEWAY_JWT_SECRET wins over the folder", async () => {
  await withTempDir(async (dataDir) => {
    const secret = "A".repeat(43); // 32 zero bytes, base64url
    const run = await mint(["--account=BOB", "--role=viewer", "--ttl=15m", `--data=${dataDir}`], {
      GATEWAY_JWT_SECRET: secret,
    });
    assert.deepStrictEqual(run.code, 0, run.stderr);
    assert(
      ![...Deno.readDirSync(dataDir)].some((e) => e.name === "jwt.secret"),
      "a secret file was written",
    );
    const key = await loadSecret({ env: () => secret });
    const result = await verifyJwt(run.stdout.trim(), key, { issuer: ISSUER, audience: AUDIENCE });
    assert(result.ok && result.claims.exp - result.claims.iat! === 900, JSON.stringify(result));
  });
});

Deno.test("token exits 2 with usage on stderr, and nothing on stdout, for bad arguments", async () => {
  const cases: [string[], string][] = [
    [[], "--account is required"],
    [["--account", "ALICE"], "--role is required"],
    [["--account", "ALICE", "--role", "root"], 'not "root"'],
    [["--account", "é".repeat(25), "--role", "trader"], "not 50 bytes"],
    [["--account", "ALICE\u001b[2J", "--role", "trader"], "printable characters only, not U+001B"],
    [["--account", "AL\tICE", "--role", "trader"], "not U+0009 at character 3"],
    [["--account", "ALICE", "--role", "trader", "--ttl", "8"], "--ttl"],
    [["--account", "ALICE", "--role", "trader", "--ttl", "0h"], "--ttl"],
    [["--account", "ALICE", "--role", "trader", "--ttl", "367d"], "--ttl"],
    [["--account", "ALICE", "--role", "trader", "--frobnicate"], 'unknown argument "--frobnicate"'],
    [["--account", "ALICE", "--role"], "--role needs a value"],
    [["--account", "A", "--account", "B", "--role", "trader"], "--account given twice"],
    [["--account=A", "--role", "trader", "--ttl=1h", "--ttl", "2h"], "--ttl given twice"],
    [["--account=", "--role", "trader"], "--account needs a value"],
    [["--account", "--role", "trader"], "--account needs a value"],
    [["--account", "ALICE", "--role", "trader", "extra"], 'unknown argument "extra"'],
    [["--account", "ALICE", "--role", "trader", "--help=yes"], "--help takes no value"],
  ];
  for (const [args, message] of cases) {
    const run = await mint(args);
    assert.deepStrictEqual({ args, code: run.code, stdout: run.stdout }, {
      args,
      code: 2,
      stdout: "",
    });
    assert(run.stderr.includes(message), `${args.join(" ")}: ${run.stderr}`);
    assert(run.stderr.includes("Usage: deno task token"), run.stderr);
  }
});

Deno.test("token --help and -h print the usage on stdout alone and exit 0", async () => {
  for (const flag of ["--help", "-h"]) {
    const run = await mint(["--account", "ALICE", flag]);
    assert.deepStrictEqual({ code: run.code, stderr: run.stderr }, { code: 0, stderr: "" });
    assert(run.stdout.startsWith("Usage: deno task token"), run.stdout);
  }
});

Deno.test("token exits 1 with the reason when the secret is unusable", async () => {
  await withTempDir(async (dataDir) => {
    const run = await mint(["--account", "ALICE", "--role", "trader", "--data", dataDir], {
      GATEWAY_JWT_SECRET: "short-secret",
    });
    assert.deepStrictEqual({ code: run.code, stdout: run.stdout }, { code: 1, stdout: "" });
    assert(run.stderr.includes("GATEWAY_JWT_SECRET decodes to 9 bytes"), run.stderr);
  });
});

Deno.test("token registers a missing account once, and refuses a role the store does not give it", async () => {
  await withTempDir(async (dataDir) => {
    const kv = `${dataDir}/accounts.kv`;
    const first = await mint([
      "--account",
      "VIC",
      "--role",
      "viewer",
      "--data",
      dataDir,
      "--kv",
      kv,
    ]);
    assert.deepStrictEqual(first.stderr, `registered account "VIC" as a viewer in ${kv}\n`);
    const again = await mint([
      "--account",
      "VIC",
      "--role",
      "viewer",
      "--data",
      dataDir,
      "--kv",
      kv,
    ]);
    assert.deepStrictEqual({ code: again.code, stderr: again.stderr }, { code: 0, stderr: "" });
    const other = await mint([
      "--account",
      "VIC",
      "--role",
      "admin",
      "--data",
      dataDir,
      "--kv",
      kv,
    ]);
    assert.deepStrictEqual({ code: other.code, stdout: other.stdout }, { code: 1, stdout: "" });
    assert.deepStrictEqual(
      other.stderr,
      `Cannot mint token: account "VIC" is a viewer in ${kv}, not an admin ` +
        "(an admin changes roles with the admin API)\n",
    );
  });
});

Deno.test("token carries the account's token epoch, and refuses a disabled account", async () => {
  await withTempDir(async (dataDir) => {
    const kv = `${dataDir}/accounts.kv`;
    const args = ["--account", "ALICE", "--role", "trader", "--data", dataDir, "--kv", kv];
    const key = await loadSecret({ env: () => undefined, dataDir });
    const epochOf = async (token: string) => {
      const result = await verifyJwt(token.trim(), key, { issuer: ISSUER, audience: AUDIENCE });
      assert(result.ok, JSON.stringify(result));
      return result.claims.epoch;
    };
    assert.deepStrictEqual(await epochOf((await mint(args)).stdout), 0);
    const store = await Deno.openKv(kv);
    try {
      await new AccountStore(store).updateAccount("ALICE", { enabled: false });
    } finally {
      store.close();
    }
    const disabled = await mint(args);
    assert.deepStrictEqual({ code: disabled.code, stdout: disabled.stdout }, {
      code: 1,
      stdout: "",
    });
    assert.deepStrictEqual(
      disabled.stderr,
      `Cannot mint token: account "ALICE" is disabled in ${kv} ` +
        "(an admin re-enables it with the admin API)\n",
    );
    const again = await Deno.openKv(kv);
    try {
      await new AccountStore(again).updateAccount("ALICE", { enabled: true });
    } finally {
      again.close();
    }
    // Disabled, then re-enabled: two changes, epoch 2.
    assert.deepStrictEqual(await epochOf((await mint(args)).stdout), 2);
  });
});
