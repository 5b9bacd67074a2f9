import fc from "fast-check";
import assert from "node:assert";
import { loadInstruments } from "../matching/instruments.ts";
import { randomCommandStream } from "../matching/matcher_suite.ts";
import { ReferenceMatcher } from "../matching/reference_matcher.ts";
import {
  type Command,
  CommandKind,
  type EngineEvent,
  EventKind,
  OrderType,
  type PlaceOrder,
  Side,
  TimeInForce,
} from "../matching/types.ts";
import type { BookLevel } from "../wire/types.ts";
import { BookView, type RestingOrder } from "./book_view.ts";
import { referenceLevels } from "./_testing.ts";

const instruments = loadInstruments();

/** Every resting order of the reference matcher, in time priority order (per level, oldest first). */
function referenceOrders(matcher: ReferenceMatcher): RestingOrder[] {
  const orders: RestingOrder[] = [];
  instruments.forEach((_, instrument) => {
    const { bids, asks } = matcher.snapshot(instrument);
    for (const [side, levels] of [[Side.Buy, bids], [Side.Sell, asks]] as const) {
      for (const level of levels) {
        for (const o of level.orders) {
          orders.push({ id: o.id, instrument, side, price: level.price, qty: o.leaves });
        }
      }
    }
  });
  return orders;
}

/** Levels as a price → [qty, count] map, per side, for diffs. */
function keyed(levels: { bids: BookLevel[]; asks: BookLevel[] }): Map<string, string> {
  const out = new Map<string, string>();
  for (const [side, ls] of [["buy", levels.bids], ["sell", levels.asks]] as const) {
    for (const l of ls) out.set(`${side} ${l.price}`, `${l.quantity}/${l.orderCount}`);
  }
  return out;
}

/**
 * Feeds `commands` through the reference matcher and `view`, and after every
 * command checks that the view's levels equal the matcher's, and that
 * `changes` is exactly the difference between the levels before and after.
 */
function checkAgainstReference(
  commands: readonly Command[],
  view = new BookView(instruments),
  matcher = new ReferenceMatcher(instruments),
): void {
  const symbols = new Set<number>();
  for (const c of commands) {
    if (c.kind === CommandKind.PlaceOrder && c.instrument < instruments.length) {
      symbols.add(c.instrument);
    }
  }
  const before = new Map([...symbols].map((i) => [i, keyed(view.levels(i))]));
  for (const [n, command] of commands.entries()) {
    const where = `command ${n} ${JSON.stringify(command)}`;
    const events = matcher.apply(command);
    const instrument = view.apply(command, events);
    const reached = events.some((e) => e.kind !== EventKind.OrderRejected);
    assert.deepStrictEqual(instrument >= 0, reached, `${where}: instrument ${instrument}`);
    for (const i of symbols) {
      const levels = view.levels(i);
      assert.deepStrictEqual(levels, referenceLevels(matcher, i), `${where}: levels of ${i}`);
      assert.deepStrictEqual(view.bestBid(i)?.price, levels.bids[0]?.price, `${where}: best bid`);
      assert.deepStrictEqual(view.bestAsk(i)?.price, levels.asks[0]?.price, `${where}: best ask`);
      const after = keyed(levels);
      const expected = new Map<string, string>();
      for (const [key, value] of after) {
        if (before.get(i)!.get(key) !== value) expected.set(key, value);
      }
      for (const key of before.get(i)!.keys()) if (!after.has(key)) expected.set(key, "0/0");
      const changes = i === instrument ? view.changes : [];
      const reported = new Map(changes.map((l) => [
        `${l.side === Side.Buy ? "buy" : "sell"} ${l.price}`,
        `${l.qty}/${l.count}`,
      ]));
      assert.deepStrictEqual(changes.length, reported.size, `${where}: a level reported twice`);
      assert.deepStrictEqual(
        [...reported].sort(),
        [...expected].sort(),
        `${where}: changes of ${i}`,
      );
      before.set(i, after);
    }
  }
  assert.deepStrictEqual(view.orderCount, referenceOrders(matcher).length, "resting orders");
}

