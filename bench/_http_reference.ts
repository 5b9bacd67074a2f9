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
 * It prints `reference: listening on http://127.0.0.1:<port>/`.
 *
 * @module
 */

const body = Deno.env.get("REFERENCE_BODY") ?? "{}";
const headers = JSON.parse(
  Deno.env.get("REFERENCE_HEADERS") ?? '{"content-type":"application/json"}',
) as Record<string, string>;
const runForMs = Number(Deno.env.get("RUN_FOR_MS") ?? 120_000);

const server = Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ hostname, port }) =>
    console.log(`reference: listening on http://${hostname}:${port}/`),
}, () => new Response(body, { headers }));
setTimeout(() => void server.shutdown(), runForMs);
Deno.addSignalListener("SIGTERM", () => void server.shutdown());
await server.finished;
Deno.exit(0); // the timer and the signal listener would hold the process
