import assert from "node:assert/strict";
import type { Command } from "../core/matching/types.ts";
import { RatioSampler } from "./remeasure.ts";
import type { MatchingSubject } from "./subject.ts";

const commands: Command[] = Array.from({ length: 10 }, (_, id) => ({ kind: 2, id }));

/** A subject of fixed speed that logs what it is asked. */
function fixed(name: string, perSecond: number, log: string[]): MatchingSubject {
  return {
    name,
    prepare: (c) => void log.push(`${name}.prepare(${c.length})`),
    run: (c) => {
      log.push(`${name}.run(${c.length})`);
      return { seconds: c.length / perSecond, commands: c.length, events: 0 };
    },
    close: () => void log.push(`${name}.close`),
  };
}

Deno.test("RatioSampler warms both up once, then alternates which runs first, across calls", () => {
  const log: string[] = [];
  let made = 0;
  const sampler = new RatioSampler(
    () => (made++, fixed("ref", 1e6, log)),
    () => (made++, fixed("sub", 3e6, log)),
    commands,
    4,
  );
  assert.equal(made, 0, "nothing is made before the first sample");
  const round = (v: number[]) => v.map((x) => Number(x.toFixed(9)));
  assert.deepEqual(round(sampler.samples(1)), [3]);
  assert.deepEqual(round(sampler.samples(2)), [3, 3]);
  sampler.close();
  const runs = log.filter((l) => l.includes(".run("));
  assert.deepEqual(runs, [
    "ref.run(4)",
    "sub.run(4)",
    "ref.run(10)",
    "sub.run(10)",
    "sub.run(10)",
    "ref.run(10)",
    "ref.run(10)",
    "sub.run(10)",
  ]);
  assert.equal(made, 2);
  assert.deepEqual(log.slice(-2), ["ref.close", "sub.close"]);
  // Every measured run is prepared first.
  assert.equal(log.filter((l) => l.endsWith(".prepare(10)")).length, 6);
});

Deno.test("RatioSampler closes the reference when the subject cannot be made", () => {
  const log: string[] = [];
  const sampler = new RatioSampler(
    () => fixed("ref", 1, log),
    () => {
      throw new Error("libtradecaptain_native.so not found");
    },
    commands,
    0,
  );
  assert.throws(() => sampler.samples(1), /not found/);
  assert.deepEqual(log, ["ref.close"]);
  assert.deepEqual(sampler.samples(0), []);
});
