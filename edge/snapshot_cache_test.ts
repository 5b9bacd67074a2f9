import { QUOTE_KEYS } from "../schemas/quotes.ts";
import { SnapshotCache } from "./snapshot_cache.ts";
import assert from "node:assert";
import {
  makeSnapshot,
  makeSymbolInfo,
  markAlive,
  seedSnapshots,
  writeSnapshots,
} from "./_testing/kv.ts";

async function withCache(
  fn: (kv: Deno.Kv, cache: SnapshotCache) => Promise<void>,
  pollIntervalMs?: number,
): Promise<void> {
  const kv = await Deno.openKv(":memory:");
  const errors: unknown[] = [];
  const cache = new SnapshotCache({
    kv,
    onError: (_m, e) => errors.push(e),
    ...(pollIntervalMs === undefined ? {} : { pollIntervalMs }),
  });
  try {
    await fn(kv, cache);
  } finally {
    await cache.close();
    kv.close();
  }
  assert.deepStrictEqual(errors, [], "errors reported");
}

const prices = (cache: SnapshotCache) =>
  cache.all().map((s) => `${s.symbol}@${s.lastTrade?.price}v${s.version}`);

Deno.test("refresh() loads every snapshot and the instrument list, in engine order", async () => {
  await withCache(async (kv, cache) => {
    assert.deepStrictEqual(cache.loaded, false);
    await seedSnapshots(kv, ["MSFT", "AAPL", "BRK.B"]);
    await writeSnapshots(kv, { snapshots: [makeSnapshot("ZZZ")] }); // unlisted: sorted after
    assert.deepStrictEqual(await cache.refresh(), true);
    assert.deepStrictEqual(cache.loaded, true);
    assert.deepStrictEqual(cache.version, 2);
    assert.deepStrictEqual(prices(cache), [
      "MSFT@101.25v1",
      "AAPL@101.25v1",
      "BRK.B@101.25v1",
      "ZZZ@101.25v2",
    ]);
    assert.deepStrictEqual(cache.symbols.map((s) => s.symbol), ["MSFT", "AAPL", "BRK.B"]);
    assert.deepStrictEqual(cache.newestUpdate, makeSnapshot("X").updated);
  });
});

Deno.test("refresh() reads the snapshots only when the version moved", async () => {
  await withCache(async (kv, cache) => {
    await seedSnapshots(kv, ["AAPL"]);
    await cache.refresh();
    assert.deepStrictEqual(await cache.refresh(), false);
    assert.deepStrictEqual(await cache.refresh(), false);
    assert.deepStrictEqual([cache.stats.polls, cache.stats.reads], [3, 1]);
    // A snapshot written without moving the version is not seen: the
    // version key is the contract's signal.
    await kv.set(QUOTE_KEYS.symbol("AAPL"), { ...makeSnapshot("AAPL"), version: 9 });
    assert.deepStrictEqual(await cache.refresh(), false);
    assert.deepStrictEqual(cache.get("AAPL")?.version, 1);
    await writeSnapshots(kv, { snapshots: [makeSnapshot("AAPL", { lastTrade: null })] });
    assert.deepStrictEqual(await cache.refresh(), true);
    assert.deepStrictEqual([cache.get("AAPL")?.lastTrade, cache.get("AAPL")?.version], [null, 2]);
    assert.deepStrictEqual(cache.stats.reads, 2);
  });
});

Deno.test("an invalid value is skipped, counted once, and the last good snapshot kept", async () => {
  await withCache(async (kv, cache) => {
    await seedSnapshots(kv, ["AAPL", "MSFT"]);
    await cache.refresh();
    const good = cache.get("AAPL");
    await writeSnapshots(kv, {
      raw: { AAPL: { ...makeSnapshot("AAPL"), bid: { price: "1", size: 1 } } },
      snapshots: [makeSnapshot("MSFT", { prevClose: 90 })],
    });
    assert.deepStrictEqual(await cache.refresh(), true); // MSFT changed
    assert.deepStrictEqual(cache.get("AAPL"), good);
    assert.deepStrictEqual(cache.get("MSFT")?.prevClose, 90);
    assert.deepStrictEqual(cache.stats.invalid.quote, 1);
    // Another write that leaves AAPL's bad value alone does not count it again.
    await writeSnapshots(kv, { snapshots: [makeSnapshot("MSFT", { prevClose: 91 })] });
    await cache.refresh();
    assert.deepStrictEqual(cache.stats.invalid.quote, 1);
    // A snapshot filed under another symbol's key is refused too.
    await writeSnapshots(kv, { raw: { MSFT: { ...makeSnapshot("AAPL"), version: 4 } } });
    await cache.refresh();
    assert.deepStrictEqual([cache.get("MSFT")?.symbol, cache.stats.invalid.quote], ["MSFT", 2]);
    // A symbol whose first value is bad is not served at all.
    await writeSnapshots(kv, { raw: { NEW: { format: 2 } } });
    await cache.refresh();
    assert.deepStrictEqual([cache.get("NEW"), cache.stats.invalid.quote], [undefined, 3]);
    // Recovery: a good value replaces it.
    await writeSnapshots(kv, { snapshots: [makeSnapshot("AAPL", { change: null })] });
    await cache.refresh();
    assert.deepStrictEqual(cache.get("AAPL")?.change, null);
  });
});

