/**
 * The terminal bench's child (`terminal_bench.ts`): the trader terminal in
 * headless Chromium, fed ~1,000 market-data messages a second for its
 * watched symbol, with what the page measured printed as one JSON line
 * (`{"terminalBench": …}`). Private to `bench/`.
 *
 * In this process: the edge (`createEdge` over an in-memory KV holding one
 * instrument, AAPL), serving `/trade` with the committed bundle under its
 * real CSP; and a stub core on another loopback port, answering
 * `POST /auth/login` (CORS for the edge's origin) and `/ws`, where it sends
 * the book's snapshot on `subscribe`, an empty blotter on `requestOrders`,
 * heartbeats to pings, then recorded frames at the set rate. The frames are
 * made before the run by the core's own encoder (`encodeServerMessage`)
 * from a seeded stream of book deltas (one to three levels each, within 20
 * ticks of the spread) and trades (one message in ten), so the send loop
 * only writes bytes.
 *
 * Why a stub and not a real core: the rate on one symbol is then exact
 * and the same every run, and the two CPUs are left to the browser and
 * this process instead of a matching engine and its synthetic market; the
 * page cannot tell, as the bytes are the core's.
 *
 * In the page, an init script marks (`performance.mark`) each socket
 * message as it arrives (`tc:message`), each animation frame (`tc:frame`)
 * and the first task after that frame's rendering (`tc:paint`, a
 * `MessageChannel` message posted from the frame), and records long tasks
 * (`PerformanceObserver`, `longtask`) and CSP violations.
 *
 * Run with all permissions (playwright-core needs them as it loads; see
 * `ui/_testing/browser_cases.ts`):
 * `deno run --allow-all bench/_terminal_page.ts [--seconds S] [--rate R] [--warmup-ms W]`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { chromium } from "playwright-core";
import { decodeClientFrame } from "../core/wire/client.ts";
import { encodeServerMessage } from "../core/wire/server.ts";
import { createEdge } from "../edge/create_edge.ts";
import { seedSnapshots } from "../edge/_testing/kv.ts";
import type { LevelUpdate, ServerEvent } from "../schemas/wire/mod.ts";
import { terminalBundle } from "../ui/assets.ts";
import { quotePages } from "../ui/pages.ts";
import { CHROMIUM } from "../ui/_testing/chromium.ts";
import { mulberry32 } from "../core/synthetic/rng.ts";

const SYMBOL = "AAPL";
const MID = 10_000; // price units (2 decimals: 100.00)
const LEVELS = 20;

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "10" },
    rate: { type: "string", default: "1000" },
    "warmup-ms": { type: "string", default: "1000" },
  },
  strict: true,
});
const seconds = Number(values.seconds);
const rate = Number(values.rate);
const warmupMs = Number(values["warmup-ms"]);

/** The snapshot and the recorded messages after it, as the core's frames. */
function record(count: number, startNs: bigint): { snapshot: Uint8Array; frames: Uint8Array[] } {
  const next = mulberry32(1);
  const bids = new Map<number, number>();
  const asks = new Map<number, number>();
  for (let i = 1; i <= LEVELS; i++) {
    bids.set(MID - i, 50 + i * 10);
    asks.set(MID + i, 50 + i * 10);
  }
  const level = (price: number, quantity: number) => ({ price, quantity, orderCount: 1 });
  const snapshot = encodeServerMessage({
    type: "bookSnapshot",
    symbol: SYMBOL,
    sequence: 1n,
    bids: [...bids].sort((a, b) => b[0] - a[0]).map(([p, q]) => level(p, q)),
    asks: [...asks].sort((a, b) => a[0] - b[0]).map(([p, q]) => level(p, q)),
    engineTime: startNs,
  });
  const frames: Uint8Array[] = [];
  let tradeId = 0n;
  for (let i = 0; i < count; i++) {
    const sequence = BigInt(i) + 2n;
    const engineTime = startNs + BigInt(i) * BigInt(Math.round(1e9 / rate));
    let event: ServerEvent;
    if (i % 10 === 9) {
      const buy = next() < 0.5;
      const best = buy ? Math.min(...asks.keys()) : Math.max(...bids.keys());
      event = {
        type: "trade",
        symbol: SYMBOL,
        sequence,
        tradeId: ++tradeId,
        price: best,
        quantity: 1 + Math.floor(next() * 20),
        aggressorSide: buy ? "buy" : "sell",
        engineTime,
      };
    } else {
      const levels: LevelUpdate[] = [];
      const n = 1 + Math.floor(next() * 3);
      for (let k = 0; k < n; k++) {
        const buy = next() < 0.5;
        const price = buy
          ? MID - 1 - Math.floor(next() * LEVELS)
          : MID + 1 + Math.floor(next() * LEVELS);
        const side = buy ? bids : asks;
        // Mostly a new size; sometimes the level goes, and comes back later.
        const quantity = side.size > LEVELS / 2 && next() < 0.15 ? 0 : 1 + Math.floor(next() * 500);
        if (quantity === 0) side.delete(price);
        else side.set(price, quantity);
        levels.push({ side: buy ? "buy" : "sell", price, quantity, orderCount: quantity ? 1 : 0 });
      }
      event = { type: "bookDelta", symbol: SYMBOL, sequence, levels, engineTime };
    }
    frames.push(encodeServerMessage(event));
  }
  return { snapshot, frames };
}

