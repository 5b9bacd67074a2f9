import { PROBLEM_TYPE_PREFIX } from "./problem.ts";
import { QUOTE_CACHE_CONTROL, SYMBOLS_CACHE_CONTROL } from "./quotes_api.ts";
import assert from "node:assert";
import { withEdge } from "./_testing/edge.ts";
import { makeSnapshot, makeSymbolInfo, seedSnapshots, T0 } from "./_testing/kv.ts";

Deno.test("GET /api/v1/quotes/:symbol answers the ticker JSON with its ETag and caching", async () => {
  await withEdge(async ({ kv, cache, get }) => {
    await seedSnapshots(kv, ["AAPL", "BRK.B"]);
    await cache.refresh();
    const res = await get("/api/v1/quotes/BRK.B");
    assert.deepStrictEqual(res.status, 200);
    assert.deepStrictEqual(res.headers.get("content-type"), "application/json");
    assert.deepStrictEqual(res.headers.get("cache-control"), QUOTE_CACHE_CONTROL);
    assert.deepStrictEqual(res.headers.get("etag"), `"q1-1-${T0.toString(36)}-1"`);
    assert.deepStrictEqual(await res.json(), {
      status: "OK",
      ticker: {
        ticker: "BRK.B",
        name: "BRK.B Inc.",
        priceDecimals: 2,
        todaysChange: 1.25,
        todaysChangePerc: 1.25,
        updated: T0,
        day: { o: 100, h: 102, l: 99.5, c: 101.25, v: 1200, vw: 100.9, n: 88 },
        prevDay: { c: 100 },
        lastTrade: { p: 101.25, s: 3, t: T0 - 100 },
        lastQuote: { p: 101.2, s: 10, P: 101.3, S: 7 },
        week52: null,
        version: 1,
      },
    });
  });
});

Deno.test("a quote with nothing yet answers nulls, never zeros", async () => {
  await withEdge(async ({ write, get }) => {
    await write({
      snapshots: [makeSnapshot("NEW", {
        lastTrade: null,
        bid: null,
        ask: { price: 10, size: 1 },
        day: null,
        prevClose: null,
        change: null,
        changePercent: null,
        week52: { high: 12, low: 8 },
      })],
    });
    const { ticker } = await (await get("/api/v1/quotes/NEW")).json();
    assert.deepStrictEqual(
      [ticker.day, ticker.prevDay, ticker.lastTrade, ticker.todaysChange, ticker.todaysChangePerc],
      [null, null, null, null, null],
    );
    assert.deepStrictEqual(ticker.lastQuote, { p: null, s: null, P: 10, S: 1 });
    assert.deepStrictEqual(ticker.week52, { h: 12, l: 8 });
  });
});

Deno.test("GET /api/v1/quotes answers the symbols asked, in that order, or all", async () => {
  await withEdge(async ({ kv, cache, write, get }) => {
    await seedSnapshots(kv, ["AAPL", "MSFT", "TSLA"]);
    await cache.refresh();
    await write({ snapshots: [makeSnapshot("MSFT", { sequence: 2 })] });
    const some = await get("/api/v1/quotes?symbols=TSLA,MSFT,TSLA");
    const body = await some.json();
    assert.deepStrictEqual([body.status, body.count], ["OK", 2]);
    assert.deepStrictEqual(body.tickers.map((t: { ticker: string }) => t.ticker), ["TSLA", "MSFT"]);
    // The tag follows the newest snapshot shown.
    assert.deepStrictEqual(some.headers.get("etag"), `"q1-2-${T0.toString(36)}-2"`);
    assert.deepStrictEqual(some.headers.get("cache-control"), QUOTE_CACHE_CONTROL);
    const all = await (await get("/api/v1/quotes")).json();
    assert.deepStrictEqual(all.tickers.map((t: { ticker: string }) => t.ticker), [
      "AAPL",
      "MSFT",
      "TSLA",
    ]);
    // A comma sent percent-encoded is a comma.
    assert.deepStrictEqual(
      (await (await get("/api/v1/quotes?symbols=AAPL%2CTSLA")).json()).count,
      2,
    );
  });
});

