/**
 * The edge for the edge bench's load runs: what `edge/main.ts` serves
 * (`createEdge` with the quote pages, polling the KV file), with one change:
 * the rate limit per address is raised, since every request of a load
 * generator on loopback comes from one address. Every request still takes a
 * token and carries the `RateLimit` fields. Private to `bench/` (see
 * `edge_bench.ts`).
 *
 * | variable | |
 * | --- | --- |
 * | `KV_PATH` | the KV file the bench writes snapshots to |
 * | `EDGE_BENCH_RATE_LIMIT` | the bucket per address (default 1,000,000,000) |
 * | `RUN_FOR_MS` | it exits after this long, should the bench die without stopping it (default 120,000) |
 *
 * It prints `edge: listening on http://127.0.0.1:<port>/` for people and, for
 * the bench, the edge's status lines (`edge/status_line.ts`): `"ready"` with
 * its address once it serves, `"stopped"` once it has shut down.
 *
 * @module
 */

import { createEdge } from "../edge/create_edge.ts";
import { SnapshotCache } from "../edge/snapshot_cache.ts";
import { listeningLines, stoppedLine } from "../edge/status_line.ts";
import { quotePages } from "../ui/pages.ts";

const kvPath = Deno.env.get("KV_PATH");
if (kvPath === undefined) throw new TypeError("Cannot start the bench edge: KV_PATH is not set");
const limit = Number(Deno.env.get("EDGE_BENCH_RATE_LIMIT") ?? 1_000_000_000);
const runForMs = Number(Deno.env.get("RUN_FOR_MS") ?? 120_000);

const kv = await Deno.openKv(kvPath);
const cache = new SnapshotCache({ kv });
await cache.refresh();
cache.start();
const app = createEdge({ cache, pages: quotePages, rateLimit: { limit } });
// Stopping is set up before the ready line is printed: the bench may stop
// it the moment it reads that line.
let why = "the server finished";
const stop = async (reason: string) => {
  why = reason;
  await cache.close();
  await server.shutdown();
};
Deno.addSignalListener("SIGTERM", () => void stop("SIGTERM"));
const server = Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ hostname, port }) => {
    for (const line of listeningLines(cache, hostname, port)) console.log(line);
  },
}, app.fetch);
setTimeout(() => void stop(`RUN_FOR_MS=${runForMs}`), runForMs);
await server.finished;
kv.close();
console.log(stoppedLine(cache, why));
Deno.exit(0); // the timer and the signal listener would hold the process