/** The page's instruments: marks and observers set before any of the page's scripts. */
const INIT_SCRIPT = `(() => {
  const seen = { longtasks: [], csp: [] };
  let on = false;
  let startedAt = Infinity;
  const Native = WebSocket;
  globalThis.WebSocket = class extends Native {
    constructor(url, protocols) {
      super(url, protocols);
      // Registered before the terminal's onmessage: runs first.
      this.addEventListener("message", () => { if (on) performance.mark("tc:message"); });
    }
  };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) seen.longtasks.push({ start: e.startTime, duration: e.duration });
  }).observe({ type: "longtask", buffered: true });
  document.addEventListener("securitypolicyviolation", (e) => {
    seen.csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sourceFile || ""));
  });
  const channel = new MessageChannel();
  channel.port1.onmessage = () => { if (on) performance.mark("tc:paint"); };
  const loop = () => {
    if (on) { performance.mark("tc:frame"); channel.port2.postMessage(0); }
    requestAnimationFrame(loop);
  };
  requestAnimationFrame(loop);
  const times = (name) => performance.getEntriesByName(name).map((e) => e.startTime);
  globalThis.__tcBench = {
    start() { performance.clearMarks(); on = true; startedAt = performance.now(); return startedAt; },
    stop() {
      on = false;
      return { end: performance.now(), messages: times("tc:message"), frames: times("tc:frame"),
        paints: times("tc:paint"),
        // The observer is buffered: page load's tasks come first; only the run's count.
        longtasks: seen.longtasks.filter((t) => t.start >= startedAt), csp: seen.csp };
    },
    csp() { return seen.csp; },
  };
})();`;

const startNs = BigInt(Date.now()) * 1_000_000n;
const total = Math.ceil(((seconds * 1000 + warmupMs) / 1000) * rate) + rate * 5;
const recorded = record(total, startNs);