Deno.test("BookView levels equal the reference matcher's after every command of random streams", () => {
  fc.assert(
    fc.property(fc.integer(), fc.integer({ min: 1, max: 1500 }), (seed, count) => {
      checkAgainstReference(randomCommandStream(seed, count, instruments));
    }),
    { numRuns: 30 },
  );
});

Deno.test("BookView levels equal the reference matcher's over one long stream", () => {
  checkAgainstReference(randomCommandStream(99, 20_000, instruments));
});

Deno.test("BookView seeded with a recovered matcher's resting orders follows it from there", () => {
  fc.assert(
    fc.property(fc.integer(), (seed) => {
      const commands = randomCommandStream(seed, 3000, instruments);
      const matcher = new ReferenceMatcher(instruments);
      matcher.applyAll(commands.slice(0, 2000));
      const view = new BookView(instruments);
      view.seed(referenceOrders(matcher));
      checkAgainstReference(commands.slice(2000), view, matcher);
    }),
    { numRuns: 10 },
  );
});

// ---------------------------------------------------------------------------
// The rules, one by one, with events written by hand

const LIMIT: Omit<PlaceOrder, "id" | "side" | "price" | "qty"> = {
  kind: CommandKind.PlaceOrder,
  account: 1,
  instrument: 0,
  type: OrderType.Limit,
  tif: TimeInForce.Gtc,
  postOnly: false,
};

type Row = [price: number, qty: number, count: number];

/**
 * Seeds a view, applies one command with hand-written events, and checks the
 * changes it reports ([side, price, qty, count]) and the book after.
 */
function check(
  seed: RestingOrder[],
  command: Command,
  events: EngineEvent[],
  expected: { changes: [Side, ...Row][]; bids: Row[]; asks: Row[] },
): void {
  const view = new BookView(instruments);
  view.seed(seed);
  view.apply(command, events);
  const rows = (ls: BookLevel[]) => ls.map((l): Row => [l.price, l.quantity, l.orderCount]);
  const levels = view.levels(0);
  assert.deepStrictEqual({
    changes: view.changes.map((l) => [l.side, l.price, l.qty, l.count]),
    bids: rows(levels.bids),
    asks: rows(levels.asks),
  }, expected);
}

const ask = (id: number, price: number, qty: number): RestingOrder => ({
  id,
  instrument: 0,
  side: Side.Sell,
  price,
  qty,
});
const bid = (id: number, price: number, qty: number): RestingOrder => ({
  id,
  instrument: 0,
  side: Side.Buy,
  price,
  qty,
});

Deno.test("BookView: an accepted GTC limit rests what did not trade", () => {
  check(
    [ask(1, 101, 4)],
    { ...LIMIT, id: 2, side: Side.Buy, price: 101, qty: 10 },
    [
      { kind: EventKind.OrderAccepted, id: 2, instrument: 0 },
      { kind: EventKind.OrderTraded, instrument: 0, taker: 2, maker: 1, price: 101, qty: 4 },
    ],
    { changes: [[Side.Sell, 101, 0, 0], [Side.Buy, 101, 6, 1]], bids: [[101, 6, 1]], asks: [] },
  );
});

Deno.test("BookView: an IOC's expired rest never reaches the book", () => {
  check(
    [ask(1, 101, 4), ask(3, 102, 1)],
    { ...LIMIT, id: 2, side: Side.Buy, price: 101, qty: 10, tif: TimeInForce.Ioc },
    [
      { kind: EventKind.OrderAccepted, id: 2, instrument: 0 },
      { kind: EventKind.OrderTraded, instrument: 0, taker: 2, maker: 1, price: 101, qty: 3 },
      { kind: EventKind.OrderExpired, id: 2, instrument: 0, leaves: 7 },
    ],
    { changes: [[Side.Sell, 101, 1, 1]], bids: [], asks: [[101, 1, 1], [102, 1, 1]] },
  );
});

