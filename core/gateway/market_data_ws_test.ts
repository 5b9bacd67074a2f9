/**
 * Market data over a real WebSocket, with the real publisher wired as
 * `core/main.ts` wires it (`core/app/create_core.ts`): snapshots tagged with
 * their channel sequence, numbered deltas, trades and quotes, resync after
 * a gap, a slow consumer that cannot hold back a fast one, and books
 * recovered from the journal.
 */

import assert from "node:assert";
import { withTempDir } from "../_testing/temp.ts";
import { randomCommandStream } from "../matching/matcher_suite.ts";
import { type Command, CommandKind, Side } from "../matching/mod.ts";
import type {
  BookDeltaEvent,
  BookSnapshotEvent,
  NewOrderRequest,
  QuoteEvent,
  TradeEvent,
} from "../wire/types.ts";
import {
  BookReplica,
  eventually,
  type Levels,
  type LiveHarness,
  restingLevels,
  show,
  type TestClient,
  WAIT_MS,
  withLiveGateway,
} from "./_harness.ts";

let requestIds = 1000n;

/** A GTC limit order request. */
function order(
  clientOrderId: bigint,
  side: "buy" | "sell",
  price: number,
  quantity: number,
  symbol = "AAPL",
): NewOrderRequest {
  return {
    type: "newOrder",
    requestId: requestIds++,
    sentAt: 0n,
    clientOrderId,
    symbol,
    side,
    orderType: "limit",
    timeInForce: "gtc",
    postOnly: false,
    price,
    quantity,
    account: "",
  };
}

/** Sends an order and waits for its acceptance (and any fills it reports right away). */
async function accepted(client: TestClient, request: NewOrderRequest): Promise<void> {
  client.send(request);
  const report = await client.nextOf("executionReport");
  assert.deepStrictEqual(
    [report.execType, report.clientOrderId],
    ["accepted", request.clientOrderId],
    show(report),
  );
}

/** Subscribes `client` to `symbol` with a replica fed by every message; waits for the snapshot. */
async function subscribe(
  client: TestClient,
  symbol: string,
  options: { keep?: boolean } = {},
): Promise<{ replica: BookReplica; snapshot: BookSnapshotEvent }> {
  const replica = new BookReplica(symbol);
  const previous = client.tap;
  client.tap = (event, at, frame) => {
    const applied = replica.apply(event);
    const kept = previous?.(event, at, frame) === true;
    return kept || (!options.keep && applied !== "other");
  };
  const requestId = client.requestId();
  client.send({ type: "subscribe", requestId, sentAt: 0n, symbol });
  await client.until(() => replica.snapshots.length > 0, `a ${symbol} snapshot`);
  const snapshot = replica.snapshots[0]!;
  assert.deepStrictEqual(
    snapshot.requestId,
    requestId,
    "the snapshot echoes the subscribe's request id",
  );
  return { replica, snapshot };
}

/** A fresh snapshot of `symbol` through a new viewer connection. */
async function freshSnapshot(h: LiveHarness, symbol: string): Promise<BookSnapshotEvent> {
  const viewer = await h.connect(`FRESH-${requestIds++}`, "viewer");
  const { snapshot } = await subscribe(viewer, symbol);
  await viewer.close();
  return snapshot;
}

/** A snapshot's levels. */
function levelsOf(snapshot: BookSnapshotEvent): Levels {
  return { bids: [...snapshot.bids], asks: [...snapshot.asks] };
}

/** A delta's level updates in a fixed order (a delta applies them together). */
function updates(delta: BookDeltaEvent): string[] {
  return delta.levels.map((l) => `${l.side} ${l.price} ${l.quantity}/${l.orderCount}`).sort();
}

/** Waits until the replica has caught up with the publisher's channel. */
async function caughtUp(
  h: LiveHarness,
  client: TestClient,
  replica: BookReplica,
  timeoutMs = WAIT_MS,
): Promise<void> {
  const target = () => h.marketData.book(replica.symbol)!.sequence;
  await client.until(
    () => replica.sequence === target(),
    `${replica.symbol} reaches sequence ${target()} (at ${replica.sequence})`,
    timeoutMs,
  );
}

