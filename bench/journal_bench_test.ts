import assert from "node:assert";
import { assertBetween } from "../core/_testing/between.ts";
import { runPaired } from "./journal_bench.ts";
import type { MatchingSubject } from "./subject.ts";

/** A subject whose runs take the given seconds in turn, logging each call. */
function scripted(name: string, seconds: number[], log: string[]): MatchingSubject {
  let run = 0;
  return {
    name,
    prepare: () => log.push(`${name}.prepare`),
    run: (commands) => {
      log.push(`${name}.run`);
      return { seconds: seconds[run++]!, commands: commands.length, events: 0 };
    },
  };
}

Deno.test("runPaired alternates which subject goes first and prepares before every run", () => {
  const log: string[] = [];
  runPaired(scripted("off", [1, 1, 1], log), scripted("on", [1, 1, 1], log), [], 3);
  assert.deepStrictEqual(log, [
    "off.prepare",
    "off.run",
    "on.prepare",
    "on.run",
    "on.prepare",
    "on.run",
    "off.prepare",
    "off.run",
    "off.prepare",
    "off.run",
    "on.prepare",
    "on.run",
  ]);
});

Deno.test("runPaired's ratio is of the medians, so one disturbed run does not move it", () => {
  const commands = Array.from({ length: 1_000 }, () => ({}) as never);
  // off: 1000, 2000 (disturbed), 1000, 1000 commands/s; on: 800 each, one run at 100.
  const r = runPaired(
    scripted("off", [1, 0.5, 1, 1], []),
    scripted("on", [1.25, 1.25, 10, 1.25], []),
    commands,
    4,
  );
  assert.deepStrictEqual(r.off, [1_000, 2_000, 1_000, 1_000]);
  assert.deepStrictEqual(r.on, [800, 800, 100, 800]);
  assertBetween(r.ratio, 0.8 - 1e-12, 0.8 + 1e-12, "ratio");
  assert.deepStrictEqual([r.offName, r.onName], ["off", "on"]);
});

Deno.test("runPaired refuses a count of pairs that is not a positive integer", () => {
  for (const pairs of [0, -1, 1.5, Number.NaN]) {
    assert.throws(
      () => runPaired(scripted("a", [], []), scripted("b", [], []), [], pairs),
      RangeError,
    );
  }
});
