import assert from "node:assert/strict";
import { type CpuSample, cpuSample, LoadMeter, otherCpus, sampleCpu } from "./_machine_load.ts";

Deno.test("cpuSample() sums every CPU's busy and idle time and takes the process's in ms", () => {
  const a = { user: 400, nice: 10, sys: 100, idle: 1_000, irq: 5 };
  const b = { user: 300, nice: 0, sys: 200, idle: 1_200, irq: 0 };
  assert.deepEqual(cpuSample([a, b], { user: 250_000, system: 50_000 }), {
    busy: 515 + 500,
    total: 515 + 500 + 2_200,
    own: 300,
  });
});

Deno.test("otherCpus() counts the busy time that was not this process's", () => {
  const before = { busy: 1_000, total: 4_000, own: 200 };
  // 2 CPUs for 500 ms: 1,000 ms in all, 700 busy, 300 of them ours.
  assert.equal(otherCpus(before, { busy: 1_700, total: 5_000, own: 500 }, 2), 0.8);
  // The counters' 10 ms steps never make it negative.
  assert.equal(otherCpus(before, { busy: 1_300, total: 5_000, own: 520 }, 2), 0);
  assert.ok(Number.isNaN(otherCpus(undefined, before, 2)));
  assert.ok(Number.isNaN(otherCpus(before, before, 2)));
});

Deno.test("LoadMeter sums other processes' share over the wrapped runs only", () => {
  const samples: CpuSample[] = [
    { busy: 0, total: 0, own: 0 },
    { busy: 150, total: 200, own: 100 }, // a run: 50 of 200 ms others'
    { busy: 400, total: 400, own: 100 }, // between runs: not metered
    { busy: 600, total: 600, own: 250 }, // a run: 50 of 200 ms others'
  ];
  let at = 0;
  const meter = new LoadMeter(2, () => samples[at++]);
  assert.ok(Number.isNaN(meter.others));
  const prepared: number[] = [];
  const subject = meter.wrap({
    name: "s",
    prepare: (c) => void prepared.push(c.length),
    run: (c) => ({ seconds: 1, commands: c.length, events: 0 }),
  });
  assert.equal(subject.name, "s");
  subject.prepare?.([]);
  assert.deepEqual(prepared, [0]);
  subject.run([]);
  at++; // time passes between runs
  subject.run([]);
  assert.equal(meter.others, (100 / 400) * 2);
});

Deno.test("sampleCpu() reads this machine's counters with --allow-sys", () => {
  const s = sampleCpu();
  assert.ok(s !== undefined && s.total >= s.busy && s.busy > 0 && s.own > 0, JSON.stringify(s));
});