/** Checks that a replica saw no gap, no resync, no breach, and one unbroken run of numbers. */
function assertClean(replica: BookReplica, what: string): void {
  assert.deepStrictEqual(replica.gaps, [], `${what}: gaps`);
  assert.deepStrictEqual(replica.resyncs.length, 0, `${what}: resyncs`);
  assert.deepStrictEqual(replica.problems, [], `${what}: contract breaches`);
  const first = replica.snapshots[0]!.sequence;
  replica.sequences.forEach((s, i) => {
    if (s !== first + BigInt(i) + 1n) throw new Error(`${what}: message ${i} is ${s}`);
  });
}

Deno.test("market data: subscribe answers with a snapshot at the channel's sequence, then deltas, trades and quotes numbered previous + 1 with absolute quantities", async () => {
  await withLiveGateway(async (h) => {
    const alice = await h.connect("ALICE");
    const bob = await h.connect("BOB");
    await accepted(alice, order(1n, "buy", 18_990, 5));
    await accepted(alice, order(2n, "buy", 18_990, 3));
    await accepted(alice, order(3n, "buy", 18_980, 10));
    await accepted(alice, order(4n, "sell", 19_010, 4));

    const viewer = await h.connect("VIV", "viewer");
    const { replica, snapshot } = await subscribe(viewer, "AAPL", { keep: true });
    viewer.inbox.splice(0); // the snapshot, already checked
    // The book the orders above make: two bids at 18990 (5 + 3), one at 18980, one ask.
    assert.deepStrictEqual(levelsOf(snapshot), {
      bids: [
        { price: 18_990, quantity: 8, orderCount: 2 },
        { price: 18_980, quantity: 10, orderCount: 1 },
      ],
      asks: [{ price: 19_010, quantity: 4, orderCount: 1 }],
    });
    // Seven messages so far: a delta per order, and a quote for each top
    // change (new bid, bid size 5 → 8, new ask; 18980 is not the top).
    assert.deepStrictEqual(snapshot.sequence, 7n);
    assert.deepStrictEqual(snapshot.sequence, h.marketData.book("AAPL")!.sequence);
    const s = snapshot.sequence;

    // BOB sells 10 at 18985: fills ALICE's 5 and 3 at 18990, rests 2 at 18985.
    bob.send(order(1n, "sell", 18_985, 10));
    const fills = [];
    for (let i = 0; i < 3; i++) fills.push(await bob.nextOf("executionReport"));
    assert.deepStrictEqual(fills.map((r) => r.execType), ["accepted", "trade", "trade"]);
    const delta = await viewer.nextOf("bookDelta");
    assert.deepStrictEqual(delta.sequence, s + 1n);
    assert.deepStrictEqual(updates(delta), ["buy 18990 0/0", "sell 18985 2/1"]);
    const trades = [await viewer.nextOf("trade"), await viewer.nextOf("trade")];
    assert.deepStrictEqual(
      trades.map((t: TradeEvent) => [t.sequence, t.price, t.quantity, t.aggressorSide]),
      [[s + 2n, 18_990, 5, "sell"], [s + 3n, 18_990, 3, "sell"]],
    );
    // Trade ids are the execution reports' (the trades' engine sequence numbers).
    assert.deepStrictEqual(trades.map((t) => t.tradeId), fills.slice(1).map((r) => r.tradeId));
    const quote = await viewer.nextOf("quote");
    assert.deepStrictEqual(
      [quote.sequence, quote.bidPrice, quote.bidQuantity, quote.askPrice, quote.askQuantity],
      [s + 4n, 18_980, 10, 18_985, 2],
    );

    // ALICE cancels 18980: the level goes (0), and the bid side is empty.
    alice.send({ type: "cancel", requestId: 9n, sentAt: 0n, clientOrderId: 3n });
    await alice.next((m) => m.type === "executionReport" && m.execType === "cancelled");
    const removal = await viewer.nextOf("bookDelta");
    assert.deepStrictEqual([removal.sequence, updates(removal)], [s + 5n, ["buy 18980 0/0"]]);
    const empty: QuoteEvent = await viewer.nextOf("quote");
    assert.deepStrictEqual(
      [empty.sequence, empty.bidPrice, empty.bidQuantity, empty.askPrice, empty.askQuantity],
      [s + 6n, 0, 0, 18_985, 2],
    );
    assert.deepStrictEqual(viewer.takeAll(), [], "nothing else");

    // Snapshot + deltas = a fresh snapshot = the engine's book.
    assertClean(replica, "viewer");
    assert.deepStrictEqual(replica.sequence, s + 6n);
    const fresh = await freshSnapshot(h, "AAPL");
    assert.deepStrictEqual([fresh.sequence, levelsOf(fresh)], [s + 6n, replica.levels()]);
    assert.deepStrictEqual(replica.levels(), {
      bids: [],
      asks: [
        { price: 18_985, quantity: 2, orderCount: 1 },
        { price: 19_010, quantity: 4, orderCount: 1 },
      ],
    });
    await h.stopEngine();
    assert.deepStrictEqual(
      restingLevels(h.engine.restingOrders(0)),
      replica.levels(),
      "the engine's book",
    );
    assert.deepStrictEqual(h.errors, []);
  });
});

