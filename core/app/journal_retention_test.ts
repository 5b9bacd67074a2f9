import assert from "node:assert";
import { CommandKind, loadInstruments, OrderType, Side, TimeInForce } from "../matching/mod.ts";
import { eventFlags, EVF_LAST, NativeEngine } from "../native/mod.ts";
import { readConfig } from "./config.ts";

/** Bytes and segment files in a journal folder (snapshots included). */
function size(dir: string): { bytes: number; segments: number } {
  let bytes = 0;
  let segments = 0;
  const walk = (path: string) => {
    for (const entry of Deno.readDirSync(path)) {
      const full = `${path}/${entry.name}`;
      if (entry.isDirectory) walk(full);
      else bytes += Deno.statSync(full).size;
      if (entry.name.endsWith(".tcj")) segments++;
    }
  };
  walk(dir);
  return { bytes, segments };
}

/**
 * Runs `commands` place-then-cancel pairs (the book stays small, the journal
 * grows) through an engine journaling with the core's configuration, in 64 KiB
 * segments with a snapshot every 500 commands; returns the most the folder held.
 */
function run(env: Record<string, string>, commands: number): { bytes: number; segments: number } {
  const config = readConfig((name) => ({ SNAPSHOT_EVERY: "500", ...env })[name]);
  const dir = Deno.makeTempDirSync({ prefix: "tc-retention-" });
  const engine = NativeEngine.open(loadInstruments());
  try {
    engine.openJournal({
      dir,
      meta: "{}",
      segmentBytes: 64 * 1024,
      snapshotEvery: config.snapshotEvery,
      retention: config.journalRetention,
    });
    engine.start();
    let answered = 0;
    const count = (u32: Uint32Array, at: number) => {
      if (eventFlags(u32, at) & EVF_LAST) answered++;
    };
    const most = { bytes: 0, segments: 0 };
    for (let id = 1; id <= commands / 2; id++) {
      const place = {
        kind: CommandKind.PlaceOrder,
        id,
        account: 1,
        instrument: 0,
        side: Side.Buy,
        type: OrderType.Limit,
        tif: TimeInForce.Gtc,
        postOnly: false,
        price: 10_000,
        qty: 1,
      } as const;
      while (!engine.push(place)) engine.drain(count);
      while (!engine.push({ kind: CommandKind.CancelOrder, id })) engine.drain(count);
      if (id % 2_000 === 0) {
        engine.flush();
        while (answered < id * 2) engine.drain(count);
        const now = size(dir);
        most.bytes = Math.max(most.bytes, now.bytes);
        most.segments = Math.max(most.segments, now.segments);
      }
    }
    return most;
  } finally {
    engine.close();
    Deno.removeSync(dir, { recursive: true });
  }
}

Deno.test("the default journal retention keeps the folder bounded over many snapshots; JOURNAL_RETENTION=all keeps growing", () => {
  // 40,000 commands of 64+ bytes: about 45 segments of 64 KiB if all are kept.
  const bounded = run({}, 40_000);
  const all = run({ JOURNAL_RETENTION: "all" }, 40_000);
  assert(all.segments >= 30, `JOURNAL_RETENTION=all should keep every segment: ${all.segments}`);
  // Two snapshot intervals (~1,000 commands, ~2 segments), the active one and spares.
  assert(bounded.segments <= 8, `the default kept up to ${bounded.segments} segments`);
  assert(bounded.bytes < all.bytes / 4, `${bounded.bytes} bytes against ${all.bytes}`);
});
