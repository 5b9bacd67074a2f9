import { deepStrictEqual, match, strictEqual } from "node:assert/strict";
import { ASSET_CACHE_CONTROL, assetResponse, assets, clientBundle, findAsset } from "./assets.ts";

Deno.test("every asset's path names the hash of its content", async () => {
  for (const asset of assets) {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(asset.body));
    const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
    const named = asset.path.match(/^\/assets\/[a-z]+-([0-9a-f]{16})\.js$/)?.[1];
    strictEqual(named, hex.slice(0, 16), asset.path);
  }
});

Deno.test("findAsset() finds only the hashed paths", () => {
  strictEqual(findAsset(clientBundle.path), clientBundle);
  deepStrictEqual(
    ["/assets/client.js", "/assets/", clientBundle.path + "x", clientBundle.path.toUpperCase()].map(
      findAsset,
    ),
    [undefined, undefined, undefined, undefined],
  );
});

Deno.test("assetResponse() answers immutable JavaScript, and 304 to its tag", async () => {
  const res = assetResponse(clientBundle);
  strictEqual(res.status, 200);
  strictEqual(res.headers.get("content-type"), "text/javascript; charset=utf-8");
  strictEqual(res.headers.get("cache-control"), ASSET_CACHE_CONTROL);
  match(ASSET_CACHE_CONTROL, /immutable/);
  strictEqual(await res.text(), clientBundle.body);
  const etag = res.headers.get("etag")!;
  for (const header of [etag, `W/${etag}`, `"other", ${etag}`, "*"]) {
    const again = assetResponse(clientBundle, header);
    strictEqual(again.status, 304, header);
    strictEqual(again.headers.get("etag"), etag);
  }
  strictEqual(assetResponse(clientBundle, '"other"').status, 200);
});
