import { deepStrictEqual, strictEqual } from "node:assert/strict";
import fc from "fast-check";
import type { BookLevel, LevelUpdate } from "../../schemas/wire/mod.ts";
import { OrderBook } from "./book.ts";

const snapshot = (sequence: bigint, bids: BookLevel[], asks: BookLevel[]) => ({
  type: "bookSnapshot" as const,
  symbol: "AAPL",
  sequence,
  bids,
  asks,
  engineTime: 0n,
});
const delta = (sequence: bigint, levels: LevelUpdate[]) => ({
  type: "bookDelta" as const,
  symbol: "AAPL",
  sequence,
  levels,
  engineTime: 0n,
});
const lvl = (price: number, quantity: number): BookLevel => ({ price, quantity, orderCount: 1 });

/** The simple reference: every side a map, sorted on every read. */
class NaiveBook {
  bids = new Map<number, BookLevel>();
  asks = new Map<number, BookLevel>();
  set(u: LevelUpdate) {
    const side = u.side === "buy" ? this.bids : this.asks;
    if (u.quantity === 0) side.delete(u.price);
    else side.set(u.price, { price: u.price, quantity: u.quantity, orderCount: u.orderCount });
  }
  sorted(bids: boolean) {
    return [...(bids ? this.bids : this.asks).values()].sort((a, b) =>
      bids ? b.price - a.price : a.price - b.price
    );
  }
}

Deno.test("OrderBook matches the naive reference after any deltas (best, levels, cumulative)", () => {
  const update = fc.record({
    side: fc.constantFrom("buy" as const, "sell" as const),
    price: fc.integer({ min: 1, max: 40 }),
    quantity: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 50 })),
    orderCount: fc.integer({ min: 1, max: 3 }),
  });
  fc.assert(
    fc.property(fc.array(fc.array(update, { maxLength: 6 }), { maxLength: 60 }), (deltas) => {
      const book = new OrderBook("AAPL");
      const naive = new NaiveBook();
      book.applySnapshot(snapshot(10n, [], []));
      let seq = 10n;
      for (const levels of deltas) {
        // Reads between deltas, so the kept best and sorted views are exercised.
        strictEqual(book.applyDelta(delta(++seq, levels)), "applied");
        for (const u of levels) naive.set(u);
        deepStrictEqual(book.bestBid(), naive.sorted(true)[0]);
        deepStrictEqual(book.bestAsk(), naive.sorted(false)[0]);
      }
      for (const [side, bids] of [["buy", true], ["sell", false]] as const) {
        const expected = naive.sorted(bids).slice(0, 10);
        let cumulative = 0;
        deepStrictEqual(
          book.levels(side, 10),
          expected.map((l) => ({ ...l, cumulative: cumulative += l.quantity })),
        );
      }
      deepStrictEqual(book.depth(), { bids: naive.bids.size, asks: naive.asks.size });
    }),
    { numRuns: 200 },
  );
});

Deno.test("OrderBook: removing the best level finds the next best", () => {
  const book = new OrderBook("AAPL");
  book.applySnapshot(snapshot(1n, [lvl(100, 1), lvl(99, 2), lvl(97, 3)], [lvl(101, 1)]));
  book.applyDelta(delta(2n, [{ side: "buy", price: 100, quantity: 0, orderCount: 0 }]));
  strictEqual(book.bestBid()?.price, 99);
  book.applyDelta(delta(3n, [{ side: "buy", price: 98, quantity: 4, orderCount: 1 }]));
  strictEqual(book.bestBid()?.price, 99);
  book.applyDelta(delta(4n, [{ side: "buy", price: 99, quantity: 0, orderCount: 0 }]));
  strictEqual(book.bestBid()?.price, 98);
});

Deno.test("OrderBook: a skipped sequence is a gap; the book ignores all until a snapshot", () => {
  const book = new OrderBook("AAPL");
  strictEqual(book.applyDelta(delta(1n, [])), "waiting"); // no snapshot yet
  book.applySnapshot(snapshot(5n, [lvl(100, 1)], []));
  strictEqual(book.applyDelta(delta(5n, [])), "old"); // the snapshot includes it
  strictEqual(book.step(6n), "applied"); // a trade
  strictEqual(book.applyDelta(delta(8n, [])), "gap"); // 7 is missing
  strictEqual(book.state, "stale");
  strictEqual(
    book.applyDelta(delta(9n, [{ side: "buy", price: 100, quantity: 0, orderCount: 0 }])),
    "waiting",
  );
  strictEqual(book.bestBid()?.price, 100, "nothing applied while stale");
  book.applySnapshot(snapshot(9n, [lvl(90, 1)], []));
  strictEqual(book.state, "live");
  strictEqual(book.applyDelta(delta(10n, [])), "applied");
  strictEqual(book.bestBid()?.price, 90);
});

Deno.test("OrderBook: invalidate waits for the next snapshot", () => {
  const book = new OrderBook("AAPL");
  book.applySnapshot(snapshot(1n, [], []));
  book.invalidate();
  strictEqual(book.step(2n), "waiting");
});
