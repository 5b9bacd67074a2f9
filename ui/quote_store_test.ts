import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { computed, effect } from "@preact/signals";
import { QuoteStore } from "./quote_store.ts";
import { makeSnapshot } from "./_testing/fixtures.ts";

Deno.test("QuoteStore.apply() sets a known symbol's signal in place, keeping the list", () => {
  const store = new QuoteStore([makeSnapshot("AAPL"), makeSnapshot("MSFT")]);
  const aapl = store.get("AAPL")!;
  const list = store.list.value;
  store.apply([makeSnapshot("AAPL", { lastTrade: { price: 102, size: 1, time: 1 } })]);
  strictEqual(store.get("AAPL"), aapl);
  strictEqual(aapl.value.lastTrade?.price, 102);
  strictEqual(
    store.list.value,
    list,
    "the list changed, so the overview's rows would render again",
  );
});

Deno.test("QuoteStore.apply() appends a new symbol to the list", () => {
  const store = new QuoteStore([makeSnapshot("AAPL")]);
  store.apply([makeSnapshot("NVDA")]);
  deepStrictEqual(store.list.value.map((s) => s.value.symbol), ["AAPL", "NVDA"]);
});

Deno.test("QuoteStore.apply() applies a batch at once: a computed over all symbols runs once", () => {
  const store = new QuoteStore([makeSnapshot("A"), makeSnapshot("B")]);
  const total = computed(() => store.list.value.reduce((t, s) => t + (s.value.change ?? 0), 0));
  const seen: number[] = [];
  const stop = effect(() => void seen.push(total.value));
  store.apply([makeSnapshot("A", { change: 2 }), makeSnapshot("B", { change: 3 })]);
  stop();
  deepStrictEqual(seen, [2.5, 5]);
});

Deno.test("QuoteStore.apply() applies a lower version too (a fresh KV file starts again at 1)", () => {
  const store = new QuoteStore([makeSnapshot("A", { version: 900 })]);
  store.apply([makeSnapshot("A", { version: 1, change: -4 })]);
  strictEqual(store.get("A")!.value.change, -4);
});
