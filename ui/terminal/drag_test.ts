import { deepStrictEqual } from "node:assert/strict";
import { DRAG_THRESHOLD_PX, dragToMove, type LevelBox, type MoveRequest } from "./drag.ts";
import type { WorkingOrder } from "./session.ts";

const ORDER: WorkingOrder = {
  clientOrderId: 42n,
  orderId: 9n,
  symbol: "AAPL",
  side: "buy",
  orderType: "limit",
  timeInForce: "gtc",
  postOnly: false,
  price: 10_000,
  leavesQuantity: 3,
  cumQuantity: 2,
};

/** Five rows of 20 px from y = 100: 10_002 (asks) down to 9_998. */
const ROWS: LevelBox[] = [10_002, 10_001, 10_000, 9_999, 9_998].map((price, i) => ({
  price,
  top: 100 + 20 * i,
  bottom: 120 + 20 * i,
}));

function check(
  start: { x: number; y: number },
  end: { x: number; y: number },
  expected: MoveRequest | undefined,
  order: WorkingOrder = ORDER,
) {
  deepStrictEqual(dragToMove(order, ROWS, start, end), expected);
}

Deno.test("dragToMove() replaces at the level dropped on with the same open quantity", () => {
  // From the order's row (10_000, y 140..160) to 9_998's (y 180..200).
  check({ x: 10, y: 150 }, { x: 12, y: 190 }, { clientOrderId: 42n, price: 9_998, quantity: 3 });
  // Upwards, to 10_002; a row's top edge is that row.
  check({ x: 10, y: 150 }, { x: 10, y: 100 }, { clientOrderId: 42n, price: 10_002, quantity: 3 });
  // A row's bottom edge is the next row's top.
  check({ x: 10, y: 150 }, { x: 10, y: 180 }, { clientOrderId: 42n, price: 9_998, quantity: 3 });
});

Deno.test("dragToMove() treats a press that barely moved as a click", () => {
  const nudge = DRAG_THRESHOLD_PX - 1;
  // Even ending over the next row (at its top edge).
  check({ x: 10, y: 160 - nudge }, { x: 10 + nudge, y: 160 }, undefined);
  // One more pixel is a drag.
  check({ x: 10, y: 160 - DRAG_THRESHOLD_PX }, { x: 10, y: 160 }, {
    clientOrderId: 42n,
    price: 9_999,
    quantity: 3,
  });
});

Deno.test("dragToMove() moves nothing when dropped on no level or on the order's own price", () => {
  check({ x: 10, y: 150 }, { x: 10, y: 99 }, undefined); // above the ladder
  check({ x: 10, y: 150 }, { x: 10, y: 200 }, undefined); // below it
  check({ x: 10, y: 141 }, { x: 300, y: 159 }, undefined); // sideways, same row
  check({ x: 10, y: 150 }, { x: 10, y: 190 }, undefined, { ...ORDER, leavesQuantity: 0 });
});
