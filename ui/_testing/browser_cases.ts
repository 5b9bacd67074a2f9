/**
 * The quote pages in a real browser: Debian's Chromium, headless, driven by
 * playwright-core, against an edge served on a local port from an
 * in-memory KV the test writes snapshots to, as the core does.
 *
 * Run by `ui/browser_test.ts` in a child `deno test --allow-all`:
 * playwright-core reads `/proc/sys/fs/binfmt_misc/WSLInterop` as it loads,
 * which Deno allows only with all permissions, and the project's test
 * command grants named ones. (Its `--allow-run` already lets a test start
 * such a child, so this grants nothing the test run did not have.)
 *
 * @module
 */

// Test only: the edge imports ui/, never the reverse.
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { type Browser, chromium, type Page } from "playwright-core";
import { createEdge } from "../../edge/create_edge.ts";
import { quotePages } from "../pages.ts";
import { CHROMIUM } from "./chromium.ts";
import { esFutSnapshot, makeSnapshot, symbolInfo, writeSnapshots } from "./fixtures.ts";

/** A running edge over an in-memory KV, and a browser. */
interface Harness {
  readonly base: string;
  readonly kv: Deno.Kv;
  readonly browser: Browser;
}

async function withHarness(fn: (h: Harness) => Promise<void>): Promise<void> {
  const kv = await Deno.openKv(":memory:");
  const aapl = makeSnapshot("AAPL", { name: "Apple Inc." });
  const es = esFutSnapshot();
  await writeSnapshots(kv, [aapl, es], [aapl, es].map(symbolInfo));
  const stop = new AbortController();
  const app = createEdge({ kv, pages: quotePages, pollIntervalMs: 20, signal: stop.signal });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: stop.signal, onListen() {} },
    app.fetch,
  );
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
  try {
    await fn({ base: `http://127.0.0.1:${server.addr.port}`, kv, browser });
  } finally {
    await browser.close();
    stop.abort(); // closes the cache, which ends the event streams
    await server.finished;
    kv.close();
  }
}

/** Collects what would show a broken page: script errors, CSP refusals, failed loads. */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") errors.push(`${m.type()}: ${m.text()}`);
  });
  page.on("requestfailed", (r) => {
    // The event stream is cut when the page closes; that is not a failure.
    if (!r.url().includes("/api/v1/stream")) errors.push(`requestfailed: ${r.url()}`);
  });
  return errors;
}

const text = (page: Page, selector: string) => page.locator(selector).first().textContent();

Deno.test({
  name: "browser: /q/AAPL shows the price before any script, then changes it live in place",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await withHarness(async ({ base, kv, browser }) => {
      // The server-rendered HTML alone, as a crawler or a script-less browser gets it.
      const html = await (await fetch(`${base}/q/AAPL`)).text();
      ok(html.includes('data-field="price">101.25<'), "the price is not in the HTML");

      const noScript = await browser.newContext({ javaScriptEnabled: false });
      const still = await noScript.newPage();
      await still.goto(`${base}/q/AAPL`);
      deepStrictEqual(
        [await text(still, "[data-field=price]"), await text(still, ".change")],
        ["101.25", "+1.25 (+1.25%)"],
      );
      strictEqual(await still.locator("[data-status]").getAttribute("data-status"), "snapshot");
      await noScript.close();

      const context = await browser.newContext();
      const page = await context.newPage();
      const errors = watchErrors(page);
      await page.goto(`${base}/q/AAPL`);
      // Hydrated, and the stream is open.
      await page.locator('[data-status="live"]').waitFor({ timeout: 10_000 });
      const price = await page.locator("[data-field=price]").elementHandle();
      ok(price !== null);
      await price.evaluate((el) => el.setAttribute("data-marker", "before"));

      await writeSnapshots(kv, [
        makeSnapshot("AAPL", {
          name: "Apple Inc.",
          lastTrade: { price: 103.5, size: 5, time: 1_764_000_001_000 },
          change: 3.5,
          changePercent: 3.5,
          bid: { price: 103.25, size: 4 },
        }),
      ]);
      await page.waitForFunction(
        () => document.querySelector("[data-field=price]")?.textContent === "103.50",
        undefined,
        { timeout: 10_000 },
      );
      deepStrictEqual(
        [
          await text(page, "[data-field=change]"),
          await text(page, "[data-field=change-percent]"),
          await text(page, "[data-field=bid]"),
          await page.title(),
        ],
        ["+3.50", "+3.50%", "103.25 × 4", "AAPL 103.50 — TradeCaptain"],
      );
      // The same element, its text changed in place: the page was not rendered again.
      deepStrictEqual(
        await price.evaluate((el) => [el.isConnected, el.getAttribute("data-marker")]),
        [true, "before"],
      );
      deepStrictEqual(errors, []);
      await context.close();
    });
  },
});

Deno.test({
  name: "browser: the overview hydrates and follows a fall in ES-FUT, movers included",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await withHarness(async ({ base, kv, browser }) => {
      const context = await browser.newContext();
      const page = await context.newPage();
      const errors = watchErrors(page);
      await page.goto(`${base}/`);
      const row = '[data-symbol="ES-FUT"]';
      strictEqual(await text(page, `tr${row} [data-field=price]`), "5,432.50");
      await page.locator('[data-status="live"]').waitFor({ timeout: 10_000 });

      await writeSnapshots(kv, [
        esFutSnapshot({
          lastTrade: { price: 5380.25, size: 1, time: 1_764_000_001_000 },
          change: -54,
          changePercent: -0.9937,
        }),
      ]);
      await page.waitForFunction(
        (sel) => document.querySelector(`tr${sel} [data-field=price]`)?.textContent === "5,380.25",
        row,
        { timeout: 10_000 },
      );
      deepStrictEqual(
        [
          await text(page, `tr${row} [data-field=change]`),
          await page.locator(`tr${row} [data-field=change]`).getAttribute("class"),
          await text(page, `.movers li${row} .change`),
        ],
        ["-54.00", "down", "-0.99%"],
      );
      deepStrictEqual(errors, []);
      await context.close();
    });
  },
});

Deno.test({
  name: "browser: /q/ZZZZ shows the site's 404 page, not JSON; /q/aapl lands on /q/AAPL",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await withHarness(async ({ base, browser }) => {
      const context = await browser.newContext();
      const page = await context.newPage();
      const errors = watchErrors(page);
      const missing = await page.goto(`${base}/q/ZZZZ`);
      strictEqual(missing?.status(), 404);
      strictEqual(await missing?.headerValue("content-type"), "text/html; charset=utf-8");
      deepStrictEqual(
        [await page.title(), await text(page, "h1"), await text(page, ".detail")],
        [
          "Unknown symbol — TradeCaptain",
          "Unknown symbol",
          "Cannot find symbol: there is no quote for ZZZZ",
        ],
      );
      // Styled by the pages' sheet (allowed by the CSP's nonce): the body is centred.
      strictEqual(await page.evaluate(() => getComputedStyle(document.body).maxWidth), "896px");
      await page.click('.symbols a[href="/q/AAPL"]');
      await page.locator("[data-field=price]").waitFor({ timeout: 10_000 });

      const moved = await page.goto(`${base}/q/aapl`);
      strictEqual(moved?.status(), 200);
      strictEqual(new URL(page.url()).pathname, "/q/AAPL");
      strictEqual(await text(page, "[data-field=price]"), "101.25");
      // 404s of the page's own navigation are what the test asked for; nothing else failed.
      deepStrictEqual(errors.filter((e) => !e.includes("404")), []);
      await context.close();
    });
  },
});
