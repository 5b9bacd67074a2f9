/**
 * The quote pages as the edge's page hook (`edge/pages.ts`, `Pages`):
 * `createEdge({ …, pages: quotePages })` answers `GET /` and `GET /q/:symbol`
 * with these server-rendered, hydrating pages, and `GET /assets/…` with the
 * client bundle they load. The edge imports `ui/`, not
 * the other way round, so the hook's shape is restated here
 * ({@linkcode PageInput}); `pages_test.ts` checks that it still fits.
 *
 * @module
 */

import type { QuoteSnapshot, SymbolInfo } from "../schemas/quotes.ts";
import { type Asset, assetResponse, assets, clientBundle, terminalBundle } from "./assets.ts";
import { type ErrorPageError, renderErrorDocument } from "./error_page.tsx";
import { toQuoteView } from "./quote_view.ts";
import { renderDocument } from "./render_document.tsx";
import { terminalState } from "./terminal/page_state.ts";
import { renderTerminalDocument } from "./terminal/render.tsx";

/** What a page needs of the edge's page context (a part of `PageContext`). */
export interface PageInput {
  /** The answer's CSP nonce. */
  readonly nonce: string;
  /** The KV version the snapshots reflect. */
  readonly version: number;
  /** Every snapshot, in display order. */
  readonly snapshots: readonly QuoteSnapshot[];
}

/** What the terminal's page needs besides {@linkcode PageInput}: the instrument list. */
export interface TerminalInput extends PageInput {
  /** The instruments, in watchlist order. */
  readonly symbols: readonly SymbolInfo[];
}

/** The page hook. */
export interface QuotePages {
  /**
   * The market overview.
   *
   * @param ctx The nonce, version and snapshots.
   * @returns The HTML document.
   */
  overview(ctx: PageInput): string;
  /**
   * One symbol's page.
   *
   * @param ctx The nonce (the other snapshots are not shown).
   * @param snapshot The symbol's snapshot.
   * @returns The HTML document.
   */
  quote(ctx: PageInput, snapshot: QuoteSnapshot): string;
  /**
   * The error page a browser gets on a page's URL with nothing there
   * (`error_page.tsx`): the site's look, the problem, links to the quotes.
   *
   * @param ctx The nonce and the snapshots (whose symbols it links to).
   * @param error The status, title and detail.
   * @returns The HTML document.
   */
  error(ctx: PageInput, error: ErrorPageError): string;
  /**
   * The trader terminal (`/trade`): the login form rendered, the terminal's
   * bundle loaded, the core's URL and the instruments in its state.
   *
   * @param ctx The nonce, snapshots and instruments.
   * @param coreUrl The core's HTTP origin.
   * @returns The HTML document.
   */
  terminal(ctx: TerminalInput, coreUrl: string): string;
  /**
   * Answers `GET /assets/…` ({@linkcode assetResponse}: immutable, with the
   * content hash as entity tag).
   *
   * @param path The request's path.
   * @param ifNoneMatch The request's `If-None-Match`, or null.
   * @returns The answer, or undefined when no asset has that path.
   */
  asset(path: string, ifNoneMatch: string | null): Response | undefined;
  /** Names the build in the pages' entity tags: the client bundle's hash. */
  readonly id: string;
}

/** Options of {@linkcode createQuotePages}. */
export interface QuotePagesOptions {
  /** The client bundle the pages load (default the committed one, {@linkcode clientBundle}). */
  readonly script?: Asset;
  /** The terminal's bundle (default the committed one, {@linkcode terminalBundle}). */
  readonly terminalScript?: Asset;
}

/**
 * Makes the page hook.
 *
 * @param options The client bundle to load.
 * @returns The hook.
 *
 * @example
 * ```ts
 * import { createQuotePages } from "./pages.ts";
 * import { makeSnapshot } from "./_testing/fixtures.ts";
 * const pages = createQuotePages();
 * const s = makeSnapshot("AAPL");
 * const html = pages.quote({ nonce: "n0nce", version: 9, snapshots: [s] }, s);
 * if (!html.includes('nonce="n0nce"') || !html.includes(">101.25<")) throw new Error("wrong page");
 * ```
 */
export function createQuotePages(options: QuotePagesOptions = {}): QuotePages {
  const script = options.script ?? clientBundle;
  const scriptPath = script.path;
  const hash = scriptPath.match(/-([0-9a-z]+)\.js$/)?.[1] ?? scriptPath;
  const terminalScript = options.terminalScript ?? terminalBundle;
  const served = new Map([...assets, script, terminalScript].map((a) => [a.path, a]));
  return {
    // Both bundles: a new build of either must not be answered 304 for an old page.
    id: `ui-${hash}-${terminalScript.path.match(/-([0-9a-z]+)\.js$/)?.[1] ?? terminalScript.path}`,
    asset(path, ifNoneMatch) {
      const found = served.get(path);
      return found === undefined ? undefined : assetResponse(found, ifNoneMatch);
    },
    overview(ctx) {
      return renderDocument({
        page: "overview",
        since: ctx.version,
        quotes: ctx.snapshots.map(toQuoteView),
      }, { nonce: ctx.nonce, scriptPath });
    },
    terminal(ctx, coreUrl) {
      return renderTerminalDocument(terminalState(coreUrl, ctx.symbols, ctx.snapshots), {
        nonce: ctx.nonce,
        scriptPath: terminalScript.path,
      });
    },
    error(ctx, error) {
      return renderErrorDocument(error, {
        nonce: ctx.nonce,
        symbols: ctx.snapshots.map((s) => s.symbol),
      });
    },
    quote(ctx, snapshot) {
      // Only the snapshot: the page's entity tag follows its version alone,
      // so nothing else may show (or a revalidated copy could be stale), and
      // the stream resumes from its version.
      return renderDocument({
        page: "quote",
        symbol: snapshot.symbol,
        since: snapshot.version,
        quotes: [toQuoteView(snapshot)],
      }, { nonce: ctx.nonce, scriptPath });
    },
  };
}

/** The page hook with the committed client bundle. */
export const quotePages: QuotePages = createQuotePages();
