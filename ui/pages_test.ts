// Test only: the edge imports ui/, never the reverse. Here the pages run
// inside a real edge app, as `deno task start` serves them.
import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { createEdge } from "../edge/create_edge.ts";
import type { Pages } from "../edge/pages.ts";
import { SnapshotCache } from "../edge/snapshot_cache.ts";
import { ASSET_CACHE_CONTROL, clientBundle, terminalBundle } from "./assets.ts";
import { ERROR_PAGE_SYMBOLS, renderErrorDocument } from "./error_page.tsx";
import { parseState } from "./page_state.ts";
import { quotePages } from "./pages.ts";
import { PAGE_CSS } from "./styles.ts";
import { parseTerminalState } from "./terminal/page_state.ts";
import { esFutSnapshot, makeSnapshot, symbolInfo, writeSnapshots } from "./_testing/fixtures.ts";

// Fails to type-check if the edge's hook and ours drift apart.
const hook: Pages = quotePages;

type Get = (path: string, headers?: Record<string, string>) => Promise<Response>;

async function withEdge(fn: (get: Get) => Promise<void>) {
  const kv = await Deno.openKv(":memory:");
  const aapl = makeSnapshot("AAPL", { name: "Apple Inc." });
  const es = esFutSnapshot();
  await writeSnapshots(kv, [aapl], [aapl, es].map(symbolInfo)); // version 1
  await writeSnapshots(kv, [es]); // version 2
  const cache = new SnapshotCache({ kv });
  await cache.refresh();
  const app = createEdge({ cache, pages: hook, rateLimit: false });
  try {
    await fn(async (path, headers) => await app.request(path, { headers: headers ?? {} }));
  } finally {
    await cache.close();
    kv.close();
  }
}

Deno.test("the edge answers /q/AAPL with our page: the price, the bundle, the CSP's nonce", async () => {
  await withEdge(async (get) => {
    const res = await get("/q/AAPL");
    strictEqual(res.status, 200);
    const html = await res.text();
    match(html, /<span class="price" data-field="price">101\.25<\/span>/);
    const nonce = res.headers.get("content-security-policy")?.match(/'nonce-([^']+)'/)?.[1];
    ok(nonce !== undefined, "no nonce in the CSP");
    ok(
      html.includes(`<script type="module" nonce="${nonce}" src="${clientBundle.path}"></script>`),
      "the script does not carry the CSP's nonce",
    );
    ok(html.includes(`<style nonce="${nonce}">`), "the style does not carry the CSP's nonce");
    match(res.headers.get("etag") ?? "", new RegExp(`^"p-${quotePages.id}-1"$`));
    // Its own version, not the cache's (2): the page's tag follows the snapshot alone.
    const state = parseState(html.match(/id="tc-state">([^<]*)</)![1]!);
    deepStrictEqual([state.page, state.since, state.quotes.length], ["quote", 1, 1]);
  });
});

Deno.test("the edge answers / with our overview of every symbol, resuming from the cache's version", async () => {
  await withEdge(async (get) => {
    const res = await get("/");
    strictEqual(res.status, 200);
    const html = await res.text();
    deepStrictEqual(
      [...html.matchAll(/<tr data-symbol="([^"]+)">/g)].map((m) => m[1]),
      ["AAPL", "ES-FUT"],
    );
    match(html, /<td data-field="price">5,432\.50<\/td>/);
    strictEqual(parseState(html.match(/id="tc-state">([^<]*)</)![1]!).since, 2);
  });
});

