import fc from "fast-check";
import { matcherSuite, randomCommandStream } from "../matching/matcher_suite.ts";
import { loadInstruments, ReferenceMatcher } from "../matching/mod.ts";
import assert from "node:assert";
import {
  type Command,
  CommandKind,
  type Matcher,
  OrderType,
  Side,
  TimeInForce,
  UNKNOWN_INSTRUMENT,
} from "../matching/types.ts";
import { openNativeMatcher } from "./native_matcher.ts";

matcherSuite("native inline", (i) => openNativeMatcher(i, { mode: "inline" }));
// Small rings, so that the suite's streams wrap them and fill the event ring.
matcherSuite(
  "native ring",
  (i) => openNativeMatcher(i, { commandCapacity: 64, eventCapacity: 64 }),
);

const instruments = loadInstruments();
const ES_FUT = instruments.findIndex((i) => i.symbol === "ES-FUT");

/** Runs the same commands through every matcher; all must agree exactly. */
function agree(commands: readonly Command[]): void {
  const matchers: [string, Matcher][] = [
    ["reference", new ReferenceMatcher(instruments)],
    ["native inline", openNativeMatcher(instruments, { mode: "inline" })],
    ["native ring", openNativeMatcher(instruments, { commandCapacity: 256, eventCapacity: 256 })],
  ];
  try {
    const [first, ...rest] = matchers.map(([name, m]) => ({
      name,
      events: m.applyAll(commands),
      hash: m.stateHash(),
    }));
    for (const other of rest) {
      for (let i = 0; i < commands.length; i++) {
        assert.deepStrictEqual(
          other.events[i],
          first!.events[i],
          `${other.name} vs ${first!.name}: events of command ${i} ${JSON.stringify(commands[i])}`,
        );
      }
      assert.deepStrictEqual(
        other.hash,
        first!.hash,
        `${other.name} vs ${first!.name}: state hash`,
      );
    }
  } finally {
    for (const [, m] of matchers) m.close();
  }
}

// Small id, price and account spaces, so that orders collide: duplicates,
// cancels of live and dead ids, crossing books, self-trades.
const id = fc.integer({ min: 0, max: 400 });
const qty = fc.oneof(
  { weight: 9, arbitrary: fc.integer({ min: 1, max: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, -3, 1.5, Number.NaN) },
);
const instrument = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: 0, max: 2 }) },
  { weight: 2, arbitrary: fc.constant(ES_FUT) },
  { weight: 1, arbitrary: fc.constant(UNKNOWN_INSTRUMENT) },
);
const place: fc.Arbitrary<Command> = fc.record({
  kind: fc.constant(CommandKind.PlaceOrder),
  id,
  account: fc.integer({ min: 0, max: 4 }),
  instrument,
  side: fc.constantFrom(Side.Buy, Side.Sell),
  type: fc.oneof(
    { weight: 4, arbitrary: fc.constant(OrderType.Limit) },
    { weight: 1, arbitrary: fc.constant(OrderType.Market) },
  ),
  tif: fc.constantFrom(TimeInForce.Gtc, TimeInForce.Gtc, TimeInForce.Ioc, TimeInForce.Fok),
  postOnly: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
  price: fc.oneof(
    { weight: 12, arbitrary: fc.integer({ min: 90, max: 110 }) },
    { weight: 2, arbitrary: fc.integer({ min: 4, max: 6 }).map((k) => k * 25) },
    { weight: 1, arbitrary: fc.constantFrom(0, -1, 2.5, 1_000_000_000) },
  ),
  qty,
}).map((c) => (c.type === OrderType.Market && c.price !== -1 ? { ...c, price: 0 } : c));
const cancel: fc.Arbitrary<Command> = fc.record({ kind: fc.constant(CommandKind.CancelOrder), id });
const replace: fc.Arbitrary<Command> = fc.record({
  kind: fc.constant(CommandKind.ReplaceOrder),
  id,
  price: fc.oneof(
    { weight: 9, arbitrary: fc.integer({ min: 90, max: 110 }) },
    { weight: 1, arbitrary: fc.constantFrom(0, -5, 125) },
  ),
  qty,
});
const command = fc.oneof(
  { weight: 6, arbitrary: place },
  { weight: 2, arbitrary: cancel },
  { weight: 2, arbitrary: replace },
);

Deno.test("native and reference agree on every event and the state hash (fast-check commands)", () => {
  fc.assert(
    fc.property(fc.array(command, { minLength: 1, maxLength: 3000 }), (commands) => {
      agree(commands);
    }),
    { numRuns: 60 },
  );
});

Deno.test("native and reference agree over random streams of tens of thousands of commands", () => {
  fc.assert(
    fc.property(
      fc.integer(),
      fc.integer({ min: 10_000, max: 40_000 }),
      (seed, count) => agree(randomCommandStream(seed, count, instruments)),
    ),
    { numRuns: 8 },
  );
});
