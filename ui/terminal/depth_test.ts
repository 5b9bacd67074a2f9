import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { OrderBook } from "./book.ts";
import { depthGeometry } from "./depth.ts";

function book(): OrderBook {
  const b = new OrderBook("AAPL");
  b.applySnapshot({
    type: "bookSnapshot",
    symbol: "AAPL",
    sequence: 1n,
    engineTime: 0n,
    bids: [{ price: 100, quantity: 3, orderCount: 1 }, { price: 90, quantity: 1, orderCount: 1 }],
    asks: [{ price: 110, quantity: 2, orderCount: 1 }, { price: 120, quantity: 6, orderCount: 1 }],
  });
  return b;
}

Deno.test("depthGeometry() steps each side outward from its best price by cumulative size", () => {
  const b = book();
  const g = depthGeometry(b.levels("buy", 10), b.levels("sell", 10), 300, 80);
  strictEqual(g.lowPrice, 90);
  strictEqual(g.highPrice, 120);
  strictEqual(g.maxCumulative, 8);
  // Bids: 3 lots from 100 down to 90, then 4 to the left edge.
  strictEqual(g.bidPath, "M100 80V50H0V40H0V80Z");
  // Asks: 2 lots from 110 to 120, then 8 to the right edge (the top).
  strictEqual(g.askPath, "M200 80V60H300V0H300V80Z");
});

Deno.test("depthGeometry() of an empty book draws nothing", () => {
  deepStrictEqual(depthGeometry([], [], 300, 80), {
    bidPath: "",
    askPath: "",
    lowPrice: 0,
    highPrice: 0,
    maxCumulative: 0,
  });
});

Deno.test("depthGeometry() of one side only spans that side's prices", () => {
  const b = book();
  const g = depthGeometry(b.levels("buy", 10), [], 100, 10);
  strictEqual(g.askPath, "");
  strictEqual(g.lowPrice, 90);
  strictEqual(g.highPrice, 100);
  strictEqual(g.bidPath, "M100 10V2.5H0V0H0V10Z");
});
