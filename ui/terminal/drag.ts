/**
 * Dragging an own order's marker on the price ladder to another level: a
 * replace at that level's price with the same open quantity. A pointer that
 * barely moved is a click (which cancels), not a drag; a drop on no level,
 * or on the order's own price, moves nothing.
 *
 * Pure: the ladder passes the rows' vertical extents as laid out, and the
 * pointer's positions at the press and the release.
 *
 * @module
 */

import type { WorkingOrder } from "./session.ts";

/** How far (CSS px) the pointer must move before a press is a drag, not a click. */
export const DRAG_THRESHOLD_PX = 4;

/** A ladder level as laid out: its price and its row's top and bottom (CSS px). */
export interface LevelBox {
  /** Price units. */
  readonly price: number;
  readonly top: number;
  readonly bottom: number;
}

/** What a drop asks the core for: the order's new price, same open quantity. */
export interface MoveRequest {
  readonly clientOrderId: bigint;
  /** Price units. */
  readonly price: number;
  /** Lots: the order's open quantity, unchanged. */
  readonly quantity: number;
}

/**
 * Whether a press and release is a drag (moved at least
 * {@linkcode DRAG_THRESHOLD_PX} in either direction).
 *
 * @param start The pointer at the press (`clientX`, `clientY`).
 * @param end The pointer at the release.
 * @returns True for a drag, false for a click.
 *
 * @example
 * ```ts
 * import { isDrag } from "./drag.ts";
 * if (isDrag({ x: 0, y: 0 }, { x: 1, y: 2 }) || !isDrag({ x: 0, y: 0 }, { x: 0, y: 30 })) {
 *   throw new Error();
 * }
 * ```
 */
export function isDrag(
  start: { readonly x: number; readonly y: number },
  end: { readonly x: number; readonly y: number },
): boolean {
  return Math.abs(end.x - start.x) >= DRAG_THRESHOLD_PX ||
    Math.abs(end.y - start.y) >= DRAG_THRESHOLD_PX;
}

/**
 * The level under a vertical position.
 *
 * @param levels The ladder's rows as laid out.
 * @param y The pointer's `clientY`.
 * @returns The level's price, or undefined when the pointer is on none.
 *
 * @example
 * ```ts
 * import { levelAt } from "./drag.ts";
 * const rows = [{ price: 101, top: 0, bottom: 20 }, { price: 100, top: 20, bottom: 40 }];
 * if (levelAt(rows, 25) !== 100 || levelAt(rows, 45) !== undefined) throw new Error();
 * ```
 */
export function levelAt(levels: readonly LevelBox[], y: number): number | undefined {
  // A row's bottom edge belongs to the row below it.
  return levels.find((l) => y >= l.top && y < l.bottom)?.price;
}

/**
 * The replace a drag of an own order's marker asks for.
 *
 * @param order The dragged working order.
 * @param levels The ladder's rows as laid out.
 * @param start The pointer at the press.
 * @param end The pointer at the release.
 * @returns The order's new price with its open quantity, or undefined for a
 *   click, a drop on no level, or a drop on its own price.
 *
 * @example
 * ```ts
 * import { dragToMove } from "./drag.ts";
 * const order = {
 *   clientOrderId: 7n, orderId: 1n, symbol: "AAPL", side: "buy" as const,
 *   orderType: "limit" as const, timeInForce: "gtc" as const, postOnly: false,
 *   price: 100, leavesQuantity: 3, cumQuantity: 2,
 * };
 * const rows = [{ price: 100, top: 20, bottom: 40 }, { price: 99, top: 40, bottom: 60 }];
 * const move = dragToMove(order, rows, { x: 5, y: 30 }, { x: 5, y: 50 });
 * if (move?.price !== 99 || move.quantity !== 3 || move.clientOrderId !== 7n) throw new Error();
 * ```
 */
export function dragToMove(
  order: WorkingOrder,
  levels: readonly LevelBox[],
  start: { readonly x: number; readonly y: number },
  end: { readonly x: number; readonly y: number },
): MoveRequest | undefined {
  if (!isDrag(start, end)) return undefined;
  const price = levelAt(levels, end.y);
  if (price === undefined || price === order.price || order.leavesQuantity <= 0) return undefined;
  return { clientOrderId: order.clientOrderId, price, quantity: order.leavesQuantity };
}
