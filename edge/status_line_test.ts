import assert from "node:assert";
import { type EdgeStatus, edgeStatusLine } from "./status_line.ts";
import { listenAddresses, parseStatusLine } from "../schemas/status_line.ts";

Deno.test("edgeStatusLine() writes lines every status reader reads back whole, the edge's snapshots included", () => {
  const lines: EdgeStatus[] = [
    {
      event: "ready",
      pid: 12,
      addresses: listenAddresses("127.0.0.1", 8000),
      symbols: 0,
      version: 0,
    },
    { event: "ready", pid: 12, addresses: listenAddresses("::1", 8001), symbols: 3, version: 9 },
    { event: "stopped", pid: 12, why: "SIGINT", symbols: 3, version: 40 },
  ];
  for (const status of lines) {
    const line = edgeStatusLine(status);
    assert.match(line, /^tc-status \{"event":"(ready|stopped)","pid":12,/);
    assert.deepStrictEqual(parseStatusLine(line), status);
  }
});
