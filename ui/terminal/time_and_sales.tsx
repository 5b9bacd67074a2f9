/**
 * Time and sales: the chosen symbol's latest prints, newest first, coloured
 * by the taker's side.
 *
 * @module
 */

import { type ReadonlySignal, useComputed } from "@preact/signals";
import type { MarketStore } from "./market.ts";
import { type Instrument, unitsToText } from "./ticket.ts";

/** How many prints are shown. */
export const TAPE_ROWS = 30;

/**
 * The tape.
 *
 * @param props The instrument and the market.
 * @returns The table.
 */
export function TimeAndSales(
  { instrument, market }: { instrument: ReadonlySignal<Instrument>; market: MarketStore },
) {
  const rows = useComputed(() => {
    const i = instrument.value;
    return market.tape.value.filter((t) => t.symbol === i.symbol).slice(0, TAPE_ROWS).map((t) => ({
      key: String(t.tradeId),
      time: new Date(Number(t.time / 1_000_000n)).toISOString().slice(11, 23),
      price: unitsToText(t.price, i.priceDecimals),
      quantity: t.quantity,
      side: t.aggressorSide,
    }));
  });
  return (
    <section class="panel tape">
      <h2>Time and sales</h2>
      <table>
        <thead>
          <tr>
            <th>Time</th>
            <th>Price</th>
            <th>Size</th>
          </tr>
        </thead>
        <tbody>
          {rows.value.map((r) => (
            <tr key={r.key} class={r.side}>
              <td>{r.time}</td>
              <td>{r.price}</td>
              <td>{r.quantity}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
