/**
 * Where the browser tests find Chromium. No playwright import here: loading
 * playwright-core needs all permissions (see `browser_cases.ts`).
 *
 * @module
 */

/** The browser: `CHROMIUM_PATH`, or Debian's. */
export const CHROMIUM: string = Deno.env.get("CHROMIUM_PATH") || "/usr/bin/chromium";
