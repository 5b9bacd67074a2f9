import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import { ConnectionMachine } from "./connection.ts";

Deno.test("connection: connecting → resynchronising → connected, and back on a gap", () => {
  const c = new ConnectionMachine();
  strictEqual(c.state, "idle");
  strictEqual(c.start(), true);
  strictEqual(c.start(), false, "started once");
  strictEqual(c.state, "connecting");
  c.synchronised(); // not open yet: ignored
  strictEqual(c.state, "connecting");
  c.opened(1_000);
  strictEqual(c.state, "resynchronising");
  c.synchronised();
  strictEqual(c.state, "connected");
  c.desynchronised();
  strictEqual(c.state, "resynchronising");
  c.synchronised();
  strictEqual(c.state, "connected");
});

Deno.test("connection: reconnects with exponential backoff, capped, with jitter, reset once synchronised", () => {
  let r = 0;
  const c = new ConnectionMachine({ baseDelayMs: 100, maxDelayMs: 1_000, random: () => r });
  c.start();
  const delays: (number | undefined)[] = [];
  for (let i = 0; i < 6; i++) {
    delays.push(c.closed(0, { refused: false })); // could not connect
    strictEqual(c.state, "reconnecting");
    strictEqual(c.retry(), true);
  }
  // Jitter at its lowest (0.5): 50, 100, 200, 400, then the cap's half.
  deepStrictEqual(delays, [50, 100, 200, 400, 500, 500]);
  r = 0.999_999;
  strictEqual(c.closed(10, { refused: false }), 1_000);
  strictEqual(c.retryAt, 1_010);
  c.retry();
  c.opened(20);
  c.synchronised();
  strictEqual(c.attempt, 0);
  strictEqual(c.closed(30, { refused: false }), 100, "the backoff starts again");
});

Deno.test("connection: a refused login stops it; stop is final", () => {
  const c = new ConnectionMachine();
  c.start();
  c.opened(0);
  strictEqual(c.closed(5, { refused: true, why: "the token has expired" }), undefined);
  strictEqual(c.state, "stopped");
  strictEqual(c.why, "the token has expired");
  strictEqual(c.retry(), false);
  strictEqual(c.closed(6, { refused: false }), undefined);
  const d = new ConnectionMachine();
  d.start();
  d.stop("logged out");
  strictEqual(d.closed(1, { refused: false }), undefined, "no retry after a logout");
  strictEqual(d.state, "stopped");
});

Deno.test("connection: round trip from echoed pings, the last message's time", () => {
  const c = new ConnectionMachine();
  c.start();
  c.opened(1_000);
  strictEqual(c.lastMessageAt, 1_000);
  strictEqual(c.rttMs, undefined);
  c.pong(2_000, 2_007);
  strictEqual(c.rttMs, 7);
  c.pong(0, 3_000); // an unsolicited heartbeat echoes nothing
  strictEqual(c.rttMs, 7);
  c.message(3_500);
  strictEqual(c.lastMessageAt, 3_500);
});

Deno.test("connection: delays must make sense", () => {
  throws(() => new ConnectionMachine({ baseDelayMs: 0 }), RangeError);
  throws(() => new ConnectionMachine({ baseDelayMs: 10, maxDelayMs: 5 }), RangeError);
});
