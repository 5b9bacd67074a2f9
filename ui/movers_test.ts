import { deepStrictEqual } from "node:assert/strict";
import { biggestMovers } from "./movers.ts";
import { makeSnapshot } from "./_testing/fixtures.ts";

const symbols = (views: readonly { symbol: string }[]) => views.map((v) => v.symbol);

Deno.test("biggestMovers() ranks rises and falls by size, ties by symbol, unchanged by neither", () => {
  const views = [
    makeSnapshot("A", { changePercent: 0.5 }),
    makeSnapshot("B", { changePercent: -2 }),
    makeSnapshot("C", { changePercent: 3 }),
    makeSnapshot("D", { changePercent: 0 }),
    makeSnapshot("E", { changePercent: null }),
    makeSnapshot("F", { changePercent: -0.1 }),
    makeSnapshot("G", { changePercent: 0.5 }),
    makeSnapshot("H", { changePercent: 1 }),
  ];
  const m = biggestMovers(views);
  deepStrictEqual([symbols(m.gainers), symbols(m.losers)], [["C", "H", "A"], ["B", "F"]]);
  deepStrictEqual(symbols(biggestMovers(views, 1).gainers), ["C"]);
  deepStrictEqual(biggestMovers([]), { gainers: [], losers: [] });
});
