/**
 * The blotter: working orders (cancel one, cancel all), fills, and
 * positions with average price and realised and unrealised P&L marked to
 * the last trade, all exact until printed ({@linkcode formatAmount}).
 *
 * @module
 */

import { useComputed } from "@preact/signals";
import type { MarketStore } from "./market.ts";
import { formatAmount, unrealised } from "./pnl.ts";
import type { SessionStore } from "./session.ts";
import { type Instrument, unitsToText } from "./ticket.ts";

/** Props of {@linkcode Blotter}. */
export interface BlotterProps {
  readonly instruments: ReadonlyMap<string, Instrument>;
  readonly session: SessionStore;
  readonly market: MarketStore;
  readonly onCancel: (clientOrderId: bigint) => void;
  readonly onCancelAll: () => void;
}

/**
 * The blotter.
 *
 * @param props The instruments, stores and actions.
 * @returns Working orders, fills and positions.
 */
export function Blotter({ instruments, session, market, onCancel, onCancelAll }: BlotterProps) {
  const decimals = (symbol: string) => instruments.get(symbol)?.priceDecimals ?? 0;
  const positions = useComputed(() => {
    market.tick.value;
    return [...session.positions.value].map(([symbol, p]) => {
      const d = decimals(symbol);
      const u = unrealised(p, market.ticker(symbol).last);
      return {
        symbol,
        net: p.net,
        average: p.average === undefined ? "–" : formatAmount(p.average, d, 2),
        realised: formatAmount(p.realised, d),
        unrealised: u === undefined ? "–" : formatAmount(u, d),
      };
    });
  });
  return (
    <section class="panel blotter">
      <h2>
        Working orders <button type="button" onClick={onCancelAll}>Cancel all</button>
      </h2>
      <table class="orders">
        <thead>
          <tr>
            <th>Symbol</th>
            <th>Side</th>
            <th>Price</th>
            <th>Open</th>
            <th>Filled</th>
            <th>TIF</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {session.orders.value.map((o) => (
            <tr key={String(o.clientOrderId)} class={o.side}>
              <td>{o.symbol}</td>
              <td>{o.side}</td>
              <td>{unitsToText(o.price, decimals(o.symbol))}</td>
              <td>{o.leavesQuantity}</td>
              <td>{o.cumQuantity}</td>
              <td>{o.timeInForce.toUpperCase()}{o.postOnly ? " PO" : ""}</td>
              <td>
                <button type="button" onClick={() => onCancel(o.clientOrderId)}>Cancel</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Positions</h2>
      <table class="positions">
        <thead>
          <tr>
            <th>Symbol</th>
            <th>Net</th>
            <th>Avg</th>
            <th>Realised</th>
            <th>Unrealised</th>
          </tr>
        </thead>
        <tbody>
          {positions.value.map((p) => (
            <tr key={p.symbol}>
              <td>{p.symbol}</td>
              <td>{p.net}</td>
              <td>{p.average}</td>
              <td>{p.realised}</td>
              <td>{p.unrealised}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Fills</h2>
      <table class="fills">
        <thead>
          <tr>
            <th>Symbol</th>
            <th>Side</th>
            <th>Price</th>
            <th>Size</th>
            <th>Liquidity</th>
          </tr>
        </thead>
        <tbody>
          {session.fills.value.slice(0, 50).map((f) => (
            <tr key={`${f.sequence}`} class={f.side}>
              <td>{f.symbol}</td>
              <td>{f.side}</td>
              <td>{unitsToText(f.price, decimals(f.symbol))}</td>
              <td>{f.quantity}</td>
              <td>{f.liquidity}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <ul class="notices">
        {session.notices.value.map((n) => <li key={n.id} class={n.kind}>{n.text}</li>)}
      </ul>
    </section>
  );
}
