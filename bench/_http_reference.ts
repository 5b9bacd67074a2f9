/**
 * A reference server for the edge bench: a bare `Deno.serve` answering
 * every request with one constant body and one constant set of headers,
 * reading nothing of the request. Run as a child process so that it has a
 * process of its own, as the edge does. Private to `bench/` (see
 * `edge_bench.ts`).
 *
 * | variable | |
 * | --- | --- |
 * | `REFERENCE_BODY` | the body (the edge's quote JSON, so the sizes match) |
 * | `REFERENCE_HEADERS` | the headers, a JSON object (default `{"content-type":"application/json"}`) |
 * | `RUN_FOR_MS` | it exits after this long, should the bench die without stopping it (default 120,000) |
 *
 * It prints `reference: listening on http://127.0.0.1:<port>/` for people and,
 * for the bench, status lines (`schemas/status_line.ts`): `"ready"` with its
 * address once it serves, `"stopped"` once it has shut down.
 *
 * @module
 */

import { formatStatusLine, listenAddresses } from "../schemas/status_line.ts";

const body = Deno.env.get("REFERENCE_BODY") ?? "{}";
const headers = JSON.parse(
  Deno.env.get("REFERENCE_HEADERS") ?? '{"content-type":"application/json"}',
) as Record<string, string>;
const runForMs = Number(Deno.env.get("RUN_FOR_MS") ?? 120_000);

// Stopping is set up before the ready line is printed: a parent may stop it
// the moment it reads that line.
let why = "the server finished";
const stop = (reason: string) => {
  why = reason;
  void server.shutdown();
};
Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
const server = Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ hostname, port }) => {
    console.log(`reference: listening on http://${hostname}:${port}/`);
    console.log(formatStatusLine({
      event: "ready",
      pid: Deno.pid,
      addresses: listenAddresses(hostname, port),
    }));
  },
}, () => new Response(body, { headers }));
setTimeout(() => stop(`RUN_FOR_MS=${runForMs}`), runForMs);
await server.finished;
console.log(formatStatusLine({ event: "stopped", pid: Deno.pid, why }));
Deno.exit(0); // the timer and the signal listener would hold the process
