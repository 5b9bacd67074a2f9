import fc from "fast-check";
import assert from "node:assert";
import { loadInstruments } from "./instruments.ts";
import { matcherSuite, randomCommandStream } from "./matcher_suite.ts";
import { ReferenceMatcher } from "./reference_matcher.ts";
import { type Command, CommandKind, EventKind } from "./types.ts";

matcherSuite("reference", (instruments) => new ReferenceMatcher(instruments));

const instruments = loadInstruments();

/**
 * Replays `commands` and checks the invariants after every command:
 * - no book is crossed, and levels are non-empty and sorted best first;
 * - quantity is conserved: following each order's open quantity through its
 *   events (accepted: qty; trade: minus qty, as taker and as maker;
 *   replaced: the new qty; cancelled and expired: must report exactly the
 *   open quantity, then 0), every order of the instrument touched is resting
 *   with exactly its open quantity, and nothing else rests. So accepted qty
 *   = traded + cancelled + expired + resting for every order never replaced.
 */
function checkInvariants(commands: readonly Command[]): void {
  const matcher = new ReferenceMatcher(instruments);
  const open = new Map<number, { instrument: number; qty: number; price: number }>();
  for (const [n, command] of commands.entries()) {
    const where = `command ${n} ${JSON.stringify(command)}`;
    const events = matcher.apply(command);
    assert(events.length > 0, `${where}: no events`);
    const touched = new Set<number>();
    for (const event of events) {
      switch (event.kind) {
        case EventKind.OrderAccepted: {
          assert(command.kind === CommandKind.PlaceOrder, `${where}: accepted a non-new`);
          open.set(event.id, {
            instrument: event.instrument,
            qty: command.qty,
            price: command.price,
          });
          break;
        }
        case EventKind.OrderTraded: {
          const taker = open.get(event.taker);
          const maker = open.get(event.maker);
          assert(taker && maker, `${where}: trade between unknown orders`);
          assert(
            event.qty > 0 && event.qty <= taker.qty && event.qty <= maker.qty,
            `${where}: qty`,
          );
          assert.deepStrictEqual(
            event.price,
            maker.price,
            `${where}: trade not at the maker's price`,
          );
          taker.qty -= event.qty;
          maker.qty -= event.qty;
          break;
        }
        case EventKind.OrderCancelled:
        case EventKind.OrderExpired: {
          const order = open.get(event.id);
          assert(order, `${where}: ${event.kind} of an unknown order`);
          assert.deepStrictEqual(event.leaves, order.qty, `${where}: leaves`);
          order.qty = 0;
          break;
        }
        case EventKind.OrderReplaced: {
          const order = open.get(event.id);
          assert(order && order.qty > 0, `${where}: replaced an order not resting`);
          order.qty = event.qty;
          order.price = event.price;
          break;
        }
        case EventKind.OrderRejected:
          break;
      }
      if (event.instrument < instruments.length) touched.add(event.instrument);
    }
    for (const instrument of touched) {
      const { bids, asks } = matcher.snapshot(instrument);
      const resting = new Map<number, number>();
      for (const [side, levels] of [["bids", bids], ["asks", asks]] as const) {
        levels.forEach((level, i) => {
          assert(level.orders.length > 0, `${where}: empty ${side} level`);
          const previous = levels[i - 1]?.price;
          assert(
            previous === undefined ||
              (side === "bids" ? previous > level.price : previous < level.price),
            `${where}: ${side} not sorted best first`,
          );
          for (const order of level.orders) resting.set(order.id, order.leaves);
        });
      }
      const [bid, ask] = [bids[0]?.price, asks[0]?.price];
      assert(
        bid === undefined || ask === undefined || bid < ask,
        `${where}: crossed ${bid}/${ask}`,
      );
      for (const [id, order] of open) {
        if (order.instrument !== instrument) continue;
        assert.deepStrictEqual(
          resting.get(id) ?? 0,
          order.qty,
          `${where}: order ${id} open vs resting`,
        );
        if (order.qty === 0) open.delete(id);
        resting.delete(id);
      }
      assert.deepStrictEqual(
        [...resting.keys()],
        [],
        `${where}: orders resting without being open`,
      );
    }
  }
  matcher.close();
}

Deno.test("reference keeps books uncrossed and conserves quantity over random streams", () => {
  // Counts shrink toward short prefixes, since a shorter stream with the same seed is a prefix.
  fc.assert(
    fc.property(fc.integer(), fc.integer({ min: 1, max: 2000 }), (seed, count) => {
      checkInvariants(randomCommandStream(seed, count, instruments));
    }),
    { numRuns: 25 },
  );
});

// Speed is the bench's to measure (bench/), never a timed test's.
Deno.test("reference keeps its invariants over one long stream", () => {
  checkInvariants(randomCommandStream(7, 20_000, instruments));
});

Deno.test("reference gives identical events and state hash when a stream is replayed", () => {
  const commands = randomCommandStream(2024, 20_000, instruments);
  const run = () => {
    const matcher = new ReferenceMatcher(instruments);
    const events = matcher.applyAll(commands);
    return { events, hash: matcher.stateHash() };
  };
  const first = run();
  assert.deepStrictEqual(run(), first);
  // Guard against a degenerate stream that would make the comparison vacuous.
  const kinds = new Set(first.events.flat().map((event) => event.kind));
  assert.deepStrictEqual(kinds.size, 6, "every event kind occurs");
});

Deno.test("reference refuses to be used after close()", () => {
  const matcher = new ReferenceMatcher(instruments);
  matcher.close();
  assert.throws(() => matcher.stateHash(), { message: /closed/ });
  assert.throws(() => matcher.apply({ kind: CommandKind.CancelOrder, id: 1 }), {
    message: /closed/,
  });
});

Deno.test("snapshot() shows levels best first and orders oldest first, to the depth asked", () => {
  const matcher = new ReferenceMatcher(instruments);
  const buy = {
    kind: CommandKind.PlaceOrder,
    instrument: 0,
    side: 0,
    type: 0,
    tif: 0,
    postOnly: false,
    qty: 1,
  } as const;
  matcher.applyAll([
    { ...buy, id: 1, account: 0, price: 99 },
    { ...buy, id: 2, account: 1, price: 100 },
    { ...buy, id: 3, account: 2, price: 99 },
  ]);
  assert.deepStrictEqual(matcher.snapshot(0), {
    bids: [
      { price: 100, orders: [{ id: 2, account: 1, leaves: 1 }] },
      { price: 99, orders: [{ id: 1, account: 0, leaves: 1 }, { id: 3, account: 2, leaves: 1 }] },
    ],
    asks: [],
  });
  assert.deepStrictEqual(matcher.snapshot(0, 1).bids.length, 1);
  assert.throws(() => matcher.snapshot(instruments.length), RangeError);
});
