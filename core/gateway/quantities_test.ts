// Quantities at the edges of their range, end to end: a real engine (its
// pre-trade risk), the gateway (reports, positions, requestOrders), the
// quote book and snapshotter writing to KV, and the edge reading KV through
// its own cache and app. Two orders of 2^53 - 1 lots once froze QQQ's public
// quote until the end of the UTC day (the day's volume passed 2^53 and the
// edge refused the snapshot) and made requestOrders fail for the account
// (its position could not be encoded).

import { createEdge } from "../../edge/create_edge.ts";
import { SnapshotCache } from "../../edge/snapshot_cache.ts";
import { parseQuoteSnapshot } from "../../schemas/quotes.ts";
import { DEFAULT_MAX_ORDER_QTY, EventKind, loadInstruments } from "../matching/mod.ts";
import { marketDataTop, QuoteBook, Snapshotter } from "../snapshotter/mod.ts";
import type { ServerEvent } from "../wire/types.ts";
import assert from "node:assert";
import { OrderRouter } from "./orders.ts";
import { type TestClient, withLiveGateway } from "./_harness.ts";
import { decodeServerMessage } from "../wire/mod.ts";

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
type Report = Extract<ServerEvent, { type: "executionReport" }>;
type Positions = Extract<ServerEvent, { type: "positions" }>;

/** Sends a GTC limit order for QQQ. */
function order(
  client: TestClient,
  clientOrderId: bigint,
  side: "buy" | "sell",
  price: number,
  quantity: number,
): void {
  client.send({
    type: "newOrder",
    requestId: client.requestId(),
    sentAt: 0n,
    clientOrderId,
    symbol: "QQQ",
    side,
    orderType: "limit",
    timeInForce: "gtc",
    postOnly: false,
    price,
    quantity,
    account: "",
  });
}

/** The QQQ quote as the edge's API serves it, read through its own cache from `kv`. */
async function edgeQuote(
  kv: Deno.Kv,
): Promise<{ status: number; ticker: Record<string, unknown> }> {
  const cache = new SnapshotCache({ kv });
  try {
    await cache.refresh();
    const app = createEdge({ cache, rateLimit: false });
    const response = await app.request("/api/v1/quotes/QQQ", undefined, {
      remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 1 },
    });
    const body = await response.json();
    return { status: response.status, ticker: body.ticker };
  } finally {
    await cache.close();
  }
}

