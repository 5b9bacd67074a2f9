/**
 * Private helpers of the components: values derived from a quote signal.
 *
 * @module
 */

import { type ReadonlySignal, type Signal, useComputed } from "@preact/signals";
import type { QuoteView } from "./quote_view.ts";

/**
 * A value derived from a quote, as a signal. Bound to a text node or an
 * attribute, it updates that node when the derived value changes (a
 * computed value that comes out equal notifies no one), without rendering
 * the component again: components must never read `quote.value` while
 * rendering, or every quote would re-render them.
 *
 * @param quote The quote's signal.
 * @param derive What to show of it.
 * @returns The derived signal (one per component instance: it is a hook).
 */
export function useQuote<T>(
  quote: Signal<QuoteView>,
  derive: (q: QuoteView) => T,
): ReadonlySignal<T> {
  return useComputed(() => derive(quote.value));
}