Deno.test("market data: viewers receive market data but cannot trade", async () => {
  await withLiveGateway(async (h) => {
    const viewer = await h.connect("VIV", "viewer");
    const trader = await h.connect("ALICE");
    const { replica } = await subscribe(viewer, "MSFT");
    await accepted(trader, order(1n, "buy", 41_990, 7, "MSFT"));
    await caughtUp(h, viewer, replica);
    assert.deepStrictEqual(replica.levels().bids, [{ price: 41_990, quantity: 7, orderCount: 1 }]);

    const submitted = h.dispatcher.stats.submitted;
    const sequence = h.marketData.book("MSFT")!.sequence;
    for (
      const request of [
        order(1n, "sell", 41_990, 7, "MSFT"),
        { type: "cancel", requestId: 2n, sentAt: 0n, clientOrderId: 1n } as const,
        { type: "cancelAll", requestId: 3n, sentAt: 0n, symbol: "" } as const,
        { type: "requestOrders", requestId: 4n, sentAt: 0n, sinceSequence: 0n } as const,
      ]
    ) {
      viewer.send(request);
      const reject = await viewer.nextOf("reject");
      assert.deepStrictEqual([reject.reason, reject.requestId], [
        "notAuthorised",
        request.requestId,
      ]);
    }
    await viewer.sync();
    assert.deepStrictEqual(
      h.dispatcher.stats.submitted,
      submitted,
      "a viewer's request reached the engine",
    );
    assert.deepStrictEqual(h.marketData.book("MSFT")!.sequence, sequence);
    assert.deepStrictEqual(replica.levels().bids, [{ price: 41_990, quantity: 7, orderCount: 1 }]);
    assert.deepStrictEqual(h.errors, []);
  });
});

/** The random stream's commands with ids moved into the dispatcher's id space. */
function remap(h: LiveHarness, commands: readonly Command[]): Command[] {
  const base = h.dispatcher.nextOrderId - 1;
  const maxId = commands.reduce((m, c) => Math.max(m, c.id), 0);
  while (h.dispatcher.nextOrderId <= base + maxId) h.dispatcher.allocateOrderId();
  return commands.map((c) => ({ ...c, id: base + c.id }));
}

Deno.test("market data: over a random stream, snapshot + deltas rebuild exactly a fresh snapshot and the engine's books", async () => {
  await withLiveGateway(async (h) => {
    const commands = remap(h, randomCommandStream(4, 3_000, h.instruments));
    const symbols = [...new Set(commands.map((c) => "instrument" in c ? c.instrument : -1))]
      .filter((i) => i >= 0 && i < h.instruments.length)
      .map((i) => h.instruments[i]!.symbol);
    assert(symbols.length >= 2, symbols.join());
    const viewer = await h.connect("VIV", "viewer");
    // Subscribed mid-stream: the snapshots must carry the book so far.
    const half = commands.length / 2;
    for (let i = 0; i < half; i += 250) {
      for (const c of commands.slice(i, Math.min(i + 250, half))) h.submit(c);
      await h.settled();
    }
    const replicas = [];
    for (const symbol of symbols) replicas.push((await subscribe(viewer, symbol)).replica);
    // In slices, so that no single drain passes the publisher's per-sink budget (see the
    // slow consumer test).
    for (let i = half; i < commands.length; i += 250) {
      for (const c of commands.slice(i, i + 250)) h.submit(c);
      await h.settled();
    }
    let trades = 0;
    for (const replica of replicas) {
      await caughtUp(h, viewer, replica);
      assertClean(replica, replica.symbol);
      assert(replica.sequences.length > 100, `${replica.symbol}: ${replica.sequences.length}`);
      trades += replica.trades;
      const fresh = await freshSnapshot(h, replica.symbol);
      assert.deepStrictEqual([fresh.sequence, levelsOf(fresh)], [
        replica.sequence,
        replica.levels(),
      ]);
    }
    assert(trades > 50, `only ${trades} trades`);
    await h.stopEngine();
    for (const replica of replicas) {
      const i = h.instruments.findIndex((x) => x.symbol === replica.symbol);
      assert.deepStrictEqual(
        restingLevels(h.engine.restingOrders(i)),
        replica.levels(),
        replica.symbol,
      );
    }
    assert.deepStrictEqual(h.errors, []);
  });
});

