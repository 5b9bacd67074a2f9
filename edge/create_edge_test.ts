import {
  createEdge,
  PAGE_CACHE_CONTROL,
  ROUTES,
  SYMBOL_REDIRECT_CACHE_CONTROL,
} from "./create_edge.ts";
import { escapeHtml, type Pages } from "./pages.ts";
import { SnapshotCache } from "./snapshot_cache.ts";
import { EXPOSED_HEADERS } from "./cors.ts";
import { API_CSP } from "./security_headers.ts";
import assert from "node:assert";
import { withEdge } from "./_testing/edge.ts";
import { makeSnapshot, markAlive, seedSnapshots, T0, writeSnapshots } from "./_testing/kv.ts";

Deno.test("every route answers GET and HEAD, and 405 with Allow to other methods", async () => {
  await withEdge(async ({ kv, cache, get }) => {
    await seedSnapshots(kv, ["AAPL"]);
    await cache.refresh();
    const paths: Record<keyof typeof ROUTES, string> = {
      overview: "/",
      quotePage: "/q/AAPL",
      quote: "/api/v1/quotes/AAPL",
      quotes: "/api/v1/quotes?symbols=AAPL",
      symbols: "/api/v1/symbols",
      stream: "/api/v1/stream",
      livez: "/livez",
      readyz: "/readyz",
      metrics: "/metrics",
      assets: "",
      trade: "",
    };
    for (const [name, path] of Object.entries(paths)) {
      // Each needs a renderer with assets, or with a terminal: their own tests.
      if (name === "assets" || name === "trade") continue;
      const api = path.startsWith("/api/");
      if (name !== "stream") assert.deepStrictEqual((await get(path)).status, 200, `GET ${path}`);
      const head = await get(path, { method: "HEAD" });
      assert.deepStrictEqual([head.status, await head.text()], [200, ""], `HEAD ${path}`);
      for (const method of ["POST", "PUT", "DELETE", "PATCH", ...(api ? [] : ["OPTIONS"])]) {
        const res = await get(path, { method });
        assert.deepStrictEqual(res.status, 405, `${method} ${path}`);
        assert.deepStrictEqual(res.headers.get("allow"), api ? "GET, HEAD, OPTIONS" : "GET, HEAD");
        assert.deepStrictEqual(res.headers.get("content-type"), "application/problem+json");
        assert.deepStrictEqual((await res.json()).reason, "method_not_allowed");
      }
    }
    const unknown = await get("/nowhere", { method: "POST" });
    assert.deepStrictEqual([unknown.status, (await unknown.json()).reason], [404, "no_route"]);
  });
});

Deno.test("every answer carries the security headers; the API's CSP allows nothing", async () => {
  await withEdge(async ({ kv, cache, get }) => {
    await seedSnapshots(kv, ["AAPL"]);
    await cache.refresh();
    for (const path of ["/api/v1/quotes/AAPL", "/api/v1/quotes/aapl", "/nowhere", "/livez", "/"]) {
      const res = await get(path);
      const h = res.headers;
      assert.deepStrictEqual(h.get("x-content-type-options"), "nosniff", path);
      assert.deepStrictEqual(h.get("x-frame-options"), "DENY", path);
      assert.deepStrictEqual(h.get("referrer-policy"), "no-referrer", path);
      assert.match(h.get("strict-transport-security") ?? "", /^max-age=\d+; includeSubDomains$/);
      assert.deepStrictEqual([h.has("x-powered-by"), h.has("server")], [false, false], path);
      if (path !== "/") assert.deepStrictEqual(h.get("content-security-policy"), API_CSP, path);
      await res.body?.cancel();
    }
  });
});