Deno.test("BookView: a market order sweeps levels and rests nothing", () => {
  check(
    [bid(1, 99, 2), bid(2, 98, 5), bid(3, 98, 5)],
    { ...LIMIT, id: 4, side: Side.Sell, type: OrderType.Market, price: 0, qty: 8 },
    [
      { kind: EventKind.OrderAccepted, id: 4, instrument: 0 },
      { kind: EventKind.OrderTraded, instrument: 0, taker: 4, maker: 1, price: 99, qty: 2 },
      { kind: EventKind.OrderTraded, instrument: 0, taker: 4, maker: 2, price: 98, qty: 5 },
      { kind: EventKind.OrderTraded, instrument: 0, taker: 4, maker: 3, price: 98, qty: 1 },
    ],
    { changes: [[Side.Buy, 99, 0, 0], [Side.Buy, 98, 4, 1]], bids: [[98, 4, 1]], asks: [] },
  );
});

Deno.test("BookView: a self-trade cancel removes the maker before the taker rests", () => {
  check(
    [ask(1, 101, 4)],
    { ...LIMIT, id: 2, side: Side.Buy, price: 101, qty: 3 },
    [
      { kind: EventKind.OrderAccepted, id: 2, instrument: 0 },
      { kind: EventKind.OrderCancelled, id: 1, instrument: 0, leaves: 4, reason: "self_trade" },
    ],
    { changes: [[Side.Sell, 101, 0, 0], [Side.Buy, 101, 3, 1]], bids: [[101, 3, 1]], asks: [] },
  );
});

Deno.test("BookView: a replace moves the order, then its trades reduce it at the new price", () => {
  check(
    [bid(1, 99, 5), ask(2, 101, 2), ask(3, 101, 1)],
    { kind: CommandKind.ReplaceOrder, id: 1, price: 101, qty: 6 },
    [
      { kind: EventKind.OrderReplaced, id: 1, instrument: 0, price: 101, qty: 6 },
      { kind: EventKind.OrderTraded, instrument: 0, taker: 1, maker: 2, price: 101, qty: 2 },
      { kind: EventKind.OrderTraded, instrument: 0, taker: 1, maker: 3, price: 101, qty: 1 },
    ],
    {
      changes: [[Side.Buy, 99, 0, 0], [Side.Buy, 101, 3, 1], [Side.Sell, 101, 0, 0]],
      bids: [[101, 3, 1]],
      asks: [],
    },
  );
});

Deno.test("BookView: a replace that changes nothing visible reports no change", () => {
  check(
    [bid(1, 99, 5)],
    { kind: CommandKind.ReplaceOrder, id: 1, price: 99, qty: 5 },
    [{ kind: EventKind.OrderReplaced, id: 1, instrument: 0, price: 99, qty: 5 }],
    { changes: [], bids: [[99, 5, 1]], asks: [] },
  );
});

Deno.test("BookView: a cancel removes the order, and the next best becomes the best", () => {
  const view = new BookView(instruments);
  // Far apart: the next best is found by scanning, not by walking ticks.
  view.seed([bid(1, 1000, 5), bid(2, 10, 5), bid(3, 500, 1)]);
  view.apply({ kind: CommandKind.CancelOrder, id: 1 }, [
    { kind: EventKind.OrderCancelled, id: 1, instrument: 0, leaves: 5, reason: "requested" },
  ]);
  assert.deepStrictEqual(view.bestBid(0)?.price, 500);
  assert.deepStrictEqual(view.order(1), undefined);
  assert.deepStrictEqual(view.takerSide, -1);
});

