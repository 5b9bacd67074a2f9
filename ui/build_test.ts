import { strictEqual } from "node:assert/strict";
import { buildClientBundle, BUNDLE_MODULE } from "./build.ts";
import { clientBundle } from "./assets.ts";

Deno.test("the committed client bundle is what the sources build to", async () => {
  const built = await buildClientBundle();
  const fresh = `/assets/client-${built.hash}.js`;
  strictEqual(
    clientBundle.path,
    fresh,
    `${BUNDLE_MODULE} is stale (the sources build to ${fresh}): run ` +
      "`deno run --allow-read --allow-write --allow-run --allow-env ui/build.ts` and commit it",
  );
  strictEqual(clientBundle.body, built.code);
});