Deno.test("pages get a fresh nonce in their CSP; a 304 carries no CSP", async () => {
  await withEdge(async ({ kv, cache, get }) => {
    await seedSnapshots(kv, ["AAPL"]);
    await cache.refresh();
    const nonces = new Set<string>();
    for (const path of ["/", "/", "/q/AAPL"]) {
      const res = await get(path);
      assert.deepStrictEqual(res.headers.get("content-type"), "text/html; charset=utf-8");
      assert.deepStrictEqual(res.headers.get("cache-control"), PAGE_CACHE_CONTROL);
      const csp = res.headers.get("content-security-policy") ?? "";
      const nonce = /script-src 'self' 'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)?.[1];
      assert(nonce !== undefined, csp);
      assert((await res.text()).includes(`<style nonce="${nonce}">`), "the page lacks the nonce");
      nonces.add(nonce);
      const again = await get(path, { headers: { "if-none-match": res.headers.get("etag")! } });
      assert.deepStrictEqual(again.status, 304);
      assert.deepStrictEqual(again.headers.has("content-security-policy"), false);
    }
    assert.deepStrictEqual(nonces.size, 3);
  });
});

Deno.test("an injected page renderer answers / and /q/:symbol, with the snapshots and nonce", async () => {
  const calls: string[] = [];
  const pages: Pages = {
    id: "build7",
    overview(ctx) {
      calls.push(
        `overview v${ctx.version} ${ctx.snapshots.map((s) => s.symbol)} ${ctx.url.search}`,
      );
      return `<p nonce="${ctx.nonce}">overview</p>`;
    },
    quote(ctx, snapshot) {
      calls.push(`quote ${snapshot.symbol} ${ctx.symbols.length} symbols`);
      return Promise.resolve(`<p>${snapshot.lastTrade?.price}</p>`);
    },
    csp: (nonce) => `script-src 'nonce-${nonce}' 'strict-dynamic'`,
  };
  await withEdge(async ({ kv, cache, get }) => {
    await seedSnapshots(kv, ["AAPL", "MSFT"]);
    await cache.refresh();
    const overview = await get("/?x=1");
    assert.match(await overview.text(), /^<p nonce="[^"]+">overview<\/p>$/);
    assert.match(overview.headers.get("content-security-policy")!, /'strict-dynamic'$/);
    assert.deepStrictEqual(overview.headers.get("etag"), '"p-build7-1"');
    assert.deepStrictEqual(await (await get("/q/MSFT")).text(), "<p>101.25</p>");
    assert.deepStrictEqual(calls, ["overview v1 AAPL,MSFT ?x=1", "quote MSFT 2 symbols"]);
    // A 304 renders nothing.
    await get("/q/MSFT", { headers: { "if-none-match": '"p-build7-1"' } });
    assert.deepStrictEqual(calls.length, 2);
  }, { pages });
});

Deno.test("/assets/* is answered by the renderer's asset hook, 404 without one", async () => {
  const pages: Pages = {
    overview: () => "",
    quote: () => "",
    asset: (path, ifNoneMatch) =>
      path === "/assets/client-abc.js"
        ? new Response(ifNoneMatch === '"abc"' ? null : "export {};", {
          status: ifNoneMatch === '"abc"' ? 304 : 200,
          headers: {
            "content-type": "text/javascript",
            etag: '"abc"',
            "cache-control": "public, max-age=31536000, immutable",
          },
        })
        : undefined,
  };
  await withEdge(async ({ get, app }) => {
    const res = await get("/assets/client-abc.js");
    assert.deepStrictEqual([res.status, await res.text()], [200, "export {};"]);
    assert.deepStrictEqual(res.headers.get("x-content-type-options"), "nosniff");
    const cached = await get("/assets/client-abc.js", { headers: { "if-none-match": '"abc"' } });
    assert.deepStrictEqual(cached.status, 304);
    const missing = await get("/assets/client-old.js");
    assert.deepStrictEqual([missing.status, (await missing.json()).reason], [404, "no_route"]);
    assert.deepStrictEqual((await get("/assets/client-abc.js", { method: "POST" })).status, 405);
    const metrics = await (await app.request("/metrics")).text();
    assert(metrics.includes('http_cache_hits_total{route="/assets/*"} 1\n'), metrics);
  }, { pages });
  await withEdge(async ({ get }) => {
    assert.deepStrictEqual((await get("/assets/client-abc.js")).status, 404);
  });
});

