import assert from "node:assert";
import { parseStatusLine as parseAnyStatusLine } from "../../schemas/status_line.ts";
import {
  coreAddresses,
  type CoreStatus,
  isLoopbackAddress,
  parseStatusLine,
  STATUS_LINE_PREFIX,
  statusLine,
  statusRoute,
} from "./status.ts";

const STATUS: CoreStatus = {
  pid: 42,
  state: "running",
  addresses: coreAddresses("127.0.0.1", 8080),
  journal: null,
  stats: {
    commands: 3,
    events: 5,
    trades: 1,
    rejects: 0,
    bySource: { gateway: 3 },
    connections: 2,
    queuedBytes: 0,
    closedConnections: 1,
    engine: { state: "running", cause: null, since: null },
  },
};

function from(hostname: string): Deno.ServeHandlerInfo {
  return {
    remoteAddr: { transport: "tcp", hostname, port: 50_000 },
    completed: Promise.resolve(),
  };
}

Deno.test("statusRoute() answers GET /status with the status to loopback peers, IPv4 and IPv6", async () => {
  const route = statusRoute(() => STATUS);
  for (const peer of ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"]) {
    const answer = route(new Request("http://127.0.0.1:8080/status"), from(peer));
    assert.strictEqual(answer?.status, 200, peer);
    assert.strictEqual(answer.headers.get("cache-control"), "no-store");
    assert.deepStrictEqual(await answer.json(), STATUS);
  }
});

Deno.test("statusRoute() refuses any other peer, or an unknown one, with 403 loopback_only", async () => {
  const route = statusRoute(() => {
    throw new Error("the status must not be read for a refused peer");
  });
  for (
    const info of [from("10.0.0.9"), from("192.168.1.127"), from("::ffff:10.0.0.1"), undefined]
  ) {
    const answer = route(new Request("http://core.example:8080/status"), info)!;
    assert.strictEqual(answer.status, 403);
    assert.strictEqual(answer.headers.get("content-type"), "application/problem+json");
    const body = await answer.json();
    assert.strictEqual(body.type, "urn:tradecaptain:problem:loopback_only");
    assert.strictEqual(body.reason, "loopback_only");
    assert.strictEqual(body.title, "Forbidden");
    assert.match(
      body.detail,
      /^Cannot answer \/status: it is for clients on the core's own machine, and this request came from /,
    );
  }
});

Deno.test("statusRoute() passes other paths on, and answers only GET and HEAD", async () => {
  const route = statusRoute(() => STATUS);
  assert.strictEqual(route(new Request("http://127.0.0.1/livez"), from("127.0.0.1")), undefined);
  assert.strictEqual(route(new Request("http://127.0.0.1/status/x"), from("127.0.0.1")), undefined);
  const post = route(
    new Request("http://127.0.0.1/status", { method: "POST" }),
    from("127.0.0.1"),
  )!;
  assert.deepStrictEqual([post.status, post.headers.get("allow")], [405, "GET, HEAD"]);
  assert.strictEqual((await post.json()).reason, "method_not_allowed");
  const head = route(new Request("http://127.0.0.1/status", { method: "HEAD" }), from("::1"))!;
  assert.deepStrictEqual([head.status, head.body], [200, null]);
});

Deno.test("parseStatusLine() reads what statusLine() writes and nothing else", () => {
  const stopped = { event: "stopped", pid: 7, why: "SIGTERM", stats: STATUS.stats } as const;
  assert.deepStrictEqual(parseStatusLine(statusLine(stopped)), stopped);
  assert.deepStrictEqual(parseStatusLine(statusLine(stopped) + "\r"), stopped);
  const ready = {
    event: "ready",
    pid: 7,
    addresses: coreAddresses("127.0.0.1", 8080),
    journal: null,
    applied: { accounts: 2, controls: 1 },
  } as const;
  assert.deepStrictEqual(parseStatusLine(statusLine(ready)), ready);
  // The line's format is the one every process of ours prints (schemas/status_line.ts).
  assert.deepStrictEqual(parseAnyStatusLine(statusLine(ready)), ready);
  assert.ok(statusLine(ready).startsWith(STATUS_LINE_PREFIX));
  for (
    const line of [
      "gateway: listening on ws://127.0.0.1:8080/ws, admin API on http://127.0.0.1:8080/admin",
      "tc-status ",
      'tc-status {"event":"ready"',
      'tc-status {"event":"other"}',
      "tc-status 12",
      'tc-status ["ready"]',
      ' tc-status {"event":"ready"}',
    ]
  ) {
    assert.strictEqual(parseStatusLine(line), undefined, line);
  }
});

Deno.test("coreAddresses() brackets IPv6 hosts; isLoopbackAddress() knows loopback from the rest", () => {
  assert.deepStrictEqual(coreAddresses("::1", 9), {
    hostname: "::1",
    port: 9,
    http: "http://[::1]:9",
    ws: "ws://[::1]:9/ws",
    admin: "http://[::1]:9/admin",
    status: "http://[::1]:9/status",
  });
  for (const a of ["127.0.0.1", "127.255.0.3", "::1", "[::1]", "::FFFF:127.0.0.1"]) {
    assert.ok(isLoopbackAddress(a), a);
  }
  for (
    const a of [
      "0.0.0.0",
      "::",
      "10.1.2.3",
      "128.0.0.1",
      "1127.0.0.1",
      "::ffff:10.0.0.1",
      "localhost",
    ]
  ) {
    assert.ok(!isLoopbackAddress(a), a);
  }
});
