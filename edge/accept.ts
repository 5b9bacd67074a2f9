/**
 * Content negotiation for the few answers the edge gives in two forms: an
 * error on a page's URL is an HTML page for a browser and
 * `application/problem+json` for everything else.
 *
 * @module
 */

/** The JSON media ranges an API client names. */
const JSON_RANGES = new Set(["application/json", "application/problem+json", "application/*"]);

/**
 * Whether an `Accept` header asks for HTML before JSON: `text/html` is
 * listed with a weight above zero and above every JSON range it lists
 * (`application/json`, `application/problem+json`, `application/*`). A
 * browser navigating sends `text/html,…,*\/*;q=0.8`; `fetch`, curl and API
 * clients send `*\/*` or JSON, and a tie goes to JSON, so they keep getting
 * problems. `*\/*` alone never means HTML.
 *
 * @param accept The request's `Accept`, or null/undefined when absent.
 * @returns True when HTML is preferred.
 *
 * @example
 * ```ts
 * import { prefersHtml } from "./accept.ts";
 * const browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*\/*;q=0.8";
 * console.log(prefersHtml(browser), prefersHtml("*\/*"), prefersHtml("application/json")); // true false false
 * ```
 */
export function prefersHtml(accept: string | null | undefined): boolean {
  if (accept === null || accept === undefined || accept.length > 4096) return false;
  let html = 0;
  let json = 0;
  for (const range of accept.split(",")) {
    const [type = "", ...params] = range.split(";");
    const name = type.trim().toLowerCase();
    if (name !== "text/html" && !JSON_RANGES.has(name)) continue;
    let q = 1;
    for (const param of params) {
      const [key = "", value = ""] = param.split("=");
      if (key.trim().toLowerCase() !== "q") continue;
      const weight = Number(value.trim());
      q = /^\s*(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)\s*$/.test(value) ? weight : 0;
    }
    if (name === "text/html") html = Math.max(html, q);
    else json = Math.max(json, q);
  }
  return html > 0 && html > json;
}