Deno.test("If-None-Match with the current tag is answered 304, until the snapshot changes", async () => {
  await withEdge(async ({ kv, cache, write, get }) => {
    await seedSnapshots(kv, ["AAPL", "MSFT"]);
    await cache.refresh();
    for (const path of ["/api/v1/quotes/AAPL", "/api/v1/quotes?symbols=AAPL,MSFT"]) {
      const first = await get(path);
      const etag = first.headers.get("etag")!;
      for (const header of [etag, `W/${etag}`, `"other", ${etag}`, "*"]) {
        const res = await get(path, { headers: { "if-none-match": header } });
        assert.deepStrictEqual(res.status, 304, `${path} with ${header}`);
        assert.deepStrictEqual(res.headers.get("etag"), etag);
        assert.deepStrictEqual(res.headers.get("cache-control"), QUOTE_CACHE_CONTROL);
        assert.deepStrictEqual(await res.text(), "");
      }
      assert.deepStrictEqual(
        (await get(path, { headers: { "if-none-match": '"q1-0"' } })).status,
        200,
      );
    }
    // Another symbol's change leaves AAPL's tag alone; AAPL's own moves it.
    const tag = (await get("/api/v1/quotes/AAPL")).headers.get("etag")!;
    await write({ snapshots: [makeSnapshot("MSFT")] });
    assert.deepStrictEqual(
      (await get("/api/v1/quotes/AAPL", { headers: { "if-none-match": tag } })).status,
      304,
    );
    const listTag = (await get("/api/v1/quotes?symbols=AAPL,MSFT")).headers.get("etag");
    await write({ snapshots: [makeSnapshot("AAPL")] });
    assert.deepStrictEqual(
      (await get("/api/v1/quotes/AAPL", { headers: { "if-none-match": tag } })).status,
      200,
    );
    const moved = (await get("/api/v1/quotes?symbols=AAPL,MSFT")).headers.get("etag");
    assert(moved !== listTag, "the list's tag did not move");
  });
});

Deno.test("GET /api/v1/symbols answers the instrument list, with its own tag", async () => {
  await withEdge(async ({ kv, cache, write, get }) => {
    await seedSnapshots(kv, ["AAPL", "MSFT"]);
    await cache.refresh();
    const res = await get("/api/v1/symbols");
    assert.deepStrictEqual(await res.json(), {
      status: "OK",
      count: 2,
      symbols: [makeSymbolInfo("AAPL"), makeSymbolInfo("MSFT")],
    });
    assert.deepStrictEqual(res.headers.get("cache-control"), SYMBOLS_CACHE_CONTROL);
    const etag = res.headers.get("etag")!;
    const headers = { "if-none-match": etag };
    await write({ snapshots: [makeSnapshot("AAPL")] }); // quotes move, the list does not
    assert.deepStrictEqual((await get("/api/v1/symbols", { headers })).status, 304);
    await write({ symbols: { format: 1, symbols: [makeSymbolInfo("AAPL")] } });
    const changed = await get("/api/v1/symbols", { headers });
    assert.deepStrictEqual([changed.status, (await changed.json()).count], [200, 1]);
    // A list written before maxOrderQty existed is answered without it.
    const { maxOrderQty: _, ...old } = makeSymbolInfo("AAPL");
    await write({ symbols: { format: 1, symbols: [old] } });
    assert.deepStrictEqual((await (await get("/api/v1/symbols")).json()).symbols, [old]);
  });
});

/** One bad request and the problem it must get. */
type BadCase = [path: string, status: number, reason: string, parameter?: string];

async function check(get: (path: string) => Promise<Response>, cases: BadCase[]) {
  for (const [path, status, reason, parameter] of cases) {
    const res = await get(path);
    assert.deepStrictEqual(res.status, status, path);
    assert.deepStrictEqual(res.headers.get("content-type"), "application/problem+json", path);
    assert.deepStrictEqual(res.headers.get("cache-control"), "no-store", path);
    const body = await res.json();
    assert.deepStrictEqual(
      [body.type, body.status, body.reason, body.parameter],
      [PROBLEM_TYPE_PREFIX + reason, status, reason, parameter],
      path,
    );
    assert(typeof body.title === "string" && body.title.length > 0, `${path}: no title`);
    assert(/^Cannot /.test(body.detail), `${path}: detail ${body.detail}`);
  }
}

