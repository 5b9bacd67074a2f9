/**
 * The terminal's root: the login form until a session is open, then the
 * workspace (connection bar, watchlist, ladder, tape, ticket, blotter,
 * candle and depth charts).
 * Rendered by the edge for `/trade` (logged out) and hydrated in the
 * browser with the same state.
 *
 * Keyboard: Shift+B buys and Shift+S sells with the ticket's fields,
 * Shift+X cancels every working order; each asks for confirmation while
 * the setting is on (the default), as do the ladder's clicks.
 *
 * @module
 */

import { useComputed, useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { Blotter } from "./blotter.tsx";
import { CandleChart, type MountCandles } from "./candle_chart.tsx";
import { ConnectionBar } from "./connection_bar.tsx";
import { DepthChart } from "./depth_chart.tsx";
import type { MoveRequest } from "./drag.ts";
import { LoginForm } from "./login_form.tsx";
import { OrderTicket } from "./order_ticket.tsx";
import { PriceLadder } from "./price_ladder.tsx";
import type { WorkingOrder } from "./session.ts";
import type { Terminal } from "./terminal.ts";
import { checkTicket, type Instrument, type TicketInput, unitsToText } from "./ticket.ts";
import { TimeAndSales } from "./time_and_sales.tsx";
import { Watchlist } from "./watchlist.tsx";

/** Props of {@linkcode TerminalApp}. */
export interface TerminalAppProps {
  readonly terminal: Terminal;
  /** The instruments, in watchlist order (at least one). */
  readonly instruments: readonly Instrument[];
  /** Asks the trader to confirm (`window.confirm` in the browser). */
  readonly ask: (question: string) => boolean;
  /** Draws the candle chart (the browser's, `candle_view.ts`); none on the server. */
  readonly mountCandles?: MountCandles | undefined;
}

/** Whether a key event is one of the terminal's shortcuts, and which. */
export function shortcutOf(
  e: { key: string; shiftKey: boolean; ctrlKey: boolean; altKey: boolean; metaKey: boolean },
): "buy" | "sell" | "cancelAll" | undefined {
  if (!e.shiftKey || e.ctrlKey || e.altKey || e.metaKey) return undefined;
  return ({ B: "buy", S: "sell", X: "cancelAll" } as const)[e.key as "B" | "S" | "X"];
}

/**
 * The terminal.
 *
 * @param props The terminal, instruments and confirmation prompt.
 * @returns The page's content.
 */
export function TerminalApp({ terminal, instruments, ask, mountCandles }: TerminalAppProps) {
  const selected = useSignal(instruments[0]?.symbol ?? "");
  const theme = useSignal<"dark" | "light">("dark");
  const confirm = useSignal(true);
  const message = useSignal("");
  const ticket = useSignal<Omit<TicketInput, "side">>({
    orderType: "limit",
    timeInForce: "gtc",
    postOnly: false,
    price: "",
    quantity: "1",
  });
  const bySymbol = new Map(instruments.map((i) => [i.symbol, i]));
  const instrument = useComputed(() => bySymbol.get(selected.value) ?? instruments[0]!);

  const send = (input: TicketInput) => {
    const i = instrument.value;
    const checked = checkTicket(i, input);
    if (!checked.ok) {
      message.value = checked.refusal.message;
      return;
    }
    const o = checked.order;
    const what = `${o.side} ${o.quantity} ${o.symbol} ${
      o.orderType === "market" ? "at market" : `at ${unitsToText(o.price, i.priceDecimals)}`
    }`;
    if (confirm.value && !ask(`Send: ${what}?`)) return;
    message.value = terminal.place(o) === undefined
      ? `Cannot place order: not connected to the core`
      : `Sent: ${what}`;
  };
  const submit = (side: "buy" | "sell") => send({ ...ticket.value, side });
  const cancelAll = () => {
    if (confirm.value && !ask("Cancel every working order?")) return;
    if (!terminal.cancelAll()) message.value = "Cannot cancel orders: not connected to the core";
  };
  const cancel = (id: bigint) => {
    if (!terminal.cancel(id)) message.value = "Cannot cancel order: not connected to the core";
  };
  const move = (o: WorkingOrder, to: MoveRequest) => {
    const d = instrument.value.priceDecimals;
    const what = `${o.side} ${to.quantity} ${o.symbol} from ${unitsToText(o.price, d)} to ${
      unitsToText(to.price, d)
    }`;
    if (confirm.value && !ask(`Move: ${what}?`)) return;
    message.value = terminal.replace(to.clientOrderId, to.price, to.quantity)
      ? `Sent: move ${what}`
      : "Cannot modify order: not connected to the core";
  };

  useEffect(() => {
    const g = globalThis as unknown as {
      addEventListener?: (type: string, fn: (e: KeyboardEvent) => void) => void;
      removeEventListener?: (type: string, fn: (e: KeyboardEvent) => void) => void;
    };
    const onKey = (e: KeyboardEvent) => {
      // Typing in a field is typing, not a shortcut.
      const target = e.target as { tagName?: string } | null;
      if (target?.tagName === "INPUT" || target?.tagName === "SELECT") return;
      const action = shortcutOf(e);
      if (action === undefined || terminal.identity.value === undefined) return;
      e.preventDefault();
      if (action === "cancelAll") cancelAll();
      else submit(action);
    };
    g.addEventListener?.("keydown", onKey);
    return () => g.removeEventListener?.("keydown", onKey);
  }, []);

  const loggedIn = terminal.identity.value !== undefined;
  return (
    <div class="terminal" data-theme={theme}>
      {!loggedIn ? <LoginForm terminal={terminal} /> : (
        <>
          <ConnectionBar
            terminal={terminal}
            onTheme={() => theme.value = theme.value === "dark" ? "light" : "dark"}
          />
          <main class="workspace">
            <Watchlist instruments={instruments} market={terminal.market} selected={selected} />
            <PriceLadder
              instrument={instrument}
              market={terminal.market}
              session={terminal.session}
              onPlace={(side, price) =>
                send({
                  ...ticket.value,
                  orderType: "limit",
                  side,
                  price: unitsToText(price, instrument.value.priceDecimals),
                })}
              onCancel={cancel}
              onMove={move}
            />
            <TimeAndSales instrument={instrument} market={terminal.market} />
            <CandleChart
              instrument={instrument}
              market={terminal.market}
              theme={theme}
              mount={mountCandles}
            />
            <DepthChart instrument={instrument} market={terminal.market} />
            <OrderTicket
              instrument={instrument}
              ticket={ticket}
              onSubmit={submit}
              onCancelAll={cancelAll}
              confirm={confirm}
              message={message}
            />
            <Blotter
              instruments={bySymbol}
              session={terminal.session}
              market={terminal.market}
              onCancel={cancel}
              onCancelAll={cancelAll}
            />
          </main>
        </>
      )}
    </div>
  );
}
