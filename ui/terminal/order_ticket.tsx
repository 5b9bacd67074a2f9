/**
 * The order ticket: side, limit or market, GTC/IOC/FOK, post-only, price
 * and quantity, checked against the instrument ({@linkcode checkTicket})
 * before anything is sent; a refusal is shown in words. Buy and sell go
 * through the terminal's confirmation setting.
 *
 * @module
 */

import type { ReadonlySignal, Signal } from "@preact/signals";
import type { OrderType, TimeInForce } from "../../schemas/wire/mod.ts";
import type { Instrument, TicketInput } from "./ticket.ts";

/** Props of {@linkcode OrderTicket}. */
export interface OrderTicketProps {
  readonly instrument: ReadonlySignal<Instrument>;
  /** The ticket's fields (the app keeps them, so shortcuts and the ladder share them). */
  readonly ticket: Signal<Omit<TicketInput, "side">>;
  /** Sends the ticket on a side. */
  readonly onSubmit: (side: "buy" | "sell") => void;
  /** Cancels every working order. */
  readonly onCancelAll: () => void;
  /** Whether orders ask for confirmation (on by default). */
  readonly confirm: Signal<boolean>;
  /** What the last check or send said ("" when nothing). */
  readonly message: ReadonlySignal<string>;
}

/**
 * The ticket.
 *
 * @param props The instrument, fields, actions and settings.
 * @returns The form.
 */
export function OrderTicket(
  { instrument, ticket, onSubmit, onCancelAll, confirm, message }: OrderTicketProps,
) {
  const t = ticket.value;
  const set = (patch: Partial<Omit<TicketInput, "side">>) =>
    ticket.value = { ...ticket.value, ...patch };
  return (
    <section class="panel ticket">
      <h2>Order ticket — {instrument.value.symbol}</h2>
      <form onSubmit={(e) => e.preventDefault()}>
        <label>
          Type
          <select
            value={t.orderType}
            onChange={(e) => set({ orderType: e.currentTarget.value as OrderType })}
          >
            <option value="limit">Limit</option>
            <option value="market">Market</option>
          </select>
        </label>
        <label>
          Time in force
          <select
            value={t.timeInForce}
            onChange={(e) => set({ timeInForce: e.currentTarget.value as TimeInForce })}
          >
            <option value="gtc">GTC</option>
            <option value="ioc">IOC</option>
            <option value="fok">FOK</option>
          </select>
        </label>
        <label>
          Price
          <input
            name="price"
            inputMode="decimal"
            value={t.price}
            disabled={t.orderType === "market"}
            onInput={(e) => set({ price: e.currentTarget.value })}
          />
        </label>
        <label>
          Quantity (lots)
          <input
            name="quantity"
            inputMode="numeric"
            value={t.quantity}
            onInput={(e) => set({ quantity: e.currentTarget.value })}
          />
        </label>
        <label class="check">
          <input
            type="checkbox"
            checked={t.postOnly}
            onChange={(e) => set({ postOnly: e.currentTarget.checked })}
          />
          Post-only
        </label>
        <label class="check">
          <input
            type="checkbox"
            checked={confirm.value}
            onChange={(e) => confirm.value = e.currentTarget.checked}
          />
          Confirm orders
        </label>
        <div class="actions">
          <button type="button" class="buy" onClick={() => onSubmit("buy")}>Buy (Shift+B)</button>
          <button type="button" class="sell" onClick={() => onSubmit("sell")}>
            Sell (Shift+S)
          </button>
          <button type="button" onClick={onCancelAll}>Cancel all (Shift+X)</button>
        </div>
        <p class="message" role="status">{message}</p>
      </form>
    </section>
  );
}
