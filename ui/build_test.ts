import { strictEqual } from "node:assert/strict";
import { buildBundle, BUNDLES } from "./build.ts";
import { clientBundle, terminalBundle } from "./assets.ts";

const committed = { client: clientBundle, terminal: terminalBundle };

for (const target of BUNDLES) {
  Deno.test(`the committed ${target.name} bundle is what the sources build to`, async () => {
    const built = await buildBundle(target.entry);
    const fresh = `/assets/${target.name}-${built.hash}.js`;
    const asset = committed[target.name as keyof typeof committed];
    strictEqual(
      asset.path,
      fresh,
      `${target.module} is stale (the sources build to ${fresh}): run ` +
        "`deno run --allow-read --allow-write --allow-run --allow-env ui/build.ts` and commit it",
    );
    strictEqual(asset.body, built.code);
  });
}
