/**
 * The trader's session as signals: working orders, fills, positions with
 * P&L, and the notices (rejects, cancels) in words. Fed the core's
 * `executionReport`, `reject` and `positions` messages.
 *
 * # Rebuilding after a reconnect
 * {@linkcode SessionStore.beginRebuild} starts a fresh copy, fed the core's
 * `requestOrders` answers page by page (`sinceSequence` 0, then each page's
 * `throughSequence` while `more`); the blotter on screen stays as it was
 * until the last page, then the copy replaces it in one step. Positions are
 * the ledger's (exact averages from the fills) where its totals agree with
 * the core's `positions`, and the core's totals otherwise (fills older than
 * the core keeps). Fills older than the core keeps are kept from before.
 * A core that restarted (its `executionSequence` below the last one seen)
 * has forgotten every fill: all of them, and the positions they made, are
 * kept from before, and the fills since the restart apply on top.
 *
 * # Invariants
 * - An execution report is applied once: a report at or below the last
 *   sequence applied is ignored (the core numbers them per account, 1, 2, 3…).
 * - A working order is one whose last report left it open (`leavesQuantity`
 *   above 0, not cancelled or expired).
 *
 * @module
 */

import { batch, type ReadonlySignal, signal } from "@preact/signals";
import { cancelReasonText, rejectReasonText } from "../../schemas/vocabulary/reasons.ts";
import type {
  ExecutionReportEvent,
  OrderType,
  Position,
  PositionsEvent,
  RejectEvent,
  RequestType,
  ServerEvent,
  Side,
  TimeInForce,
} from "../../schemas/wire/mod.ts";
import { applyFill, FLAT, fromTotals, type PositionPnl } from "./pnl.ts";

/** An order still working on a book. */
export interface WorkingOrder {
  readonly clientOrderId: bigint;
  readonly orderId: bigint;
  readonly symbol: string;
  readonly side: Side;
  readonly orderType: OrderType;
  readonly timeInForce: TimeInForce;
  readonly postOnly: boolean;
  /** Price units. */
  readonly price: number;
  /** Lots open, and filled. */
  readonly leavesQuantity: number;
  readonly cumQuantity: number;
}

/** One fill of one of the session's orders. */
export interface FillRow {
  /** The execution report's sequence. */
  readonly sequence: bigint;
  readonly tradeId: bigint;
  readonly clientOrderId: bigint;
  readonly symbol: string;
  readonly side: Side;
  /** Price units, lots. */
  readonly price: number;
  readonly quantity: number;
  readonly liquidity: "maker" | "taker" | "unspecified";
  /** Engine time, ns since the epoch. */
  readonly time: bigint;
}

/** Something to tell the trader, in words. */
export interface Notice {
  readonly id: number;
  readonly kind: "reject" | "cancel" | "error";
  /** "Cannot place order: the price is not a positive multiple of the tick size". */
  readonly text: string;
}

/** What the caller must do after a `positions` message of a rebuild. */
export type RebuildStep =
  | { readonly next: bigint }
  | { readonly done: true };

/** The most fills and notices kept (older ones drop off). */
export const MAX_FILLS = 500;
/** The most notices kept. */
export const MAX_NOTICES = 20;

const VERBS: Partial<Record<RequestType, string>> = {
  newOrder: "place order",
  cancel: "cancel order",
  replace: "modify order",
  cancelAll: "cancel orders",
  subscribe: "subscribe",
  requestSnapshot: "get the book",
  requestOrders: "get the orders",
  reauthenticate: "renew the session",
};

/**
 * What a reject says, in words: the verb of the request and the reason's
 * text from the one table of reasons.
 *
 * @param reject The core's reject.
 * @returns "Cannot place order: the quantity is not a positive number of lots".
 *
 * @example
 * ```ts
 * import { rejectText } from "./session.ts";
 * const text = rejectText({ type: "reject", reason: "unknownSymbol", message: "", request: "newOrder" });
 * if (text !== "Cannot place order: the symbol is not traded") throw new Error(text);
 * ```
 */
export function rejectText(reject: RejectEvent): string {
  const verb = VERBS[reject.request] ?? "do that";
  return `Cannot ${verb}: ${rejectReasonText(reject.reason)}`;
}

