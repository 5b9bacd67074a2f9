// Test only: the core's encoder makes the frames a real core would send
// (ui/ itself imports nothing from core/).
import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { encodeServerMessage } from "../../core/wire/server.ts";
import { decodeClientFrame } from "../../core/wire/client.ts";
import type { ClientRequest, ServerEvent } from "../../schemas/wire/mod.ts";
import { MarketStore } from "./market.ts";
import { type SocketLike, SUBPROTOCOL, Terminal, type TerminalEnvironment } from "./terminal.ts";

class FakeSocket implements SocketLike {
  binaryType = "blob";
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  sent: ClientRequest[] = [];
  closed = false;
  constructor(readonly url: string, readonly protocols: string[]) {}
  send(data: Uint8Array): void {
    const decoded = decodeClientFrame(data);
    if (!decoded.ok) throw new Error(decoded.message);
    this.sent.push(decoded.message);
  }
  close(): void {
    this.closed = true;
  }
  deliver(event: ServerEvent): void {
    const frame = encodeServerMessage(event);
    this.onmessage?.({
      data: frame.buffer.slice(frame.byteOffset, frame.byteOffset + frame.byteLength),
    });
  }
}

function harness() {
  const sockets: FakeSocket[] = [];
  const frames: (() => void)[] = [];
  const timers: { fn: () => void; ms: number }[] = [];
  let now = 1_000_000;
  const env: TerminalEnvironment = {
    ...harnessEnvironment(),
    openSocket: (url, protocols) => {
      const s = new FakeSocket(url, protocols);
      sockets.push(s);
      return s;
    },
    frame: (fn) => frames.push(fn),
    setTimeout: (fn, ms) => timers.push({ fn, ms }),
    now: () => now,
  };
  const terminal = new Terminal({
    coreUrl: "http://127.0.0.1:8080",
    symbols: ["AAPL"],
    market: new MarketStore([]),
    env,
  });
  const flush = () => frames.splice(0).forEach((fn) => fn());
  return { terminal, sockets, timers, flush, advance: (ms: number) => now += ms };
}

const token = `x.${btoa(JSON.stringify({ sub: "alice", role: "trader" }))}.y`;
const snapshot = (sequence: bigint): ServerEvent => ({
  type: "bookSnapshot",
  symbol: "AAPL",
  sequence,
  bids: [{ price: 10000, quantity: 1, orderCount: 1 }],
  asks: [],
  engineTime: 0n,
});
const lastPage: ServerEvent = {
  type: "positions",
  account: "alice",
  executionSequence: 0n,
  positions: [],
};

Deno.test("terminal: opens with the bearer subprotocol, catches up, then is connected", () => {
  const { terminal, sockets, flush } = harness();
  terminal.useToken(token);
  strictEqual(terminal.status.value, "connecting");
  strictEqual(terminal.identity.value?.account, "alice");
  const socket = sockets[0]!;
  deepStrictEqual(socket.url, "ws://127.0.0.1:8080/ws");
  deepStrictEqual(socket.protocols, [SUBPROTOCOL, `bearer.${token}`]);
  socket.onopen?.({});
  strictEqual(terminal.status.value, "resynchronising");
  deepStrictEqual(socket.sent.map((r) => r.type), ["requestOrders", "subscribe", "ping"]);
  socket.deliver(lastPage);
  flush();
  strictEqual(terminal.status.value, "resynchronising", "the book has no snapshot yet");
  socket.deliver(snapshot(3n));
  strictEqual(terminal.status.value, "resynchronising", "nothing applied before the frame");
  flush();
  strictEqual(terminal.status.value, "connected");
  strictEqual(terminal.market.book("AAPL").bestBid()?.price, 10000);
});

Deno.test("terminal: replace() sends the order's new price and open quantity", () => {
  const { terminal, sockets } = harness();
  terminal.useToken(token);
  strictEqual(terminal.replace(7n, 9_950, 3), false, "sent before the socket opened");
  const socket = sockets[0]!;
  socket.onopen?.({});
  socket.sent = [];
  strictEqual(terminal.replace(7n, 9_950, 3), true);
  deepStrictEqual(socket.sent, [{
    type: "replace",
    requestId: socket.sent[0]?.requestId ?? 0n,
    sentAt: 0n,
    clientOrderId: 7n,
    price: 9_950,
    quantity: 3,
  }]);
});

