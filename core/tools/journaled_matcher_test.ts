import assert from "node:assert";
import { type Command, CommandKind, loadInstruments, ReferenceMatcher } from "../matching/mod.ts";
import { JournalKind, readCommand, readDefineAccount } from "../native/mod.ts";
import { journalEntries } from "../native/mod.ts";
import { JournaledMatcher } from "./journaled_matcher.ts";
import { sampleLines, words } from "./_test_support.ts";

const instruments = loadInstruments();

async function withDir(fn: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Parses lines that must be commands with the matcher's parser. */
function commands(matcher: JournaledMatcher, lines: readonly string[]): Command[] {
  return lines.map((line) => {
    const parsed = matcher.parser.parse(line);
    if (!parsed.ok) throw new Error(parsed.message);
    return parsed.command;
  });
}

/** The journal's entries as `["account", n, name]` and `["order", id, account]`. */
function journalStory(dir: string): (string | number)[][] {
  const story: (string | number)[][] = [];
  for (const entry of journalEntries(dir)) {
    if (entry.kind === JournalKind.Account) {
      story.push(["account", ...readDefineAccount(words(entry.payload), 0)]);
    } else if (entry.kind === JournalKind.Command) {
      const command = readCommand(words(entry.payload), 0);
      story.push(
        command.kind === CommandKind.PlaceOrder ? ["order", command.id, command.account] : [
          "command",
          command.id,
        ],
      );
    }
  }
  return story;
}

const order = (id: number, account: string) =>
  JSON.stringify({ op: "new", id, account, symbol: "AAPL", side: "buy", type: "market", qty: 1 });

Deno.test("JournaledMatcher names each account in the journal once, before its first order", async () => {
  await withDir((dir) => {
    const first = JournaledMatcher.open(instruments, { dir });
    first.applyAll(commands(first, [order(1, "A"), '{"op":"cancel","id":1}', order(2, "B")]));
    first.applyAll(commands(first, [order(3, "A"), order(4, "C")]));
    first.close();
    const second = JournaledMatcher.open(instruments, { dir });
    assert.deepStrictEqual(second.report.accounts, [[0, "A"], [1, "B"], [2, "C"]]);
    second.applyAll(commands(second, [order(5, "C"), order(6, "D"), order(7, "A")]));
    second.close();
    assert.deepStrictEqual(journalStory(dir), [
      ["account", 0, "A"],
      ["order", 1, 0],
      ["command", 1],
      ["account", 1, "B"],
      ["order", 2, 1],
      ["order", 3, 0],
      ["account", 2, "C"],
      ["order", 4, 2],
      ["order", 5, 2],
      ["account", 3, "D"],
      ["order", 6, 3],
      ["order", 7, 0],
    ]);
  });
});

Deno.test("JournaledMatcher refuses an order whose account the parser cannot name, applying nothing", async () => {
  await withDir((dir) => {
    const matcher = JournaledMatcher.open(instruments, { dir });
    try {
      const [named] = commands(matcher, [order(1, "A")]);
      const unnamed = { ...named!, id: 2, account: 9 } as Command;
      assert.throws(() => matcher.applyAll([{ kind: CommandKind.CancelOrder, id: 5 }, unnamed]), {
        name: "RangeError",
        message: /Cannot journal order 2: account 9 has no name/,
      });
      assert.deepStrictEqual(matcher.applyAll([named!]).length, 1);
    } finally {
      matcher.close();
    }
    assert.deepStrictEqual(journalStory(dir), [["account", 0, "A"], ["order", 1, 0]]);
  });
});

Deno.test("JournaledMatcher matches like the reference matcher and recovers to the same state", async () => {
  await withDir((dir) => {
    const lines = sampleLines(400);
    const reference = new ReferenceMatcher(instruments);
    const first = JournaledMatcher.open(instruments, { dir, durability: "group-commit" });
    const all = commands(first, lines);
    const cut = 500;
    assert.deepStrictEqual(
      first.applyAll(all.slice(0, cut)),
      reference.applyAll(all.slice(0, cut)),
    );
    const hash = first.stateHash();
    assert.deepStrictEqual(hash, reference.stateHash());
    first.close();

    const second = JournaledMatcher.open(instruments, { dir });
    try {
      assert.deepStrictEqual(second.report.replayed, cut);
      assert.deepStrictEqual(second.stateHash(), hash);
      const rest = commands(second, lines.slice(cut));
      assert.deepStrictEqual(second.applyAll(rest), reference.applyAll(rest));
      assert.deepStrictEqual(second.stateHash(), reference.stateHash());
      assert.deepStrictEqual(second.haltReason(), undefined);
    } finally {
      second.close();
    }
  });
});

Deno.test("JournaledMatcher.open refuses a journal written for another instrument table", async () => {
  await withDir((dir) => {
    JournaledMatcher.open(instruments, { dir }).close();
    assert.throws(
      () => JournaledMatcher.open(instruments.slice(0, 2), { dir }),
      (error: unknown) =>
        error instanceof Error && error.message.includes(dir) &&
        error.message.includes("was written for another instrument table"),
    );
  });
});