Deno.test("market data: a client that detects a gap asks for a snapshot and continues consistently from it", async () => {
  await withLiveGateway(async (h) => {
    const viewer = await h.connect("VIV", "viewer");
    const { replica } = await subscribe(viewer, "AAPL");
    const asked: bigint[] = [];
    const tap = viewer.tap!;
    viewer.tap = (event, at, frame) => {
      const kept = tap(event, at, frame);
      // What a careful client does on a gap: ask for a snapshot, ignore what comes before it.
      if (replica.gaps.length > asked.length) {
        const requestId = viewer.requestId();
        asked.push(requestId);
        viewer.send({ type: "requestSnapshot", requestId, sentAt: 0n, symbol: "AAPL" });
      }
      return kept;
    };
    for (let i = 0; i < 5; i++) h.place({ side: Side.Buy, price: 18_900 + i, qty: 1 + i });
    await h.settled();
    await caughtUp(h, viewer, replica);
    // Lose one delta in transit, then keep trading.
    replica.dropNext(1);
    const ids = [];
    for (let i = 0; i < 40; i++) {
      ids.push(h.place({ side: i % 2 ? Side.Buy : Side.Sell, price: 18_950 + (i % 7), qty: 2 }));
      if (i % 10 === 9) await h.settled();
    }
    for (const id of ids.slice(0, 10)) h.submit({ kind: CommandKind.CancelOrder, id });
    await h.settled();
    await caughtUp(h, viewer, replica);

    assert.deepStrictEqual(replica.gaps.length, 1, show(replica.gaps));
    assert.deepStrictEqual(asked.length, 1);
    assert.deepStrictEqual(replica.snapshots.length, 2);
    const resync = replica.snapshots[1]!;
    assert.deepStrictEqual(resync.requestId, asked[0]);
    assert(resync.sequence >= replica.gaps[0]!.got, show([resync.sequence, replica.gaps]));
    // From the second snapshot on, every message is the previous + 1.
    const after = replica.sequences.filter((s) => s > resync.sequence);
    after.forEach((s, i) => assert.deepStrictEqual(s, resync.sequence + BigInt(i) + 1n));
    assert.deepStrictEqual(after.at(-1), h.marketData.book("AAPL")!.sequence);
    assert.deepStrictEqual(replica.problems, []);
    const fresh = await freshSnapshot(h, "AAPL");
    assert.deepStrictEqual([fresh.sequence, levelsOf(fresh)], [replica.sequence, replica.levels()]);
    await h.stopEngine();
    assert.deepStrictEqual(restingLevels(h.engine.restingOrders(0)), replica.levels());
  });
});