Deno.test("the API answers CORS requests and preflights; pages do not", async () => {
  await withEdge(async ({ kv, cache, get }) => {
    await seedSnapshots(kv, ["AAPL"]);
    await cache.refresh();
    const origin = { origin: "https://example.org" };
    const res = await get("/api/v1/quotes/AAPL", { headers: origin });
    assert.deepStrictEqual(res.headers.get("access-control-allow-origin"), "*");
    assert.match(res.headers.get("access-control-expose-headers") ?? "", /ETag.*RateLimit/);
    const bad = await get("/api/v1/quotes/aapl", { headers: origin });
    assert.deepStrictEqual(bad.headers.get("access-control-allow-origin"), "*"); // errors readable too
    const preflight = await get("/api/v1/quotes/AAPL", {
      method: "OPTIONS",
      headers: { ...origin, "access-control-request-method": "GET" },
    });
    assert.deepStrictEqual(preflight.status, 204);
    assert.deepStrictEqual(
      preflight.headers.get("access-control-allow-methods"),
      "GET, HEAD, OPTIONS",
    );
    assert.match(preflight.headers.get("access-control-allow-headers") ?? "", /If-None-Match/);
    assert.deepStrictEqual(
      (await get("/", { headers: origin })).headers.has("access-control-allow-origin"),
      false,
    );
  });
});

Deno.test("an oversized URL is 414 and oversized headers 431, as problems", async () => {
  await withEdge(async ({ get }) => {
    const long = await get(`/api/v1/quotes?symbols=${"A".repeat(9000)}`);
    assert.deepStrictEqual([long.status, (await long.json()).reason], [414, "uri_too_long"]);
    const big = await get("/api/v1/symbols", { headers: { "x-big": "b".repeat(17_000) } });
    assert.deepStrictEqual([big.status, (await big.json()).reason], [431, "headers_too_large"]);
    const many: Record<string, string> = {};
    for (let i = 0; i < 100; i++) many[`x-h${i}`] = "v".repeat(200);
    assert.deepStrictEqual((await get("/livez", { headers: many })).status, 431);
  });
});

Deno.test("rate limits: RateLimit fields on each answer, 429 with Retry-After, per address", async () => {
  await withEdge(async ({ kv, cache, get, clock }) => {
    await seedSnapshots(kv, ["AAPL"]);
    await cache.refresh();
    const a = "198.51.100.7";
    const fields = async (address: string, path = "/api/v1/quotes/AAPL") => {
      const res = await get(path, {}, address);
      await res.body?.cancel();
      return [res.status, res.headers.get("ratelimit"), res.headers.get("retry-after")];
    };
    assert.deepStrictEqual(await fields(a), [200, '"edge";r=2;t=10', null]);
    assert.deepStrictEqual(await fields(a), [200, '"edge";r=1;t=20', null]);
    assert.deepStrictEqual(await fields(a, "/nowhere"), [404, '"edge";r=0;t=30', null]); // any path counts
    const refused = await get("/api/v1/quotes/AAPL", {}, a);
    assert.deepStrictEqual(refused.status, 429);
    assert.deepStrictEqual(refused.headers.get("ratelimit-policy"), '"edge";q=3;w=30');
    assert.deepStrictEqual(refused.headers.get("ratelimit"), '"edge";r=0;t=30');
    assert.deepStrictEqual(refused.headers.get("retry-after"), "10");
    assert.deepStrictEqual(refused.headers.get("access-control-allow-origin"), "*");
    const problem = await refused.json();
    assert.deepStrictEqual(problem.reason, "rate_limited");
    assert.deepStrictEqual(
      problem.detail,
      "Cannot answer: this address has used its 3 requests (refilled over 30 s); retry in 10 s",
    );
    // Another address has its own bucket; health and metrics are never limited.
    assert.deepStrictEqual((await fields("198.51.100.8"))[0], 200);
    for (const path of ["/livez", "/readyz", "/metrics"]) {
      const res = await get(path, {}, a);
      await res.body?.cancel();
      assert.deepStrictEqual(
        [res.status === 429, res.headers.has("ratelimit")],
        [false, false],
        path,
      );
    }
    clock.now += 10_000; // one token back
    assert.deepStrictEqual(await fields(a), [200, '"edge";r=0;t=30', null]);
  }, { rateLimit: { limit: 3, windowSeconds: 30 } });
});

