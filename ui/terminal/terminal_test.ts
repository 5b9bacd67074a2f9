// Test only: the core's encoder makes the frames a real core would send
// (ui/ itself imports nothing from core/).
import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { encodeServerMessage } from "../../core/wire/server.ts";
import { decodeClientFrame } from "../../core/wire/client.ts";
import type { ClientRequest, ServerEvent } from "../../schemas/wire/mod.ts";
import { MarketStore } from "./market.ts";
import {
  REFRESH_RETRY_MS,
  type SocketLike,
  SUBPROTOCOL,
  Terminal,
  type TerminalEnvironment,
} from "./terminal.ts";

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

/**
 * A terminal logged in through a fake core: `answers` are what the core's
 * `/auth/*` answer, in order (an Error is an unreachable core); timers fire
 * only when a test says so.
 */
async function loggedIn(answers: (Record<string, unknown> | Error)[]) {
  const sockets: FakeSocket[] = [];
  const frames: (() => void)[] = [];
  const timers = new Map<number, { fn: () => void; ms: number }>();
  const asked: { url: string; authorization: string | undefined }[] = [];
  let nextTimer = 1;
  let now = 1_000_000;
  const env: TerminalEnvironment = {
    ...harnessEnvironment(),
    openSocket: (url, protocols) => {
      const s = new FakeSocket(url, protocols);
      sockets.push(s);
      return s;
    },
    fetch: (url, init) => {
      asked.push({ url, authorization: init.headers.authorization });
      const answer = answers.shift() ?? new Error("no answer left");
      if (answer instanceof Error) return Promise.reject(answer);
      const status = typeof answer.status === "number" ? answer.status : 200;
      return Promise.resolve({ ok: status < 300, status, json: () => Promise.resolve(answer) });
    },
    frame: (fn) => frames.push(fn),
    setTimeout: (fn, ms) => {
      timers.set(nextTimer, { fn, ms });
      return nextTimer++;
    },
    clearTimeout: (id) => void timers.delete(id as number),
    now: () => now,
  };
  const terminal = new Terminal({
    coreUrl: "http://127.0.0.1:8080",
    symbols: ["AAPL"],
    market: new MarketStore([]),
    env,
  });
  strictEqual(await terminal.login("alice", "secret"), undefined);
  /** The one pending timer (the refresh's, while the socket is up): its wait. */
  const pending = () => {
    deepStrictEqual(timers.size, 1, `timers: ${[...timers.values()].map((t) => t.ms)}`);
    return [...timers.values()][0]!.ms;
  };
  /** Moves the clock to the soonest timer and fires it, letting a refresh finish. */
  const fire = async () => {
    const [id, timer] = [...timers.entries()].sort((a, b) => a[1].ms - b[1].ms)[0]!;
    timers.delete(id);
    now += timer.ms;
    timer.fn();
    for (let i = 0; i < 5; i++) await Promise.resolve();
    await new Promise((resolve) => setTimeout(resolve, 0));
  };
  const flush = () => frames.splice(0).forEach((fn) => fn());
  return { terminal, sockets, asked, pending, fire, flush, now: () => now };
}

const tokenFor = (jti: string) =>
  `x.${btoa(JSON.stringify({ sub: "alice", role: "trader", jti }))}.y`;

Deno.test("terminal: refreshes the token at 75% of its life, reauthenticates the open socket and dials with the new token", async () => {
  const first = tokenFor("first");
  const second = tokenFor("second");
  const { terminal, sockets, asked, pending, fire } = await loggedIn([
    { token: first, expiresAt: 1_000_000 + 900_000 },
    { token: second, expiresAt: new Date(1_000_000 + 675_000 + 900_000).toISOString() },
  ]);
  const socket = sockets[0]!;
  socket.onopen?.({});
  strictEqual(pending(), 675_000, "75% of 15 minutes");
  socket.sent = [];
  await fire();
  deepStrictEqual(asked[1], {
    url: "http://127.0.0.1:8080/auth/refresh",
    authorization: `Bearer ${first}`,
  });
  deepStrictEqual(
    socket.sent.map((r) => r.type === "reauthenticate" ? r.token : r.type),
    [second],
  );
  strictEqual(pending(), 675_000, "the next refresh, at 75% of the new token's life");
  strictEqual(terminal.status.value, "resynchronising", "the connection was kept");
  strictEqual(sockets.length, 1);
  strictEqual(socket.closed, false);
});

Deno.test("terminal: a reconnect after a refresh offers the refreshed token", async () => {
  const second = tokenFor("second");
  const { sockets, fire } = await loggedIn([
    { token: tokenFor("first"), expiresAt: 1_000_000 + 900_000 },
    { token: second, expiresAt: 1_000_000 + 675_000 + 900_000 },
  ]);
  // The socket never opened: the refresh has no connection to reauthenticate.
  await fire();
  strictEqual(sockets[0]!.sent.length, 0);
  sockets[0]!.onclose?.({ code: 1006, reason: "" });
  await fire(); // the reconnect's backoff (sooner than the next refresh)
  strictEqual(sockets.length, 2);
  deepStrictEqual(sockets[1]!.protocols, [SUBPROTOCOL, `bearer.${second}`]);
});

Deno.test("terminal: a failing refresh is retried with backoff until the token expires, then the terminal logs out", async () => {
  const { terminal, sockets, asked, pending, fire, now } = await loggedIn([
    { token: tokenFor("first"), expiresAt: 1_000_000 + 8_000 },
    new Error("unreachable"),
    { status: 503, detail: "Cannot refresh the token: the core is starting" },
    new Error("unreachable"),
  ]);
  sockets[0]!.onopen?.({});
  strictEqual(pending(), 6_000);
  await fire(); // at 6 s: unreachable
  strictEqual(pending(), REFRESH_RETRY_MS);
  await fire(); // at 7 s: refused
  strictEqual(pending(), 1_000, "twice the first wait, cut at the expiry");
  await fire(); // at 8 s: expired before trying
  strictEqual(now(), 1_000_000 + 8_000);
  strictEqual(asked.length, 3, "the login and two refreshes");
  strictEqual(terminal.status.value, "stopped");
  strictEqual(terminal.why.value, "the session has expired: log in again");
  strictEqual(terminal.identity.value, undefined, "the login form shows");
  strictEqual(sockets[0]!.closed, true);
});

Deno.test("terminal: the core's refusal of a reauthenticate is retried like a failed refresh", async () => {
  const { sockets, asked, pending, fire, flush } = await loggedIn([
    { token: tokenFor("first"), expiresAt: 1_000_000 + 900_000 },
    { token: tokenFor("second"), expiresAt: 1_000_000 + 675_000 + 900_000 },
    { token: tokenFor("third"), expiresAt: 1_000_000 + 676_000 + 900_000 },
  ]);
  const socket = sockets[0]!;
  socket.onopen?.({});
  await fire();
  const reauth = socket.sent.find((r) => r.type === "reauthenticate")!;
  socket.deliver({
    type: "reject",
    requestId: reauth.requestId,
    reason: "notAuthorised",
    message: "Cannot reauthenticate: the token's role is viewer, this connection's is trader",
    request: "reauthenticate",
  });
  flush();
  strictEqual(pending(), REFRESH_RETRY_MS);
  await fire();
  strictEqual(asked.length, 3);
  deepStrictEqual(
    socket.sent.filter((r) => r.type === "reauthenticate").map((r) => r.requestId > 0n),
    [true, true],
  );
});