/** The session's state, one copy (the live one, or the one being rebuilt). */
class Books {
  readonly orders = new Map<bigint, WorkingOrder>();
  fills: FillRow[] = [];
  readonly positions = new Map<string, PositionPnl>();
  sequence = 0n;
}

/**
 * The session's live state.
 *
 * @example
 * ```ts
 * import { SessionStore } from "./session.ts";
 * const store = new SessionStore();
 * store.apply({
 *   type: "executionReport", sequence: 1n, execType: "accepted", clientOrderId: 7n, orderId: 1n,
 *   account: "alice", symbol: "AAPL", side: "buy", orderType: "limit", timeInForce: "gtc",
 *   postOnly: false, price: 10000, leavesQuantity: 5, cumQuantity: 0, engineTime: 0n,
 * });
 * if (store.orders.value[0]?.clientOrderId !== 7n) throw new Error("not working");
 * ```
 */
export class SessionStore {
  #live = new Books();
  #next: Books | undefined;
  /** Live reports that arrived during a rebuild. */
  #pending: ExecutionReportEvent[] = [];
  #noticeId = 0;
  readonly #orders = signal<readonly WorkingOrder[]>([]);
  readonly #fills = signal<readonly FillRow[]>([]);
  readonly #positions = signal<ReadonlyMap<string, PositionPnl>>(new Map());
  readonly #notices = signal<readonly Notice[]>([]);

  /** Working orders, oldest first. */
  get orders(): ReadonlySignal<readonly WorkingOrder[]> {
    return this.#orders;
  }
  /** Fills, newest first. */
  get fills(): ReadonlySignal<readonly FillRow[]> {
    return this.#fills;
  }
  /** Positions by symbol. */
  get positions(): ReadonlySignal<ReadonlyMap<string, PositionPnl>> {
    return this.#positions;
  }
  /** Notices, newest first. */
  get notices(): ReadonlySignal<readonly Notice[]> {
    return this.#notices;
  }
  /** The last execution report applied. */
  get executionSequence(): bigint {
    return this.#live.sequence;
  }
  /** Whether a rebuild is under way. */
  get rebuilding(): boolean {
    return this.#next !== undefined;
  }

  /**
   * Starts rebuilding from the core's log (after a reconnect): send
   * `requestOrders` with `sinceSequence` 0, then feed the answers to
   * {@linkcode SessionStore.apply}.
   */
  beginRebuild(): void {
    this.#next = new Books();
    this.#pending = [];
  }

