/**
 * The price ladder (DOM): {@linkcode ladderRows} drawn once per animation
 * frame. Clicking a level's bid cell places a buy limit at its price, its
 * ask cell a sell limit (with the ticket's quantity, through the
 * confirmation setting); clicking an own order's marker cancels it.
 *
 * @module
 */

import { type ReadonlySignal, useComputed } from "@preact/signals";
import { ladderRows } from "./ladder.ts";
import type { MarketStore } from "./market.ts";
import type { SessionStore } from "./session.ts";
import { type Instrument, unitsToText } from "./ticket.ts";

/** Props of {@linkcode PriceLadder}. */
export interface PriceLadderProps {
  readonly instrument: ReadonlySignal<Instrument>;
  readonly market: MarketStore;
  readonly session: SessionStore;
  /** Place a limit order at a price. */
  readonly onPlace: (side: "buy" | "sell", price: number) => void;
  /** Cancel an own order. */
  readonly onCancel: (clientOrderId: bigint) => void;
}

/**
 * The ladder.
 *
 * @param props The instrument, stores and actions.
 * @returns The ladder.
 */
export function PriceLadder({ instrument, market, session, onPlace, onCancel }: PriceLadderProps) {
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
        <tbody>
          {rows.map((r) => (
            <tr key={`${r.side}${r.price}`} class={`${r.side}${r.last ? " last" : ""}`}>
              <td class="own">
                {r.own.map((o) => (
                  <button
                    type="button"
                    key={String(o.clientOrderId)}
                    class={`marker ${o.side}`}
                    title={`Cancel ${o.side} ${o.leavesQuantity} @ ${
                      unitsToText(o.price, i.priceDecimals)
                    }`}
                    onClick={() => onCancel(o.clientOrderId)}
                  >
                    {o.side === "buy" ? "B" : "S"}
                    {o.leavesQuantity} ×
                  </button>
                ))}
              </td>
              <td>{r.side === "buy" ? r.cumulative : ""}</td>
              <td
                class="hit"
                onClick={() =>
                  onPlace("buy", r.price)}
              >
                {r.side === "buy" ? r.size : ""}
              </td>
              <td class="price">{unitsToText(r.price, i.priceDecimals)}</td>
              <td
                class="hit"
                onClick={() =>
                  onPlace("sell", r.price)}
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
