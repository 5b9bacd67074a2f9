import assert from "node:assert";
import { type Ancestor, lineageOf, type RunPs, watchAncestors } from "./supervision.ts";

/** A `ps` answering from a table that the test may change. */
function fakePs(table: { text: string | undefined }): RunPs {
  return () => Promise.resolve(table.text);
}

/** What a watch reports within `ms` (undefined when nothing). */
async function watchFor(
  ancestors: readonly Ancestor[],
  ps: RunPs,
  ms: number,
): Promise<number | undefined> {
  let gone: number | undefined;
  const stop = watchAncestors(ancestors, (a) => (gone = a.pid), { intervalMs: 5, ps });
  await new Promise((resolve) => setTimeout(resolve, ms));
  stop();
  return gone;
}

Deno.test("lineageOf() walks up the process group: npx's chain, not the shell that ran it", async () => {
  // shell 10 (group 10) → npm 20 (group 20) → sh 21 → deno task 22 → start.ts 23.
  const table = "1 0 1\n10 1 10\n20 10 20\n21 20 20\n22 21 20\n23 22 20\n";
  assert.deepStrictEqual(await lineageOf(23, fakePs({ text: table })), {
    ancestors: [{ pid: 22, ppid: 21 }, { pid: 21, ppid: 20 }, { pid: 20, ppid: 10 }],
    orphaned: false,
  });
});

Deno.test("lineageOf() keeps the parent even in another group, and nothing without ps", async () => {
  const table = "1 0 1\n30 1 30\n31 30 31\n";
  const only = (ancestors: Ancestor[]) => ({ ancestors, orphaned: false });
  assert.deepStrictEqual(
    await lineageOf(31, fakePs({ text: table })),
    only([{ pid: 30, ppid: 1 }]),
  );
  assert.deepStrictEqual(await lineageOf(31, fakePs({ text: undefined })), only([]));
  assert.deepStrictEqual(await lineageOf(99, fakePs({ text: table })), only([]));
});

Deno.test("lineageOf() finds a job whose first process went before this one started (npx killed during the build)", async () => {
  // npm 20 and its sh 21 are gone; deno task 22 lives on under init and starts start.ts 23.
  const table = "1 0 1\n22 1 20\n23 22 20\n";
  assert.deepStrictEqual(await lineageOf(23, fakePs({ text: table })), {
    ancestors: [{ pid: 22, ppid: 1 }],
    orphaned: true,
  });
  // The leader itself is never orphaned.
  assert.deepStrictEqual((await lineageOf(20, fakePs({ text: "20 1 20\n" }))).orphaned, false);
});

Deno.test("watchAncestors() fires for an ancestor that exited or was re-parented, not before", async () => {
  const chain = [{ pid: 22, ppid: 21 }, { pid: 21, ppid: 20 }];
  const table = { text: "22 21\n21 20\n" as string | undefined };
  assert.deepStrictEqual(await watchFor(chain, fakePs(table), 40), undefined);
  // ps failing says nothing about the ancestors.
  table.text = undefined;
  assert.deepStrictEqual(await watchFor(chain, fakePs(table), 40), undefined);
  // npm's sh (21) killed: deno task (22) now has another parent.
  table.text = "22 1\n";
  assert.deepStrictEqual(await watchFor(chain, fakePs(table), 40), 22);
  table.text = "22 21\n";
  assert.deepStrictEqual(await watchFor(chain, fakePs(table), 40), 21);
});

Deno.test("watchAncestors() checks its own parent without running ps, and ps only for those above", async () => {
  const asked: string[] = [];
  const ps: RunPs = (args) => {
    asked.push(args.at(-1)!);
    return Promise.resolve(""); // Says everything asked about is gone.
  };
  // Only our parent, which is here: nothing to ask ps, nothing gone.
  assert.deepStrictEqual(await watchFor([{ pid: Deno.ppid, ppid: 1 }], ps, 40), undefined);
  assert.deepStrictEqual(asked, []);
  // With an ancestor above it, ps is asked about that one only.
  assert.deepStrictEqual(
    await watchFor([{ pid: Deno.ppid, ppid: 77 }, { pid: 77, ppid: 1 }], ps, 40),
    77,
  );
  assert.deepStrictEqual(asked, ["77"]);
});