Deno.test("the edge answers the page's script from our asset hook: immutable, 304 to its tag", async () => {
  await withEdge(async (get) => {
    const html = await (await get("/q/AAPL")).text();
    const src = html.match(/<script type="module" nonce="[^"]+" src="([^"]+)">/)?.[1];
    strictEqual(src, clientBundle.path);
    const res = await get(src);
    strictEqual(res.status, 200);
    deepStrictEqual(
      [res.headers.get("content-type"), res.headers.get("cache-control"), await res.text()],
      [clientBundle.contentType, ASSET_CACHE_CONTROL, clientBundle.body],
    );
    const again = await get(src, { "if-none-match": res.headers.get("etag")! });
    strictEqual(again.status, 304);
    strictEqual((await get("/assets/client-0000000000000000.js")).status, 404);
  });
});

Deno.test("quotePages.id names the client bundle, so a new build is not answered 304", () => {
  ok(quotePages.id.includes(clientBundle.path.match(/-([0-9a-f]+)\.js$/)![1]!), quotePages.id);
});

const BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

Deno.test("a browser asking for /q/ZZZZ gets our 404 page: the site's style, the problem, links to quotes", async () => {
  await withEdge(async (get) => {
    const res = await get("/q/ZZZZ", { accept: BROWSER });
    strictEqual(res.status, 404);
    strictEqual(res.headers.get("content-type"), "text/html; charset=utf-8");
    const html = await res.text();
    const nonce = res.headers.get("content-security-policy")?.match(/'nonce-([^']+)'/)?.[1];
    ok(html.includes(`<style nonce="${nonce}">${PAGE_CSS}</style>`), "not the pages' style");
    match(html, /<title>Unknown symbol — TradeCaptain<\/title>/);
    match(
      html,
      /<main class="error"><nav><a href="\/">Markets<\/a><\/nav><h1>Unknown symbol<\/h1>/,
    );
    ok(html.includes("Cannot find symbol: there is no quote for ZZZZ"), html);
    deepStrictEqual(
      [...html.matchAll(/<a href="(\/q\/[^"]+)">/g)].map((m) => m[1]),
      ["/q/AAPL", "/q/ES-FUT"],
    );
    ok(!html.includes("<script"), "the error page loads no script");
    // An API client asking the same URL keeps the problem.
    const api = await get("/q/ZZZZ");
    strictEqual(api.headers.get("content-type"), "application/problem+json");
    strictEqual((await api.json()).reason, "unknown_symbol");
  });
});

Deno.test("a browser asking for /q/aapl is sent to /q/AAPL", async () => {
  await withEdge(async (get) => {
    const res = await get("/q/aapl", { accept: BROWSER });
    deepStrictEqual([res.status, res.headers.get("location")], [301, "/q/AAPL"]);
  });
});

Deno.test("the error page escapes what it shows and links to at most ERROR_PAGE_SYMBOLS quotes", () => {
  const symbols = Array.from({ length: ERROR_PAGE_SYMBOLS + 5 }, (_, i) => `S${i}`);
  const html = renderErrorDocument(
    { status: 400, title: "Invalid symbol", detail: 'Cannot find symbol: "<b>&" is not …' },
    { nonce: 'n"', symbols },
  );
  ok(html.includes("Cannot find symbol: &quot;&lt;b"), html);
  ok(!html.includes("<b>") && html.includes("&lt;b>&amp;&quot;"), html);
  ok(html.includes('<style nonce="n&quot;">'), "the nonce is not escaped");
  strictEqual([...html.matchAll(/<a href="\/q\//g)].length, ERROR_PAGE_SYMBOLS);
  ok(html.includes(" · …</nav>"), "no sign that there are more");
});

Deno.test("the edge answers /trade with the terminal: login form, its bundle, a CSP open to the core only", async () => {
  const kv = await Deno.openKv(":memory:");
  const aapl = makeSnapshot("AAPL", { name: "Apple Inc." });
  await writeSnapshots(kv, [aapl], [symbolInfo(aapl)]);
  const cache = new SnapshotCache({ kv });
  await cache.refresh();
  const app = createEdge({
    cache,
    pages: hook,
    rateLimit: false,
    coreUrl: "http://core.test:9090",
  });
  try {
    const res = await app.request("/trade");
    strictEqual(res.status, 200);
    const csp = res.headers.get("content-security-policy") ?? "";
    const nonce = csp.match(/'nonce-([^']+)'/)?.[1] ?? "";
    ok(nonce.length > 0, csp);
    match(csp, /connect-src 'self' http:\/\/core\.test:9090 ws:\/\/core\.test:9090;/);
    match(csp, /default-src 'self';/);
    const html = await res.text();
    ok(html.includes(`<script type="module" nonce="${nonce}" src="${terminalBundle.path}">`));
    ok(html.includes('name="password"'), "no login form");
    const state = parseTerminalState(
      html.match(/<script type="application\/json" id="tc-terminal-state">(.*?)<\/script>/s)![1]!,
    );
    strictEqual(state.coreUrl, "http://core.test:9090");
    deepStrictEqual(state.instruments.map((i) => i.symbol), ["AAPL"]);
    strictEqual(state.tickers[0]?.last, Math.round(aapl.lastTrade!.price * 100));
    // The bundle: hashed, immutable.
    const script = await app.request(terminalBundle.path);
    strictEqual(script.status, 200);
    strictEqual(script.headers.get("cache-control"), ASSET_CACHE_CONTROL);
    strictEqual(await script.text(), terminalBundle.body);
    // The page's tag follows the snapshots' version.
    const again = await app.request("/trade", {
      headers: { "if-none-match": res.headers.get("etag")! },
    });
    strictEqual(again.status, 304);
  } finally {
    await cache.close();
    kv.close();
  }
});
