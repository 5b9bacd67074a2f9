import { deepStrictEqual, doesNotMatch, match, ok, strictEqual, throws } from "node:assert/strict";
import { type PageState, parseState } from "./page_state.ts";
import { toQuoteView } from "./quote_view.ts";
import { renderDocument } from "./render_document.tsx";
import { esFutSnapshot, makeSnapshot } from "./_testing/fixtures.ts";

const OPTIONS = { nonce: "bm9uY2U+/A==", scriptPath: "/assets/client-0123456789abcdef.js" };

function quotePage(snapshot = makeSnapshot("AAPL")): string {
  return renderDocument({
    page: "quote",
    symbol: snapshot.symbol,
    since: snapshot.version,
    quotes: [toQuoteView(snapshot)],
  }, OPTIONS);
}

/** The text of every element carrying `data-field="name"` (these hold text only). */
function fields(html: string, name: string): string[] {
  return [...html.matchAll(new RegExp(`data-field="${name}"[^>]*>([^<]*)<`, "g"))].map((m) =>
    m[1]!
  );
}

/** The embedded state. */
function state(html: string): PageState {
  const json = html.match(/<script type="application\/json" id="tc-state">([^<]*)<\/script>/)?.[1];
  ok(json !== undefined, "no state element");
  return parseState(json);
}

Deno.test("the quote page prints every value of the snapshot in the HTML", () => {
  const html = quotePage();
  const shown = Object.fromEntries(
    [
      "price",
      "change",
      "change-percent",
      "bid",
      "ask",
      "open",
      "high",
      "low",
      "volume",
      "vwap",
      "prev-close",
      "week52",
      "updated",
    ].map((f) => [f, fields(html, f)]),
  );
  deepStrictEqual(shown, {
    price: ["101.25"],
    change: ["+1.25"],
    "change-percent": ["+1.25%"],
    bid: ["101.20 × 10"],
    ask: ["101.30 × 7"],
    open: ["100.00"],
    high: ["102.00"],
    low: ["99.50"],
    volume: ["1,200"],
    vwap: ["100.90"],
    "prev-close": ["100.00"],
    week52: ["–"],
    updated: ["2025-11-24 16:00:00 UTC"],
  });
  match(html, /<span class="change up">/);
  match(html, /<title>AAPL 101\.25 — TradeCaptain<\/title>/);
  match(html, /<time datetime="2025-11-24T16:00:00.000Z"/);
});

Deno.test("the quote page prints ES-FUT's quarter ticks with both decimals, a fall in red", () => {
  const html = quotePage(esFutSnapshot());
  deepStrictEqual(
    ["price", "change", "change-percent", "bid", "ask", "open", "high", "low", "prev-close"].map(
      (f) => fields(html, f)[0],
    ),
    [
      "5,432.50",
      "-1.75",
      "-0.03%",
      "5,432.25 × 14",
      "5,432.75 × 9",
      "5,440.00",
      "5,441.25",
      "5,428.75",
      "5,434.25",
    ],
  );
  match(html, /<span class="change down">/);
});

Deno.test("the quote page shows a placeholder for what does not exist yet", () => {
  const html = quotePage(makeSnapshot("NEW", {
    lastTrade: null,
    bid: null,
    ask: null,
    day: null,
    prevClose: null,
    change: null,
    changePercent: null,
  }));
  deepStrictEqual(
    ["price", "change", "change-percent", "bid", "ask", "volume", "vwap"].map((f) =>
      fields(html, f)[0]
    ),
    ["–", "–", "–", "–", "–", "–", "–"],
  );
  match(html, /<span class="change flat">/);
});

Deno.test("names are escaped in the HTML and cannot end the state's script element", () => {
  const name = `<script>alert("x")</script> & 'Co' <!--`;
  const html = quotePage(makeSnapshot("EVIL", { name }));
  ok(!html.includes("<script>alert"), "a name became markup");
  match(
    html,
    /<span class="name">&lt;script>alert\(&quot;x&quot;\)&lt;\/script> &amp; 'Co' &lt;!--<\/span>/,
  );
  // Exactly the two scripts of the page, and the state reads back whole.
  strictEqual(html.match(/<script/g)?.length, 2);
  strictEqual(state(html).quotes[0]?.name, name);
  const overview = renderDocument({
    page: "overview",
    since: 1,
    quotes: [makeSnapshot("EVIL", { name })],
  }, OPTIONS);
  ok(!overview.includes("<script>alert"), "a name became markup on the overview");
});

Deno.test("the client bundle's script carries the nonce; no inline handlers or style attributes", () => {
  for (
    const html of [
      quotePage(),
      renderDocument({ page: "overview", since: 1, quotes: [makeSnapshot("A")] }, OPTIONS),
    ]
  ) {
    match(
      html,
      /<script type="module" nonce="bm9uY2U\+\/A==" src="\/assets\/client-0123456789abcdef\.js"><\/script>/,
    );
    match(html, /<style nonce="bm9uY2U\+\/A==">/);
    doesNotMatch(html, /\son[a-z]+=/i);
    doesNotMatch(html, /\sstyle=/i);
    // The only other script is data, which a CSP does not govern.
    strictEqual(html.match(/<script[^>]*>/g)?.length, 2);
  }
});

Deno.test("the embedded state is the page and the quotes it was rendered from", () => {
  const s = esFutSnapshot({ version: 41 });
  deepStrictEqual(state(quotePage(s)), {
    page: "quote",
    symbol: "ES-FUT",
    since: 41,
    quotes: [toQuoteView(s)],
  });
});

Deno.test("the overview lists every symbol in order, with the biggest movers", () => {
  const html = renderDocument({
    page: "overview",
    since: 7,
    quotes: [
      makeSnapshot("AAPL", { change: 1.25, changePercent: 1.25 }),
      esFutSnapshot(),
      makeSnapshot("MSFT", { change: -8.4, changePercent: -2.1 }),
      makeSnapshot("FLAT", { change: 0, changePercent: 0 }),
    ],
  }, OPTIONS);
  deepStrictEqual(
    [...html.matchAll(/<tr data-symbol="([^"]+)">/g)].map((m) => m[1]),
    ["AAPL", "ES-FUT", "MSFT", "FLAT"],
  );
  deepStrictEqual(fields(html, "price"), ["101.25", "5,432.50", "101.25", "101.25"]);
  deepStrictEqual(fields(html, "change-percent"), ["+1.25%", "-0.03%", "-2.10%", "0.00%"]);
  const movers = html.match(/<section class="movers"[^]*?<\/section>/)?.[0] ?? "";
  deepStrictEqual(
    [...movers.matchAll(/<li data-symbol="([^"]+)">/g)].map((m) => m[1]),
    ["AAPL", "MSFT", "ES-FUT"],
  );
  match(html, /<td class="down" data-field="change">-8\.40<\/td>/);
  match(html, /<a href="\/q\/ES-FUT">ES-FUT<\/a>/);
  match(html, /<title>Markets — TradeCaptain<\/title>/);
  strictEqual(state(html).since, 7);
});

Deno.test("the overview says so when there are no quotes", () => {
  const html = renderDocument({ page: "overview", since: 0, quotes: [] }, OPTIONS);
  match(html, /No quotes yet\./);
});

Deno.test("renderDocument() refuses a quote page without its quote", () => {
  throws(
    () => renderDocument({ page: "quote", symbol: "AAPL", since: 1, quotes: [] }, OPTIONS),
    RangeError,
  );
});
