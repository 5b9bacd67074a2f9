/**
 * The order router's memory and replay: what a session keeps is bounded by
 * counts, `requestOrders` answers one page at a time, and says what it can
 * no longer replay. Against a stand-in engine (synchronous, so that many
 * orders cost no time), and once over a real gateway.
 */

import assert from "node:assert";
import {
  type Command,
  CommandKind,
  type EngineEvent,
  EventKind,
  loadInstruments,
} from "../matching/mod.ts";
import { decodeServerMessage } from "../wire/server.ts";
import type {
  ClientRequest,
  ExecutionReportEvent,
  PositionsEvent,
  ServerEvent,
} from "../wire/types.ts";
import {
  type CommandOrigin,
  type OrderEntry,
  OrderRouter,
  type OrderRouterOptions,
} from "./orders.ts";
import { withGateway } from "./_harness.ts";

/**
 * A stand-in engine that rests every order and cancels on request, answering
 * each command at once, in the dispatcher's shape.
 */
function standInEngine(): OrderEntry {
  let listener: Parameters<OrderEntry["listen"]>[0] | undefined;
  let nextId = 1;
  let seq = 1;
  const resting = new Map<number, number>();
  return {
    allocateOrderId: () => nextId++,
    listen(l) {
      listener = l;
      return () => listener = undefined;
    },
    submit(command: Command, origin: CommandOrigin) {
      const events: EngineEvent[] = [];
      if (command.kind === CommandKind.PlaceOrder) {
        resting.set(command.id, command.qty);
        events.push({ kind: EventKind.OrderAccepted, id: command.id, instrument: 0 });
      } else if (command.kind === CommandKind.CancelOrder) {
        const leaves = resting.get(command.id);
        resting.delete(command.id);
        events.push(
          leaves === undefined
            ? {
              kind: EventKind.OrderRejected,
              id: command.id,
              instrument: 0,
              reason: "unknown_order",
            }
            : {
              kind: EventKind.OrderCancelled,
              id: command.id,
              instrument: 0,
              leaves,
              reason: "requested",
            },
        );
      } else {
        resting.set(command.id, command.qty);
        events.push({
          kind: EventKind.OrderReplaced,
          id: command.id,
          instrument: 0,
          price: command.price,
          qty: command.qty,
        });
      }
      listener?.(command, events, origin, 1_000n, seq);
      seq += events.length;
    },
  };
}

/** A router on the stand-in engine, and ALICE's connection to it, recording what she receives. */
function setup(limits: Pick<OrderRouterOptions, "reportsKept" | "idsKept" | "replayPage">) {
  const router = new OrderRouter({
    dispatcher: standInEngine(),
    accounts: { ensure: () => 1 },
    instruments: loadInstruments(),
    ...limits,
  });
  const inbox: ServerEvent[] = [];
  const alice = {
    account: "ALICE",
    role: "trader" as const,
    send: (frame: Uint8Array) => void inbox.push(decodeServerMessage(frame)),
  };
  router.attach(alice);
  let requestId = 1n;
  const send = (request: Record<string, unknown> & { type: ClientRequest["type"] }) =>
    router.handle(alice, { requestId: requestId++, sentAt: 0n, ...request } as never);
  const place = (clientOrderId: bigint, quantity = 1) =>
    send({
      type: "newOrder",
      clientOrderId,
      symbol: "AAPL",
      side: "buy",
      orderType: "limit",
      timeInForce: "gtc",
      postOnly: false,
      price: 18_000,
      quantity,
      account: "",
    });
  const cancel = (clientOrderId: bigint) => send({ type: "cancel", clientOrderId });
  /** Sends a `requestOrders` and returns the answer: the reports' sequences and the positions. */
  const replay = (sinceSequence: bigint, maxReports = 0) => {
    inbox.length = 0;
    send({ type: "requestOrders", sinceSequence, maxReports });
    const reports = inbox.slice(0, -1) as ExecutionReportEvent[];
    const positions = inbox.at(-1) as PositionsEvent;
    assert.deepStrictEqual(positions.type, "positions");
    assert(reports.every((r) => r.type === "executionReport" && r.replayed), "replayed reports");
    return { sequences: reports.map((r) => r.sequence), reports, positions };
  };
  /** The page state a Positions message ends an answer with. */
  const state = (p: PositionsEvent) => ({
    oldest: p.oldestSequence,
    through: p.throughSequence,
    more: p.more,
    sinceTooOld: p.sinceTooOld,
    latest: p.executionSequence,
  });
  return { router, inbox, place, cancel, send, replay, state };
}

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => BigInt(from + i));