Deno.test("preflights, 414s and 431s take from the client's bucket too; a refusal still carries CORS", async () => {
  await withEdge(async ({ kv, cache, get }) => {
    await seedSnapshots(kv, ["AAPL"]);
    await cache.refresh();
    const a = "198.51.100.9";
    const preflight = {
      method: "OPTIONS",
      headers: { origin: "https://example.org", "access-control-request-method": "GET" },
    };
    const seen: [number, string | null][] = [];
    for (
      const [path, init] of [
        ["/api/v1/quotes/AAPL", preflight],
        [`/api/v1/quotes?symbols=${"A".repeat(9000)}`, {}],
        ["/api/v1/symbols", { headers: { "x-big": "b".repeat(17_000) } }],
      ] as const
    ) {
      const res = await get(path, init, a);
      await res.body?.cancel();
      seen.push([res.status, res.headers.get("ratelimit")]);
    }
    assert.deepStrictEqual(seen, [[204, '"edge";r=2;t=10'], [414, '"edge";r=1;t=20'], [
      431,
      '"edge";r=0;t=30',
    ]]);
    const refused = await get("/api/v1/quotes/AAPL", preflight, a);
    assert.deepStrictEqual([refused.status, (await refused.json()).reason], [429, "rate_limited"]);
    assert.deepStrictEqual(refused.headers.get("access-control-allow-origin"), "*");
    assert.deepStrictEqual(refused.headers.get("access-control-expose-headers"), EXPOSED_HEADERS);
    // A preflight's own fields are not doubled by those of other answers.
    const other = await get("/api/v1/quotes/AAPL", preflight, "198.51.100.10");
    assert.deepStrictEqual(other.status, 204);
    assert.deepStrictEqual(other.headers.get("access-control-allow-origin"), "*");
    assert.deepStrictEqual(other.headers.has("access-control-expose-headers"), false);
  }, { rateLimit: { limit: 3, windowSeconds: 30 } });
});

Deno.test("readyz is 503 until a snapshot is fresher than the threshold; livez always 200", async () => {
  await withEdge(async ({ write, get, clock }) => {
    const ready = async () => {
      const res = await get("/readyz");
      return [res.status, await res.json()];
    };
    const [notLoaded, p0] = await ready();
    assert.deepStrictEqual([notLoaded, p0.reason, p0.detail], [
      503,
      "not_ready",
      "Cannot serve quotes: the snapshots have not been read yet",
    ]);
    await write({ snapshots: [makeSnapshot("AAPL", { updated: T0 })] });
    clock.now = T0 + 4_900;
    assert.deepStrictEqual(await ready(), [200, {
      status: "ready",
      version: 1,
      symbols: 1,
      newestAgeSeconds: 4.9,
      aliveAgeSeconds: null,
    }]);
    clock.now = T0 + 7_250;
    const [stale, p1] = await ready();
    assert.deepStrictEqual([stale, p1.detail], [
      503,
      "Cannot serve fresh quotes: the core last wrote 7.3 s ago, over 5 s",
    ]);
    assert.deepStrictEqual((await get("/livez")).status, 200);
    await write({ snapshots: [makeSnapshot("MSFT", { updated: T0 + 7_000 })] });
    assert.deepStrictEqual((await ready())[0], 200);
  });
});

