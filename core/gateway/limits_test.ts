import assert from "node:assert";
import { CommandKind, Side } from "../matching/mod.ts";
import { BEARER_PREFIX, SUBPROTOCOL } from "./config.ts";
import {
  eventually,
  type LiveHarness,
  type RawClient,
  rawUpgrade,
  show,
  WAIT_MS,
  withGateway,
  withLiveGateway,
} from "./_harness.ts";

/** `promise`, or an error naming `what` after {@linkcode WAIT_MS}. */
async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Timed out waiting for ${what}`)), WAIT_MS);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Opens a handshake as `sub` that the gateway should refuse; returns status and problem. */
async function refused(
  h: { port: number; token(sub: string, role: "trader" | "viewer"): Promise<string> },
  sub: string,
) {
  const answer = await rawUpgrade(h.port, {
    "Sec-WebSocket-Protocol": `${SUBPROTOCOL}, ${BEARER_PREFIX}${await h.token(sub, "trader")}`,
  });
  return { status: answer.status, problem: JSON.parse(answer.body || "{}") };
}

Deno.test("gateway: connections past the cap per account, then per address, are refused at the handshake with 429 too_many_connections", async () => {
  await withGateway(async (h) => {
    const alice1 = await h.connect("ALICE");
    await h.connect("ALICE");
    const third = await refused(h, "ALICE");
    assert.deepStrictEqual(third.status, 429);
    assert.deepStrictEqual(third.problem.type, "urn:tradecaptain:problem:too_many_connections");
    assert.deepStrictEqual(third.problem.reason, "too_many_connections");
    assert(/account ALICE has 2 connections open/.test(third.problem.detail), third.problem.detail);
    // Another account from the same address takes the address's last slot.
    await h.connect("BOB");
    const fourth = await refused(h, "CAROL");
    assert.deepStrictEqual(fourth.status, 429);
    assert.deepStrictEqual(fourth.problem.reason, "too_many_connections");
    assert(/127\.0\.0\.1 has 3 connections/.test(fourth.problem.detail), fourth.problem.detail);
    // A connection that ends gives both its slots back.
    await alice1.close();
    await eventually(() => h.gateway.connections === 2, "ALICE's first connection to end");
    const again = await h.connect("ALICE");
    await again.sync();
  }, { maxConnectionsPerAccount: 2, maxConnectionsPerAddress: 3 });
});

Deno.test("gateway: the message rate holds per account over all its connections", async () => {
  await withGateway(async (h) => {
    const a = await h.connect("ALICE");
    const b = await h.connect("ALICE");
    const bob = await h.connect("BOB");
    // 40 each: within a connection's rate, 80 past the account's burst of 50.
    for (let i = 0; i < 40; i++) {
      a.send({ type: "ping", requestId: BigInt(i), sentAt: 0n });
      b.send({ type: "ping", requestId: BigInt(i), sentAt: 0n });
    }
    const closed = await within(Promise.race([a.closed, b.closed]), "one of them to close");
    assert.deepStrictEqual([closed.code, closed.reason], [
      1008,
      "account message rate over the limit",
    ]);
    const errors = [...a.inbox, ...b.inbox].filter((m) => m.type === "error");
    assert(
      errors.some((e) =>
        e.type === "error" && e.closing === true && /account ALICE sent more than 5/.test(e.message)
      ),
      show(errors),
    );
    await bob.sync(); // other accounts are untouched
  }, {
    messageRate: { perSecond: 1000, burst: 100 },
    accountMessageRate: { perSecond: 5, burst: 50 },
  });
});

Deno.test("gateway: a connection flooding past the message rate sees the 1008 close frame with its reason, not a dropped connection", async () => {
  await withGateway(async (h) => {
    for (let round = 0; round < 5; round++) {
      const client = await h.connectRaw(`FLOOD${round}`);
      let done = false;
      // Keeps sending, as a flooding client does, until the server's close
      // arrives or the connection ends.
      const flood = (async () => {
        const ping = { type: "ping", requestId: 1n, sentAt: 0n } as const;
        while (!done) await client.send(ping).catch(() => (done = true));
      })();
      try {
        await client.readUntil(() => client.closeFrame !== undefined, "the close frame", 5_000);
      } finally {
        done = true;
        await flood;
      }
      assert.deepStrictEqual(
        [client.closeFrame?.code, client.closeFrame?.reason],
        [1008, "message rate over the limit"],
        show(client.events.slice(-2)),
      );
      const error = client.events.find((m) => m.type === "error");
      assert(error?.type === "error" && error.closing === true, show(client.events.slice(-3)));
      await client.close();
    }
  }, { messageRate: { perSecond: 50, burst: 50 } });
});

/** One round of churn on AAPL: 50 bids below 18900, then their cancels (~150 messages). */
async function churn(h: LiveHarness, round: number): Promise<void> {
  const ids = [];
  for (let j = 0; j < 50; j++) {
    ids.push(h.place({ side: Side.Buy, price: 18_900 - j, qty: 1 + (round % 5) }));
  }
  for (const id of ids) h.submit({ kind: CommandKind.CancelOrder, id });
  await h.settled();
}

Deno.test("gateway: past the queue budget the connection with the most queued is resynced, then closed with 1008; a reading one is untouched", async () => {
  const BUDGET = 64 * 1024;
  await withLiveGateway(async (h) => {
    const reader = await h.connect("READER", "viewer");
    reader.send({ type: "subscribe", requestId: 1n, sentAt: 0n, symbol: "AAPL" });
    const slow: RawClient = await h.connectRaw("SLOW", "viewer");
    await slow.send({ type: "subscribe", requestId: 1n, sentAt: 0n, symbol: "AAPL" });
    await slow.readUntil(() => slow.events.some((e) => e.type === "bookSnapshot"), "a snapshot");
    await eventually(() => h.sinks.length === 2, "both subscribed");
    const slowSink = h.sinks[1]!;
    // The slow client stops reading: once the kernel's buffers are full its
    // queue grows past the budget (the per-connection limits are far above).
    const deadline = performance.now() + 30_000;
    let round = 0;
    while (h.gateway.queuedBytes <= BUDGET) {
      assert(performance.now() < deadline, `the queue did not fill: ${slowSink.bufferedAmount}`);
      await churn(h, round++);
      reader.takeAll();
    }
    // Resynced, so its queue stops growing; it does not drain, so it is
    // closed once its grace has passed.
    const held = slowSink.bufferedAmount;
    for (let i = 0; i < 5; i++) await churn(h, round++);
    assert(slowSink.bufferedAmount <= held + 200, `${slowSink.bufferedAmount} > ${held}`);
    await eventually(() => h.gateway.queuedBytes < held / 2, "the slow connection to close", 6_000);
    await slow.readUntil(() => slow.closeFrame !== undefined, "the close frame", 20_000);
    assert.deepStrictEqual(slow.closeFrame?.code, 1008);
    assert.deepStrictEqual(
      slow.closeFrame?.reason,
      "send budget exceeded: the client reads too slowly",
    );
    const resync = slow.events.find((e) => e.type === "resync");
    assert(
      resync?.type === "resync" && resync.reason === "slowConsumer" &&
        /over their budget and yours is the longest/.test(resync.message ?? ""),
      show(resync),
    );
    const error = slow.events.findLast((e) => e.type === "error");
    assert(error?.type === "error" && error.closing === true, show(error));
    await reader.sync(); // the reading client is still served
  }, {
    queueBudgetBytes: BUDGET,
    maxBufferedBytes: 64 * 1024 * 1024,
    market: { maxQueueBytes: 64 * 1024 * 1024 },
  });
});

Deno.test("gateway: a connection whose queue passes maxBufferedBytes is closed with 1008 and the reason", async () => {
  const LIMIT = 128 * 1024;
  await withLiveGateway(async (h) => {
    const slow: RawClient = await h.connectRaw("SLOW", "viewer");
    await slow.send({ type: "subscribe", requestId: 1n, sentAt: 0n, symbol: "AAPL" });
    await slow.readUntil(() => slow.events.some((e) => e.type === "bookSnapshot"), "a snapshot");
    await eventually(() => h.sinks.length === 1, "subscribed");
    // The sink is the gateway's connection: open until it closes itself.
    const connection = h.sinks[0] as unknown as { isOpen: boolean; bufferedAmount: number };
    const deadline = performance.now() + 30_000;
    let round = 0;
    while (connection.isOpen) {
      assert(performance.now() < deadline, `not closed: ${connection.bufferedAmount} queued`);
      await churn(h, round++);
    }
    await slow.readUntil(() => slow.closeFrame !== undefined, "the close frame", 20_000);
    assert.deepStrictEqual(
      [slow.closeFrame?.code, slow.closeFrame?.reason],
      [1008, "send queue over its limit: the client reads too slowly"],
    );
  }, {
    maxBufferedBytes: LIMIT,
    queueBudgetBytes: Infinity,
    market: { maxQueueBytes: 64 * 1024 * 1024 },
  });
});
