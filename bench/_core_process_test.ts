import { assertEquals } from "../core/_testing/assert.ts";
import { connectionsIn, listeningIn, parseProc } from "./_core_process.ts";

Deno.test("connectionsIn() reads the core's stats line and nothing else", () => {
  const check = (line: string, expected: number | undefined) =>
    assertEquals(connectionsIn(line), expected, line);
  check(
    "16877 commands (2016/s), 23404 events, 5797 trades, 0 rejects, 690 connections | AAPL 189.81×4718",
    690,
  );
  check("0 commands (0/s), 0 events, 0 trades, 0 rejects, 0 connections | ", 0);
  check("gateway: listening on ws://127.0.0.1:1/ws", undefined);
  check("10 connections", undefined);
});

Deno.test("listeningIn() reads the gateway's address, IPv6 included", () => {
  assertEquals(
    listeningIn("gateway: listening on ws://[::1]:8080/ws, admin API on http://[::1]:8080/admin"),
    "ws://[::1]:8080/ws",
  );
  assertEquals(listeningIn("synthetic market: off (SYNTHETIC_RATE=0)"), undefined);
});

Deno.test("parseProc() finds the CPU times after a command name with spaces and parentheses", () => {
  const stat = "77 (a (b) c) R 1 77 77 0 -1 4194560 9 0 0 0 1234 66 0 0 20 0 9 0 7 0 0 0\n";
  assertEquals(parseProc(stat + "VmPeak:\t  1 kB\nVmRSS:\t  2048 kB\n"), {
    rssBytes: 2048 * 1024,
    cpuSeconds: 13,
  });
  assertEquals(parseProc(stat), undefined); // no status
  assertEquals(parseProc("VmRSS:\t  2048 kB\n"), undefined); // no stat
});