Deno.test("readyz stays 200 in a quiet market while the core marks itself alive", async () => {
  await withEdge(async ({ kv, cache, write, get, clock }) => {
    await write({ snapshots: [makeSnapshot("AAPL", { updated: T0 })], aliveAt: T0 });
    await markAlive(kv, T0 + 9_000); // no quote moved: the version stays
    await cache.refresh();
    clock.now = T0 + 10_000;
    const res = await get("/readyz");
    assert.deepStrictEqual([res.status, await res.json()], [200, {
      status: "ready",
      version: 1,
      symbols: 1,
      newestAgeSeconds: 10,
      aliveAgeSeconds: 1,
    }]);
    const metrics = await (await get("/metrics")).text();
    assert(metrics.includes("market_data_alive_age_seconds 1\n"), metrics);
    assert(metrics.includes('market_data_freshness_seconds{symbol="AAPL"} 10\n'), metrics);
    clock.now = T0 + 14_500; // the core went silent
    assert.deepStrictEqual((await get("/readyz")).status, 503);
  });
});

Deno.test("/metrics counts every answer by route and status, 304s, freshness and invalid values", async () => {
  await withEdge(async ({ kv, cache, write, get, clock }) => {
    await seedSnapshots(kv, ["AAPL", "MSFT"]);
    await cache.refresh();
    await write({ raw: { MSFT: { format: 1 } } });
    const etag = (await get("/api/v1/quotes/AAPL")).headers.get("etag")!;
    await get("/api/v1/quotes/AAPL", { headers: { "if-none-match": etag } });
    await get("/api/v1/quotes/aapl");
    await get("/api/v1/quotes/GOOG");
    await get("/api/v1/quotes?symbols=,");
    await get("/api/v1/quotes/AAPL", { method: "POST" });
    await get(`/q/${"A".repeat(9000)}`);
    await get("/made/up/1");
    await get("/made/up/2");
    clock.now = T0 + 2_500;
    const res = await get("/metrics");
    assert.deepStrictEqual(
      res.headers.get("content-type"),
      "text/plain; version=0.0.4; charset=utf-8",
    );
    const text = await res.text();
    for (
      const line of [
        'http_requests_total{route="/api/v1/quotes/:symbol",status="200"} 1',
        'http_requests_total{route="/api/v1/quotes/:symbol",status="304"} 1',
        'http_requests_total{route="/api/v1/quotes/:symbol",status="400"} 1',
        'http_requests_total{route="/api/v1/quotes/:symbol",status="404"} 1',
        'http_requests_total{route="/api/v1/quotes/:symbol",status="405"} 1',
        'http_requests_total{route="/api/v1/quotes",status="400"} 1',
        'http_requests_total{route="/q/:symbol",status="414"} 1',
        'http_requests_total{route="unmatched",status="404"} 2',
        'http_request_duration_seconds_count{route="/api/v1/quotes/:symbol"} 5',
        'http_request_duration_seconds_bucket{route="unmatched",le="+Inf"} 2',
        'http_cache_hits_total{route="/api/v1/quotes/:symbol"} 1',
        'market_data_freshness_seconds{symbol="AAPL"} 2.5',
        'market_data_freshness_seconds{symbol="MSFT"} 2.5',
        "market_data_snapshot_version 2",
        'market_data_invalid_snapshots_total{key="quote"} 1',
        "market_data_symbols 2",
      ]
    ) assert(text.includes(`${line}\n`), `missing ${line} in\n${text}`);
    // Every sample line is name{labels} value.
    for (const line of text.split("\n")) {
      if (line === "" || line.startsWith("# ")) continue;
      assert.match(line, /^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [0-9.e+-]+$/);
    }
  });
});

