/**
 * The pages' live state: one signal per symbol. Components read a symbol's
 * signal inside computed values that are bound straight to text nodes and
 * attributes, so a new quote changes those nodes and nothing else: no
 * component re-renders for a price change. Only a new symbol (the list
 * changes) re-renders the overview's table body.
 *
 * @module
 */

import { batch, type ReadonlySignal, type Signal, signal } from "@preact/signals";
import type { QuoteView } from "./quote_view.ts";

/**
 * The quotes a page shows, as signals.
 *
 * @example
 * ```ts
 * import { QuoteStore } from "./quote_store.ts";
 * import { makeSnapshot } from "./_testing/fixtures.ts";
 * const store = new QuoteStore([makeSnapshot("AAPL")]);
 * const aapl = store.get("AAPL")!;
 * store.apply([makeSnapshot("AAPL", { change: -1 })]);
 * if (aapl.value.change !== -1) throw new Error("not updated in place");
 * ```
 */
export class QuoteStore {
  readonly #quotes = new Map<string, Signal<QuoteView>>();
  readonly #list: Signal<readonly Signal<QuoteView>[]>;

  /**
   * Makes the store.
   *
   * @param views The quotes the page was rendered with, in display order.
   */
  constructor(views: readonly QuoteView[]) {
    for (const v of views) this.#quotes.set(v.symbol, signal(v));
    this.#list = signal([...this.#quotes.values()]);
  }

  /**
   * A symbol's signal.
   *
   * @param symbol The symbol.
   * @returns Its signal, or undefined when the store has no quote of it.
   */
  get(symbol: string): Signal<QuoteView> | undefined {
    return this.#quotes.get(symbol);
  }

  /** Every symbol's signal, in display order (symbols seen later at the end). */
  get list(): ReadonlySignal<readonly Signal<QuoteView>[]> {
    return this.#list;
  }

  /**
   * Applies new quotes, in one batch so that computed values over several
   * symbols (the movers) run once.
   *
   * Every quote is applied as it comes: the stream sends them in version
   * order and, on resuming, only newer ones, and a quote is a whole state,
   * so a repeat is harmless. (Comparing versions would refuse every quote
   * after the core started a fresh KV file, whose versions start again at 1.)
   *
   * @param views The quotes.
   */
  apply(views: readonly QuoteView[]): void {
    batch(() => {
      let added = false;
      for (const v of views) {
        const existing = this.#quotes.get(v.symbol);
        if (existing === undefined) {
          this.#quotes.set(v.symbol, signal(v));
          added = true;
        } else {
          existing.value = v;
        }
      }
      if (added) this.#list.value = [...this.#quotes.values()];
    });
  }
}
