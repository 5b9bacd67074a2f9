/**
 * The market overview (`/`): every symbol in a table (last price, change,
 * change percent, bid, ask, volume), with the day's biggest movers above it.
 *
 * A price change updates its row's text nodes only. The table body renders
 * again only when a symbol appears, and the movers only when who they are,
 * or their order, changes.
 *
 * @module
 */

import { type ReadonlySignal, type Signal, useComputed } from "@preact/signals";
import { useQuote } from "./_hooks.ts";
import {
  direction,
  formatChange,
  formatPercent,
  formatPrice,
  formatSize,
  MISSING,
} from "./format.ts";
import { biggestMovers } from "./movers.ts";
import type { QuoteStore } from "./quote_store.ts";
import type { QuoteView } from "./quote_view.ts";
import { type StreamStatus, StreamStatusText } from "./stream_status.tsx";

/** Props of {@linkcode MarketOverview}. */
export interface MarketOverviewProps {
  /** Every symbol's quote. */
  readonly store: QuoteStore;
  /** The live stream's state. */
  readonly status: ReadonlySignal<StreamStatus>;
}

const quoteHref = (symbol: string) => `/q/${encodeURIComponent(symbol)}`;

/**
 * One row of the table.
 *
 * @param props The symbol's quote.
 * @returns The row.
 */
function QuoteRow({ quote }: { quote: Signal<QuoteView> }) {
  // The symbol never changes for a row (rows are keyed by it).
  const symbol = quote.peek().symbol;
  const name = useQuote(quote, (q) => q.name);
  const last = useQuote(quote, (q) => formatPrice(q.lastTrade?.price, q.priceDecimals));
  const dir = useQuote(quote, (q) => direction(q.change, q.priceDecimals));
  const change = useQuote(quote, (q) => formatChange(q.change, q.priceDecimals));
  const percent = useQuote(quote, (q) => formatPercent(q.changePercent));
  const bid = useQuote(quote, (q) => formatPrice(q.bid?.price, q.priceDecimals));
  const ask = useQuote(quote, (q) => formatPrice(q.ask?.price, q.priceDecimals));
  const volume = useQuote(quote, (q) => formatSize(q.day?.volume));
  return (
    <tr data-symbol={symbol}>
      <th scope="row">
        <a href={quoteHref(symbol)}>{symbol}</a>
      </th>
      <td class="name">{name}</td>
      <td data-field="price">{last}</td>
      <td class={dir} data-field="change">{change}</td>
      <td class={dir} data-field="change-percent">{percent}</td>
      <td data-field="bid">{bid}</td>
      <td data-field="ask">{ask}</td>
      <td data-field="volume">{volume}</td>
    </tr>
  );
}

/**
 * The table's rows: the only part that reads the list of symbols, so only
 * it renders again when a symbol appears.
 *
 * @param props The store.
 * @returns The rows.
 */
function QuoteRows({ store }: { store: QuoteStore }) {
  const quotes = store.list.value;
  if (quotes.length === 0) {
    return (
      <tr>
        <td colSpan={8}>No quotes yet.</td>
      </tr>
    );
  }
  return <>{quotes.map((q) => <QuoteRow key={q.peek().symbol} quote={q} />)}</>;
}

/**
 * One entry of the movers' lists.
 *
 * @param props The symbol's quote.
 * @returns The list item.
 */
function Mover({ quote }: { quote: Signal<QuoteView> }) {
  const symbol = quote.peek().symbol;
  const dir = useQuote(quote, (q) => `change ${direction(q.changePercent, 2)}`);
  const percent = useQuote(quote, (q) => formatPercent(q.changePercent));
  const last = useQuote(quote, (q) => formatPrice(q.lastTrade?.price, q.priceDecimals));
  return (
    <li data-symbol={symbol}>
      <a href={quoteHref(symbol)}>{symbol}</a> <span class="price">{last}</span>{" "}
      <span class={dir}>{percent}</span>
    </li>
  );
}

/**
 * The biggest gainers and losers.
 *
 * @param props The store.
 * @returns The section.
 */
function Movers({ store }: { store: QuoteStore }) {
  // Who the movers are, as text: equal text notifies no one, so most
  // quotes do not render this again (their rows' numbers update in place).
  const picks = useComputed(() => {
    const m = biggestMovers(store.list.value.map((s) => s.value));
    return [m.gainers, m.losers].map((side) => side.map((v) => v.symbol).join(" ")).join("|");
  });
  const [gainers = "", losers = ""] = picks.value.split("|");
  const list = (symbols: string, label: string) => {
    const quotes = symbols === "" ? [] : symbols.split(" ").flatMap((s) => store.get(s) ?? []);
    return (
      <div>
        <h3>{label}</h3>
        {quotes.length === 0
          ? <p class="none">{MISSING}</p>
          : <ol>{quotes.map((q) => <Mover key={q.peek().symbol} quote={q} />)}</ol>}
      </div>
    );
  };
  return (
    <section class="movers" aria-label="Biggest movers">
      <h2>Biggest movers</h2>
      <div class="sides">
        {list(gainers, "Gainers")}
        {list(losers, "Losers")}
      </div>
    </section>
  );
}

/**
 * The market overview's content.
 *
 * @param props The store and the stream's state.
 * @returns The page's `<main>`.
 */
export function MarketOverview({ store, status }: MarketOverviewProps) {
  return (
    <main class="overview">
      <h1>Markets</h1>
      <Movers store={store} />
      <table class="quotes">
        <thead>
          <tr>
            <th scope="col">Symbol</th>
            <th scope="col" class="name">Name</th>
            <th scope="col">Last</th>
            <th scope="col">Change</th>
            <th scope="col">%</th>
            <th scope="col">Bid</th>
            <th scope="col">Ask</th>
            <th scope="col">Volume</th>
          </tr>
        </thead>
        <tbody>
          <QuoteRows store={store} />
        </tbody>
      </table>
      <p class="updated">
        Quotes: <StreamStatusText status={status} />
      </p>
    </main>
  );
}