Deno.test("orders: a session's memory stays bounded by the counts kept, however many orders it sends", () => {
  const { router, place, cancel } = setup({ reportsKept: 100, idsKept: 50 });
  for (let id = 1n; id <= 10n; id++) place(id); // still working at the end
  for (let id = 11n; id <= 5_010n; id++) {
    place(id);
    cancel(id);
  }
  assert.deepStrictEqual(router.executionSequence("ALICE"), 10_010n);
  // Before the bounds, 10,010 reports and 5,010 ids.
  assert.deepStrictEqual(router.retained("ALICE"), {
    reports: 100,
    clientOrderIds: 50,
    working: 10,
    open: 10,
  });
});

Deno.test("orders: a working order's id is refused however old; a done one's once the session forgot it", () => {
  const { router, place, cancel, inbox } = setup({ idsKept: 3 });
  const rejects = () => inbox.filter((m) => m.type === "reject").map((m) => m.clientOrderId);
  place(1n); // works throughout
  for (let id = 2n; id <= 10n; id++) {
    place(id);
    cancel(id);
  }
  assert.deepStrictEqual(router.retained("ALICE").clientOrderIds, 3);
  inbox.length = 0;
  place(1n); // forgotten by the recent ids, but working
  place(10n); // done, among the last three
  assert.deepStrictEqual(rejects(), [1n, 10n]);
  inbox.length = 0;
  place(2n); // done and forgotten: accepted again
  assert.deepStrictEqual(rejects(), []);
  assert.deepStrictEqual(inbox.map((m) => m.type === "executionReport" && m.execType), [
    "accepted",
  ]);
});

Deno.test("orders: requestOrders answers one page, capped by the core, and says where to continue", () => {
  const { place, replay, state } = setup({ replayPage: 5 });
  for (let id = 1n; id <= 12n; id++) place(id);
  // No limit asked: the core's page.
  const first = replay(0n);
  assert.deepStrictEqual(first.sequences, range(1, 5));
  assert.deepStrictEqual(state(first.positions), {
    oldest: 1n,
    through: 5n,
    more: true,
    sinceTooOld: false,
    latest: 12n,
  });
  // More asked than the core allows: capped.
  assert.deepStrictEqual(replay(5n, 100).sequences, range(6, 10));
  // Fewer: as asked.
  const last = replay(10n, 1);
  assert.deepStrictEqual([last.sequences, last.positions.more, last.positions.throughSequence], [
    [11n],
    true,
    11n,
  ]);
  const end = replay(11n, 4);
  assert.deepStrictEqual([end.sequences, state(end.positions)], [[12n], {
    oldest: 1n,
    through: 12n,
    more: false,
    sinceTooOld: false,
    latest: 12n,
  }]);
  // Exactly a page left: nothing more.
  assert.deepStrictEqual(replay(7n, 5).positions.more, false);
  // Nothing after the end: through is where the client was.
  assert.deepStrictEqual(state(replay(40n).positions), {
    oldest: 1n,
    through: 40n,
    more: false,
    sinceTooOld: false,
    latest: 12n,
  });
});

Deno.test("orders: paging from 0 re-sends every kept report once, in order", () => {
  const { place, cancel, replay } = setup({ replayPage: 7 });
  for (let id = 1n; id <= 20n; id++) {
    place(id);
    if (id % 3n === 0n) cancel(id);
  }
  const seen: bigint[] = [];
  let since = 0n;
  for (let pages = 0; pages < 10; pages++) {
    const { sequences, positions } = replay(since, 3);
    seen.push(...sequences);
    since = positions.throughSequence!;
    if (!positions.more) break;
  }
  assert.deepStrictEqual(seen, range(1, 26));
});

