import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import {
  checkTicket,
  type Instrument,
  parsePrice,
  type TicketInput,
  toInstrument,
  unitsToText,
} from "./ticket.ts";

const ES: Instrument = {
  symbol: "ES-FUT",
  name: "E-mini",
  priceDecimals: 2,
  tick: 25,
  lotSize: 1,
  maxOrderQty: 100,
};
const LIMIT: TicketInput = {
  side: "buy",
  orderType: "limit",
  timeInForce: "gtc",
  postOnly: false,
  price: "5432.25",
  quantity: "3",
};

function check(patch: Partial<TicketInput>, expected: string | number) {
  const result = checkTicket(ES, { ...LIMIT, ...patch });
  deepStrictEqual(
    result.ok ? result.order.price : result.refusal.reason,
    expected,
    JSON.stringify(patch),
  );
}

Deno.test("the ticket checks the price against the tick", () => {
  check({}, 543225);
  check({ price: "5432.50" }, 543250);
  check({ price: "5432.5" }, 543250);
  check({ price: "5432.10" }, "invalidPrice"); // not a multiple of 0.25
  check({ price: "5432.255" }, "invalidPrice"); // more decimals than the instrument
  check({ price: "0" }, "invalidPrice");
  check({ price: "-1" }, "invalidPrice");
  check({ price: "" }, "invalidPrice");
  check({ price: "1e3" }, "invalidPrice");
  check({ price: "99999999999999999" }, "invalidPrice"); // beyond 2^53 units
  // A market order has no price, whatever is typed.
  check({ orderType: "market", price: "junk" }, 0);
});

Deno.test("the ticket checks the quantity: positive whole lots, at most maxOrderQty", () => {
  check({ quantity: "100" }, 543225);
  check({ quantity: "101" }, "invalidQty");
  check({ quantity: "0" }, "invalidQty");
  check({ quantity: "1.5" }, "invalidQty");
  check({ quantity: "-2" }, "invalidQty");
  check({ quantity: "" }, "invalidQty");
  // Without a maximum from the edge, only the engine's own limit applies.
  const noMax = checkTicket({ ...ES, maxOrderQty: undefined }, { ...LIMIT, quantity: "5000" });
  strictEqual(noMax.ok, true);
});

Deno.test("the ticket allows post-only only on a GTC limit", () => {
  check({ postOnly: true }, 543225);
  check({ postOnly: true, timeInForce: "ioc" }, "invalidOrder");
  check({ postOnly: true, orderType: "market" }, "invalidOrder");
});

Deno.test("a refusal says what failed in the words of the reasons table", () => {
  const result = checkTicket(ES, { ...LIMIT, price: "5432.10" });
  strictEqual(
    result.ok ? "" : result.refusal.message,
    "Cannot place order: the price is not a positive multiple of the tick size (0.25)",
  );
  const qty = checkTicket(ES, { ...LIMIT, quantity: "500" });
  strictEqual(
    qty.ok ? "" : qty.refusal.message,
    "Cannot place order: the quantity is not a positive number of lots (at most 100 lots of ES-FUT an order)",
  );
});

Deno.test("toInstrument turns the edge's decimal tick into price units", () => {
  const info = { symbol: "X", name: "X", priceDecimals: 2, tickSize: 0.01, lotSize: 1 };
  deepStrictEqual(
    [toInstrument(info).tick, toInstrument({ ...info, tickSize: 0.05 }).tick],
    [1, 5],
  );
  strictEqual(toInstrument({ ...info, maxOrderQty: 7 }).maxOrderQty, 7);
  throws(() => toInstrument({ ...info, tickSize: 0.001 }), RangeError);
});

Deno.test("parsePrice and unitsToText are inverses on the instrument's decimals", () => {
  for (const units of [0, 1, 5, 99, 100, 10125, 543225, Number.MAX_SAFE_INTEGER]) {
    strictEqual(parsePrice(unitsToText(units, 2), 2), units);
    strictEqual(parsePrice(unitsToText(units, 0), 0), units);
  }
  deepStrictEqual([parsePrice(".5", 2), parsePrice("5.", 2), parsePrice(".", 2)], [
    50,
    500,
    undefined,
  ]);
});
