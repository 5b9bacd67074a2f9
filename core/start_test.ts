import { assert, assertEquals } from "./_testing/assert.ts";
import { encodeBase64Url } from "./gateway/_base64url.ts";

const START = new URL("./start.ts", import.meta.url).pathname;

Deno.test("task start runs the core and the edge; the edge serves the core's quotes; both stop together", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tc-start-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-env", "--allow-run", START],
    env: {
      CORE_PORT: "0",
      EDGE_PORT: "0",
      RUN_FOR_MS: "6000",
      SYNTHETIC_RATE: "2000",
      JOURNAL_DIR: "none",
      KV_PATH: `${dir}/core.kv`,
      GATEWAY_JWT_SECRET: encodeBase64Url(crypto.getRandomValues(new Uint8Array(32))),
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  const reading = (async () => {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) out += chunk;
  })();
  const stderr = new Response(child.stderr).text();
  try {
    // Both URLs are printed, each line marked with its process.
    let edge: string | undefined;
    for (let waited = 0; edge === undefined && waited < 10_000; waited += 50) {
      await new Promise((r) => setTimeout(r, 50));
      edge = /\[edge\] edge: listening on (http:\/\/127\.0\.0\.1:\d+)\//.exec(out)?.[1];
    }
    assert(edge !== undefined, `no edge URL in:\n${out}`);
    assert(/\[core\] gateway: listening on ws:\/\/127\.0\.0\.1:\d+\/ws/.test(out), out);
    // The synthetic market trades; the snapshotter writes; the edge serves it.
    let ticker: { ticker?: string; lastTrade?: unknown } | undefined;
    for (let waited = 0; waited < 4_000; waited += 100) {
      const response = await fetch(`${edge}/api/v1/quotes/AAPL`);
      const body = await response.json();
      if (response.status === 200 && body.ticker?.lastTrade) {
        ticker = body.ticker;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    assertEquals(ticker?.ticker, "AAPL");
    assert(ticker?.lastTrade !== null, "a trade reached the edge");
    // The core stops after RUN_FOR_MS; the edge is stopped with it.
    const status = await child.status;
    await reading;
    assertEquals(status.code, 0, await stderr);
    assert(out.includes("[core] stopped (RUN_FOR_MS=6000)"), out);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await Deno.remove(dir, { recursive: true });
  }
});
