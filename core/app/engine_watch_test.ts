import { EngineWatch } from "./engine_watch.ts";
import { coreHealth } from "./health.ts";
import { Dispatcher } from "./dispatcher.ts";
import { MarketLoop } from "./market_loop.ts";
import { EngineStatus, journalMeta, NativeEngine } from "../native/mod.ts";
import { loadInstruments } from "../matching/mod.ts";
import assert from "node:assert";
import { withTempDir } from "../_testing/temp.ts";

const T0 = Date.UTC(2025, 10, 24, 16);
const get = (health: ReturnType<typeof coreHealth>, path: string) =>
  health(new Request(`http://127.0.0.1${path}`))!;

Deno.test("a full disk halts the engine: the cause is logged once, the synthetic market stops, and readiness and metrics say why", async () => {
  await withTempDir(async (dir) => {
    const instruments = loadInstruments();
    const engine = NativeEngine.open(instruments, { commandCapacity: 64, eventCapacity: 64 });
    // Segments of 64 KiB: the third one (index 2) cannot be made, as on a
    // full disk, after about 1,300 commands have filled the first two.
    engine.injectFaults({ enospcOnSegment: 2 });
    engine.openJournal({
      dir,
      meta: journalMeta(instruments),
      segmentBytes: 65536,
      snapshotEvery: 0,
    });
    engine.start();
    const dispatcher = new Dispatcher({ engine });
    const lines: string[] = [];
    const watch = new EngineWatch({ engine, now: () => T0, log: (line) => lines.push(line) });
    dispatcher.listen(() => watch.check());
    const loop = new MarketLoop({ instruments, dispatcher, rate: 1000, seed: 1 });
    const health = coreHealth({ engine: watch });
    try {
      const ready = get(health, "/readyz");
      assert.deepStrictEqual(ready.status, 200);
      assert.deepStrictEqual(await ready.json(), {
        status: "ready",
        engine: { state: "running", cause: null, since: null },
      });
      assert((await get(health, "/metrics").text()).includes("\ncore_engine_halted 0\n"));

      const sent = loop.step(100_000);
      assert(sent > 1000 && sent < 100_000, `the market sent ${sent} commands`);
      assert(loop.halted, "the market saw the halt");
      assert.deepStrictEqual(loop.step(100), 0, "and sends nothing more");
      loop.start(); // a paced start after a halt does nothing either
      assert.deepStrictEqual(loop.stats.commands, sent);
      loop.stop();

      assert.deepStrictEqual(engine.status, EngineStatus.Halted);
      const segment = `${dir}/segment-0000000000000002.tcj`;
      const reason = `Engine halted: Cannot prepare journal segment ${segment}: ` +
        "no space left on device (ENOSPC)";
      assert.deepStrictEqual(watch.halted, { reason, errno: 28, cause: "ENOSPC", since: T0 });
      assert.deepStrictEqual(watch.state, { state: "halted", cause: "ENOSPC", since: T0 });
      assert.deepStrictEqual(lines.length, 1, lines.join("\n"));
      assert(lines[0]!.startsWith(`engine: HALTED (ENOSPC): ${reason}.`), lines[0]);
      assert(watch.check(), "still halted");
      assert.deepStrictEqual(lines.length, 1, "logged once");

      const notReady = get(health, "/readyz");
      assert.deepStrictEqual(notReady.status, 503);
      assert.deepStrictEqual(notReady.headers.get("content-type"), "application/problem+json");
      assert.deepStrictEqual(await notReady.json(), {
        type: "urn:tradecaptain:problem:engine_halted",
        title: "Engine halted",
        status: 503,
        detail: `Cannot take orders: ${reason}`,
        reason: "engine_halted",
        engine: { state: "halted", cause: "ENOSPC", since: T0 },
      });
      const metrics = await get(health, "/metrics").text();
      assert(metrics.includes("\ncore_engine_halted 1\n"), metrics);
      assert(metrics.includes('\ncore_engine_halt_info{cause="ENOSPC"} 1\n'), metrics);
      assert.deepStrictEqual((await get(health, "/livez").json()).status, "ok");
    } finally {
      loop.stop();
      await dispatcher.stop();
      engine.close();
    }
  });
});

Deno.test("a restart on a full disk is refused with ENOSPC and the segment's path", async () => {
  await withTempDir((dir) => {
    const instruments = loadInstruments();
    const options = { dir, meta: journalMeta(instruments), segmentBytes: 65536 };
    const first = NativeEngine.open(instruments);
    first.openJournal(options);
    first.close();
    const again = NativeEngine.open(instruments);
    try {
      again.injectFaults({ enospcOnSegment: 1 });
      let message = "";
      try {
        again.openJournal(options);
      } catch (error) {
        message = (error as Error).message;
      }
      assert.deepStrictEqual(
        message,
        `Cannot recover: the journal in ${dir} has no room to grow: Cannot prepare journal ` +
          `segment ${dir}/segment-0000000000000001.tcj: no space left on device (ENOSPC); ` +
          "free space on that device, then start again",
      );
    } finally {
      again.close();
    }
    return Promise.resolve();
  });
});

Deno.test("the watch polls on its own: a halt with no command in flight is seen within its interval", async () => {
  let status: number = EngineStatus.Running;
  const engine = {
    get status() {
      return status;
    },
    haltCause: () => ({ reason: "Engine halted: the sync failed", errno: 5, code: "EIO" }),
  };
  const lines: string[] = [];
  const watch = new EngineWatch({ engine, intervalMs: 5, log: (line) => lines.push(line) });
  const halted = new Promise((resolve) => watch.onHalt(resolve));
  watch.start();
  status = EngineStatus.Halted;
  await halted;
  assert.deepStrictEqual(watch.halted?.cause, "EIO");
  assert.deepStrictEqual(lines.length, 1);
  watch.stop();
});
