import { escapeHtml, makeNonce, plainPages } from "./pages.ts";
import assert from "node:assert";
import { makeSnapshot } from "./_testing/kv.ts";

Deno.test("the plain pages escape what they print and carry the nonce", async () => {
  const s = makeSnapshot("AAPL", { name: `<script>alert("x")</script>` });
  const ctx = {
    nonce: makeNonce(),
    url: new URL("http://localhost/"),
    version: 1,
    snapshots: [s],
    symbols: [],
    now: 0,
  };
  for (const html of [await plainPages.overview(ctx), await plainPages.quote(ctx, s)]) {
    assert(!html.includes("<script>"), "unescaped name");
    assert(html.includes(escapeHtml(s.name)), "name missing");
    assert(html.includes(`<style nonce="${ctx.nonce}">`), "nonce missing");
    assert.match(html, /^<!doctype html>/);
  }
  assert((await plainPages.overview({ ...ctx, snapshots: [] })).includes("No quotes yet."));
});
