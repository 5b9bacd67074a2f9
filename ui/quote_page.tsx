/**
 * The quote page of one symbol (`/q/:symbol`): the last price large, the
 * change and change percent coloured by direction, bid and ask with sizes,
 * the day's open, high, low, volume and VWAP, the previous close and the
 * time of the last update.
 *
 * Rendered on the server and hydrated in the browser from the same
 * component; every changing value is a computed signal bound to its text
 * node or attribute, so a new quote updates those nodes only.
 *
 * @module
 */

import type { ReadonlySignal, Signal } from "@preact/signals";
import { useQuote } from "./_hooks.ts";
import {
  direction,
  formatChange,
  formatPercent,
  formatPrice,
  formatSize,
  formatTime,
  MISSING,
} from "./format.ts";
import type { QuoteView } from "./quote_view.ts";
import { type StreamStatus, StreamStatusText } from "./stream_status.tsx";

/** Props of {@linkcode QuotePage}. */
export interface QuotePageProps {
  /** The symbol's quote. */
  readonly quote: Signal<QuoteView>;
  /** The live stream's state. */
  readonly status: ReadonlySignal<StreamStatus>;
}

const side = (q: QuoteView, s: QuoteView["bid"]) =>
  s === null ? MISSING : `${formatPrice(s.price, q.priceDecimals)} × ${formatSize(s.size)}`;

/**
 * The page's title: the symbol and its last price.
 *
 * @param q The quote.
 * @returns The title.
 *
 * @example
 * ```ts
 * import { quoteTitle } from "./quote_page.tsx";
 * import { makeSnapshot } from "./_testing/fixtures.ts";
 * if (quoteTitle(makeSnapshot("AAPL")) !== "AAPL 101.25 — TradeCaptain") throw new Error();
 * ```
 */
export function quoteTitle(q: QuoteView): string {
  return `${q.symbol} ${formatPrice(q.lastTrade?.price, q.priceDecimals)} — TradeCaptain`;
}

/**
 * One statistic: a term and its live value.
 *
 * @param props The label, the field name (`data-field`, for tests and
 *   scripts) and the value.
 * @returns The row.
 */
function Stat(
  props: { label: string; field: string; value: ReadonlySignal<string> },
) {
  return (
    <div>
      <dt>{props.label}</dt>
      <dd data-field={props.field}>{props.value}</dd>
    </div>
  );
}

/**
 * The quote page's content.
 *
 * @param props The quote and the stream's state.
 * @returns The page's `<main>`.
 */
export function QuotePage({ quote, status }: QuotePageProps) {
  const price = (p: (q: QuoteView) => number | null | undefined) =>
    useQuote(quote, (q) => formatPrice(p(q), q.priceDecimals));
  const symbol = useQuote(quote, (q) => q.symbol);
  const name = useQuote(quote, (q) => q.name);
  const last = price((q) => q.lastTrade?.price);
  const changeClass = useQuote(quote, (q) => `change ${direction(q.change, q.priceDecimals)}`);
  const change = useQuote(quote, (q) => formatChange(q.change, q.priceDecimals));
  const percent = useQuote(quote, (q) => formatPercent(q.changePercent));
  const bid = useQuote(quote, (q) => side(q, q.bid));
  const ask = useQuote(quote, (q) => side(q, q.ask));
  const open = price((q) => q.day?.open);
  const high = price((q) => q.day?.high);
  const low = price((q) => q.day?.low);
  const volume = useQuote(quote, (q) => formatSize(q.day?.volume));
  const vwap = price((q) => q.day?.vwap);
  const prevClose = price((q) => q.prevClose);
  const range = useQuote(
    quote,
    (q) =>
      q.week52 === null
        ? MISSING
        : `${formatPrice(q.week52.low, q.priceDecimals)} – ${
          formatPrice(q.week52.high, q.priceDecimals)
        }`,
  );
  const updatedIso = useQuote(quote, (q) => new Date(q.updated).toISOString());
  const updated = useQuote(quote, (q) => formatTime(q.updated));

  return (
    <main class="quote">
      <nav>
        <a href="/">Markets</a>
      </nav>
      <h1>
        <span class="symbol">{symbol}</span> <span class="name">{name}</span>
      </h1>
      <p class="last">
        <span class="price" data-field="price">{last}</span>{" "}
        <span class={changeClass}>
          <span data-field="change">{change}</span> (<span data-field="change-percent">
            {percent}
          </span>)
        </span>
      </p>
      <dl class="stats">
        <Stat label="Bid" field="bid" value={bid} />
        <Stat label="Ask" field="ask" value={ask} />
        <Stat label="Open" field="open" value={open} />
        <Stat label="High" field="high" value={high} />
        <Stat label="Low" field="low" value={low} />
        <Stat label="Volume" field="volume" value={volume} />
        <Stat label="VWAP" field="vwap" value={vwap} />
        <Stat label="Previous close" field="prev-close" value={prevClose} />
        <Stat label="52-week range" field="week52" value={range} />
      </dl>
      <p class="updated">
        Updated <time dateTime={updatedIso} data-field="updated">{updated}</time> ·{" "}
        <StreamStatusText status={status} />
      </p>
    </main>
  );
}