// The stub core.
let edgeOrigin = "";
let sent = 0;
let measuring = false;
let sentMeasured = 0;
const sockets = new Set<WebSocket>();
const token = `x.${btoa(JSON.stringify({ sub: "bench", role: "trader" })).replace(/=+$/, "")}.y`;
const cors = () => ({
  "access-control-allow-origin": edgeOrigin,
  "access-control-allow-methods": "POST",
  "access-control-allow-headers": "content-type",
  "vary": "Origin",
});
const stop = new AbortController();
const core = Deno.serve(
  { hostname: "127.0.0.1", port: 0, signal: stop.signal, onListen() {} },
  (req) => {
    const url = new URL(req.url);
    if (url.pathname === "/auth/login") {
      if (req.method === "OPTIONS") return new Response(null, { status: 204, headers: cors() });
      return Response.json({ token, expiresAt: Date.now() + 3_600_000 }, { headers: cors() });
    }
    if (url.pathname !== "/ws") return new Response("not found", { status: 404 });
    const { socket, response } = Deno.upgradeWebSocket(req, { protocol: "tradecaptain.v1" });
    socket.binaryType = "arraybuffer";
    socket.onmessage = (e) => {
      const decoded = decodeClientFrame(new Uint8Array(e.data as ArrayBuffer));
      if (!decoded.ok) return;
      const m = decoded.message;
      if (m.type === "subscribe") {
        socket.send(recorded.snapshot);
        sockets.add(socket);
      } else if (m.type === "requestOrders") {
        socket.send(encodeServerMessage({
          type: "positions",
          requestId: m.requestId,
          account: "bench",
          executionSequence: 0n,
          positions: [],
        }));
      } else if (m.type === "ping") {
        socket.send(encodeServerMessage({
          type: "heartbeat",
          requestId: m.requestId,
          intervalMs: 5_000,
          echoSentAt: m.sentAt,
          executionSequence: 0n,
        }));
      }
    };
    socket.onclose = () => sockets.delete(socket);
    return response;
  },
);
const coreUrl = `http://127.0.0.1:${core.addr.port}`;

// The edge, as edge/main.ts makes it, pointed at the stub.
const kv = await Deno.openKv(":memory:");
await seedSnapshots(kv, [SYMBOL]);
const edge = createEdge({
  kv,
  pages: quotePages,
  coreUrl,
  pollIntervalMs: 1_000,
  signal: stop.signal,
});
const edgeServer = Deno.serve(
  { hostname: "127.0.0.1", port: 0, signal: stop.signal, onListen() {} },
  edge.fetch,
);
edgeOrigin = `http://127.0.0.1:${edgeServer.addr.port}`;

// The pump: every millisecond, whatever is due by the clock (bursts stay small).
let pumpStart = 0;
const pump = setInterval(() => {
  if (sockets.size === 0) return;
  if (pumpStart === 0) pumpStart = performance.now();
  const due = Math.min(
    recorded.frames.length,
    Math.floor(((performance.now() - pumpStart) * rate) / 1000),
  );
  for (; sent < due; sent++) {
    for (const s of sockets) s.send(recorded.frames[sent]!);
    if (measuring) sentMeasured++;
  }
}, 1);

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
let report: unknown;
try {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  await context.addInitScript({ content: INIT_SCRIPT });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  await page.goto(`${edgeOrigin}/trade`);
  await page.fill("input[name=account]", "bench");
  await page.fill("input[name=password]", "bench-password");
  await page.click("button[type=submit]");
  await page.locator('.state[data-state="connected"]').waitFor({ timeout: 20_000 });
  await page.waitForTimeout(warmupMs);
  await page.evaluate(() =>
    (globalThis as unknown as { __tcBench: { start(): number } }).__tcBench.start()
  );
  measuring = true;
  await page.waitForTimeout(seconds * 1000);
  measuring = false;
  const marks = await page.evaluate(() =>
    (globalThis as unknown as { __tcBench: { stop(): unknown } }).__tcBench.stop()
  );
  // What a trader would see: the charts drew (a canvas; depth and sparkline paths).
  const drawn = await page.evaluate(() => ({
    candles: document.querySelectorAll(".chart .candles canvas").length,
    depth: document.querySelector(".depth-chart .bids")?.getAttribute("d")?.length ?? 0,
    sparkline: document.querySelector(".spark polyline")?.getAttribute("points")?.length ?? 0,
    status: document.querySelector(".state")?.getAttribute("data-state") ?? "",
  }));
  report = {
    chromium: browser.version(),
    rate,
    seconds,
    warmupMs,
    sentMeasured,
    bundleBytes: terminalBundle.body.length,
    marks,
    drawn,
    errors,
  };
  await context.close();
} finally {
  clearInterval(pump);
  await browser.close();
  for (const s of sockets) s.close();
  stop.abort();
  await Promise.allSettled([core.finished, edgeServer.finished]);
  kv.close();
}
console.log(JSON.stringify({ terminalBench: report }));