Deno.test("market data: unsubscribe stops a symbol's messages; subscribing again resumes from a fresh snapshot", async () => {
  await withLiveGateway(async (h) => {
    const viewer = await h.connect("VIV", "viewer");
    const { replica } = await subscribe(viewer, "AAPL");
    h.place({ side: Side.Sell, price: 19_050, qty: 3 });
    await h.settled();
    await caughtUp(h, viewer, replica);
    const left = replica.sequence!;
    viewer.send({ type: "unsubscribe", requestId: 5n, sentAt: 0n, symbol: "AAPL" });
    await viewer.sync(); // the unsubscribe has been handled
    const seen = replica.sequences.length;
    h.place({ side: Side.Sell, price: 19_040, qty: 2 });
    h.place({ side: Side.Buy, price: 18_960, qty: 4 });
    await h.settled();
    await viewer.sync(); // anything sent for those commands would have arrived by now
    assert.deepStrictEqual(replica.sequences.length, seen, "messages after unsubscribing");
    assert(h.marketData.book("AAPL")!.sequence > left);

    viewer.send({ type: "subscribe", requestId: 6n, sentAt: 0n, symbol: "AAPL" });
    await viewer.until(() => replica.snapshots.length === 2, "the second snapshot");
    const again = replica.snapshots[1]!;
    assert.deepStrictEqual([again.requestId, again.sequence], [
      6n,
      h.marketData.book("AAPL")!.sequence,
    ]);
    assert.deepStrictEqual(levelsOf(again), {
      bids: [{ price: 18_960, quantity: 4, orderCount: 1 }],
      asks: [
        { price: 19_040, quantity: 2, orderCount: 1 },
        { price: 19_050, quantity: 3, orderCount: 1 },
      ],
    });
    h.place({ side: Side.Buy, price: 19_040, qty: 2 }); // takes the best ask
    await h.settled();
    await caughtUp(h, viewer, replica);
    assert.deepStrictEqual(replica.gaps, []);
    assert.deepStrictEqual(replica.sequences.filter((s) => s > again.sequence).length > 0, true);
    assert.deepStrictEqual(replica.problems, []);
    assert.deepStrictEqual(replica.levels().asks, [{ price: 19_050, quantity: 3, orderCount: 1 }]);
  });
});

/** The publisher's per-sink budget in the slow consumer test: small, so that it fills fast. */
const MAX_QUEUE = 64 * 1024;

/**
 * One round of churn on AAPL: 50 bids a tick apart below 18900, then their
 * cancels: about 150 messages, 17 KB, within one or a few drains.
 */
async function churn(h: LiveHarness, round: number): Promise<void> {
  const ids = [];
  for (let j = 0; j < 50; j++) {
    ids.push(h.place({ side: Side.Buy, price: 18_900 - j, qty: 1 + (round % 5) }));
  }
  for (const id of ids) h.submit({ kind: CommandKind.CancelOrder, id });
  await h.settled();
}

/**
 * Churns until `sink`'s queue is within a frame of {@linkcode MAX_QUEUE},
 * then twice more, so that the publisher has overflowed it. Deno's
 * `bufferedAmount` stays 0 while the kernel's socket buffers absorb the
 * frames (about 4 MB on loopback here) and grows only after.
 *
 * @returns The rounds run.
 */
async function overflow(h: LiveHarness, sink: { bufferedAmount: number }): Promise<number> {
  const deadline = performance.now() + 20_000;
  let rounds = 0;
  while (sink.bufferedAmount <= MAX_QUEUE - 512) {
    if (performance.now() > deadline) {
      throw new Error(`The slow client's queue did not fill: ${sink.bufferedAmount} bytes`);
    }
    await churn(h, rounds++);
  }
  await churn(h, rounds++);
  await churn(h, rounds++);
  return rounds;
}

