import assert from "node:assert";
import { AccountStore, verifyPassword } from "../admin/mod.ts";
import { withTempDir } from "../_testing/temp.ts";
import { runTool } from "./_test_support.ts";

/** Runs `deno task user`'s script with `args`, `stdin` piped (not a terminal), KV_PATH unset. */
function user(args: string[], stdin = "") {
  return runTool("user", args, stdin, { KV_PATH: "" });
}

async function withStore<T>(path: string, fn: (store: AccountStore) => Promise<T>): Promise<T> {
  const kv = await Deno.openKv(path);
  try {
    return await fn(new AccountStore(kv));
  } finally {
    kv.close();
  }
}

Deno.test("user add reads the password from stdin's first line and stores only its hash; passwd replaces it and ends the tokens", async () => {
  await withTempDir(async (dir) => {
    const kv = `${dir}/data/core.kv`;
    const added = await user(["add", "ALICE", "--kv", kv], "correct horse\nignored line\n");
    assert.deepStrictEqual(added, {
      code: 0,
      stdout: `added account "ALICE" (trader) with a password to ${kv}\n`,
      stderr: "",
    });
    const viewer = await user(["add", "VIEW", "--role", "viewer", `--kv=${kv}`], "open sesame\r\n");
    assert.deepStrictEqual(viewer.code, 0, viewer.stderr);
    await withStore(kv, async (store) => {
      const alice = await store.getAccount("ALICE");
      assert(alice.ok && alice.value.role === "trader" && alice.value.enabled);
      const hash = await store.passwordHash("ALICE");
      assert(hash !== undefined && hash.n === 2 ** 15);
      assert.strictEqual(await verifyPassword("correct horse", hash), true);
      const view = await store.getAccount("VIEW");
      assert(view.ok && view.value.role === "viewer");
      assert.strictEqual(
        await verifyPassword("open sesame", (await store.passwordHash("VIEW"))!),
        true,
      );
    });
    const bytes = await Deno.readFile(kv);
    assert(
      !new TextDecoder().decode(bytes).includes("correct horse"),
      "the password is in the file",
    );

    const changed = await user(["passwd", "ALICE", "--kv", kv], "battery staple");
    assert.deepStrictEqual(changed.code, 0, changed.stderr);
    await withStore(kv, async (store) => {
      const hash = (await store.passwordHash("ALICE"))!;
      assert.strictEqual(await verifyPassword("correct horse", hash), false);
      assert.strictEqual(await verifyPassword("battery staple", hash), true);
      const alice = await store.getAccount("ALICE");
      assert(alice.ok && alice.value.tokenEpoch === 2, "passwd did not end the tokens");
    });
  });
});

Deno.test("user disable and enable flip the account, moving its token epoch on", async () => {
  await withTempDir(async (dir) => {
    const kv = `${dir}/core.kv`;
    assert.deepStrictEqual((await user(["add", "BOB", "--kv", kv], "open sesame\n")).code, 0);
    const disabled = await user(["disable", "BOB", "--kv", kv]);
    assert.deepStrictEqual(disabled.code, 0, disabled.stderr);
    assert.match(
      disabled.stdout,
      /^disabled account "BOB" in .*: its logins and tokens are refused/,
    );
    const again = await user(["disable", "BOB", "--kv", kv]);
    assert.deepStrictEqual(again.stdout, `account "BOB" was already disabled in ${kv}\n`);
    await withStore(kv, async (store) => {
      const bob = await store.getAccount("BOB");
      assert(bob.ok && !bob.value.enabled && bob.value.tokenEpoch === 2);
    });
    assert.deepStrictEqual((await user(["enable", "BOB", "--kv", kv])).code, 0);
    await withStore(kv, async (store) => {
      const bob = await store.getAccount("BOB");
      assert(bob.ok && bob.value.enabled && bob.value.tokenEpoch === 3);
    });
  });
});

Deno.test("user refuses bad passwords, unknown accounts, an existing name and bad command lines, changing nothing", async () => {
  await withTempDir(async (dir) => {
    const kv = `${dir}/core.kv`;
    const check = async (args: string[], stdin: string, code: number, message: string) => {
      const run = await user(args, stdin);
      assert.deepStrictEqual([run.code, run.stdout], [code, ""], run.stderr);
      assert(run.stderr.startsWith(message), `${JSON.stringify(message)} in\n${run.stderr}`);
    };
    await check(
      ["add", "ALICE", "--kv", kv],
      "short\n",
      1,
      "Cannot set password: it must be at least 8 characters\n",
    );
    await check(
      ["add", "ALICE", "--kv", kv],
      "",
      1,
      "Cannot set password: it must not be empty (give it on stdin, one line)\n",
    );
    await check(
      ["add", "ALICE", "--kv", kv],
      "é".repeat(513),
      1,
      "Cannot set password: it must be at most 1024 bytes of UTF-8, not 1026\n",
    );
    assert.throws(
      () => Deno.statSync(kv),
      Deno.errors.NotFound,
      "a refused password opened the store",
    );
    await check(
      ["passwd", "NOBODY", "--kv", kv],
      "open sesame\n",
      1,
      'Cannot set password: Cannot read account: no account is named "NOBODY"',
    );
    await check(
      ["disable", "NOBODY", "--kv", kv],
      "",
      1,
      'Cannot update account: no account is named "NOBODY"',
    );
    assert.deepStrictEqual((await user(["add", "ALICE", "--kv", kv], "open sesame\n")).code, 0);
    await check(
      ["add", "ALICE", "--kv", kv],
      "other password\n",
      1,
      `Cannot add account "ALICE": it exists in ${kv}`,
    );
    await check(
      ["frobnicate", "ALICE"],
      "",
      2,
      'Cannot run deno task user: unknown command "frobnicate"',
    );
    await check([], "", 2, "Cannot run deno task user: name a command");
    await check(["add"], "", 2, "Cannot run deno task user: add needs an account name");
    await check(["add", "A", "B"], "", 2, 'Cannot run deno task user: unexpected argument "B"');
    await check(
      ["add", "x".repeat(49)],
      "",
      2,
      "Cannot run deno task user: the account name must be 1 to 48 bytes",
    );
    await check(
      ["add", "A", "--role", "root"],
      "",
      2,
      'Cannot run deno task user: --role must be one of trader, viewer, admin, not "root"',
    );
    await check(
      ["passwd", "A", "--role", "admin"],
      "",
      2,
      "Cannot run deno task user: --role goes with add only",
    );
    await check(
      ["add", "A", "--frob"],
      "",
      2,
      'Cannot run deno task user: unknown argument "--frob"',
    );
    await withStore(kv, async (store) => {
      assert.deepStrictEqual((await store.listAccounts()).map((a) => a.name), ["ALICE"]);
      assert.strictEqual(
        await verifyPassword("open sesame", (await store.passwordHash("ALICE"))!),
        true,
      );
    });
  });
});
