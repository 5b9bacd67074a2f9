import type { EngineState } from "../schemas/quotes.ts";
import assert from "node:assert";
import { withEdge } from "./_testing/edge.ts";
import { makeSnapshot, markAlive, T0 } from "./_testing/kv.ts";

Deno.test("readyz is 503 naming the cause once the core says its engine halted, however fresh its alive mark; metrics export it", async () => {
  await withEdge(async ({ kv, cache, write, get, clock }) => {
    const alive = (at: number, engine: EngineState) =>
      markAlive(kv, at, { format: 1, at, version: 1, engine });
    await write({ snapshots: [makeSnapshot("AAPL", { updated: T0 })], aliveAt: T0 });
    await alive(T0 + 500, { state: "running", cause: null, since: null });
    await cache.refresh();
    clock.now = T0 + 1_000;
    assert.deepStrictEqual((await get("/readyz")).status, 200);
    let metrics = await (await get("/metrics")).text();
    assert(metrics.includes("\nmarket_data_engine_halted 0\n"), metrics);
    assert(!metrics.includes("market_data_engine_halt_info"), metrics);

    // The core lives on (its alive mark is fresh) but its engine halted.
    await alive(T0 + 900, { state: "halted", cause: "ENOSPC", since: T0 + 800 });
    await cache.refresh();
    const res = await get("/readyz");
    assert.deepStrictEqual(res.status, 503);
    assert.deepStrictEqual(res.headers.get("content-type"), "application/problem+json");
    const body = await res.json();
    assert.deepStrictEqual([body.type, body.reason], [
      "urn:tradecaptain:problem:not_ready",
      "not_ready",
    ]);
    assert.deepStrictEqual(
      body.detail,
      "Cannot serve live quotes: the core's matching engine has halted (ENOSPC) since " +
        `${new Date(T0 + 800).toISOString()}; it takes no orders and the quotes are frozen ` +
        "until the core is restarted",
    );
    metrics = await (await get("/metrics")).text();
    assert(metrics.includes("\nmarket_data_engine_halted 1\n"), metrics);
    assert(metrics.includes('\nmarket_data_engine_halt_info{cause="ENOSPC"} 1\n'), metrics);
    // The quotes themselves are still served: frozen, not gone.
    assert.deepStrictEqual((await get("/api/v1/quotes/AAPL")).status, 200);

    // Restarted: running again.
    await alive(T0 + 2_000, { state: "running", cause: null, since: null });
    await cache.refresh();
    clock.now = T0 + 2_100;
    assert.deepStrictEqual((await get("/readyz")).status, 200);
  });
});

Deno.test("readyz and metrics say nothing of an engine a core does not report (an older core)", async () => {
  await withEdge(async ({ kv, cache, write, get, clock }) => {
    await write({ snapshots: [makeSnapshot("AAPL", { updated: T0 })], aliveAt: T0 });
    await markAlive(kv, T0 + 500);
    await cache.refresh();
    clock.now = T0 + 1_000;
    assert.deepStrictEqual((await get("/readyz")).status, 200);
    assert.deepStrictEqual(cache.engine, undefined);
    assert(!(await (await get("/metrics")).text()).includes("market_data_engine_halted"));
  });
});