Deno.test("a flood of bad requests is answered, bounded and counted; the edge stays healthy", async () => {
  await withEdge(async ({ kv, cache, get, app, clock }) => {
    await seedSnapshots(kv, ["AAPL"]);
    await cache.refresh();
    const bad = [
      "/api/v1/quotes/aapl",
      "/api/v1/quotes/NOPE",
      "/api/v1/quotes?symbols=,,,",
      `/api/v1/quotes?symbols=${"A".repeat(9000)}`,
      "/%ZZ/%00",
      "/api/v1/stream?since=x",
    ];
    const started = performance.now();
    const statuses = new Map<number, number>();
    for (let i = 0; i < 20_000; i++) {
      // Made-up paths and many addresses: neither may grow memory without bound.
      const path = i % 7 === 0 ? `/random/${i}` : bad[i % bad.length]!;
      const address = `10.0.${(i % 2000) >> 8}.${i % 2000 & 255}`; // 2,000 addresses, 10 each
      const res = await get(path, i % 3 === 0 ? { method: "DELETE" } : {}, address);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      await res.body?.cancel();
    }
    const ms = performance.now() - started;
    assert.deepStrictEqual([...statuses.keys()].sort(), [400, 404, 405, 414, 429]);
    assert(ms < 20_000, `20,000 bad requests took ${ms} ms`);
    assert.deepStrictEqual((await get("/livez")).status, 200);
    // During the flood a newcomer shares the overflow bucket; once the
    // buckets refill, the table makes room again.
    assert.deepStrictEqual((await get("/api/v1/quotes/AAPL", {}, "192.0.2.99")).status, 429);
    clock.now += 60_000;
    assert.deepStrictEqual((await get("/api/v1/quotes/AAPL", {}, "192.0.2.99")).status, 200);
    const metrics = await (await app.request("/metrics")).text();
    const series = metrics.split("\n").filter((l) => l.startsWith("http_requests_total{"));
    assert(series.length < 20, `${series.length} request series:\n${series.join("\n")}`);
    const total = series.reduce((n, l) => n + Number(l.split(" ")[1]), 0);
    assert.deepStrictEqual(total, 20_000 + 3);
  }, { rateLimit: { limit: 5, windowSeconds: 60, maxClients: 1000 } });
});

Deno.test("createEdge({ kv, signal }) polls KV itself and stops on abort", async () => {
  const kv = await Deno.openKv(":memory:");
  const stop = new AbortController();
  const app = createEdge({ kv, signal: stop.signal, pollIntervalMs: 5, rateLimit: false });
  await writeSnapshots(kv, { snapshots: [makeSnapshot("AAPL")] });
  let status = 0;
  for (let i = 0; i < 200 && status !== 200; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    const res = await app.request("/api/v1/quotes/AAPL");
    status = res.status;
    await res.body?.cancel();
  }
  assert.deepStrictEqual(status, 200);
  const stream = await app.request("/api/v1/stream");
  stop.abort();
  // The stream ends with the cache.
  const reader = stream.body!.getReader();
  while (!(await reader.read()).done);
  await new Promise((resolve) => setTimeout(resolve, 20));
  kv.close();
});

Deno.test("createEdge refuses settings out of range", () => {
  let message = "";
  try {
    createEdge({ kv: {} as Deno.Kv, maxSymbols: 0, signal: AbortSignal.abort() });
  } catch (error) {
    message = (error as Error).message;
  }
  assert.deepStrictEqual(
    message,
    "Cannot make the edge: maxSymbols must be a positive integer, not 0",
  );
});