Deno.test("bad symbols are 400, unknown well-formed ones 404, bad parameters 400 naming them", async () => {
  await withEdge(async ({ kv, cache, get }) => {
    await seedSnapshots(kv, ["AAPL", "MSFT"]);
    await cache.refresh();
    const many = Array.from({ length: 101 }, (_, i) => `S${i}`).join(",");
    await check(get, [
      ["/api/v1/quotes/aapl", 400, "bad_symbol"],
      ["/api/v1/quotes/TOOLONGSYMBOL", 400, "bad_symbol"],
      ["/api/v1/quotes/AA%20PL", 400, "bad_symbol"],
      ["/api/v1/quotes/AA_PL", 400, "bad_symbol"],
      ["/api/v1/quotes/%E0%A4%A", 400, "bad_symbol"],
      ["/api/v1/quotes/%2F", 400, "bad_symbol"],
      ["/q/AA_PL", 400, "bad_symbol"], // /q/aapl redirects: create_edge_test.ts
      ["/api/v1/quotes/GOOG", 404, "unknown_symbol"],
      ["/q/GOOG", 404, "unknown_symbol"],
      ["/api/v1/quotes?symbols=AAPL,GOOG", 404, "unknown_symbol"],
      ["/api/v1/quotes?symbols=", 400, "bad_parameter", "symbols"],
      ["/api/v1/quotes?symbols=AAPL,,MSFT", 400, "bad_parameter", "symbols"],
      ["/api/v1/quotes?symbols=AAPL,", 400, "bad_parameter", "symbols"],
      ["/api/v1/quotes?symbols=aapl", 400, "bad_parameter", "symbols"],
      ["/api/v1/quotes?symbols=AAPL&symbols=MSFT", 400, "bad_parameter", "symbols"],
      [`/api/v1/quotes?symbols=${many}`, 400, "bad_parameter", "symbols"],
      ["/api/v1/stream?symbols=A,,B", 400, "bad_parameter", "symbols"],
      ["/api/v1/stream?since=-1", 400, "bad_parameter", "since"],
      ["/api/v1/stream?since=1e3", 400, "bad_parameter", "since"],
      ["/api/v1/stream?since=99999999999999999", 400, "bad_parameter", "since"],
      ["/api/v1/stream?symbols=GOOG", 404, "unknown_symbol"],
      ["/api/v1/quote/AAPL", 404, "no_route"],
      ["/api/v1/quotes/", 404, "no_route"],
      ["/api/v2/quotes/AAPL", 404, "no_route"],
    ]);
    const detail = async (path: string) => (await (await get(path)).json()).detail;
    assert.deepStrictEqual(
      await detail("/api/v1/quotes?symbols=AAPL,,MSFT"),
      "Cannot read symbols: entry 2 is empty",
    );
    assert.deepStrictEqual(
      await detail(`/api/v1/quotes?symbols=${many}`),
      "Cannot read symbols: 101 entries, at most 100",
    );
    assert.deepStrictEqual(
      await detail("/api/v1/quotes?symbols=AAPL,GOOG,X"),
      "Cannot find symbols: there is no quote for GOOG, X",
    );
  });
});

Deno.test("before the first KV read, quotes are 503 not_ready with Retry-After", async () => {
  await withEdge(async ({ get }) => {
    for (
      const path of ["/api/v1/quotes/AAPL", "/api/v1/quotes", "/api/v1/symbols", "/", "/q/AAPL"]
    ) {
      const res = await get(path);
      assert.deepStrictEqual([res.status, res.headers.get("retry-after")], [503, "1"], path);
      assert.deepStrictEqual((await res.json()).reason, "not_ready");
    }
  });
});
