import type { Command } from "../core/matching/types.ts";
import { lazySubject, runMatchingBench } from "./matching_bench.ts";
import type { MatchingSubject, RunResult } from "./subject.ts";
import { checkTargets, MATCHING_TARGETS } from "./targets.ts";
import assert from "node:assert";

/** A subject with a fixed speed, recording what the bench asked of it. */
function fake(name: string, commandsPerSecond: number, calls: string[] = []): MatchingSubject {
  return {
    name,
    prepare(commands) {
      calls.push(`${name}.prepare(${commands.length})`);
    },
    run(commands): RunResult {
      calls.push(`${name}.run(${commands.length})`);
      return {
        seconds: commands.length / commandsPerSecond,
        commands: commands.length,
        events: commands.length,
        latenciesNs: Float64Array.from({ length: 100 }, (_, i) => i + 1),
      };
    },
    close() {
      calls.push(`${name}.close()`);
    },
  };
}

const commands: Command[] = Array.from({ length: 1_000 }, (_, id) => ({ kind: 2, id }));

Deno.test("runMatchingBench() reports throughput as a ratio to the reference", () => {
  const results = runMatchingBench({
    subjects: [fake("reference", 1e6), fake("fast", 4e6)],
    commands,
    warmup: 0,
  });
  assert.deepStrictEqual(results.map((r) => r.ratio), [1, 4]);
  assert.deepStrictEqual(results[1]?.commandsPerSecond, 4e6);
  assert.deepStrictEqual(results[1]?.latency?.p99, 99);
});

Deno.test("runMatchingBench() warms up on a prefix, then interleaves repetitions", () => {
  const calls: string[] = [];
  runMatchingBench({
    subjects: [fake("reference", 1e6, calls), fake("b", 1e6, calls)],
    commands,
    warmup: 100,
    repeat: 2,
  });
  assert.deepStrictEqual(calls, [
    "reference.prepare(100)",
    "reference.run(100)",
    "b.prepare(100)",
    "b.run(100)",
    "reference.prepare(1000)",
    "reference.run(1000)",
    "b.prepare(1000)",
    "b.run(1000)",
    "reference.prepare(1000)",
    "reference.run(1000)",
    "b.prepare(1000)",
    "b.run(1000)",
    "reference.close()",
    "b.close()",
  ]);
});

Deno.test("runMatchingBench() reports the median repetition", () => {
  const speeds = [3e6, 1e6, 2e6];
  let call = 0;
  const wobbly: MatchingSubject = {
    name: "reference",
    run: (c) => ({ seconds: c.length / (speeds[call++] as number), commands: c.length, events: 0 }),
  };
  const [result] = runMatchingBench({ subjects: [wobbly], commands, warmup: 0, repeat: 3 });
  assert.deepStrictEqual(result?.commandsPerSecond, 2e6);
  assert.deepStrictEqual(result?.repetitions, [3e6, 1e6, 2e6]);
});

Deno.test("runMatchingBench() reports a failing subject and measures the others", () => {
  const broken = lazySubject("native-kernel", () => {
    throw new Error("library not built");
  });
  const results = runMatchingBench({
    subjects: [fake("reference", 1e6), broken],
    commands,
    warmup: 10,
  });
  assert.deepStrictEqual(results[0]?.ratio, 1);
  assert.deepStrictEqual(results[1]?.error, "warm-up: library not built");
  assert.deepStrictEqual(results[1]?.commandsPerSecond, undefined);
});

Deno.test("runMatchingBench() gives no ratios when the reference is absent", () => {
  const [result] = runMatchingBench({ subjects: [fake("other", 1e6)], commands, warmup: 0 });
  assert.deepStrictEqual(result?.ratio, undefined);
  assert(result?.commandsPerSecond === 1e6, "throughput still reported");
});

Deno.test("runMatchingBench() refuses duplicate names and bad counts", () => {
  const a = fake("a", 1);
  assert.throws(() => runMatchingBench({ subjects: [a, a], commands, warmup: 0 }), RangeError);
  assert.throws(() => runMatchingBench({ subjects: [a], commands, warmup: -1 }), RangeError);
  assert.throws(
    () => runMatchingBench({ subjects: [a], commands, warmup: 0, repeat: 0 }),
    RangeError,
  );
});

Deno.test("lazySubject() creates its subject once, on first use", () => {
  let created = 0;
  const subject = lazySubject("x", () => {
    created++;
    return fake("x", 1e6);
  });
  assert.deepStrictEqual(created, 0);
  runMatchingBench({ subjects: [subject], commands, warmup: 10, repeat: 2 });
  assert.deepStrictEqual(created, 1);
});

Deno.test("checkTargets() passes, fails and skips by the measured figures", () => {
  const latency = { p50: 150, p90: 300, p99: 1_500, p999: 2_000, max: 9_000, samples: 10 };
  const checks = checkTargets([
    { name: "native-kernel", commandsPerSecond: 12e6, latency },
    { name: "native-rings", error: "library not built" },
  ], MATCHING_TARGETS);
  assert.deepStrictEqual(checks.map((c) => c.status), ["PASS", "SKIP", "PASS", "FAIL"]);
  assert.deepStrictEqual(checks[3]?.detail, "1.50 µs");
});

Deno.test("runMatchingBench() pairs each repetition with the reference's of the same round", () => {
  const scripted = (name: string, speeds: number[]): MatchingSubject => {
    let call = 0;
    return {
      name,
      run: (c) => ({
        seconds: c.length / (speeds[call++] as number),
        commands: c.length,
        events: 0,
      }),
    };
  };
  // The machine slowed down in round 3 for both: per-round ratios are 3, 3, 1.
  const results = runMatchingBench({
    subjects: [scripted("reference", [1e6, 3e6, 2e6]), scripted("b", [3e6, 9e6, 2e6])],
    commands,
    warmup: 0,
    repeat: 3,
  });
  assert.deepStrictEqual(results[1]?.ratio, 3);
  // The samples the ratio is the median of, for its spread.
  assert.deepStrictEqual(results[1]?.ratioSamples, [3, 3, 1]);
});