Deno.test("orders: the oldest replayable sequence moves with the log; too old a since is told so, with each working order's latest report", () => {
  const { place, cancel, send, replay, state } = setup({ reportsKept: 4 });
  place(1n, 5); // 1: accepted, and it keeps working
  place(2n, 6); // 2: accepted, working until replaced below
  for (let id = 3n; id <= 4n; id++) {
    place(id); // 3, 5
    cancel(id); // 4, 6
  }
  send({ type: "replace", clientOrderId: 2n, price: 18_100, quantity: 3 }); // 7
  // Kept: 4..7. Order 1's only report (1) is gone from the log, not from it.
  const all = replay(0n);
  assert.deepStrictEqual(all.sequences, [1n, 4n, 5n, 6n, 7n]);
  assert.deepStrictEqual(
    [all.reports[0]!.execType, all.reports[0]!.clientOrderId, all.reports[0]!.leavesQuantity],
    ["accepted", 1n, 5],
  );
  assert.deepStrictEqual(state(all.positions), {
    oldest: 4n,
    through: 7n,
    more: false,
    sinceTooOld: true,
    latest: 7n,
  });
  // Just old enough: nothing lost.
  const complete = replay(3n);
  assert.deepStrictEqual([complete.sequences, complete.positions.sinceTooOld], [
    range(4, 7),
    false,
  ]);
  // Report 3 is lost; order 1's latest (1) is not after since.
  const lost = replay(2n);
  assert.deepStrictEqual([lost.sequences, lost.positions.sinceTooOld], [range(4, 7), true]);
  // A page holds the working orders' reports first.
  const paged = replay(0n, 2);
  assert.deepStrictEqual([paged.sequences, state(paged.positions)], [[1n, 4n], {
    oldest: 4n,
    through: 4n,
    more: true,
    sinceTooOld: true,
    latest: 7n,
  }]);
  // Order 1 cancelled: its report is in the log again, and nothing older is held.
  cancel(1n); // 8
  assert.deepStrictEqual(replay(0n).sequences, [5n, 6n, 7n, 8n]);
});

Deno.test("OrderRouter refuses counts kept and pages that are not positive integers", () => {
  for (const bad of [{ reportsKept: 0 }, { idsKept: -1 }, { replayPage: 1.5 }]) {
    assert.throws(
      () => setup(bad),
      (error: unknown) =>
        error instanceof RangeError &&
        error.message.includes(`${Object.keys(bad)[0]} must be a positive integer`),
    );
  }
});

Deno.test("orders: over the wire, requestOrders(maxReports) pages and positions say where to continue", async () => {
  await withGateway(async (h) => {
    const alice = await h.connect("ALICE");
    for (let id = 1n; id <= 3n; id++) {
      alice.send({
        type: "newOrder",
        requestId: id,
        sentAt: 0n,
        clientOrderId: id,
        symbol: "AAPL",
        side: "buy",
        orderType: "limit",
        timeInForce: "gtc",
        postOnly: false,
        price: 18_000,
        quantity: 1,
        account: "",
      });
      await alice.nextOf("executionReport");
    }
    alice.send({
      type: "requestOrders",
      requestId: 9n,
      sentAt: 0n,
      sinceSequence: 0n,
      maxReports: 2,
    });
    const page = [await alice.next(), await alice.next(), await alice.next()];
    assert.deepStrictEqual(page.map((m) => m.type === "executionReport" ? m.sequence : m.type), [
      1n,
      2n,
      "positions",
    ]);
    const positions = page[2] as PositionsEvent;
    assert.deepStrictEqual(
      [positions.requestId, positions.oldestSequence, positions.throughSequence, positions.more],
      [9n, 1n, 2n, true],
    );
    alice.send({
      type: "requestOrders",
      requestId: 10n,
      sentAt: 0n,
      sinceSequence: 2n,
      maxReports: 2,
    });
    const rest = [await alice.next(), await alice.next()];
    assert.deepStrictEqual(rest.map((m) => m.type === "executionReport" ? m.sequence : m.type), [
      3n,
      "positions",
    ]);
    assert.deepStrictEqual((rest[1] as PositionsEvent).more, false);
  });
});