  /**
   * Applies one message from the core. Others than execution reports,
   * rejects, errors and positions are ignored.
   *
   * @param event The message.
   * @returns For the `positions` that ends a page of a rebuild: where to ask
   *   from next, or that it is done. Otherwise undefined.
   */
  apply(event: ServerEvent): RebuildStep | undefined {
    switch (event.type) {
      case "executionReport": {
        // Replayed reports belong to a rebuild. Live ones show at once, and
        // join the rebuilt copy after its last page (before it, their
        // sequences would hide the pages' older ones).
        if (event.replayed) {
          if (this.#next !== undefined) applyReport(this.#next, event);
          return undefined;
        }
        if (this.#next !== undefined) this.#pending.push(event);
        const changed = applyReport(this.#live, event);
        if (
          event.execType === "cancelled" && !event.replayed && event.cancelReason !== undefined &&
          event.cancelReason !== "requested"
        ) {
          this.#notice("cancel", `Order cancelled: ${cancelReasonText(event.cancelReason)}`);
        }
        if (changed) this.#publish();
        return undefined;
      }
      case "reject":
        this.#notice("reject", rejectText(event));
        return undefined;
      case "error":
        this.#notice("error", `The core: ${rejectReasonText(event.reason)}`);
        return undefined;
      case "positions":
        return this.#positionsMessage(event);
      default:
        return undefined;
    }
  }

  #positionsMessage(event: PositionsEvent): RebuildStep | undefined {
    const next = this.#next;
    if (next === undefined) {
      reconcile(this.#live, event.positions);
      this.#publish();
      return undefined;
    }
    if (event.more) return { next: event.throughSequence ?? next.sequence };
    const through = event.executionSequence;
    // A core that numbers below what was seen has restarted: it starts its
    // reports at 1 again and has forgotten every fill before (its "Known
    // limitations"). Those fills, and the positions they made, are kept.
    const restarted = through < this.#live.sequence;
    // The last page: what the core no longer keeps comes from before.
    const oldest = event.oldestSequence ?? 1n;
    const kept = restarted ? this.#live.fills : this.#live.fills.filter((f) => f.sequence < oldest);
    const since = next.fills;
    next.fills = [...next.fills, ...kept].slice(0, MAX_FILLS);
    if (restarted) {
      // The fills since the restart, oldest first, on top of the positions from before.
      next.positions.clear();
      for (const [symbol, p] of this.#live.positions) next.positions.set(symbol, p);
      for (const f of [...since].reverse()) {
        const before = next.positions.get(f.symbol) ?? FLAT;
        next.positions.set(f.symbol, applyFill(before, f));
      }
    }
    // The core's positions are as of its executionSequence: live reports up
    // to it before they are compared, later ones after. After a restart its
    // totals count only the fills since, so they are not compared.
    for (const report of this.#pending) if (report.sequence <= through) applyReport(next, report);
    if (!restarted) reconcile(next, event.positions);
    for (const report of this.#pending) if (report.sequence > through) applyReport(next, report);
    this.#pending = [];
    if (through > next.sequence) next.sequence = through;
    this.#live = next;
    this.#next = undefined;
    this.#publish();
    return { done: true };
  }

  #notice(kind: Notice["kind"], text: string): void {
    const notice = { id: ++this.#noticeId, kind, text };
    this.#notices.value = [notice, ...this.#notices.value].slice(0, MAX_NOTICES);
  }

  #publish(): void {
    const live = this.#live;
    batch(() => {
      this.#orders.value = [...live.orders.values()];
      this.#fills.value = live.fills.slice();
      this.#positions.value = new Map(live.positions);
    });
  }
}

/** Applies a report to one copy; returns whether it changed anything. */
function applyReport(books: Books, r: ExecutionReportEvent): boolean {
  if (r.sequence <= books.sequence) return false;
  books.sequence = r.sequence;
  if (r.execType === "trade" && r.lastQuantity && r.lastPrice) {
    books.fills.unshift({
      sequence: r.sequence,
      tradeId: r.tradeId ?? 0n,
      clientOrderId: r.clientOrderId,
      symbol: r.symbol,
      side: r.side,
      price: r.lastPrice,
      quantity: r.lastQuantity,
      liquidity: r.liquidity ?? "unspecified",
      time: r.engineTime,
    });
    if (books.fills.length > MAX_FILLS) books.fills.length = MAX_FILLS;
    const before = books.positions.get(r.symbol) ?? FLAT;
    books.positions.set(
      r.symbol,
      applyFill(before, { side: r.side, price: r.lastPrice, quantity: r.lastQuantity }),
    );
  }
  const open = r.leavesQuantity > 0 && r.execType !== "cancelled" && r.execType !== "expired";
  if (open) {
    books.orders.set(r.clientOrderId, {
      clientOrderId: r.clientOrderId,
      orderId: r.orderId,
      symbol: r.symbol,
      side: r.side,
      orderType: r.orderType,
      timeInForce: r.timeInForce,
      postOnly: r.postOnly,
      price: r.price,
      leavesQuantity: r.leavesQuantity,
      cumQuantity: r.cumQuantity,
    });
  } else {
    books.orders.delete(r.clientOrderId);
  }
  return true;
}

/** Where the ledger's totals differ from the core's, the core's totals win. */
function reconcile(books: Books, positions: readonly Position[]): void {
  for (const p of positions) {
    const mine = books.positions.get(p.symbol);
    const agrees = mine !== undefined && mine.bought === p.boughtQuantity &&
      mine.sold === p.soldQuantity && mine.boughtNotional === p.boughtNotional &&
      mine.soldNotional === p.soldNotional;
    if (agrees) continue;
    if (p.boughtQuantity === 0 && p.soldQuantity === 0 && mine === undefined) continue;
    books.positions.set(
      p.symbol,
      fromTotals({
        bought: p.boughtQuantity,
        sold: p.soldQuantity,
        boughtNotional: p.boughtNotional,
        soldNotional: p.soldNotional,
      }),
    );
  }
}
