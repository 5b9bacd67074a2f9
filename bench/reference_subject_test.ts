import { loadInstruments } from "../core/matching/mod.ts";
import { benchFlow, describeFlow } from "../core/synthetic/mod.ts";
import { ReferenceSubject } from "./reference_subject.ts";
import assert from "node:assert";

const instruments = loadInstruments();
const commands = benchFlow({ seed: 4, count: 20_000, depth: 100 });

Deno.test("ReferenceSubject replays the whole stream and counts every event", () => {
  const subject = new ReferenceSubject(instruments);
  subject.prepare(commands);
  const result = subject.run(commands);
  assert.deepStrictEqual(result.commands, commands.length);
  assert.deepStrictEqual(result.events, describeFlow(commands).outcome.events);
  assert(result.seconds > 0, "no time measured");
  assert.deepStrictEqual(result.latenciesNs?.length, commands.length / 16);
  subject.close();
});

Deno.test("ReferenceSubject starts every prepared run from empty books", () => {
  const subject = new ReferenceSubject(instruments, { latencyEvery: 0 });
  subject.prepare(commands);
  const first = subject.run(commands);
  subject.prepare(commands);
  const second = subject.run(commands);
  // A second run over a non-empty book would see duplicate ids and differ.
  assert.deepStrictEqual(second.events, first.events);
  assert.deepStrictEqual(second.latenciesNs, undefined);
});

Deno.test("ReferenceSubject refuses a negative sampling stride", () => {
  assert.throws(() => new ReferenceSubject(instruments, { latencyEvery: -1 }), RangeError);
});