Deno.test("/metrics with a metrics token answers only its bearer; anyone else gets a 401 problem", async () => {
  const token = "m3trics-t0ken-for-the-test";
  await withEdge(async ({ get }) => {
    for (
      const authorization of [
        undefined,
        "",
        `Bearer ${token.slice(0, -1)}`,
        `Bearer ${token}x`,
        `Bearer ${token} x`,
        `Bearer${token}`,
        `Basic ${token}`,
        token,
      ]
    ) {
      const res = await get(
        "/metrics",
        authorization === undefined ? {} : { headers: { authorization } },
      );
      assert.deepStrictEqual(res.status, 401, `authorization ${JSON.stringify(authorization)}`);
      assert.deepStrictEqual(res.headers.get("content-type"), "application/problem+json");
      assert.deepStrictEqual(res.headers.get("www-authenticate"), 'Bearer realm="metrics"');
      const body = await res.json();
      assert.deepStrictEqual(body.type, "urn:tradecaptain:problem:unauthorized");
      assert.deepStrictEqual(
        body.detail,
        "Cannot read the metrics: they need this edge's metrics token",
      );
    }
    const ok = await get("/metrics", { headers: { authorization: `Bearer ${token}` } });
    assert.deepStrictEqual(ok.status, 200);
    assert((await ok.text()).includes("market_data_symbols"));
    // The scheme is case-insensitive (RFC 7235 §2.1), and may be followed by several spaces.
    for (const authorization of [`bearer ${token}`, `BEARER ${token}`, `Bearer   ${token}`]) {
      const res = await get("/metrics", { headers: { authorization } });
      assert.deepStrictEqual(res.status, 200, authorization);
      await res.body?.cancel();
    }
    // The refusals were counted, under their route.
    const text = await (await get("/metrics", { headers: { authorization: `Bearer ${token}` } }))
      .text();
    assert(text.includes('http_requests_total{route="/metrics",status="401"} 8\n'), text);
  }, { metricsToken: token });
});

Deno.test("createEdge refuses a metrics token that is too short or not visible ASCII", () => {
  for (
    const metricsToken of [
      "",
      "short",
      "has a space in it here",
      "tab\tin-the-token-value",
      "é".repeat(20),
      "x".repeat(257),
    ]
  ) {
    let message = "";
    try {
      createEdge({ kv: {} as Deno.Kv, metricsToken, signal: AbortSignal.abort() });
    } catch (error) {
      message = (error as Error).message;
    }
    assert.deepStrictEqual(
      message,
      "Cannot make the edge: metricsToken must be 16–256 visible ASCII characters",
      metricsToken,
    );
  }
});

const BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

Deno.test("a browser asking a page's URL for what is not there gets an HTML page with the problem's status", async () => {
  await withEdge(async ({ kv, cache, get }) => {
    await seedSnapshots(kv, ["AAPL"]);
    await cache.refresh();
    for (
      const [path, status, title, detail] of [
        ["/q/ZZZZ", 404, "Unknown symbol", "Cannot find symbol: there is no quote for ZZZZ"],
        [
          "/q/%3Cscript%3E",
          400,
          "Invalid symbol",
          'Cannot find symbol: "<script>" is not 1 to 12 of [A-Z0-9.-]',
        ],
        ["/nowhere", 404, "No such resource", 'Cannot find "/nowhere": no such route'],
      ] as const
    ) {
      const res = await get(path, { headers: { accept: BROWSER } });
      assert.deepStrictEqual(res.status, status, path);
      assert.deepStrictEqual(res.headers.get("content-type"), "text/html; charset=utf-8", path);
      assert.deepStrictEqual(res.headers.get("cache-control"), "no-store");
      assert.deepStrictEqual(res.headers.get("vary"), "Accept");
      assert.deepStrictEqual(res.headers.get("x-content-type-options"), "nosniff");
      const nonce = /'nonce-([^']+)'/.exec(res.headers.get("content-security-policy") ?? "")?.[1];
      const html = await res.text();
      assert(nonce !== undefined && html.includes(`<style nonce="${nonce}">`), html);
      assert(html.startsWith("<!doctype html>"), html);
      assert(html.includes(`<h1>${title}</h1>`), html);
      assert(html.includes(escapeHtml(detail)), html);
      assert(!html.includes("<script>"), "the symbol reached the page unescaped");
      // The same URL without a browser's Accept: the API's problem.
      for (const accept of [undefined, "*/*", "application/json", "text/html, application/json"]) {
        const api = await get(path, accept === undefined ? {} : { headers: { accept } });
        assert.deepStrictEqual(api.status, status, `${path} ${accept}`);
        assert.deepStrictEqual(api.headers.get("content-type"), "application/problem+json");
        assert.deepStrictEqual(api.headers.get("vary"), "Accept");
        assert.deepStrictEqual((await api.json()).detail, detail);
      }
    }
    // The API's URLs answer problems whatever the Accept.
    for (const path of ["/api/v1/quotes/ZZZZ", "/api/v1/nowhere", "/api/v1/quotes/aapl"]) {
      const res = await get(path, { headers: { accept: BROWSER } });
      assert.deepStrictEqual(res.headers.get("content-type"), "application/problem+json", path);
      await res.body?.cancel();
    }
  });
});