Deno.test("market data: a client that stops reading gets Resync(slowConsumer), then 1008 when it falls behind again; a reading client on the same symbol misses nothing", async () => {
  await withLiveGateway(async (h) => {
    // Resting asks that stay through the churn.
    for (let i = 0; i < 3; i++) h.place({ side: Side.Sell, price: 19_100 + i, qty: 5 });
    await h.settled();
    const fast = await h.connect("FAST", "viewer");
    const { replica } = await subscribe(fast, "AAPL");
    // How late the reading client gets each message while the other one is
    // not reading (when the test reads for the slow client, its decoding
    // holds this process's event loop: that is not the core's delay).
    let measuring = false;
    const lags: number[] = [];
    let received = 0;
    const tap = fast.tap!;
    fast.tap = (event, at, frame) => {
      if (event.type === "bookDelta" || event.type === "trade" || event.type === "quote") {
        received += frame?.byteLength ?? 0;
        if (measuring) lags.push(at - Number(event.sentAt) / 1e6);
      }
      return tap(event, at, frame);
    };
    const slow = await h.connectRaw("SLOW", "viewer");
    const slowReplica = new BookReplica("AAPL");
    let fed = 0;
    const feed = () => {
      while (fed < slow.events.length) slowReplica.apply(slow.events[fed++]!);
    };
    await slow.send({ type: "subscribe", requestId: 1n, sentAt: 0n, symbol: "AAPL" });
    await slow.readUntil(() => (feed(), slowReplica.snapshots.length === 1), "a snapshot");
    assert.deepStrictEqual(h.sinks.length, 2);
    const slowSink = h.sinks[1]!;

    // 1. The slow client stops reading until its queue passes the budget.
    const started = performance.now();
    measuring = true;
    let rounds = await overflow(h, slowSink);
    const filledMs = performance.now() - started;
    const held = slowSink.bufferedAmount;
    // At most the budget plus one flush (a flush is never split for a sink).
    assert(held > MAX_QUEUE - 512 && held < 2 * MAX_QUEUE, `queued ${held}`);
    // Bounded: the symbol is dropped for it, so more churn queues nothing more
    // (give or take a heartbeat).
    for (let i = 0; i < 10; i++) await churn(h, rounds++);
    assert(slowSink.bufferedAmount <= held + 100, `${slowSink.bufferedAmount} > ${held}`);
    // The reading client has every message meanwhile.
    await caughtUp(h, fast, replica);
    measuring = false;
    assertClean(replica, "the reading client");

    // 2. It reads again: every message up to the overflow, the resync and,
    // once its queue has drained, a snapshot from which messages continue.
    await slow.readUntil(
      () => (feed(), slowReplica.snapshots.length === 2),
      "a resync and a snapshot",
      10_000,
    );
    assert.deepStrictEqual(slowReplica.gaps, [], "gaps before the resync");
    assert.deepStrictEqual(slowReplica.problems, []);
    assert.deepStrictEqual(
      slowReplica.resyncs.map((r) => [r.symbol, r.reason]),
      [["AAPL", "slowConsumer"]],
    );
    const resumed = slowReplica.snapshots[1]!;
    assert.deepStrictEqual(resumed.requestId, 0n);
    // Between the resync and that snapshot, nothing of AAPL (heartbeats at most).
    const between = slow.events.slice(
      slow.events.findIndex((e) => e.type === "resync") + 1,
      slow.events.indexOf(resumed),
    );
    assert.deepStrictEqual(between.filter((e) => e.type !== "heartbeat"), []);
    for (let i = 0; i < 3; i++) await churn(h, rounds++);
    await slow.readUntil(
      () => (feed(), slowReplica.sequence === h.marketData.book("AAPL")!.sequence),
      "the slow client catches up",
    );
    assert.deepStrictEqual(slowReplica.gaps, [], "gaps after the resync");
    const afterResume = slowReplica.sequences.filter((s) => s > resumed.sequence);
    afterResume.forEach((s, i) => assert.deepStrictEqual(s, resumed.sequence + BigInt(i) + 1n));
    assert(afterResume.length > 100, `${afterResume.length} messages after resuming`);

    // 3. It stops reading again: a second overflow within the window
    // (maxResyncs 1) closes it with 1008 instead of another resync.
    measuring = true;
    await overflow(h, slowSink);
    await caughtUp(h, fast, replica);
    measuring = false;
    await slow.readUntil(() => (feed(), slow.closeFrame !== undefined), "the close", 10_000);
    assert.deepStrictEqual(slow.closeFrame?.code, 1008);
    assert(
      /^Too slow for market data: 2 resyncs within 60000 ms$/.test(slow.closeFrame!.reason),
      slow.closeFrame!.reason,
    );
    assert.deepStrictEqual(slowReplica.resyncs.length, 1);
    assert.deepStrictEqual(slowReplica.gaps, []);
    await eventually(() => h.gateway.connections === 1, "the slow connection is gone");

    // The reading client: every message, numbered previous + 1, none late.
    await churn(h, rounds++);
    await caughtUp(h, fast, replica);
    assertClean(replica, "the reading client");
    assert.deepStrictEqual(replica.snapshots.length, 1);
    lags.sort((a, b) => a - b);
    const p99 = lags[Math.floor(lags.length * 0.99)]!;
    const maxLagMs = lags.at(-1)!;
    assert(lags.length > 50_000, `${lags.length} messages measured`);
    assert(
      maxLagMs < 500,
      `a message reached the reading client ${maxLagMs.toFixed(1)} ms after it was sent ` +
        `(p99 ${p99.toFixed(1)} ms; ${(received / 1e6).toFixed(1)} MB received; the first ` +
        `overflow took ${filledMs.toFixed(0)} ms)`,
    );
    const fresh = await freshSnapshot(h, "AAPL");
    assert.deepStrictEqual([fresh.sequence, levelsOf(fresh)], [replica.sequence, replica.levels()]);
    assert.deepStrictEqual(h.errors, []);
  }, { market: { maxQueueBytes: MAX_QUEUE, maxResyncs: 1 } });
});

