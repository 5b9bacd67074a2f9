import { createEdge } from "./create_edge.ts";
import { isValidHost } from "./host_header.ts";
import { SnapshotCache } from "./snapshot_cache.ts";
import assert from "node:assert";
import { withEdge } from "./_testing/edge.ts";
import { seedSnapshots } from "./_testing/kv.ts";
import { plainPages } from "./pages.ts";

const BAD_HOSTS = [
  "a b",
  "[::1",
  "a/b",
  "x/api/v1/quotes/AAPL?",
  "a?b",
  "a#b",
  "a@b",
  "a%zz",
  "a\tb",
  "x:99999",
  "x:abc",
  "1.2.3.999",
  "[::1]x",
  "h".repeat(300),
];
const GOOD_HOSTS = [
  "quotes.example",
  "quotes.example:8443",
  "QUOTES.example.",
  "a_b.example",
  "127.0.0.1:8000",
  "[::1]",
  "[2001:db8::1]:443",
  "localhost:",
];

Deno.test("isValidHost takes names and addresses with a port, and refuses the rest", () => {
  for (const host of GOOD_HOSTS) assert(isValidHost(host), host);
  for (const host of BAD_HOSTS) assert(!isValidHost(host), host);
  // No Host, or an empty one: Deno.serve puts its own address in the URL.
  assert.deepStrictEqual([isValidHost(null), isValidHost("")], [true, true]);
});

Deno.test("a request with an invalid Host is answered 400 bad_host on every route, the fast path's included", async () => {
  const errors: string[] = [];
  await withEdge(async ({ kv, cache, get }) => {
    await seedSnapshots(kv, ["AAPL"]);
    await cache.refresh();
    for (const path of ["/q/AAPL", "/", "/api/v1/quotes/AAPL", "/api/v1/stream", "/nowhere"]) {
      for (const host of BAD_HOSTS) {
        const res = await get(path, { headers: { host } });
        assert.deepStrictEqual(res.status, 400, `${path} Host ${JSON.stringify(host)}`);
        assert.deepStrictEqual(res.headers.get("content-type"), "application/problem+json");
        assert.deepStrictEqual(res.headers.get("x-content-type-options"), "nosniff");
        const body = await res.json();
        assert.deepStrictEqual([body.type, body.title, body.reason], [
          "urn:tradecaptain:problem:bad_host",
          "Invalid Host header",
          "bad_host",
        ]);
        assert.deepStrictEqual(
          body.detail,
          `Cannot answer: the Host header ${
            JSON.stringify(host.slice(0, 64))
          } is not a host name or address with an optional port`,
        );
      }
      for (const host of GOOD_HOSTS) {
        const res = await get(path, { headers: { host } });
        assert.deepStrictEqual(res.status, path === "/nowhere" ? 404 : 200, `${path} Host ${host}`);
        await res.body?.cancel();
      }
    }
  }, { logError: (message) => errors.push(message) });
  assert.deepStrictEqual(errors, []);
});

/** Sends `request` over TCP and reads the whole answer (the server closes). */
async function raw(port: number, request: string): Promise<{ head: string; body: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(request));
    let text = "";
    const buffer = new Uint8Array(16_384);
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
    const end = text.indexOf("\r\n\r\n");
    return { head: text.slice(0, end), body: text.slice(end + 4) };
  } finally {
    conn.close();
  }
}

Deno.test("over TCP, Deno.serve passes an invalid Host on and the edge answers it 400 problem+json, never 500", async () => {
  const kv = await Deno.openKv(":memory:");
  await seedSnapshots(kv, ["AAPL"]);
  const cache = new SnapshotCache({ kv });
  await cache.refresh();
  const errors: unknown[] = [];
  const app = createEdge({ cache, pages: plainPages, logError: (_, error) => errors.push(error) });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.fetch);
  try {
    const { port } = server.addr;
    const ask = (path: string, host: string) =>
      raw(port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    // Each was a 500 (pages), or an answer from another route than the path named.
    for (
      const [path, host] of [
        ["/q/AAPL", "a b"],
        ["/q/AAPL", "[::1"],
        ["/", "x:99999"],
        ["/api/v1/quotes/AAPL", "a b"],
        ["/livez", "x/api/v1/quotes/AAPL?"],
      ]
    ) {
      const { head, body } = await ask(path!, host!);
      const label = `${path} Host ${JSON.stringify(host)}`;
      assert.deepStrictEqual(head.split("\r\n")[0], "HTTP/1.1 400 Bad Request", label);
      assert(/\r\ncontent-type: application\/problem\+json\r\n/i.test(`\r\n${head}\r\n`), head);
      assert.deepStrictEqual(JSON.parse(body).reason, "bad_host", label);
    }
    // An absent Host, over HTTP/1.0, is Deno's own address: answered.
    const old = await raw(port, "GET /q/AAPL HTTP/1.0\r\n\r\n");
    assert.deepStrictEqual(old.head.split("\r\n")[0], "HTTP/1.0 200 OK");
    assert.deepStrictEqual(
      (await ask("/q/AAPL", `127.0.0.1:${port}`)).head.split("\r\n")[0],
      "HTTP/1.1 200 OK",
    );
  } finally {
    await server.shutdown();
    await cache.close();
    kv.close();
  }
  assert.deepStrictEqual(errors, []);
});
