import assert from "node:assert";
import { BEARER_PREFIX, SUBPROTOCOL } from "../core/gateway/mod.ts";
import { CoreProcess, parseProc, readyIn } from "./_core_process.ts";

Deno.test("readyIn() reads the core's ready status line, not its human lines", () => {
  const ready = readyIn(
    'tc-status {"event":"ready","pid":9,"addresses":{"hostname":"::1","port":8080,' +
      '"http":"http://[::1]:8080","ws":"ws://[::1]:8080/ws"}}',
  );
  assert.deepStrictEqual([ready?.pid, ready?.addresses.ws], [9, "ws://[::1]:8080/ws"]);
  for (
    const line of [
      "gateway: listening on ws://[::1]:8080/ws, admin API on http://[::1]:8080/admin",
      'tc-status {"event":"stopped","pid":9,"why":"SIGTERM"}',
      "0 commands (0/s), 0 events, 0 trades, 0 rejects, 3 connections; by source: none yet | ",
    ]
  ) {
    assert.deepStrictEqual(readyIn(line), undefined, line);
  }
});

Deno.test("CoreProcess learns the core's address from its status line and its connections from GET /status", async () => {
  const core = await CoreProcess.start({
    syntheticRate: 0,
    accounts: [{ name: "ALICE", role: "trader" }],
    runForMs: 60_000,
    env: { JOURNAL_DIR: "none" },
  });
  try {
    assert.deepStrictEqual(new URL(core.url).hostname, "127.0.0.1");
    const status = await core.status();
    assert.deepStrictEqual([status.pid, status.addresses.ws, status.state], [
      core.pid,
      core.url,
      "running",
    ]);
    assert.deepStrictEqual(await core.waitForConnections(0, 5_000), true);
    const socket = new WebSocket(core.url, [SUBPROTOCOL, BEARER_PREFIX + core.token("ALICE")]);
    await new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = () => reject(new Error("refused"));
    });
    assert.deepStrictEqual(await core.waitForConnections(1, 5_000), true);
    assert.deepStrictEqual(await core.connections(), 1);
    const closed = new Promise((resolve) => (socket.onclose = resolve));
    socket.close();
    await closed;
    assert.deepStrictEqual(await core.waitForConnections(0, 5_000), true);
  } finally {
    await core.stop();
  }
  assert.deepStrictEqual(
    await core.waitForConnections(0, 200),
    false,
    "a stopped core has no count",
  );
});

Deno.test("parseProc() finds the CPU times after a command name with spaces and parentheses", () => {
  const stat = "77 (a (b) c) R 1 77 77 0 -1 4194560 9 0 0 0 1234 66 0 0 20 0 9 0 7 0 0 0\n";
  assert.deepStrictEqual(parseProc(stat + "VmPeak:\t  1 kB\nVmRSS:\t  2048 kB\n"), {
    rssBytes: 2048 * 1024,
    cpuSeconds: 13,
  });
  assert.deepStrictEqual(parseProc(stat), undefined); // no status
  assert.deepStrictEqual(parseProc("VmRSS:\t  2048 kB\n"), undefined); // no stat
});