Deno.test("orders above an instrument's maximum are refused by the engine, and the largest allowed flow exactly to positions, snapshots and the edge", async () => {
  const qqq = loadInstruments().find((i) => i.symbol === "QQQ")!;
  assert.deepStrictEqual(qqq.maxOrderQty, DEFAULT_MAX_ORDER_QTY);
  await withLiveGateway(async (h) => {
    const quotes = new QuoteBook({
      instruments: h.instruments,
      top: marketDataTop(h.marketData, h.instruments),
    });
    h.dispatcher.listen((_command, events, _origin, engineTime) =>
      quotes.apply(events, engineTime)
    );
    const kv = await Deno.openKv(":memory:");
    const snapshotter = new Snapshotter({ kv, quotes, cadenceMs: 10_000 });
    try {
      await snapshotter.start();
      const alice = await h.connect("ALICE");
      const bob = await h.connect("BOB");

      // What froze QQQ: two orders of 2^53 - 1 lots. Both are refused now,
      // as is one lot above the maximum, before they reach the book.
      order(alice, 1n, "sell", 48_000, MAX_SAFE);
      order(alice, 2n, "sell", 48_000, MAX_SAFE);
      order(alice, 3n, "sell", 48_000, qqq.maxOrderQty + 1);
      for (const id of [1n, 2n, 3n]) {
        const reject = await alice.nextOf("reject");
        assert.deepStrictEqual([reject.clientOrderId, reject.reason], [id, "maxOrderQty"]);
        assert(reject.message.includes("(max_order_qty)"), reject.message);
      }

      // The largest orders allowed: three at the maximum rest at one level,
      // a replace above the maximum is refused, and BOB takes them all.
      for (const id of [4n, 5n, 6n]) order(alice, id, "sell", 48_000, qqq.maxOrderQty);
      for (let i = 0; i < 3; i++) {
        assert.deepStrictEqual((await alice.nextOf("executionReport")).execType, "accepted");
      }
      await h.settled();
      assert.deepStrictEqual(h.marketData.book("QQQ")?.asks, [
        { price: 48_000, quantity: 3 * qqq.maxOrderQty, orderCount: 3 },
      ]);
      alice.send({
        type: "replace",
        requestId: alice.requestId(),
        sentAt: 0n,
        clientOrderId: 6n,
        price: 48_000,
        quantity: qqq.maxOrderQty + 1,
      });
      assert.deepStrictEqual((await alice.nextOf("reject")).reason, "maxOrderQty");
      for (const id of [1n, 2n, 3n]) order(bob, id, "buy", 48_100, qqq.maxOrderQty);
      await h.settled();
      await bob.until(
        () =>
          bob.inbox.filter((m) => m.type === "executionReport" && m.execType === "trade").length ===
            3,
        "BOB's three fills",
      );

      // requestOrders answers with the positions, exact.
      alice.takeAll();
      const requestId = alice.requestId();
      alice.send({ type: "requestOrders", requestId, sentAt: 0n, sinceSequence: 0n });
      const positions: Positions = await alice.nextOf("positions");
      const volume = 3 * qqq.maxOrderQty;
      assert.deepStrictEqual(positions.positions, [{
        symbol: "QQQ",
        netQuantity: -volume,
        boughtQuantity: 0,
        soldQuantity: volume,
        boughtNotional: 0n,
        soldNotional: 48_000n * BigInt(volume),
        openBuyQuantity: 0,
        openSellQuantity: 0,
      }]);
      assert.deepStrictEqual(h.errors, []);

      // The snapshot the core writes, and the quote the edge serves from it.
      await snapshotter.flush();
      const stored = parseQuoteSnapshot((await kv.get(["quotes", "symbol", "QQQ"])).value);
      assert(stored.ok, stored.ok ? "" : stored.problem);
      assert.deepStrictEqual(stored.snapshot.day?.volume, volume);
      assert.deepStrictEqual([stored.snapshot.ask, stored.snapshot.lastTrade?.size], [
        null,
        qqq.maxOrderQty,
      ]);
      const served = await edgeQuote(kv);
      assert.deepStrictEqual(served.status, 200);
      assert.deepStrictEqual(served.ticker.day, {
        o: 480,
        h: 480,
        l: 480,
        c: 480,
        v: volume,
        vw: 480,
        n: 3,
      });
    } finally {
      await snapshotter.close();
      kv.close();
    }
  });
});

Deno.test("a day past 2^53 - 1 lots still reaches the edge: the snapshot's volume saturates", async () => {
  // Quantities the engine no longer allows, fed to the quote book as a
  // matcher without a maximum would report them.
  const instruments = loadInstruments();
  const QQQ = instruments.findIndex((i) => i.symbol === "QQQ");
  const top = () => ({ bidPrice: 0, bidSize: 0, askPrice: 0, askSize: 0, sequence: 1 });
  const quotes = new QuoteBook({ instruments, top });
  const kv = await Deno.openKv(":memory:");
  const now = Date.UTC(2026, 10, 25, 15);
  const snapshotter = new Snapshotter({ kv, quotes, cadenceMs: 10_000, now: () => now });
  try {
    await snapshotter.start();
    const at = BigInt(now) * 1_000_000n;
    for (const [taker, price] of [[1, 48_000], [3, 48_300]] as const) {
      quotes.apply([{
        kind: EventKind.OrderTraded,
        instrument: QQQ,
        taker,
        maker: taker + 1,
        price,
        qty: MAX_SAFE,
      }], at);
      await snapshotter.flush();
    }
    const stored = parseQuoteSnapshot((await kv.get(["quotes", "symbol", "QQQ"])).value);
    assert(stored.ok, stored.ok ? "" : stored.problem);
    assert.deepStrictEqual(stored.snapshot.day?.volume, MAX_SAFE);
    const served = await edgeQuote(kv);
    assert.deepStrictEqual(served.status, 200);
    assert.deepStrictEqual(served.ticker.day, {
      o: 480,
      h: 483,
      l: 480,
      c: 483,
      v: MAX_SAFE,
      vw: 481.5,
      n: 2,
    });
  } finally {
    await snapshotter.close();
    kv.close();
  }
});

