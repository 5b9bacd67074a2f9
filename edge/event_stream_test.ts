import { EVENT_STREAM_DEFAULTS, EventStreams } from "./event_stream.ts";
import { SnapshotCache } from "./snapshot_cache.ts";
import assert from "node:assert";
import { withEdge } from "./_testing/edge.ts";
import { makeSnapshot, seedSnapshots } from "./_testing/kv.ts";
import { SseReader, summary } from "./_testing/sse.ts";

Deno.test("the stream sends the current quotes, then each change; a batch's last event carries the version", async () => {
  await withEdge(async ({ kv, cache, write, get }) => {
    await seedSnapshots(kv, ["AAPL", "MSFT"]);
    await cache.refresh();
    const res = await get("/api/v1/stream");
    assert.deepStrictEqual(res.status, 200);
    assert.deepStrictEqual(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
    assert.deepStrictEqual(res.headers.get("cache-control"), "no-cache, no-transform");
    const sse = new SseReader(res.body!);
    assert.deepStrictEqual(await sse.next(), { retry: "2000" });
    assert.deepStrictEqual(summary(await sse.quotes(2)), ["AAPL@1", "MSFT@1#1"]);
    await write({ snapshots: [makeSnapshot("MSFT", { sequence: 2 })] });
    const [msft] = await sse.quotes(1);
    assert.deepStrictEqual(summary([msft!]), ["MSFT@2#2"]);
    // The data is the API's ticker JSON.
    const ticker = JSON.parse(msft!.data!);
    assert.deepStrictEqual([ticker.ticker, ticker.lastQuote.P, ticker.version], ["MSFT", 101.3, 2]);
    await write({ snapshots: [makeSnapshot("AAPL"), makeSnapshot("MSFT")] });
    assert.deepStrictEqual(summary(await sse.quotes(2)), ["AAPL@3", "MSFT@3#3"]);
    await sse.cancel();
  });
});

Deno.test("Last-Event-ID resumes after the last version seen; it wins over since", async () => {
  await withEdge(async ({ kv, cache, write, get }) => {
    await seedSnapshots(kv, ["AAPL", "MSFT", "TSLA"]);
    await cache.refresh();
    const first = new SseReader((await get("/api/v1/stream")).body!);
    const seen = await first.quotes(3);
    const lastId = seen.at(-1)!.id!;
    assert.deepStrictEqual(lastId, "1");
    await first.cancel();
    // While the client is away: two writes.
    await write({ snapshots: [makeSnapshot("TSLA")] });
    await write({ snapshots: [makeSnapshot("AAPL")] });
    const resumed = new SseReader(
      (await get("/api/v1/stream?since=0", { headers: { "last-event-id": lastId } })).body!,
    );
    assert.deepStrictEqual(summary(await resumed.quotes(2)), ["TSLA@2", "AAPL@3#3"]);
    await write({ snapshots: [makeSnapshot("MSFT")] });
    assert.deepStrictEqual(summary(await resumed.quotes(1)), ["MSFT@4#4"]);
    await resumed.cancel();
    // since= does the same for a first connection (a page rendered at version 3).
    const fromPage = new SseReader((await get("/api/v1/stream?since=3")).body!);
    assert.deepStrictEqual(summary(await fromPage.quotes(1)), ["MSFT@4#4"]);
    await fromPage.cancel();
    // A Last-Event-ID that is not a version is ignored: everything is sent.
    const garbled = new SseReader(
      (await get("/api/v1/stream", { headers: { "last-event-id": "x1" } })).body!,
    );
    assert.deepStrictEqual((await garbled.quotes(3)).length, 3);
    await garbled.cancel();
  });
});

Deno.test("symbols= streams only those symbols", async () => {
  await withEdge(async ({ kv, cache, write, get }) => {
    await seedSnapshots(kv, ["AAPL", "MSFT", "TSLA"]);
    await cache.refresh();
    const sse = new SseReader((await get("/api/v1/stream?symbols=TSLA")).body!);
    assert.deepStrictEqual(summary(await sse.quotes(1)), ["TSLA@1#1"]);
    await write({ snapshots: [makeSnapshot("AAPL")] });
    await write({ snapshots: [makeSnapshot("TSLA"), makeSnapshot("MSFT")] });
    assert.deepStrictEqual(summary(await sse.quotes(1)), ["TSLA@3#3"]);
    await sse.cancel();
  });
});

Deno.test("a slow reader holds one pending snapshot per symbol, the newest", async () => {
  await withEdge(async ({ kv, cache, write, get, app }) => {
    await seedSnapshots(kv, ["AAPL", "MSFT"]);
    await cache.refresh();
    const res = await get("/api/v1/stream");
    for (let i = 0; i < 30; i++) {
      await write({ snapshots: [makeSnapshot("AAPL", { sequence: i })] });
    }
    const sse = new SseReader(res.body!);
    assert.deepStrictEqual(await sse.next(), { retry: "2000" });
    // MSFT's first state, then only AAPL's newest: 29 older ones were replaced unsent.
    assert.deepStrictEqual(summary(await sse.quotes(2)), ["MSFT@1", "AAPL@31#31"]);
    const metrics = await (await app.request("/metrics")).text();
    assert(metrics.includes("edge_sse_coalesced_total 30\n"), metrics);
    await sse.cancel();
  });
});

Deno.test("a quiet stream gets heartbeat comments", async () => {
  await withEdge(async ({ kv, cache, get }) => {
    await seedSnapshots(kv, ["AAPL"]);
    await cache.refresh();
    const sse = new SseReader((await get("/api/v1/stream")).body!);
    await sse.quotes(1);
    assert.deepStrictEqual(await sse.next(), { comment: "heartbeat" });
    assert.deepStrictEqual(await sse.next(), { comment: "heartbeat" });
    await sse.cancel();
  }, { stream: { heartbeatMs: 20 } });
});

Deno.test("streams end cleanly: a client leaving frees its slot, closing the cache ends them all", async () => {
  const kv = await Deno.openKv(":memory:");
  await seedSnapshots(kv, ["AAPL"]);
  const cache = new SnapshotCache({ kv });
  await cache.refresh();
  const streams = new EventStreams(cache, { maxConnections: 2 });
  const open = (...args: Parameters<EventStreams["open"]>) => {
    const body = streams.open(...args);
    if (typeof body === "string") throw new Error(`refused: ${body}`);
    return body;
  };
  const a = new SseReader(open(undefined, undefined, "192.0.2.1"));
  const b = new SseReader(open(new Set(["AAPL"]), 0, "192.0.2.2"));
  assert.deepStrictEqual(streams.open(undefined, undefined, "192.0.2.3"), "full");
  assert.deepStrictEqual(streams.connections, 2);
  await a.quotes(1);
  await a.cancel();
  assert.deepStrictEqual(streams.connections, 1);
  const c = new SseReader(open(undefined, 1, "192.0.2.3")); // the slot is free again
  await cache.close();
  // b had its first batch pending: it is flushed, then the stream ends.
  assert.deepStrictEqual(summary(await b.quotes(1)), ["AAPL@1#1"]);
  assert(await b.ended(), "b did not end");
  assert(await c.ended(), "c did not end");
  assert.deepStrictEqual(streams.connections, 0);
  assert.deepStrictEqual(streams.open(undefined, undefined), "closed");
  kv.close();
});

Deno.test("HEAD opens no stream; the stream limit answers 503 too_many_streams", async () => {
  await withEdge(async ({ kv, cache, get, app }) => {
    await seedSnapshots(kv, ["AAPL"]);
    await cache.refresh();
    const head = await get("/api/v1/stream", { method: "HEAD" });
    assert.deepStrictEqual([head.status, head.headers.get("content-type")], [
      200,
      "text/event-stream; charset=utf-8",
    ]);
    const open = await get("/api/v1/stream");
    const refused = await get("/api/v1/stream");
    assert.deepStrictEqual([refused.status, (await refused.json()).reason], [
      503,
      "too_many_streams",
    ]);
    assert.deepStrictEqual(refused.headers.get("retry-after"), "5");
    const metrics = await (await app.request("/metrics")).text();
    assert(metrics.includes("edge_sse_connections 1\n"), metrics);
    await open.body!.cancel();
  }, { stream: { maxConnections: 1 } });
});

Deno.test("one address holds at most maxConnectionsPerAddress streams; a stream closing frees its slot", async () => {
  const kv = await Deno.openKv(":memory:");
  await seedSnapshots(kv, ["AAPL"]);
  const cache = new SnapshotCache({ kv });
  await cache.refresh();
  const streams = new EventStreams(cache, { maxConnections: 10, maxConnectionsPerAddress: 2 });
  const open = (address?: string) => {
    const body = streams.open(undefined, undefined, address);
    if (typeof body === "string") throw new Error(`refused: ${body}`);
    return new SseReader(body);
  };
  const a1 = open("192.0.2.1");
  const a2 = open("192.0.2.1");
  assert.deepStrictEqual(streams.open(undefined, undefined, "192.0.2.1"), "address_full");
  assert.deepStrictEqual(streams.connectionsOf("192.0.2.1"), 2);
  const b = open("2001:db8::1"); // another address has its own quota
  // Streams without an address share one quota.
  const u1 = open();
  const u2 = open();
  assert.deepStrictEqual(streams.open(undefined, undefined), "address_full");
  await a1.quotes(1);
  await a1.cancel();
  assert.deepStrictEqual(streams.connectionsOf("192.0.2.1"), 1);
  const a3 = open("192.0.2.1");
  assert.deepStrictEqual(streams.connections, 5);
  for (const r of [a2, a3, b, u1, u2]) await r.cancel();
  assert.deepStrictEqual(
    [streams.connectionsOf("192.0.2.1"), streams.connectionsOf("2001:db8::1")],
    [0, 0],
  );
  await cache.close();
  assert.deepStrictEqual(streams.connections, 0);
  kv.close();
});

Deno.test("the stream answers 429 too_many_streams_per_address past the default per-address limit", async () => {
  await withEdge(async ({ kv, cache, get, app }) => {
    await seedSnapshots(kv, ["AAPL"]);
    await cache.refresh();
    const limit = EVENT_STREAM_DEFAULTS.maxConnectionsPerAddress;
    assert(limit < EVENT_STREAM_DEFAULTS.maxConnections / 10, `${limit} per address`);
    const held: Response[] = [];
    for (let i = 0; i < limit; i++) {
      const res = await get("/api/v1/stream", {}, "198.51.100.1");
      assert.deepStrictEqual(res.status, 200, `stream ${i + 1}`);
      held.push(res);
    }
    const refused = await get("/api/v1/stream", {}, "198.51.100.1");
    assert.deepStrictEqual(refused.status, 429);
    assert.deepStrictEqual(refused.headers.get("content-type"), "application/problem+json");
    assert.deepStrictEqual(refused.headers.get("retry-after"), "5");
    assert.deepStrictEqual(await refused.json(), {
      type: "urn:tradecaptain:problem:too_many_streams_per_address",
      title: "Too many streams from this address",
      status: 429,
      detail: `Cannot open a stream: this address has ${limit} open, as many as one address may; ` +
        "close one first",
      reason: "too_many_streams_per_address",
    });
    const other = await get("/api/v1/stream", {}, "198.51.100.2");
    assert.deepStrictEqual(other.status, 200);
    held.push(other);
    // A HEAD opens nothing, so it is not refused.
    assert.deepStrictEqual(
      (await get("/api/v1/stream", { method: "HEAD" }, "198.51.100.1")).status,
      200,
    );
    await held[0]!.body!.cancel();
    const again = await get("/api/v1/stream", {}, "198.51.100.1");
    assert.deepStrictEqual(again.status, 200);
    held.push(again);
    const metrics = await (await app.request("/metrics")).text();
    assert(metrics.includes(`edge_sse_connections ${limit + 1}\n`), metrics);
    for (const res of held.slice(1)) await res.body!.cancel();
  });
});
