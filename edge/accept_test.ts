import { prefersHtml } from "./accept.ts";
import assert from "node:assert";

function check(accept: string | null, expected: boolean): void {
  assert.deepStrictEqual(prefersHtml(accept), expected, JSON.stringify(accept));
}

Deno.test("prefersHtml: browsers navigating get HTML", () => {
  // Chromium, Firefox and Safari navigating to a page.
  check(
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
    true,
  );
  check("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true);
  check("TEXT/HTML", true);
  check("application/json;q=0.5, text/html", true);
});

Deno.test("prefersHtml: API clients, fetch and curl keep JSON", () => {
  check(null, false);
  check("", false);
  check("*/*", false); // fetch, curl
  check("application/json", false);
  check("application/problem+json", false);
  check("text/html;q=0", false);
  check("text/html, application/json", false); // a tie goes to JSON
  check("text/html;q=0.5, application/*", false);
  check("text/html;q=abc", false); // an unreadable weight counts as none
  check("text/*", false);
});
