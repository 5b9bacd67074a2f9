/**
 * The price ladder (DOM): {@linkcode ladderRows} drawn once per animation
 * frame. Clicking a level's bid cell places a buy limit at its price, its
 * ask cell a sell limit (with the ticket's quantity, through the
 * confirmation setting); clicking an own order's marker cancels it, and
 * dragging it to another level moves it there ({@linkcode dragToMove}: a
 * replace with the same open quantity).
 *
 * @module
 */

import { type ReadonlySignal, useComputed } from "@preact/signals";
import { useRef } from "preact/hooks";
import { dragToMove, isDrag, type LevelBox, type MoveRequest } from "./drag.ts";
import { ladderRows } from "./ladder.ts";
import type { MarketStore } from "./market.ts";
import type { SessionStore, WorkingOrder } from "./session.ts";
import { type Instrument, unitsToText } from "./ticket.ts";

/** The window's listeners (the DOM library is not in the compiler options). */
const g = globalThis as unknown as {
  addEventListener(type: string, fn: (e: PointerEvent) => void): void;
  removeEventListener(type: string, fn: (e: PointerEvent) => void): void;
};

/** Props of {@linkcode PriceLadder}. */
export interface PriceLadderProps {
  readonly instrument: ReadonlySignal<Instrument>;
  readonly market: MarketStore;
  readonly session: SessionStore;
  /** Place a limit order at a price. */
  readonly onPlace: (side: "buy" | "sell", price: number) => void;
  /** Cancel an own order. */
  readonly onCancel: (clientOrderId: bigint) => void;
  /** Move an own order (dragged to another level). */
  readonly onMove?: (order: WorkingOrder, move: MoveRequest) => void;
}

/**
 * The ladder.
 *
 * @param props The instrument, stores and actions.
 * @returns The ladder.
 */
export function PriceLadder(
  { instrument, market, session, onPlace, onCancel, onMove }: PriceLadderProps,
) {
  const body = useRef<HTMLTableSectionElement>(null);
  // Whether a marker's press ended as a drag (then its click cancels nothing).
  const dragged = useRef(false);
  const levels = (): LevelBox[] =>
    [...(body.current?.querySelectorAll<HTMLElement>("tr[data-price]") ?? [])].map((tr) => {
      const box = tr.getBoundingClientRect();
      return { price: Number(tr.dataset.price), top: box.top, bottom: box.bottom };
    });
  const view = useComputed(() => {
    market.tick.value;
    const i = instrument.value;
    const book = market.book(i.symbol);
    return {
      i,
      state: book.state,
      rows: ladderRows(book, session.orders.value, market.ticker(i.symbol).last),
    };
  });
  const { i, state, rows } = view.value;
  return (
    <section class="panel ladder">
      <h2>
        {i.symbol} ladder{state === "live" ? "" : <span class="stale">(waiting for the book)</span>}
      </h2>
      <table>
        <thead>
          <tr>
            <th>Own</th>
            <th>Σ bid</th>
            <th>Bid</th>
            <th>Price</th>
            <th>Ask</th>
            <th>Σ ask</th>
          </tr>
        </thead>
        <tbody ref={body}>
          {rows.map((r) => (
            <tr
              key={`${r.side}${r.price}`}
              class={`${r.side}${r.last ? " last" : ""}`}
              data-price={r.price}
            >
              <td class="own">
                {r.own.map((o) => (
                  <button
                    type="button"
                    key={String(o.clientOrderId)}
                    class={`marker ${o.side}`}
                    title={`Cancel ${o.side} ${o.leavesQuantity} @ ${
                      unitsToText(o.price, i.priceDecimals)
                    } (drag to move)`}
                    onPointerDown={(e) => {
                      if (e.button !== 0) return;
                      dragged.current = false;
                      const start = { order: o, x: e.clientX, y: e.clientY };
                      // The release is heard on the window, not the marker: the rows are
                      // re-laid out as the book changes, and a marker moved in the DOM
                      // loses its pointer capture.
                      const stop = () => {
                        g.removeEventListener("pointerup", up);
                        g.removeEventListener("pointercancel", stop);
                      };
                      const up = (u: PointerEvent) => {
                        stop();
                        const end = { x: u.clientX, y: u.clientY };
                        // A drag dropped nowhere moves nothing, and cancels nothing either.
                        dragged.current = isDrag(start, end);
                        const move = dragToMove(start.order, levels(), start, end);
                        if (move !== undefined) onMove?.(start.order, move);
                      };
                      g.addEventListener("pointerup", up);
                      g.addEventListener("pointercancel", stop);
                    }}
                    onClick={() => {
                      if (dragged.current) dragged.current = false;
                      else onCancel(o.clientOrderId);
                    }}
                  >
                    {o.side === "buy" ? "B" : "S"}
                    {o.leavesQuantity} ×
                  </button>
                ))}
              </td>
              <td>{r.side === "buy" ? r.cumulative : ""}</td>
              <td
                class="hit"
                onClick={() => onPlace("buy", r.price)}
              >
                {r.side === "buy" ? r.size : ""}
              </td>
              <td class="price">{unitsToText(r.price, i.priceDecimals)}</td>
              <td
                class="hit"
                onClick={() => onPlace("sell", r.price)}
              >
                {r.side === "sell" ? r.size : ""}
              </td>
              <td>{r.side === "sell" ? r.cumulative : ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
