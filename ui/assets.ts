/**
 * The pages' static assets: the quote pages' and the terminal's bundles. Each is served under
 * a content-hashed path (`/assets/client-<hash>.js`), so its bytes never
 * change for a path and a browser or CDN may keep it for a year
 * ({@linkcode ASSET_CACHE_CONTROL}).
 *
 * The bundle is built ahead of time by `build.ts` into
 * `ui/dist/client_bundle.ts` and committed: a clean clone serves it with no
 * build step, and an edge function reads and writes no file to serve it (it
 * is a string in a module). `build_test.ts` fails when the committed bundle
 * is not what the sources build to.
 *
 * @module
 */

import { CLIENT_BUNDLE } from "./dist/client_bundle.ts";
import { TERMINAL_BUNDLE } from "./dist/terminal_bundle.ts";

/** One static asset. */
export interface Asset {
  /** The URL path, under {@linkcode ASSET_PREFIX}, naming the content's hash. */
  readonly path: string;
  /** The `Content-Type`. */
  readonly contentType: string;
  /** The content. */
  readonly body: string;
}

/** Where the assets' paths start. */
export const ASSET_PREFIX = "/assets/";

/** `Cache-Control` of an asset: its path changes whenever its content does. */
export const ASSET_CACHE_CONTROL = "public, max-age=31536000, immutable";

/** The client bundle (`client.tsx` and what it imports, minified). */
export const clientBundle: Asset = CLIENT_BUNDLE;

/** The terminal's bundle (`terminal/client.tsx` and what it imports, minified). */
export const terminalBundle: Asset = TERMINAL_BUNDLE;

/** Every asset. */
export const assets: readonly Asset[] = [clientBundle, terminalBundle];

const byPath = new Map(assets.map((a) => [a.path, a]));

/**
 * Finds the asset served at a path.
 *
 * @param path The request's URL path.
 * @returns The asset, or undefined when none is served there.
 *
 * @example
 * ```ts
 * import { clientBundle, findAsset } from "./assets.ts";
 * if (findAsset(clientBundle.path) !== clientBundle) throw new Error("not found");
 * if (findAsset("/assets/client.js") !== undefined) throw new Error("an unhashed path");
 * ```
 */
export function findAsset(path: string): Asset | undefined {
  return byPath.get(path);
}

/**
 * The answer for an asset: the content with its type, an entity tag (the
 * content's hash, from its path) and {@linkcode ASSET_CACHE_CONTROL}; 304
 * when `If-None-Match` names that tag.
 *
 * @param asset The asset.
 * @param ifNoneMatch The request's `If-None-Match`, if any.
 * @returns The response (its body empty for `HEAD` is the server's business).
 *
 * @example
 * ```ts
 * import { assetResponse, clientBundle } from "./assets.ts";
 * const res = assetResponse(clientBundle);
 * if (!res.headers.get("cache-control")?.includes("immutable")) throw new Error("not immutable");
 * const again = assetResponse(clientBundle, res.headers.get("etag"));
 * if (again.status !== 304) throw new Error("not revalidated");
 * ```
 */
export function assetResponse(asset: Asset, ifNoneMatch?: string | null): Response {
  const etag = `"${asset.path.slice(asset.path.lastIndexOf("/") + 1)}"`;
  const headers = { etag, "cache-control": ASSET_CACHE_CONTROL };
  // An immutable asset has one representation, so any listed tag equal to its own matches.
  const tags = (ifNoneMatch ?? "").split(",").map((t) => t.trim().replace(/^W\//, ""));
  if (tags.includes(etag) || tags.includes("*")) {
    return new Response(null, { status: 304, headers });
  }
  return new Response(asset.body, {
    headers: { ...headers, "content-type": asset.contentType },
  });
}