Deno.test("a bad instrument list or version is counted and the last good one kept", async () => {
  await withCache(async (kv, cache) => {
    await seedSnapshots(kv, ["AAPL"]);
    await cache.refresh();
    await writeSnapshots(kv, { symbols: { format: 1, symbols: [{ symbol: "aapl" }] } });
    await cache.refresh();
    assert.deepStrictEqual(cache.symbols, [makeSymbolInfo("AAPL")]);
    assert.deepStrictEqual(cache.stats.invalid.symbols, 1);
    await kv.set(QUOTE_KEYS.version, "three");
    await cache.refresh();
    assert.deepStrictEqual([cache.version, cache.stats.invalid.version], [2, 1]);
    // A version bumped with atomic().sum() is a Deno.KvU64: accepted.
    await kv.set(QUOTE_KEYS.version, new Deno.KvU64(7n));
    await cache.refresh();
    assert.deepStrictEqual(cache.version, 7);
  });
});

Deno.test("the alive mark is read on every poll, without reading the snapshots", async () => {
  await withCache(async (kv, cache) => {
    await seedSnapshots(kv, ["AAPL"]);
    await cache.refresh();
    assert.deepStrictEqual([cache.aliveAt, cache.lastSignOfLife], [undefined, cache.newestUpdate]);
    const at = cache.newestUpdate! + 3000;
    await markAlive(kv, at);
    assert.deepStrictEqual(await cache.refresh(), false);
    assert.deepStrictEqual([cache.aliveAt, cache.lastSignOfLife, cache.stats.reads], [at, at, 1]);
    await markAlive(kv, 0, { format: 1, at: "soon" });
    await cache.refresh();
    assert.deepStrictEqual([cache.aliveAt, cache.stats.invalid.alive], [at, 1]);
  });
});

Deno.test("a deleted snapshot leaves the cache", async () => {
  await withCache(async (kv, cache) => {
    await seedSnapshots(kv, ["AAPL", "MSFT"]);
    await cache.refresh();
    await writeSnapshots(kv, { delete: ["MSFT"] });
    assert.deepStrictEqual(await cache.refresh(), true);
    assert.deepStrictEqual([cache.get("MSFT"), cache.all().map((s) => s.symbol)], [undefined, [
      "AAPL",
    ]]);
  });
});

Deno.test("listeners get the changed snapshots in version order, once each", async () => {
  await withCache(async (kv, cache) => {
    const seen: [string[], number][] = [];
    let closed = 0;
    cache.subscribe(
      (changed, version) => seen.push([changed.map((s) => `${s.symbol}v${s.version}`), version]),
      () => closed++,
    );
    await seedSnapshots(kv, ["AAPL", "MSFT"]);
    await cache.refresh();
    await writeSnapshots(kv, { snapshots: [makeSnapshot("MSFT")] });
    await writeSnapshots(kv, { snapshots: [makeSnapshot("AAPL")] });
    await cache.refresh();
    await cache.refresh();
    assert.deepStrictEqual(seen, [[["AAPLv1", "MSFTv1"], 1], [["MSFTv2", "AAPLv3"], 3]]);
    await cache.close();
    assert.deepStrictEqual(closed, 1);
  });
});

Deno.test("start() polls: a write shows up within a few intervals, without refresh()", async () => {
  await withCache(async (kv, cache) => {
    cache.start();
    await writeSnapshots(kv, { snapshots: [makeSnapshot("AAPL", { sequence: 5 })] });
    const seen = await waitFor(() => cache.get("AAPL"), 2000);
    assert.deepStrictEqual(seen.sequence, 5);
    const before = cache.stats.polls;
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert(cache.stats.polls >= before + 3, `only ${cache.stats.polls - before} polls in 100 ms`);
  }, 10);
});

Deno.test("refresh() throws what KV throws and changes nothing; polling carries on", async () => {
  const kv = await Deno.openKv(":memory:");
  await seedSnapshots(kv, ["AAPL"]);
  const errors: string[] = [];
  const cache = new SnapshotCache({ kv, onError: (m) => errors.push(m) });
  await cache.refresh();
  kv.close();
  let threw = false;
  try {
    await cache.refresh();
  } catch {
    threw = true;
  }
  assert(threw, "no error from a closed KV");
  assert.deepStrictEqual([cache.get("AAPL")?.version, cache.stats.pollErrors], [1, 1]);
  cache.start();
  await waitFor(() => (cache.stats.pollErrors >= 3 ? true : undefined), 2000);
  await cache.close();
  assert.deepStrictEqual(errors, ["snapshot cache: cannot read KV (will retry)"]); // once per run of failures
});

async function waitFor<T>(probe: () => T | undefined, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Nothing seen within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
