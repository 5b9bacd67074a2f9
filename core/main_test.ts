import { assert, assertEquals } from "./_testing/assert.ts";

const MAIN = new URL("./main.ts", import.meta.url).pathname;

async function runCore(env: Record<string, string>) {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-ffi",
      "--allow-env",
      "--allow-sys",
      MAIN,
    ],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code,
    out: new TextDecoder().decode(stdout),
    err: new TextDecoder().decode(stderr),
  };
}

Deno.test("the core starts the engine, runs the synthetic market and reports what it does", async () => {
  const journal = await Deno.makeTempDir();
  const { code, out, err } = await runCore({
    RUN_FOR_MS: "1500",
    STATS_INTERVAL_MS: "500",
    SYNTHETIC_RATE: "4000",
    JOURNAL_DIR: journal,
  });
  assertEquals(code, 0, err);
  assert(out.includes("instruments (10):"), out);
  assert(/engine: engine thread \d+ (pinned to|NOT pinned to) CPU \d+/.test(out), out);
  assert(
    /engine: (NUMA node \d+: thread memory policy|NUMA: the host shows no topology)/.test(out),
    out,
  );
  assert(/engine: huge pages: [\d.]+ MiB (advised|not advised)/.test(out), out);
  assert(out.includes("synthetic market: 4000 commands/s, seed 1"), out);
  const stats = out.split("\n").filter((l) =>
    / commands \(\d+\/s\), \d+ events, \d+ trades/.test(l)
  );
  assert(stats.length >= 2, `expected periodic statistics, got:\n${out}`);
  const trades = Number(/(\d+) trades/.exec(stats.at(-1)!)![1]);
  assert(trades > 0, `expected trades, got:\n${out}`);
  assert(/stopped \(RUN_FOR_MS=1500\): \d+ commands/.test(out), out);
  assert(out.includes(`journal: ${journal}: new journal, process-crash`), out);

  // A second start recovers what the first journaled.
  const again = await runCore({ RUN_FOR_MS: "300", SYNTHETIC_RATE: "0", JOURNAL_DIR: journal });
  assertEquals(again.code, 0, again.err);
  const sent = Number(/stopped \(RUN_FOR_MS=1500\): (\d+) commands/.exec(out)![1]);
  const replayed = Number(/replayed (\d+) commands/.exec(again.out)?.[1]);
  assertEquals(replayed, sent, again.out);
  await Deno.remove(journal, { recursive: true });
});

Deno.test("the core refuses a bad setting with a clear message and exit code 2", async () => {
  const { code, err } = await runCore({ SYNTHETIC_RATE: "lots", JOURNAL_DIR: "none" });
  assertEquals(code, 2);
  assert(err.includes('SYNTHETIC_RATE="lots" must be an integer from 0 to 10000000'), err);
});