Deno.test("requestOrders sends positions past 2^53 - 1 lots and 2^63 - 1 notional, saturated", () => {
  // A stand-in engine that fills every order as it comes, against a maker of
  // the other account: two fills of 2^53 - 1 lots each way.
  type Listener = Parameters<
    ConstructorParameters<typeof OrderRouter>[0]["dispatcher"]["listen"]
  >[0];
  let listener: Listener | undefined;
  let nextId = 1;
  let seq = 1;
  const restingMaker = new Map<number, number>();
  const router = new OrderRouter({
    instruments: loadInstruments(),
    accounts: { ensure: (name) => (name === "ALICE" ? 1 : 2) },
    dispatcher: {
      allocateOrderId: () => nextId++,
      listen: (l) => ((listener = l), () => {}),
      submit: (command, origin) => {
        if (command.kind !== 1) return;
        const maker = restingMaker.get(command.instrument);
        const events = [{
          kind: EventKind.OrderAccepted,
          id: command.id,
          instrument: command.instrument,
        }] as never[];
        if (maker === undefined) {
          restingMaker.set(command.instrument, command.id);
        } else {
          restingMaker.delete(command.instrument);
          events.push({
            kind: EventKind.OrderTraded,
            instrument: command.instrument,
            taker: command.id,
            maker,
            price: command.price,
            qty: command.qty,
          } as never);
        }
        listener!(command, events, origin as never, 0n, seq);
        seq += events.length;
      },
    },
  });
  const frames: Uint8Array[] = [];
  const alice = {
    account: "ALICE",
    role: "trader" as const,
    send: (f: Uint8Array) => void frames.push(f),
  };
  const bob = { account: "BOB", role: "trader" as const, send: () => {} };
  router.attach(alice);
  router.attach(bob);
  const place = (client: typeof alice | typeof bob, id: bigint, side: "buy" | "sell") =>
    router.handle(client, {
      type: "newOrder",
      requestId: id,
      sentAt: 0n,
      clientOrderId: id,
      symbol: "QQQ",
      side,
      orderType: "limit",
      timeInForce: "gtc",
      postOnly: false,
      price: 48_000,
      quantity: MAX_SAFE,
      account: "",
    });
  for (const id of [1n, 2n]) {
    place(alice, id, "sell");
    place(bob, id, "buy");
  }
  frames.length = 0;
  router.handle(alice, { type: "requestOrders", requestId: 9n, sentAt: 0n, sinceSequence: 0n });
  const answer = frames.map((f) => decodeServerMessage(f)).find((m) => m.type === "positions");
  assert(answer !== undefined && answer.type === "positions", "no positions were sent");
  assert.deepStrictEqual(answer.positions, [{
    symbol: "QQQ",
    netQuantity: -MAX_SAFE,
    boughtQuantity: 0,
    soldQuantity: MAX_SAFE,
    boughtNotional: 0n,
    soldNotional: 2n ** 63n - 1n,
    openBuyQuantity: 0,
    openSellQuantity: 0,
  }]);
  const reports = frames.map((f) => decodeServerMessage(f)).filter((m): m is Report =>
    m.type === "executionReport"
  );
  assert.deepStrictEqual(reports.filter((r) => r.execType === "trade").map((r) => r.lastQuantity), [
    MAX_SAFE,
    MAX_SAFE,
  ]);
  router.close();
});