Deno.test("terminal: a gap asks for a snapshot once and resynchronises", () => {
  const { terminal, sockets, flush } = harness();
  terminal.useToken(token);
  const socket = sockets[0]!;
  socket.onopen?.({});
  socket.deliver(lastPage);
  socket.deliver(snapshot(3n));
  flush();
  socket.sent = [];
  socket.deliver({
    type: "bookDelta",
    symbol: "AAPL",
    sequence: 5n, // 4 is missing
    levels: [],
    engineTime: 0n,
  });
  socket.deliver({ type: "bookDelta", symbol: "AAPL", sequence: 6n, levels: [], engineTime: 0n });
  flush();
  deepStrictEqual(socket.sent, [{
    type: "requestSnapshot",
    requestId: socket.sent[0]?.requestId ?? 0n,
    sentAt: 0n,
    symbol: "AAPL",
  }]);
  strictEqual(terminal.status.value, "resynchronising");
  socket.deliver(snapshot(6n));
  flush();
  strictEqual(terminal.status.value, "connected");
});

Deno.test("terminal: asks for the next page of orders while the core says more", () => {
  const { terminal, sockets, flush } = harness();
  terminal.useToken(token);
  const socket = sockets[0]!;
  socket.onopen?.({});
  socket.sent = [];
  socket.deliver({ ...lastPage, more: true, throughSequence: 1000n });
  flush();
  deepStrictEqual(
    socket.sent.map((r) => r.type === "requestOrders" ? r.sinceSequence : r.type),
    [1000n],
  );
});

Deno.test("terminal: a lost connection reconnects after the backoff and rebuilds", () => {
  const { terminal, sockets, timers, flush } = harness();
  terminal.useToken(token);
  sockets[0]!.onopen?.({});
  sockets[0]!.deliver(lastPage);
  sockets[0]!.deliver(snapshot(1n));
  flush();
  sockets[0]!.onclose?.({ code: 1006, reason: "" });
  strictEqual(terminal.status.value, "reconnecting");
  strictEqual(timers.length, 1);
  strictEqual(
    terminal.place({
      symbol: "AAPL",
      side: "buy",
      orderType: "limit",
      timeInForce: "gtc",
      postOnly: false,
      price: 10000,
      quantity: 1,
    }),
    undefined,
    "nothing is sent while disconnected",
  );
  timers[0]!.fn();
  strictEqual(sockets.length, 2);
  strictEqual(terminal.status.value, "connecting");
  sockets[1]!.onopen?.({});
  strictEqual(terminal.status.value, "resynchronising");
  strictEqual(terminal.session.rebuilding, true);
  strictEqual(terminal.market.book("AAPL").state, "stale", "the old book waits for a snapshot");
});

Deno.test("terminal: logging out closes the socket and dials no more", () => {
  const { terminal, sockets, timers } = harness();
  terminal.useToken(token);
  sockets[0]!.onopen?.({});
  terminal.logout();
  strictEqual(sockets[0]!.closed, true);
  strictEqual(terminal.status.value, "stopped");
  strictEqual(terminal.identity.value, undefined);
  strictEqual(timers.length, 0);
});

Deno.test("login() shows the core's refusal once, not prefixed twice", async () => {
  const answer = (status: number, body: unknown) => () =>
    Promise.resolve({ ok: status < 300, status, json: () => Promise.resolve(body) });
  const make = (fetch: TerminalEnvironment["fetch"]) =>
    new Terminal({
      coreUrl: "http://127.0.0.1:8080",
      symbols: ["AAPL"],
      market: new MarketStore([]),
      env: { ...harnessEnvironment(), fetch },
    });
  const refused = make(answer(401, { detail: "Cannot log in: wrong account name or password" }));
  strictEqual(
    await refused.login("ALICE", "nope"),
    "Cannot log in: wrong account name or password",
  );
  const bare = make(answer(503, { detail: "the core is starting" }));
  strictEqual(await bare.login("ALICE", "nope"), "Cannot log in: the core is starting");
  const silent = make(answer(500, "not json"));
  strictEqual(await silent.login("ALICE", "nope"), "Cannot log in: status 500");
});

function harnessEnvironment(): TerminalEnvironment {
  return {
    openSocket: () => {
      throw new Error("no socket here");
    },
    fetch: () => Promise.reject(new Error("no fetch here")),
    frame: (fn) => fn(),
    setTimeout: () => 0,
    clearTimeout: () => {},
    setInterval: () => 0,
    clearInterval: () => {},
    now: () => 0,
  };
}
