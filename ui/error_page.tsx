/**
 * The error page a browser gets from the edge on a page's URL with nothing
 * there (`/q/ZZZZ`, a malformed symbol, an unknown path, market data not
 * read yet): the site's look, what failed, and links to the quotes there
 * are. Server-rendered only: it loads no script (there is nothing live on
 * it), so it needs no hydration and no client bundle.
 *
 * @module
 */

import { renderToString } from "preact-render-to-string";
import { escapeHtml } from "./render_document.tsx";
import { PAGE_CSS } from "./styles.ts";

/** The error the page shows (the problem the API would answer). */
export interface ErrorPageError {
  /** The HTTP status. */
  readonly status: number;
  /** The problem's title ("Unknown symbol"). */
  readonly title: string;
  /** What failed and why. */
  readonly detail: string;
}

/** The most symbols the page links to. */
export const ERROR_PAGE_SYMBOLS = 24;

/** Props of {@linkcode ErrorPage}. */
export interface ErrorPageProps {
  /** The error. */
  readonly error: ErrorPageError;
  /** The symbols to offer instead, in display order (the first {@linkcode ERROR_PAGE_SYMBOLS}). */
  readonly symbols: readonly string[];
}

/**
 * The error page's content.
 *
 * @param props The error and the symbols there are.
 * @returns The page's `<main>`.
 */
export function ErrorPage({ error, symbols }: ErrorPageProps) {
  const shown = symbols.slice(0, ERROR_PAGE_SYMBOLS);
  return (
    <main class="error">
      <nav>
        <a href="/">Markets</a>
      </nav>
      <h1>{error.title}</h1>
      <p class="detail">{error.detail}</p>
      {shown.length > 0 && (
        <nav class="symbols" aria-label="Quotes">
          Quotes: {shown.map((symbol, i) => (
            <>
              {i > 0 && " · "}
              <a href={`/q/${encodeURIComponent(symbol)}`}>{symbol}</a>
            </>
          ))}
          {symbols.length > shown.length && " · …"}
        </nav>
      )}
      <p class="updated">HTTP {error.status}</p>
    </main>
  );
}

/**
 * Renders the error page to a whole HTML document, styled as the other
 * pages (their style sheet, under the answer's nonce), with no script.
 *
 * @param error The status, title and detail.
 * @param options The answer's CSP nonce and the symbols to link to.
 * @returns The document.
 *
 * @example
 * ```ts
 * import { renderErrorDocument } from "./error_page.tsx";
 * const html = renderErrorDocument(
 *   { status: 404, title: "Unknown symbol", detail: "Cannot find symbol: there is no quote for ZZZZ" },
 *   { nonce: "abc", symbols: ["AAPL"] },
 * );
 * if (!html.includes("<h1>Unknown symbol</h1>") || !html.includes('href="/q/AAPL"')) {
 *   throw new Error("wrong page");
 * }
 * ```
 */
export function renderErrorDocument(
  error: ErrorPageError,
  options: { readonly nonce: string; readonly symbols: readonly string[] },
): string {
  const body = renderToString(<ErrorPage error={error} symbols={options.symbols} />);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(error.title)} — TradeCaptain</title>
<link rel="icon" href="data:,">
<style nonce="${escapeHtml(options.nonce)}">${PAGE_CSS}</style>
</head>
<body>
${body}
</body>
</html>
`;
}
