import assert from "node:assert";
import {
  formatStatusLine,
  listenAddresses,
  parseStatusLine,
  readyLine,
  STATUS_LINE_PREFIX,
  type StatusLine,
} from "./status_line.ts";

Deno.test("parseStatusLine() reads back what formatStatusLine() writes, a process's own members included", () => {
  const lines: StatusLine[] = [
    { event: "ready", pid: 41, addresses: listenAddresses("127.0.0.1", 8000) },
    { event: "ready", pid: 42, addresses: listenAddresses("::1", 65_535, "/ws") },
    { event: "stopped", pid: 43, why: "SIGTERM" },
    { event: "stopped", pid: 44, why: "its starter, process 9, is gone" },
  ];
  for (const status of lines) {
    const line = formatStatusLine(status);
    assert.ok(line.startsWith(STATUS_LINE_PREFIX), line);
    assert.ok(!line.includes("\n"), line);
    assert.deepStrictEqual(parseStatusLine(line), status);
    assert.deepStrictEqual(parseStatusLine(line + "\r"), status);
  }
  const own = { event: "ready", pid: 7, addresses: listenAddresses("0.0.0.0", 80), version: 12 };
  assert.deepStrictEqual(parseStatusLine(formatStatusLine(own as StatusLine)), own);
});

Deno.test("listenAddresses() says where to connect, an IPv6 host in brackets", () => {
  assert.deepStrictEqual(listenAddresses("127.0.0.1", 8000), {
    hostname: "127.0.0.1",
    port: 8000,
    http: "http://127.0.0.1:8000",
  });
  assert.deepStrictEqual(listenAddresses("::1", 9, "/ws"), {
    hostname: "::1",
    port: 9,
    http: "http://[::1]:9",
    ws: "ws://[::1]:9/ws",
  });
});

Deno.test("parseStatusLine() refuses human lines and status lines without what every status line has", () => {
  const addresses = JSON.stringify(listenAddresses("127.0.0.1", 8000));
  for (
    const line of [
      "edge: listening on http://127.0.0.1:8000/",
      "gateway: listening on ws://127.0.0.1:8080/ws, admin API on http://127.0.0.1:8080/admin",
      "tc-status ",
      "tc-status 12",
      'tc-status ["ready"]',
      'tc-status {"event":"ready"',
      ` tc-status {"event":"ready","pid":1,"addresses":${addresses}}`,
      `tc-status {"event":"other","pid":1,"addresses":${addresses}}`,
      // a ready line: a pid that is a process's, and addresses with a bound port
      `tc-status {"event":"ready","addresses":${addresses}}`,
      `tc-status {"event":"ready","pid":0,"addresses":${addresses}}`,
      `tc-status {"event":"ready","pid":"7","addresses":${addresses}}`,
      `tc-status {"event":"ready","pid":1.5,"addresses":${addresses}}`,
      'tc-status {"event":"ready","pid":1}',
      'tc-status {"event":"ready","pid":1,"addresses":[]}',
      'tc-status {"event":"ready","pid":1,"addresses":{"hostname":"h","port":8000}}',
      'tc-status {"event":"ready","pid":1,"addresses":{"hostname":"h","port":0,"http":"x"}}',
      'tc-status {"event":"ready","pid":1,"addresses":{"hostname":"h","port":65536,"http":"x"}}',
      'tc-status {"event":"ready","pid":1,"addresses":{"hostname":"h","port":"80","http":"x"}}',
      'tc-status {"event":"ready","pid":1,"addresses":{"port":80,"http":"x"}}',
      'tc-status {"event":"ready","pid":1,"addresses":{"hostname":"h","port":80,"http":"x","ws":1}}',
      // a stopped line: a pid and why
      'tc-status {"event":"stopped","pid":1}',
      'tc-status {"event":"stopped","why":"SIGTERM"}',
      'tc-status {"event":"stopped","pid":1,"why":null}',
    ]
  ) {
    assert.strictEqual(parseStatusLine(line), undefined, line);
  }
});

Deno.test("readyLine() reads ready lines only", () => {
  const ready = { event: "ready", pid: 5, addresses: listenAddresses("127.0.0.1", 8000) } as const;
  assert.deepStrictEqual(readyLine(formatStatusLine(ready)), ready);
  assert.strictEqual(
    readyLine(formatStatusLine({ event: "stopped", pid: 5, why: "x" })),
    undefined,
  );
  assert.strictEqual(readyLine("reference: listening on http://127.0.0.1:8000/"), undefined);
});
