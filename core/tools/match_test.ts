import assert from "node:assert";
import { JournalKind, readCommand, readDefineAccount } from "../native/mod.ts";
import { journalEntries } from "../native/mod.ts";
import { expectCode, jsonl, runTool, sampleLines, words } from "./_test_support.ts";

const LINES = sampleLines();

/** Checks that the journal names every account before the first command that uses it, once. */
function assertAccountsDefinedBeforeUse(dir: string): void {
  const defined = new Set<number>();
  for (const record of journalEntries(dir)) {
    if (record.kind === JournalKind.Account) {
      const [account] = readDefineAccount(words(record.payload), 0);
      assert(!defined.has(account), `account ${account} is defined twice`);
      defined.add(account);
    } else if (record.kind === JournalKind.Command) {
      const command = readCommand(words(record.payload), 0);
      if (command.kind === 1) {
        assert(
          defined.has(command.account),
          `record ${record.seq} (order ${command.id}) uses account ${command.account} before its definition`,
        );
      }
    }
  }
}

Deno.test("match --journal prints, over runs split anywhere, exactly the events of one run", async () => {
  const whole = expectCode(await runTool("match", [], jsonl(LINES)), 0).stdout;
  assert(whole.includes('"reason":"self_trade"') && whole.includes('"ev":"trade"'), whole);
  const n = LINES.length;
  const splits = [[0], [1], [n >> 1], [n], [17, n - 5]];
  for (const cuts of splits) {
    const dir = await Deno.makeTempDir();
    try {
      const bounds = [0, ...cuts, n];
      let out = "";
      for (let i = 0; i + 1 < bounds.length; i++) {
        const part = LINES.slice(bounds[i], bounds[i + 1]);
        out += expectCode(await runTool("match", ["--journal", dir], jsonl(part)), 0).stdout;
      }
      assert(out === whole, `split at ${cuts}: the output differs from one run's`);
      assertAccountsDefinedBeforeUse(dir);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});

Deno.test("match --journal continues the accounts of the earlier run: self-trade prevention spans runs", async () => {
  const dir = await Deno.makeTempDir();
  const order = (id: number, account: string, side: string, qty: number, price: number) =>
    JSON.stringify({ op: "new", id, account, symbol: "MSFT", side, type: "limit", price, qty });
  try {
    const first = await runTool(
      "match",
      ["--journal", dir],
      jsonl([order(1, "ALICE", "sell", 5, 42000), order(2, "CAROL", "sell", 1, 42100)]),
    );
    expectCode(first, 0);
    const second = await runTool(
      "match",
      ["--journal", dir, "--durability", "synchronous"],
      jsonl([
        order(3, "BOB", "buy", 1, 42000),
        order(4, "ALICE", "buy", 1, 42000),
        order(1, "BOB", "buy", 1, 42000),
      ]),
    );
    assert.deepStrictEqual(expectCode(second, 0).stdout.trimEnd().split("\n"), [
      // BOB is new: a parser numbering from 0 again would take him for ALICE.
      '{"ev":"accepted","id":3,"symbol":"MSFT"}',
      '{"ev":"trade","taker":3,"maker":1,"price":42000,"qty":1,"symbol":"MSFT"}',
      // ALICE's buy meets her resting sell from the first run.
      '{"ev":"accepted","id":4,"symbol":"MSFT"}',
      '{"ev":"cancelled","id":1,"leaves":4,"reason":"self_trade","symbol":"MSFT"}',
      // Ids are unique across runs too.
      '{"ev":"rejected","id":1,"reason":"duplicate_id","symbol":"MSFT"}',
    ]);
    const accounts = [...journalEntries(dir)]
      .filter((record) => record.kind === JournalKind.Account)
      .map((record) => readDefineAccount(words(record.payload), 0));
    assert.deepStrictEqual(accounts, [[0, "ALICE"], [1, "CAROL"], [2, "BOB"]]);
    assertAccountsDefinedBeforeUse(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("match --journal refuses a journal written for another instrument table (exit 1)", async () => {
  const dir = await Deno.makeTempDir();
  const table = await Deno.makeTempFile({ suffix: ".json" });
  try {
    expectCode(await runTool("match", ["--journal", dir], ""), 0);
    await Deno.writeTextFile(
      table,
      JSON.stringify({
        instruments: [{
          symbol: "ONLY",
          name: "Only",
          tickSize: 1,
          lotSize: 1,
          priceScale: 100,
          referencePrice: 100,
        }],
      }),
    );
    const run = await runTool(
      "match",
      ["--journal", dir, "--instruments", table],
      jsonl(LINES.slice(0, 3)),
    );
    assert.deepStrictEqual(run.code, 1, run.stderr);
    assert.deepStrictEqual(run.stdout, "");
    assert(run.stderr.includes("was written for another instrument table"), run.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(table);
  }
});

Deno.test("match refuses bad usage with exit code 2", async () => {
  const cases: [string[], string][] = [
    [["--journal", "/tmp/x", "--reference"], "--reference cannot be combined with --journal"],
    [["--journal"], "--journal needs a folder"],
    [["--journal", "/tmp/x", "--durability", "fast"], "--durability must be one of"],
    [["--durability", "synchronous"], "--durability needs --journal"],
    [["--jounral", "/tmp/x"], 'unknown argument "--jounral"'],
    [["--jounral=/tmp/x"], 'unknown argument "--jounral"'],
    [["--journal="], "--journal needs a folder"],
    [["--instruments"], "--instruments needs a file"],
    [["--journal", "--reference"], "--journal needs a folder"],
    [["--reference=yes"], "--reference takes no value"],
    [["commands.jsonl"], 'unknown argument "commands.jsonl"'],
  ];
  for (const [args, message] of cases) {
    const run = await runTool("match", args);
    assert.deepStrictEqual(run.code, 2, args.join(" "));
    assert(run.stderr.includes(message) && run.stderr.includes("Usage:"), run.stderr);
  }
});

Deno.test("match --help and -h print the usage on stdout and exit 0", async () => {
  for (const flag of ["--help", "-h"]) {
    const run = expectCode(await runTool("match", [flag]), 0);
    assert(run.stdout.startsWith("Usage: deno task match"), run.stdout);
  }
});

Deno.test("match takes account names of up to 48 bytes of UTF-8", async () => {
  const order = (id: number, account: string) =>
    JSON.stringify({ op: "new", id, account, symbol: "AAPL", side: "buy", type: "market", qty: 1 });
  const run = await runTool(
    "match",
    [],
    jsonl([order(1, "€".repeat(16)), order(2, "€".repeat(16) + "x"), order(3, "x".repeat(48))]),
  );
  assert.deepStrictEqual(expectCode(run, 0).stdout.trimEnd().split("\n"), [
    '{"ev":"accepted","id":1,"symbol":"AAPL"}',
    '{"ev":"expired","id":1,"leaves":1,"symbol":"AAPL"}',
    '{"ev":"error","line":2,"message":"Cannot read line 2: field \\"account\\" must be a string of 1 to 48 bytes of UTF-8, not 49 bytes"}',
    '{"ev":"accepted","id":3,"symbol":"AAPL"}',
    '{"ev":"expired","id":3,"leaves":1,"symbol":"AAPL"}',
  ]);
});