Deno.test("market data: after a restart from the journal, the first snapshot shows the recovered levels and deltas continue from them", async () => {
  await withTempDir(async (dir) => {
    let before: { aapl: Levels; msft: Levels } | undefined;
    await withLiveGateway(async (h) => {
      assert.deepStrictEqual(h.recovery?.created, true);
      const alice = await h.connect("ALICE");
      const bob = await h.connect("BOB");
      await accepted(alice, order(1n, "buy", 18_990, 5));
      await accepted(alice, order(2n, "buy", 18_990, 3));
      await accepted(alice, order(3n, "buy", 18_980, 10));
      await accepted(alice, order(4n, "sell", 19_010, 4));
      await accepted(alice, order(5n, "sell", 19_020, 2));
      await accepted(alice, order(6n, "sell", 42_100, 7, "MSFT"));
      alice.send({ type: "cancel", requestId: 7n, sentAt: 0n, clientOrderId: 3n });
      await alice.next((m) => m.type === "executionReport" && m.execType === "cancelled");
      await accepted(bob, order(1n, "buy", 19_010, 1)); // 19010: 4 → 3
      await bob.nextOf("executionReport"); // its fill
      const aapl = await freshSnapshot(h, "AAPL");
      const msft = await freshSnapshot(h, "MSFT");
      before = { aapl: levelsOf(aapl), msft: levelsOf(msft) };
      assert.deepStrictEqual(before.aapl, {
        bids: [{ price: 18_990, quantity: 8, orderCount: 2 }],
        asks: [
          { price: 19_010, quantity: 3, orderCount: 1 },
          { price: 19_020, quantity: 2, orderCount: 1 },
        ],
      });
      assert.deepStrictEqual(h.errors, []);
    }, { journalDir: dir });

    await withLiveGateway(async (h) => {
      assert.deepStrictEqual(h.recovery?.created, false);
      assert((h.recovery?.replayed ?? 0) > 0, show(h.recovery));
      const viewer = await h.connect("VIV", "viewer");
      const { replica, snapshot } = await subscribe(viewer, "AAPL");
      // No message yet since the restart: the recovered book is sequence 0.
      assert.deepStrictEqual([snapshot.sequence, levelsOf(snapshot)], [0n, before!.aapl]);
      assert.deepStrictEqual(levelsOf((await subscribe(viewer, "MSFT")).snapshot), before!.msft);
      // A new order takes the recovered 19010 ask: the delta's quantities are
      // absolute, counted from the recovered level.
      const bob = await h.connect("BOB");
      await accepted(bob, order(1n, "buy", 19_020, 4));
      const fills = [await bob.nextOf("executionReport"), await bob.nextOf("executionReport")];
      assert.deepStrictEqual(fills.map((f) => [f.execType, f.lastPrice, f.lastQuantity]), [
        ["trade", 19_010, 3],
        ["trade", 19_020, 1],
      ]);
      await caughtUp(h, viewer, replica);
      assertClean(replica, "after the restart");
      assert.deepStrictEqual(replica.sequence, 4n); // one delta, two trades, one quote
      assert.deepStrictEqual(replica.levels(), {
        bids: [{ price: 18_990, quantity: 8, orderCount: 2 }],
        asks: [{ price: 19_020, quantity: 1, orderCount: 1 }],
      });
      const fresh = await freshSnapshot(h, "AAPL");
      assert.deepStrictEqual([fresh.sequence, levelsOf(fresh)], [4n, replica.levels()]);
      await h.stopEngine();
      assert.deepStrictEqual(restingLevels(h.engine.restingOrders(0)), replica.levels());
      assert.deepStrictEqual(h.errors, []);
    }, { journalDir: dir });
  });
});
