import type { EdgeSettings } from "./create_edge.ts";
import { HttpMetrics } from "./metrics.ts";
import { quoteFastPath, quotePathSymbol } from "./quote_fast_path.ts";
import { RateLimitPolicy } from "./rate_limit.ts";
import { resolveRequestLimits } from "./request_limits.ts";
import { SnapshotCache } from "./snapshot_cache.ts";
import assert from "node:assert";
import { type TestEdge, withEdge } from "./_testing/edge.ts";
import { makeSnapshot, seedSnapshots } from "./_testing/kv.ts";

/** One request of a shared case list. */
interface Case {
  readonly path: string;
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly address?: string;
}

/** What a client sees of an answer. */
async function seen(edge: TestEdge, c: Case) {
  const res = await edge.get(c.path, {
    method: c.method ?? "GET",
    ...(c.headers === undefined ? {} : { headers: c.headers }),
  }, c.address);
  return { status: res.status, headers: [...res.headers], body: await res.text() };
}

/** The metrics that do not depend on timing: counts by route and status, 304s, counts. */
async function counted(edge: TestEdge): Promise<string[]> {
  const text = await (await edge.app.request("/metrics")).text();
  return text.split("\n").filter((line) =>
    /^(http_requests_total|http_cache_hits_total|http_request_duration_seconds_count)\{/.test(line)
  ).sort();
}

/**
 * Runs `cases` in order through an edge with the fast path and one without
 * (the Hono app alone, the reference), both fed the same snapshots, and
 * checks that every answer and the metrics are the same.
 */
async function check(cases: readonly Case[], settings: EdgeSettings = {}): Promise<void> {
  await withEdge(async (fast) => {
    await withEdge(async (slow) => {
      for (const edge of [fast, slow]) {
        await seedSnapshots(edge.kv, ["AAPL", "BRK.B"]);
        await edge.cache.refresh();
      }
      for (const [i, c] of cases.entries()) {
        const label = `case ${i}: ${c.method ?? "GET"} ${c.path.slice(0, 60)}`;
        assert.deepStrictEqual(await seen(fast, c), await seen(slow, c), label);
      }
      assert.deepStrictEqual(await counted(fast), await counted(slow), "metrics");
    }, { ...settings, quoteFastPath: false });
  }, settings);
}

const QUOTE = "/api/v1/quotes/AAPL";
const ETAG = `"q1-1-${(1_764_000_000_000).toString(36)}-1"`;

/** Every kind of request the quote route sees, answered or left by the fast path. */
const CASES: readonly Case[] = [
  { path: QUOTE },
  { path: QUOTE, method: "HEAD" },
  { path: "/api/v1/quotes/BRK.B" },
  { path: `${QUOTE}?x=1&symbols=MSFT` },
  { path: QUOTE, headers: { "if-none-match": ETAG } },
  { path: QUOTE, headers: { "if-none-match": `"other", W/${ETAG}` } },
  { path: QUOTE, headers: { "if-none-match": "*" } },
  { path: QUOTE, headers: { "if-none-match": '"q1-0-0-1"' } },
  { path: QUOTE, method: "HEAD", headers: { "if-none-match": ETAG } },
  { path: QUOTE, headers: { origin: "https://a.example", accept: "application/json" } },
  { path: "/api/v1/quotes/aapl" },
  { path: "/api/v1/quotes/NOPE" },
  { path: "/api/v1/quotes/AAP%4C" },
  { path: "/api/v1/quotes/%ZZ" },
  { path: `${QUOTE}/` },
  { path: "/api/v1/quotes/" },
  { path: "/api/v1/quotes" },
  { path: QUOTE, method: "POST" },
  { path: QUOTE, method: "OPTIONS", headers: { "access-control-request-method": "GET" } },
  { path: `${QUOTE}?pad=${"a".repeat(9000)}` },
  { path: QUOTE, headers: { "x-big": "b".repeat(17_000) } },
  { path: QUOTE, address: "198.51.100.1" },
];

Deno.test("the fast path answers every quote request as the Hono app does", async () => {
  await check(CASES);
});

Deno.test("the fast path answers as the Hono app does with rate limits, HSTS off and an origin", async () => {
  await check(CASES, {
    rateLimit: { limit: 1_000, windowSeconds: 10 },
    hsts: false,
    corsOrigin: "https://app.example",
  });
});

Deno.test("the fast path and the app share one quota per address, and its 429", async () => {
  const a = "198.51.100.7";
  const cases: Case[] = [];
  // Three tokens: quotes (fast path), an error (app), then refusals (app).
  for (const path of [QUOTE, "/api/v1/quotes/aapl", QUOTE, QUOTE, "/api/v1/quotes/BRK.B"]) {
    cases.push({ path, address: a });
  }
  cases.push({ path: QUOTE, address: "198.51.100.8" });
  cases.push({ path: QUOTE, address: a, headers: { "if-none-match": ETAG } });
  await check(cases, { rateLimit: { limit: 3, windowSeconds: 30 } });
});

Deno.test("before the first read the fast path leaves the 503 to the app", async () => {
  await withEdge(async ({ get }) => {
    const res = await get(QUOTE);
    assert.deepStrictEqual([res.status, (await res.json()).reason], [503, "not_ready"]);
  });
});

Deno.test("quoteFastPath answers only 200s and 304s, and leaves the rest untouched", async () => {
  const kv = await Deno.openKv(":memory:");
  await seedSnapshots(kv, ["AAPL"]);
  const cache = new SnapshotCache({ kv });
  await cache.refresh();
  const metrics = new HttpMetrics();
  const route = metrics.route("/api/v1/quotes/:symbol");
  const policy = new RateLimitPolicy({ limit: 2, windowSeconds: 60 }, () => 0);
  const fast = quoteFastPath({
    cache,
    metrics: route,
    limits: resolveRequestLimits({ maxUrlLength: 200, maxHeaderBytes: 100 }),
    cors: [["access-control-allow-origin", "*"]],
    security: [["x-frame-options", "DENY"]],
    rateLimit: policy,
  });
  const env = { remoteAddr: { transport: "tcp", hostname: "192.0.2.5", port: 1 } };
  const left = (
    path: string,
    init?: RequestInit,
  ) => fast(new Request(`http://localhost${path}`, init), env) === undefined;
  try {
    for (
      const [path, init] of [
        ["/api/v1/quotes/MSFT"],
        ["/api/v1/quotes/aapl"],
        ["/api/v1/quotes/AAPL", { method: "POST" }],
        ["/api/v1/quotes/AAPL", { headers: { "x-pad": "p".repeat(100) } }],
        [`/api/v1/quotes/AAPL?${"q".repeat(200)}`],
        ["/api/v1/symbols"],
      ] as const
    ) assert(left(path, init), `answered ${path}`);
    assert.deepStrictEqual([route.count(200), policy.buckets.tryTake("192.0.2.6")], [0, 1]);

    const ok = fast(new Request("http://localhost/api/v1/quotes/AAPL"), env)!;
    assert.deepStrictEqual(ok.status, 200);
    assert.deepStrictEqual([...ok.headers], [
      ["access-control-allow-origin", "*"],
      ["cache-control", "public, max-age=0, s-maxage=1, stale-while-revalidate=5"],
      ["content-security-policy", ok.headers.get("content-security-policy")!],
      ["content-type", "application/json"],
      ["etag", ETAG],
      ["ratelimit", '"edge";r=1;t=30'],
      ["ratelimit-policy", '"edge";q=2;w=60'],
      ["x-frame-options", "DENY"],
    ]);
    assert.deepStrictEqual(JSON.parse(await ok.text()).ticker.ticker, "AAPL");
    const cached = fast(
      new Request("http://localhost/api/v1/quotes/AAPL", { headers: { "if-none-match": ETAG } }),
      env,
    )!;
    assert.deepStrictEqual([cached.status, cached.headers.has("content-security-policy")], [
      304,
      false,
    ]);
    assert.deepStrictEqual(cached.headers.get("ratelimit"), '"edge";r=0;t=60');
    // The bucket is empty: the app answers the 429.
    assert(left("/api/v1/quotes/AAPL"), "answered without a token");
    assert.deepStrictEqual([route.count(200), route.count(304), route.cacheHits], [1, 1, 1]);
  } finally {
    await cache.close();
    kv.close();
  }
});

Deno.test("quoteFastPath makes a snapshot's answer once, and a new snapshot's afresh", async () => {
  await withEdge(async ({ app, write, get }) => {
    await write({ snapshots: [makeSnapshot("AAPL")] });
    const first = await get(QUOTE);
    const again = await get(QUOTE);
    assert.deepStrictEqual(await again.text(), await first.text());
    await write({ snapshots: [makeSnapshot("AAPL", { lastTrade: null })] });
    const moved = await get(QUOTE);
    assert.deepStrictEqual(
      moved.headers.get("etag"),
      `"q1-2-${(1_764_000_000_000).toString(36)}-1"`,
    );
    assert.deepStrictEqual((await moved.json()).ticker.lastTrade, null);
    assert.deepStrictEqual(
      (await (await app.request("/metrics")).text()).includes(
        'http_requests_total{route="/api/v1/quotes/:symbol",status="200"} 3\n',
      ),
      true,
    );
  });
});

Deno.test("quotePathSymbol reads the path as Hono does", () => {
  const check = (url: string, symbol: string | undefined) =>
    assert.deepStrictEqual(quotePathSymbol(url), symbol, url);
  check("http://localhost/api/v1/quotes/AAPL", "AAPL");
  check("http://127.0.0.1:8000/api/v1/quotes/BRK.B?since=3#x", "BRK.B");
  check("https://edge.example/api/v1/quotes/MSFT#top", "MSFT");
  check("http://localhost/api/v1/quotes/", undefined);
  check("http://localhost/api/v1/quotes/?x", undefined);
  check("http://localhost/api/v1/quotes/A/B", undefined);
  check("http://localhost/api/v1/quotes/A%42", undefined);
  check("http://localhost/api/v1/quotes", undefined);
  check("http://localhost/api/v1/quotesX/AAPL", undefined);
  check("http://localhost//api/v1/quotes/AAPL", undefined);
  check("http://localhost/q/AAPL", undefined);
});