Deno.test("a browser gets an HTML 503 from the pages before the snapshots are read", async () => {
  await withEdge(async ({ get }) => {
    for (const path of ["/", "/q/AAPL"]) {
      const res = await get(path, { headers: { accept: BROWSER } });
      assert.deepStrictEqual([res.status, res.headers.get("retry-after")], [503, "1"], path);
      assert.deepStrictEqual(res.headers.get("content-type"), "text/html; charset=utf-8");
      assert((await res.text()).includes("<h1>Market data not ready</h1>"));
      const api = await get(path);
      assert.deepStrictEqual([api.status, (await api.json()).reason], [503, "not_ready"]);
    }
  });
});

Deno.test("/q/aapl redirects 301 to /q/AAPL when AAPL is listed, keeping the query; otherwise 404", async () => {
  await withEdge(async ({ kv, cache, get }) => {
    await seedSnapshots(kv, ["AAPL", "BRK.B"]);
    await cache.refresh();
    for (
      const [path, location] of [
        ["/q/aapl", "/q/AAPL"],
        ["/q/Aapl?from=search&x=%20", "/q/AAPL?from=search&x=%20"],
        ["/q/brk.b", "/q/BRK.B"],
        ["/q/%61apl", "/q/AAPL"],
      ]
    ) {
      for (const headers of [{ accept: BROWSER }, {}]) {
        const res = await get(path!, { headers });
        assert.deepStrictEqual([res.status, res.headers.get("location")], [301, location], path);
        assert.deepStrictEqual(res.headers.get("cache-control"), SYMBOL_REDIRECT_CACHE_CONTROL);
        assert.deepStrictEqual(await res.text(), "");
      }
    }
    // Only to a listed symbol: an unlisted one is named upper case in a 404.
    const msft = await get("/q/msft");
    assert.deepStrictEqual([msft.status, msft.headers.has("location")], [404, false]);
    assert.deepStrictEqual(
      (await msft.json()).detail,
      "Cannot find symbol: there is no quote for MSFT",
    );
    // Only from a symbol in another case ("ä" upper-cases to "Ä", not a symbol's letter).
    for (const path of ["/q/a%C3%A4pl", "/q/aapl%20", "/q/%EF%AC%80"]) {
      const res = await get(path);
      assert.deepStrictEqual([res.status, res.headers.has("location")], [400, false], path);
      assert.deepStrictEqual((await res.json()).reason, "bad_symbol", path);
    }
    assert.deepStrictEqual((await get("/q/AAPL")).status, 200);
    // The API does not redirect: a symbol is upper case there.
    const api = await get("/api/v1/quotes/aapl");
    assert.deepStrictEqual([api.status, (await api.json()).reason], [400, "bad_symbol"]);
  });
});

Deno.test("/trade without a terminal in the renderer is a 404; a core URL must be an origin", async () => {
  await withEdge(async ({ kv, cache, get }) => {
    await seedSnapshots(kv, ["AAPL"]);
    await cache.refresh();
    const res = await get("/trade");
    assert.deepStrictEqual([res.status, (await res.json()).reason], [404, "no_route"]);
  });
  for (const coreUrl of ["ftp://core:1", "http://core:1/ws", "not a url"]) {
    assert.throws(
      () => createEdge({ cache: new SnapshotCache({ kv: {} as Deno.Kv }), coreUrl }),
      RangeError,
      coreUrl,
    );
  }
});