Deno.test("BookView finds the next best price wherever it is, inside the bitmap's window or beyond", () => {
  // MSFT: tick 1, reference 42000, so the window holds prices 9232 to 75231.
  const msft = 1;
  assert.deepStrictEqual([instruments[msft]!.tickSize, instruments[msft]!.referencePrice], [
    1,
    42000,
  ]);
  const price = fc.oneof(
    fc.integer({ min: 41900, max: 42100 }), // dense, around the reference
    fc.integer({ min: 1, max: 150_000 }), // sparse, across the window and beyond
    fc.constantFrom(1, 9231, 9232, 9232 + 31, 9232 + 32, 75231, 75232, 42000 + 31, 42000 + 32),
  );
  fc.assert(
    fc.property(
      fc.array(fc.record({ side: fc.constantFrom(Side.Buy, Side.Sell), price }), {
        minLength: 1,
        maxLength: 60,
      }),
      fc.array(fc.nat(), { maxLength: 60 }),
      (orders, picks) => {
        const view = new BookView(instruments);
        const resting = orders.map((o, i) => ({ id: i, instrument: msft, ...o, qty: 1 }));
        view.seed(resting);
        const live = [...resting];
        for (const pick of picks) {
          if (live.length === 0) break;
          const [order] = live.splice(pick % live.length, 1);
          view.apply({ kind: CommandKind.CancelOrder, id: order!.id }, [
            {
              kind: EventKind.OrderCancelled,
              id: order!.id,
              instrument: msft,
              leaves: 1,
              reason: "requested",
            },
          ]);
          const prices = (side: Side) => live.filter((o) => o.side === side).map((o) => o.price);
          const bids = prices(Side.Buy);
          const asks = prices(Side.Sell);
          assert.deepStrictEqual(
            view.bestBid(msft)?.price,
            bids.length ? Math.max(...bids) : undefined,
          );
          assert.deepStrictEqual(
            view.bestAsk(msft)?.price,
            asks.length ? Math.min(...asks) : undefined,
          );
        }
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("BookView: rejected commands change nothing and reach no instrument", () => {
  check(
    [bid(1, 99, 5)],
    { ...LIMIT, id: 1, side: Side.Buy, price: 99, qty: 1 },
    [{ kind: EventKind.OrderRejected, id: 1, instrument: 0, reason: "duplicate_id" }],
    { changes: [], bids: [[99, 5, 1]], asks: [] },
  );
});

Deno.test("BookView throws when the events contradict it", () => {
  const buy: PlaceOrder = { ...LIMIT, id: 2, side: Side.Buy, price: 101, qty: 10 };
  const accepted: EngineEvent = { kind: EventKind.OrderAccepted, id: 2, instrument: 0 };
  const cases: [Command, EngineEvent[], string][] = [
    [
      buy,
      [accepted, {
        kind: EventKind.OrderTraded,
        instrument: 0,
        taker: 2,
        maker: 9,
        price: 1,
        qty: 1,
      }],
      "order 9 is not resting",
    ],
    [
      buy,
      [accepted, {
        kind: EventKind.OrderTraded,
        instrument: 0,
        taker: 2,
        maker: 1,
        price: 101,
        qty: 5,
      }],
      "order 1 has 4 lots open, the trade is for 5",
    ],
    [
      { kind: CommandKind.CancelOrder, id: 1 },
      [{ kind: EventKind.OrderCancelled, id: 1, instrument: 0, leaves: 3, reason: "requested" }],
      "order 1 has 4 lots open, the engine reports 3",
    ],
    [
      buy,
      [accepted, { kind: EventKind.OrderExpired, id: 2, instrument: 0, leaves: 3 }],
      "order 2 has 10 lots open, the engine expired 3",
    ],
    [
      { kind: CommandKind.ReplaceOrder, id: 5, price: 100, qty: 1 },
      [{ kind: EventKind.OrderReplaced, id: 5, instrument: 0, price: 100, qty: 1 }],
      "order 5 is not resting",
    ],
  ];
  for (const [command, events, message] of cases) {
    assert.throws(() => new BookView(instruments).apply(command, events), Error);
    const fresh = new BookView(instruments);
    fresh.seed([ask(1, 101, 4)]);
    assert.throws(
      () => fresh.apply(command, events),
      (error: unknown) => error instanceof Error && error.message.includes(message),
    );
  }
});

Deno.test("BookView.seed() refuses orders it cannot hold", () => {
  const cases: [Partial<RestingOrder>, string][] = [
    [{ instrument: 99 }, "instrument 99"],
    [{ instrument: 0.5 }, "instrument 0.5"],
    [{ side: 2 as Side }, "side 2"],
    [{ price: 0 }, "price 0"],
    [{ qty: -1 }, "quantity -1"],
    [{ qty: 1.5 }, "quantity 1.5"],
    [{ id: -1 }, "non-negative integer id"],
  ];
  for (const [patch, message] of cases) {
    assert.throws(
      () => new BookView(instruments).seed([{ ...bid(1, 99, 5), ...patch }]),
      (error: unknown) => error instanceof RangeError && error.message.includes(message),
    );
  }
  assert.throws(() => new BookView(instruments).seed([bid(1, 99, 5), ask(1, 101, 1)]), {
    name: "RangeError",
    message: /order 1 is already resting/,
  });
});

// ---------------------------------------------------------------------------
// Quantities at the edge of what a level's total can count exactly

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

Deno.test("BookView: a level holds exactly 2^53 - 1 lots, and counts down from there exactly", () => {
  check(
    [bid(1, 99, 2 ** 52), bid(2, 99, 2 ** 52 - 2)],
    { ...LIMIT, id: 3, side: Side.Buy, price: 99, qty: 1 },
    [{ kind: EventKind.OrderAccepted, id: 3, instrument: 0 }],
    { changes: [[Side.Buy, 99, MAX_SAFE, 3]], bids: [[99, MAX_SAFE, 3]], asks: [] },
  );
  check(
    [bid(1, 99, 2 ** 52), bid(2, 99, 2 ** 52 - 1)],
    { ...LIMIT, id: 3, side: Side.Sell, price: 99, qty: 3 },
    [
      { kind: EventKind.OrderAccepted, id: 3, instrument: 0 },
      { kind: EventKind.OrderTraded, instrument: 0, taker: 3, maker: 1, price: 99, qty: 3 },
    ],
    { changes: [[Side.Buy, 99, MAX_SAFE - 3, 2]], bids: [[99, MAX_SAFE - 3, 2]], asks: [] },
  );
});

Deno.test("BookView refuses to take a level's total past 2^53 - 1 instead of counting it inexactly", () => {
  const past = "to 9007199254740992 lots, past 2^53 - 1";
  // Seeding: the order that would overflow is refused, the level keeps what it had.
  const seeded = new BookView(instruments);
  assert.throws(
    () => seeded.seed([bid(1, 99, MAX_SAFE), bid(2, 99, 1)]),
    (error: unknown) =>
      error instanceof RangeError &&
      error.message.includes(
        `order 2 would take the level at price 99 from 9007199254740991 ${past}`,
      ),
  );
  assert.deepStrictEqual(seeded.levels(0).bids, [{ price: 99, quantity: MAX_SAFE, orderCount: 1 }]);
  // A new order resting on a full level.
  const resting = new BookView(instruments);
  resting.seed([ask(1, 101, MAX_SAFE)]);
  assert.throws(
    () =>
      resting.apply({ ...LIMIT, id: 2, side: Side.Sell, price: 101, qty: 1 }, [
        { kind: EventKind.OrderAccepted, id: 2, instrument: 0 },
      ]),
    (error: unknown) =>
      error instanceof RangeError &&
      error.message.includes(
        `Cannot apply order 2 to the book view: it would take the level at price 101 from 9007199254740991 ${past}`,
      ),
  );
  // A replace moving an order onto a nearly full level, or growing it on one.
  for (const id of [2, 3]) {
    const moved = new BookView(instruments);
    moved.seed([ask(1, 101, MAX_SAFE - 1), ask(2, 102, 1), ask(3, 101, 1)]);
    const total = id === 2 ? MAX_SAFE : MAX_SAFE - 1; // what the level holds without it
    assert.throws(
      () =>
        moved.apply({ kind: CommandKind.ReplaceOrder, id, price: 101, qty: 2 }, [
          { kind: EventKind.OrderReplaced, id, instrument: 0, price: 101, qty: 2 },
        ]),
      (error: unknown) =>
        error instanceof RangeError &&
        error.message.includes(
          `Cannot apply replace to the book view: order ${id} would take the level at price 101 from ${total} to`,
        ),
    );
  }
});
