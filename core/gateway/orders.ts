/**
 * Order routing: trader requests become engine commands, and engine events
 * become execution reports for the sessions that own the orders.
 *
 * # Sessions
 *
 * A session is an account's standing with the gateway, kept across
 * reconnects: every connection authenticated as that account (the token's
 * `sub`) with the trader or admin role joins it. It holds
 *
 * - the client order ids its connections used most recently (see
 *   "Duplicate client order ids");
 * - its working orders by client order id, each with the engine's id for
 *   the order, which `cancel`, `replace` and `cancelAll` name;
 * - the account's execution reports, numbered 1, 2, 3… without gaps, of
 *   which it keeps the latest `reportsKept` (10,000 by default) for
 *   `requestOrders` (see "Replay").
 *
 * # Duplicate client order ids
 *
 * A new order is refused with `duplicateId` when its client order id names
 * an order of the session that is still working, however old, or one of
 * the `idsKept` (10,000 by default) most recent ids the session used,
 * done or not (refused by the engine included). An id older than that
 * whose order is done may be accepted again: the guarantee is "never a
 * duplicate of a working order, nor of the session's last `idsKept` ids",
 * not uniqueness for the session's lifetime. Memory per session is bounded
 * by `idsKept` plus its working orders.
 *
 * # Replay
 *
 * `requestOrders(sinceSequence, maxReports)` re-sends (`replayed`) the
 * account's reports numbered after `sinceSequence`, in order, at most
 * `maxReports` of them and never more than `replayPage` (1,000 by
 * default), then the account's positions, which end the answer: its
 * `throughSequence` is the last sequence sent, `more` says whether more
 * follows (ask again from `throughSequence`), `oldestSequence` is the
 * oldest report kept. A page is sent within one message's handling, so one
 * request costs at most `replayPage` encodes before the event loop moves on
 * (~10 µs each), however long the log: a client wanting more asks again,
 * and its further requests queue behind everyone else's messages.
 *
 * Reports before `oldestSequence` are gone, except the latest report of each
 * order still working, which its order holds: a `sinceSequence` older than
 * the log (`sinceSequence + 1 < oldestSequence`) is answered with those
 * (their own, older sequences, in order) ahead of the kept reports, and
 * positions with `sinceTooOld`, so a client away too long still learns
 * every working order's state and the account's positions (kept as totals,
 * never trimmed), but not the history in between.
 *
 * # Routing
 *
 * Every command's events reach the router in engine order (it listens to
 * the dispatcher), whoever sent the command, so a resting order's fill is
 * reported when someone else's order takes it (liquidity `maker`). Each
 * report goes to every connection of the order's account, and to the
 * placing session's connections when an admin placed it for another account
 * (with the owning account's sequence). A trade's id is its trade event's
 * engine sequence number, as the market data publisher numbers it
 * (`core/marketdata/`): a fill and its public trade share an id, unique
 * over all symbols and the same after a restart, since replay numbers
 * events the same way. Refusals are `reject` messages to
 * the requesting connection only: the engine's reasons (risk's 11–17
 * included) under their wire names, and the router's own — `duplicateId`,
 * `notAuthorised`, `unknownSymbol` (not traded here), `unknownOrder` (no
 * such working order in the session) — before anything reaches the engine.
 *
 * # Permissions
 *
 * A trader trades for its own account only; an admin for any account (the
 * request's `account`) that is registered and enabled (`canTradeFor`, which
 * the core answers from the account store; else `notAuthorised`, before
 * anything reaches the engine); a viewer not at all (`notAuthorised`).
 *
 * Orders an admin placed for another account belong to the admin's session
 * (its client order ids): only that admin's connections cancel or replace
 * them, and the account's own `cancel` does not find them (`unknownOrder`)
 * and its `cancelAll` leaves them, though the account sees their reports.
 *
 * # Restarts
 *
 * A new order's client order id, and who placed it when an admin placed it
 * for another account, go into the journal with its command
 * (`OrderLabel`); the engine keeps both with the order while it rests. After
 * a restart, `adopt` gives each recovered order back to its placer's session
 * under its own client order id: an admin's order stays the admin's (its
 * account's trader cannot cancel it, its `cancelAll` leaves it), a trader's
 * is cancelled by the id it was placed with.
 *
 * # Known limitations
 *
 * - Sessions and reports live in memory: a core restart starts every
 *   sequence at 1 again, recovered orders are reported afresh as `accepted`
 *   with no fills before the restart (`cumQuantity` 0), and the ids of
 *   orders already done are forgotten (so may be used again).
 * - Orders placed before client order ids were journaled (and recovered
 *   from a version 2 snapshot) have none: `adopt` gives them their engine
 *   id as client order id, in their account's session.
 * - Replay keeps a count of reports, not a trading day: a busy account's
 *   morning may be gone by the afternoon (each working order's latest
 *   report excepted), a quiet account's yesterday still there.
 * - A position's quantities saturate at ±(2^53 − 1) lots and its notionals
 *   at 2^63 − 1 (the wire's `Int64`), so that `requestOrders` always has
 *   positions it can send: unreachable with the instruments' maximum order
 *   quantities (over 4 × 10^9 fills of 2^21 − 1 lots).
 *
 * @module
 */

import {
  type Command,
  CommandKind,
  type EngineEvent,
  EventKind,
  type Instrument,
  type OrderLabel,
  OrderType as EngineOrderType,
  type RejectReasonName,
  Side as EngineSide,
  TimeInForce as EngineTif,
} from "../matching/types.ts";
import { encodeServerMessage } from "../wire/server.ts";
import {
  type CancelAllRequest,
  type CancelRequest,
  type ExecType,
  type ExecutionReportEvent,
  type Liquidity,
  type NewOrderRequest,
  type OrdersRequest,
  type OrderType,
  type Position,
  type Reason,
  type ReplaceRequest,
  type RequestType,
  type Side,
  type TimeInForce,
} from "../wire/types.ts";
import type { Role } from "./config.ts";
import {
  rejectReasonText,
  wireCancelReason,
  wireRejectReason,
} from "../../schemas/vocabulary/reasons.ts";
import { nowNs } from "./_clock.ts";
import { RecentIds } from "./_recent_ids.ts";
import { ReportLog } from "./_report_log.ts";

/** A connection as the router sees it. */
export interface SessionClient {
  /** The account it authenticated as (the token's `sub`). */
  readonly account: string;
  /** What it may do: a viewer places no orders. */
  readonly role: Role;
  /** Sends one frame: execution reports, rejects, positions. */
  send(frame: Uint8Array): void;
}

/** The order requests the router handles. */
export type OrderRequest =
  | NewOrderRequest
  | CancelRequest
  | ReplaceRequest
  | CancelAllRequest
  | OrdersRequest;

/** Who submitted a command, as the dispatcher carries it back. */
export interface CommandOrigin {
  /** A short name for logs: `"gateway"` for the router's commands. */
  readonly source: string;
}

/** What the router needs of the engine's dispatcher. */
export interface OrderEntry {
  /** The engine's one order id allocator. */
  allocateOrderId(): number;
  /**
   * Submits a command in order; never drops it. A place order's label (its
   * client order id and placer) is journaled with it and kept with the
   * resting order, for {@linkcode OrderRouter.adopt} after a restart.
   */
  submit(command: Command, origin: CommandOrigin, label?: OrderLabel): void;
  /** Every command's events, in engine order; returns the remover. */
  listen(
    listener: (
      command: Command,
      events: readonly EngineEvent[],
      origin: CommandOrigin,
      engineTime: bigint,
      firstSeq: number,
    ) => void,
  ): () => void;
}

/** What the router needs of the account registry. */
export interface AccountNumbers {
  /** The engine number of an account, given one when new. */
  ensure(name: string): number;
}

/** Options for {@linkcode OrderRouter}. */
export interface OrderRouterOptions {
  /** The engine's dispatcher: ids, submissions, and every command's events. */
  readonly dispatcher: OrderEntry;
  /** Account names to engine numbers (the `AccountRegistry`). */
  readonly accounts: AccountNumbers;
  /** The instrument table; position = instrument number. */
  readonly instruments: readonly Instrument[];
  /**
   * Why an admin may not place orders for another account, or undefined
   * when it may (the core: registered and enabled, from the account store).
   * Default: any account.
   */
  readonly canTradeFor?: (account: string) => string | undefined;
  /** Execution reports kept per account for `requestOrders` (default {@linkcode DEFAULT_REPORTS_KEPT}). */
  readonly reportsKept?: number;
  /**
   * Recent client order ids kept per session for `duplicateId`, besides its
   * working orders' (default {@linkcode DEFAULT_IDS_KEPT}).
   */
  readonly idsKept?: number;
  /** The most reports one `requestOrders` answer re-sends (default {@linkcode DEFAULT_REPLAY_PAGE}). */
  readonly replayPage?: number;
}

/** Execution reports kept per account unless told otherwise (~2–3 per order). */
export const DEFAULT_REPORTS_KEPT = 10_000;

/** Recent client order ids kept per session unless told otherwise. */
export const DEFAULT_IDS_KEPT = 10_000;

/**
 * The most reports one `requestOrders` answer holds unless told otherwise:
 * at ~10 µs an encode, ~10 ms of the event loop.
 */
export const DEFAULT_REPLAY_PAGE = 1_000;

/** What a session keeps in memory, by count: see {@linkcode OrderRouter.retained}. */
export interface Retained {
  /** Execution reports kept for replay (at most `reportsKept`). */
  readonly reports: number;
  /** Recent client order ids kept for `duplicateId` (at most `idsKept`). */
  readonly clientOrderIds: number;
  /** Orders the session placed that are still working (bounded by risk's open-order limit). */
  readonly working: number;
  /** The account's orders still working, whoever placed them. */
  readonly open: number;
}

/** Running fills of one symbol. */
interface Fills {
  bought: number;
  sold: number;
  boughtNotional: bigint;
  soldNotional: bigint;
}

interface Order {
  readonly id: number;
  readonly clientOrderId: bigint;
  readonly placer: Session;
  readonly owner: Session;
  readonly symbol: string;
  readonly instrument: number;
  readonly side: Side;
  readonly orderType: OrderType;
  readonly timeInForce: TimeInForce;
  readonly postOnly: boolean;
  price: number;
  leaves: number;
  cum: number;
  /** A cancel of it is in flight (cancelAll skips it). */
  cancelling: boolean;
  /** Its latest report: replayed while it works, even once the log has let it go. */
  last?: ExecutionReportEvent;
}

class Session {
  readonly clients = new Set<SessionClient>();
  /** The most recent client order ids used, for `duplicateId` (with `working`). */
  readonly used: RecentIds;
  /** Orders this session placed that are still working, by client order id. */
  readonly working = new Map<bigint, Order>();
  /** This account's orders still working (whoever placed them). */
  readonly open = new Set<Order>();
  /** This account's latest execution reports. */
  readonly log: ReportLog<ExecutionReportEvent>;
  readonly fills = new Map<string, Fills>();
  /** Net lots held per symbol when the core started (the engine's, after a restart). */
  readonly carried = new Map<string, number>();
  #number: number | undefined;

  constructor(readonly account: string, reportsKept: number, idsKept: number) {
    this.log = new ReportLog(reportsKept);
    this.used = new RecentIds(idsKept);
  }

  number(accounts: AccountNumbers): number {
    return this.#number ??= accounts.ensure(this.account);
  }
}

/** The origin of the router's commands: the request and order they serve. */
class RequestOrigin implements CommandOrigin {
  readonly source = "gateway";
  constructor(
    readonly router: OrderRouter,
    readonly client: SessionClient,
    readonly request: RequestType,
    readonly requestId: bigint,
    readonly order: Order,
  ) {}
}

const SIDE: Readonly<Record<Side, EngineSide>> = { buy: EngineSide.Buy, sell: EngineSide.Sell };
const ORDER_TYPE: Readonly<Record<OrderType, EngineOrderType>> = {
  limit: EngineOrderType.Limit,
  market: EngineOrderType.Market,
};
const TIF: Readonly<Record<TimeInForce, EngineTif>> = {
  gtc: EngineTif.Gtc,
  ioc: EngineTif.Ioc,
  fok: EngineTif.Fok,
};

const VERB: Readonly<Record<string, string>> = {
  newOrder: "place order",
  cancel: "cancel order",
  replace: "replace order",
  cancelAll: "cancel orders",
  requestOrders: "send orders",
};

/**
 * Routes one gateway's order requests to the engine and the engine's events
 * back as execution reports; see the module documentation.
 *
 * @example
 * ```ts
 * import { OrderRouter } from "./orders.ts";
 * import { decodeServerMessage } from "../wire/mod.ts";
 * import { loadInstruments, type Command } from "../matching/mod.ts";
 *
 * // A stand-in engine that accepts every order (tests use the real one).
 * let listener: ((c: Command, e: never[], o: never, t: bigint, seq: number) => void) | undefined;
 * let nextId = 1;
 * const router = new OrderRouter({
 *   instruments: loadInstruments(),
 *   accounts: { ensure: () => 1 },
 *   dispatcher: {
 *     allocateOrderId: () => nextId++,
 *     listen: (l) => ((listener = l), () => {}),
 *     submit: (c, origin) =>
 *       listener!(c, [{ kind: 1, id: c.id, instrument: 0 }] as never[], origin as never, 0n, 1),
 *   },
 * });
 * const frames: Uint8Array[] = [];
 * const client = { account: "ALICE", role: "trader" as const, send: (f: Uint8Array) => void frames.push(f) };
 * router.attach(client);
 * router.handle(client, {
 *   type: "newOrder", requestId: 1n, sentAt: 0n, clientOrderId: 7n, symbol: "AAPL", side: "buy",
 *   orderType: "limit", timeInForce: "gtc", postOnly: false, price: 19000, quantity: 5, account: "",
 * });
 * const report = decodeServerMessage(frames[0]!);
 * if (report.type !== "executionReport" || report.execType !== "accepted" || report.sequence !== 1n) {
 *   throw new Error(JSON.stringify(report, (_, v) => typeof v === "bigint" ? String(v) : v));
 * }
 * ```
 */
export class OrderRouter {
  readonly #dispatcher: OrderEntry;
  readonly #accounts: AccountNumbers;
  readonly #canTradeFor: ((account: string) => string | undefined) | undefined;
  readonly #symbols: ReadonlyMap<string, number>;
  readonly #sessions = new Map<string, Session>();
  /** Working orders by engine id. */
  readonly #orders = new Map<number, Order>();
  readonly #stop: () => void;
  readonly #reportsKept: number;
  readonly #idsKept: number;
  readonly #replayPage: number;

  /**
   * Starts listening to the dispatcher.
   *
   * @param options The dispatcher, the account registry, the instruments,
   *   and the counts kept.
   * @throws {RangeError} If a count kept or the replay page is not a
   *   positive integer.
   */
  constructor(options: OrderRouterOptions) {
    this.#reportsKept = positive(options.reportsKept ?? DEFAULT_REPORTS_KEPT, "reportsKept");
    this.#idsKept = positive(options.idsKept ?? DEFAULT_IDS_KEPT, "idsKept");
    this.#replayPage = positive(options.replayPage ?? DEFAULT_REPLAY_PAGE, "replayPage");
    this.#dispatcher = options.dispatcher;
    this.#accounts = options.accounts;
    this.#canTradeFor = options.canTradeFor;
    this.#symbols = new Map(options.instruments.map((i, n) => [i.symbol, n]));
    this.#stop = options.dispatcher.listen(this.#onCommand);
  }

  /**
   * Takes over the orders a restart recovered from the journal, before any
   * client connects: each becomes a working order of the session that
   * placed it — an admin's for an order it placed for another account
   * (`placer`), else its account's — under the client order id it was
   * placed with, with an `accepted` report in its account's log, so that
   * `requestOrders` finds it and its placer's `cancel`/`cancelAll` reach it.
   * An order without a client order id (placed before they were journaled),
   * or whose id its session already uses, is known by its engine id. Its
   * filled quantity before the restart is not known (reported as 0).
   *
   * @param orders The resting orders (`NativeEngine.restingOrders`).
   * @param accountName The name of an engine account number; orders of
   *   accounts without one are left alone, and an order whose placer has
   *   none goes to its account's session.
   * @returns How many orders were taken over.
   *
   * @example
   * ```ts
   * import { OrderRouter } from "./orders.ts";
   * import { loadInstruments } from "../matching/mod.ts";
   * const router = new OrderRouter({
   *   dispatcher: { allocateOrderId: () => 1, submit() {}, listen: () => () => {} },
   *   accounts: { ensure: () => 7 },
   *   instruments: loadInstruments(),
   * });
   * const taken = router.adopt(
   *   [{
   *     id: 42, account: 7, instrument: 0, side: 0, postOnly: false, price: 18_990, qty: 5,
   *     clientOrderId: 9n, placer: 3,
   *   }],
   *   (n) => (n === 7 ? "ALICE" : n === 3 ? "BOSS" : undefined),
   * );
   * // ALICE's order, in BOSS's session under client order id 9.
   * if (taken !== 1 || router.executionSequence("ALICE") !== 1n) throw new Error("not adopted");
   * if (router.retained("BOSS").working !== 1 || router.retained("ALICE").working !== 0) {
   *   throw new Error("not the admin's");
   * }
   * ```
   */
  adopt(
    orders: Iterable<{
      readonly id: number;
      readonly account: number;
      readonly instrument: number;
      readonly side: number;
      readonly postOnly: boolean;
      readonly price: number;
      readonly qty: number;
      /** The client order id it was placed with; 0n or absent: none. */
      readonly clientOrderId?: bigint;
      /** The engine number of the account that placed it for `account`; null or absent: `account`. */
      readonly placer?: number | null;
    }>,
    accountName: (account: number) => string | undefined,
  ): number {
    const symbols = [...this.#symbols.keys()];
    const engineTime = nowNs();
    let taken = 0;
    for (const o of orders) {
      const name = accountName(o.account);
      const symbol = symbols[o.instrument];
      if (name === undefined || symbol === undefined || this.#orders.has(o.id)) continue;
      const owner = this.#session(name);
      const placerName = o.placer === undefined || o.placer === null
        ? undefined
        : accountName(o.placer);
      const placer = placerName === undefined ? owner : this.#session(placerName);
      // Unlabelled, or its id already in use in the session: its engine id.
      const wanted = o.clientOrderId ?? 0n;
      const clientOrderId = wanted !== 0n && !placer.working.has(wanted) ? wanted : BigInt(o.id);
      if (placer.working.has(clientOrderId)) continue;
      const order: Order = {
        id: o.id,
        clientOrderId,
        placer,
        owner,
        symbol,
        instrument: o.instrument,
        side: o.side === EngineSide.Buy ? "buy" : "sell",
        orderType: "limit",
        timeInForce: "gtc",
        postOnly: o.postOnly,
        price: o.price,
        leaves: o.qty,
        cum: 0,
        cancelling: false,
      };
      this.#track(order);
      this.#report(order, "accepted", engineTime, 0n, { replayed: true });
      taken++;
    }
    return taken;
  }

  /**
   * Takes over the net positions a restart recovered (the engine's risk
   * state, from every fill the journal holds), before any client connects:
   * an account's `positions` then start from them, so its `netQuantity` is
   * the engine's, not only what it traded since the restart. Bought and sold
   * quantities and notionals count the fills since the core started.
   *
   * @param positions The engine's positions (`NativeEngine.positions`).
   * @param accountName The name of an engine account number; positions of
   *   accounts without one are left alone.
   * @returns How many positions were taken over.
   *
   * @example
   * ```ts
   * import { OrderRouter } from "./orders.ts";
   * import { loadInstruments } from "../matching/mod.ts";
   * const router = new OrderRouter({
   *   dispatcher: { allocateOrderId: () => 1, submit() {}, listen: () => () => {} },
   *   accounts: { ensure: () => 7 },
   *   instruments: loadInstruments(),
   * });
   * const taken = router.carryPositions([{ account: 7, instrument: 0, net: -40 }], () => "ALICE");
   * if (taken !== 1) throw new Error("not taken over");
   * ```
   */
  carryPositions(
    positions: Iterable<
      { readonly account: number; readonly instrument: number; readonly net: number }
    >,
    accountName: (account: number) => string | undefined,
  ): number {
    const symbols = [...this.#symbols.keys()];
    let taken = 0;
    for (const p of positions) {
      const name = accountName(p.account);
      const symbol = symbols[p.instrument];
      if (name === undefined || symbol === undefined || p.net === 0) continue;
      const carried = this.#session(name).carried;
      carried.set(symbol, (carried.get(symbol) ?? 0) + p.net);
      taken++;
    }
    return taken;
  }

  /** Records a working order: its client order id used and working in its placer's session, open in its owner's. */
  #track(order: Order): void {
    order.placer.used.add(order.clientOrderId);
    order.placer.working.set(order.clientOrderId, order);
    order.owner.open.add(order);
    this.#orders.set(order.id, order);
  }

  /** Stops listening to the dispatcher. */
  close(): void {
    this.#stop();
  }

  #session(account: string): Session {
    let session = this.#sessions.get(account);
    if (session === undefined) {
      session = new Session(account, this.#reportsKept, this.#idsKept);
      this.#sessions.set(account, session);
    }
    return session;
  }

  /**
   * Joins a connection to its account's session: from now on it receives
   * the account's execution reports. Viewers are never joined.
   *
   * @param client The connection.
   */
  attach(client: SessionClient): void {
    if (client.role === "viewer") return;
    this.#session(client.account).clients.add(client);
  }

  /**
   * Takes a connection out of its session (it closed). Its orders keep
   * working; their reports go to the account's other connections, and to
   * the log for the next `requestOrders`.
   *
   * @param client The connection.
   */
  detach(client: SessionClient): void {
    this.#sessions.get(client.account)?.clients.delete(client);
  }

  /**
   * The account's latest execution-report sequence (0 before any).
   *
   * @param account The account's name.
   * @returns The sequence.
   */
  executionSequence(account: string): bigint {
    return BigInt(this.#sessions.get(account)?.log.latest ?? 0);
  }

  /**
   * What the account's session keeps in memory, by count: bounded by the
   * counts kept and the working orders, however many orders it sent.
   *
   * @param account The account's name.
   * @returns The counts (all 0 for an account never seen).
   *
   * @example
   * ```ts
   * import { OrderRouter } from "./orders.ts";
   * import { loadInstruments } from "../matching/mod.ts";
   * const router = new OrderRouter({
   *   dispatcher: { allocateOrderId: () => 1, submit() {}, listen: () => () => {} },
   *   accounts: { ensure: () => 1 },
   *   instruments: loadInstruments(),
   * });
   * if (router.retained("ALICE").reports !== 0) throw new Error("nothing yet");
   * ```
   */
  retained(account: string): Retained {
    const session = this.#sessions.get(account);
    return {
      reports: session?.log.size ?? 0,
      clientOrderIds: session?.used.size ?? 0,
      working: session?.working.size ?? 0,
      open: session?.open.size ?? 0,
    };
  }

  /**
   * Handles one order request of a connection: submits its commands, or
   * answers it with a reject.
   *
   * @param client The connection.
   * @param request The decoded request.
   */
  handle(client: SessionClient, request: OrderRequest): void {
    if (client.role === "viewer") {
      this.#reject(client, request, "notAuthorised", "a viewer receives market data only");
      return;
    }
    switch (request.type) {
      case "newOrder":
        return this.#place(client, request);
      case "cancel":
        return this.#cancel(client, request);
      case "replace":
        return this.#replace(client, request);
      case "cancelAll":
        return this.#cancelAll(client, request);
      case "requestOrders":
        return this.#replay(client, request);
    }
  }

  #place(client: SessionClient, request: NewOrderRequest): void {
    const account = request.account === "" ? client.account : request.account;
    if (account !== client.account && client.role !== "admin") {
      this.#reject(
        client,
        request,
        "notAuthorised",
        `a trader trades for its own account (${JSON.stringify(client.account)}), not ${
          JSON.stringify(account)
        }`,
      );
      return;
    }
    // An admin for another account: only one the store holds, enabled (a
    // name never registered would otherwise become an engine account).
    const refused = account === client.account ? undefined : this.#canTradeFor?.(account);
    if (refused !== undefined) {
      this.#reject(client, request, "notAuthorised", refused);
      return;
    }
    const placer = this.#session(client.account);
    if (placer.working.has(request.clientOrderId) || placer.used.has(request.clientOrderId)) {
      this.#reject(
        client,
        request,
        "duplicateId",
        `clientOrderId ${request.clientOrderId} was already used in this session`,
      );
      return;
    }
    const instrument = this.#symbols.get(request.symbol);
    if (instrument === undefined) {
      this.#reject(client, request, "unknownSymbol", `${request.symbol} is not traded here`);
      return;
    }
    const owner = this.#session(account);
    // Journaled with the order, so that a restart gives it back to its
    // placer under this client order id (see "Restarts").
    const label: OrderLabel = placer === owner
      ? { clientOrderId: request.clientOrderId }
      : { clientOrderId: request.clientOrderId, placer: placer.number(this.#accounts) };
    const order: Order = {
      id: this.#dispatcher.allocateOrderId(),
      clientOrderId: request.clientOrderId,
      placer,
      owner,
      symbol: request.symbol,
      instrument,
      side: request.side,
      orderType: request.orderType,
      timeInForce: request.timeInForce,
      postOnly: request.postOnly,
      price: request.price,
      leaves: request.quantity,
      cum: 0,
      cancelling: false,
    };
    this.#track(order);
    this.#dispatcher.submit(
      {
        kind: CommandKind.PlaceOrder,
        id: order.id,
        account: owner.number(this.#accounts),
        instrument,
        side: SIDE[request.side],
        type: ORDER_TYPE[request.orderType],
        tif: TIF[request.timeInForce],
        postOnly: request.postOnly,
        price: request.price,
        qty: request.quantity,
      },
      new RequestOrigin(this, client, "newOrder", request.requestId, order),
      label,
    );
  }

  /** The session's working order with this client id, or a reject. */
  #working(client: SessionClient, request: CancelRequest | ReplaceRequest): Order | undefined {
    const session = this.#session(client.account);
    const order = session.working.get(request.clientOrderId);
    if (order === undefined) {
      this.#reject(
        client,
        request,
        "unknownOrder",
        session.used.has(request.clientOrderId)
          ? `order ${request.clientOrderId} is no longer working`
          : `this session has no working order ${request.clientOrderId}`,
      );
    }
    return order;
  }

  #cancel(client: SessionClient, request: CancelRequest): void {
    const order = this.#working(client, request);
    if (order === undefined) return;
    order.cancelling = true;
    this.#dispatcher.submit(
      { kind: CommandKind.CancelOrder, id: order.id },
      new RequestOrigin(this, client, "cancel", request.requestId, order),
    );
  }

  #replace(client: SessionClient, request: ReplaceRequest): void {
    const order = this.#working(client, request);
    if (order === undefined) return;
    this.#dispatcher.submit(
      { kind: CommandKind.ReplaceOrder, id: order.id, price: request.price, qty: request.quantity },
      new RequestOrigin(this, client, "replace", request.requestId, order),
    );
  }

  #cancelAll(client: SessionClient, request: CancelAllRequest): void {
    if (request.symbol !== "" && !this.#symbols.has(request.symbol)) {
      this.#reject(client, request, "unknownSymbol", `${request.symbol} is not traded here`);
      return;
    }
    for (const order of this.#session(client.account).working.values()) {
      if (order.cancelling || (request.symbol !== "" && order.symbol !== request.symbol)) continue;
      order.cancelling = true;
      this.#dispatcher.submit(
        { kind: CommandKind.CancelOrder, id: order.id },
        new RequestOrigin(this, client, "cancelAll", request.requestId, order),
      );
    }
  }

  /** One page of the account's reports after `sinceSequence`, then positions; see "Replay". */
  #replay(client: SessionClient, request: OrdersRequest): void {
    const session = this.#session(client.account);
    const log = session.log;
    const since = request.sinceSequence;
    const oldest = BigInt(log.oldest);
    const requested = request.maxReports ?? 0;
    const page = requested > 0 ? Math.min(requested, this.#replayPage) : this.#replayPage;
    const requestId = request.requestId;
    let through = since;
    let sent = 0;
    let more = false;
    /** Sends one report; false when the page is full (it is left for the next). */
    const send = (report: ExecutionReportEvent): boolean => {
      if (sent === page) return false;
      client.send(encodeServerMessage({ ...report, requestId, sentAt: nowNs(), replayed: true }));
      through = report.sequence;
      sent++;
      return true;
    };
    const sinceTooOld = since + 1n < oldest;
    if (sinceTooOld) {
      // Working orders whose latest report the log has let go: that report,
      // which the order holds, in sequence order.
      const held = [...session.open]
        .map((order) => order.last)
        .filter((r): r is ExecutionReportEvent =>
          r !== undefined && r.sequence > since && r.sequence < oldest
        )
        .sort((a, b) => (a.sequence < b.sequence ? -1 : 1));
      more = !held.every(send);
    }
    if (!more) {
      const first = since < oldest ? log.oldest : Number(since) + 1;
      for (let sequence = first; sequence <= log.latest && !more; sequence++) {
        more = !send(log.at(sequence)!);
      }
    }
    client.send(encodeServerMessage({
      type: "positions",
      requestId,
      sentAt: nowNs(),
      account: session.account,
      executionSequence: BigInt(log.latest),
      positions: this.#positions(session),
      oldestSequence: oldest,
      throughSequence: through,
      more,
      sinceTooOld,
    }));
  }

  #positions(session: Session): Position[] {
    const open = new Map<string, { buy: number; sell: number }>();
    for (const order of session.open) {
      let o = open.get(order.symbol);
      if (o === undefined) open.set(order.symbol, o = { buy: 0, sell: 0 });
      if (order.side === "buy") o.buy = addLots(o.buy, order.leaves);
      else o.sell = addLots(o.sell, order.leaves);
    }
    const symbols = [
      ...new Set([...session.carried.keys(), ...session.fills.keys(), ...open.keys()]),
    ].sort();
    return symbols.map((symbol) => {
      const f = session.fills.get(symbol);
      const o = open.get(symbol);
      const bought = f?.bought ?? 0;
      const sold = f?.sold ?? 0;
      return {
        symbol,
        // What the engine held at the start, plus the fills since.
        netQuantity: clampLots((session.carried.get(symbol) ?? 0) + bought - sold),
        boughtQuantity: bought,
        soldQuantity: sold,
        boughtNotional: f?.boughtNotional ?? 0n,
        soldNotional: f?.soldNotional ?? 0n,
        openBuyQuantity: o?.buy ?? 0,
        openSellQuantity: o?.sell ?? 0,
      };
    });
  }

  /** The dispatcher's listener: every command's events, in engine order. */
  readonly #onCommand = (
    command: Command,
    events: readonly EngineEvent[],
    origin: CommandOrigin,
    engineTime: bigint,
    firstSeq: number,
  ): void => {
    const mine = origin instanceof RequestOrigin && origin.router === this ? origin : undefined;
    const orders = this.#orders;
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      switch (event.kind) {
        case EventKind.OrderAccepted: {
          const order = orders.get(event.id);
          if (order !== undefined && mine?.order === order) {
            this.#report(order, "accepted", engineTime, mine.requestId);
          }
          break;
        }
        case EventKind.OrderRejected:
          if (mine !== undefined) this.#refused(mine, command, event.reason);
          break;
        case EventKind.OrderTraded: {
          // The trade event's engine sequence number: unique, and the same
          // after a restart (replay numbers events the same way), as in market data.
          const tradeId = BigInt(firstSeq + i);
          const taker = orders.get(event.taker);
          if (taker !== undefined) {
            this.#fill(taker, "taker", event.price, event.qty, tradeId, engineTime, mine);
          }
          const maker = orders.get(event.maker);
          if (maker !== undefined) {
            this.#fill(maker, "maker", event.price, event.qty, tradeId, engineTime, mine);
          }
          break;
        }
        case EventKind.OrderCancelled: {
          const order = orders.get(event.id);
          if (order === undefined) break;
          this.#finish(order);
          this.#report(order, "cancelled", engineTime, requestIdFor(mine, order), {
            cancelReason: wireCancelReason(event.reason),
            // The engine's count: right even for an order taken over after a
            // restart, whose fills before it the router never saw.
            cancelledQuantity: event.leaves,
          });
          break;
        }
        case EventKind.OrderExpired: {
          const order = orders.get(event.id);
          if (order === undefined) break;
          this.#finish(order);
          this.#report(order, "expired", engineTime, requestIdFor(mine, order), {
            cancelledQuantity: event.leaves,
          });
          break;
        }
        case EventKind.OrderReplaced: {
          const order = orders.get(event.id);
          if (order === undefined) break;
          order.price = event.price;
          order.leaves = event.qty;
          this.#report(order, "replaced", engineTime, requestIdFor(mine, order));
          break;
        }
      }
    }
  };

  #fill(
    order: Order,
    liquidity: Liquidity,
    price: number,
    qty: number,
    tradeId: bigint,
    engineTime: bigint,
    mine: RequestOrigin | undefined,
  ): void {
    order.cum += qty;
    order.leaves -= qty;
    let fills = order.owner.fills.get(order.symbol);
    if (fills === undefined) {
      fills = { bought: 0, sold: 0, boughtNotional: 0n, soldNotional: 0n };
      order.owner.fills.set(order.symbol, fills);
    }
    const notional = BigInt(price) * BigInt(qty);
    if (order.side === "buy") {
      fills.bought = addLots(fills.bought, qty);
      fills.boughtNotional = addNotional(fills.boughtNotional, notional);
    } else {
      fills.sold = addLots(fills.sold, qty);
      fills.soldNotional = addNotional(fills.soldNotional, notional);
    }
    // A fully filled order is done; one with lots left stays working (a
    // taker's rest then rests, or expires in a later event).
    if (order.leaves <= 0) this.#finish(order);
    this.#report(order, "trade", engineTime, requestIdFor(mine, order), {
      lastPrice: price,
      lastQuantity: qty,
      tradeId,
      liquidity,
    });
  }

  /** The order left the book (or never rested): no longer working anywhere. */
  #finish(order: Order): void {
    order.leaves = 0;
    this.#orders.delete(order.id);
    order.placer.working.delete(order.clientOrderId);
    order.owner.open.delete(order);
  }

  #report(
    order: Order,
    execType: ExecType,
    engineTime: bigint,
    requestId: bigint,
    extra: Partial<ExecutionReportEvent> = {},
  ): void {
    const owner = order.owner;
    const report: ExecutionReportEvent = {
      type: "executionReport",
      sequence: BigInt(owner.log.latest + 1),
      execType,
      clientOrderId: order.clientOrderId,
      orderId: BigInt(order.id),
      account: owner.account,
      symbol: order.symbol,
      side: order.side,
      orderType: order.orderType,
      timeInForce: order.timeInForce,
      postOnly: order.postOnly,
      price: order.price,
      leavesQuantity: order.leaves,
      cumQuantity: order.cum,
      engineTime,
      ...extra,
    };
    owner.log.append(report);
    order.last = report;
    const frame = encodeServerMessage({ ...report, requestId, sentAt: nowNs() });
    for (const client of owner.clients) client.send(frame);
    if (order.placer !== owner) {
      for (const client of order.placer.clients) client.send(frame);
    }
  }

  /** The engine refused one of the router's commands. */
  #refused(origin: RequestOrigin, command: Command, reason: RejectReasonName): void {
    const order = origin.order;
    if (command.kind === CommandKind.PlaceOrder) {
      // Never accepted: gone without a report (its id stays used).
      this.#finish(order);
    } else if (command.kind === CommandKind.CancelOrder) {
      order.cancelling = false;
      // cancelAll raced a fill: the order is done, and its fill was reported.
      if (origin.request === "cancelAll" && reason === "unknown_order") return;
    }
    const client = origin.client;
    client.send(encodeServerMessage({
      type: "reject",
      requestId: origin.requestId,
      sentAt: nowNs(),
      reason: wireRejectReason(reason),
      message: `Cannot ${VERB[origin.request] ?? "do that"} ${order.clientOrderId}: ${
        rejectReasonText(reason)
      } (${reason})`,
      request: origin.request,
      clientOrderId: order.clientOrderId,
      symbol: order.symbol,
    }));
  }

  #reject(client: SessionClient, request: OrderRequest, reason: Reason, why: string): void {
    const clientOrderId = "clientOrderId" in request ? request.clientOrderId : 0n;
    const symbol = "symbol" in request ? request.symbol : "";
    client.send(encodeServerMessage({
      type: "reject",
      requestId: request.requestId,
      sentAt: nowNs(),
      reason,
      message: `Cannot ${VERB[request.type] ?? "do that"}: ${why}`,
      request: request.type,
      clientOrderId,
      symbol,
    }));
  }
}

function positive(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(
      `Cannot route orders: ${name} must be a positive integer, got ${value}`,
    );
  }
  return value;
}

/** The most lots a position's quantity shows (the largest exact JSON and wire number). */
const MAX_LOTS = Number.MAX_SAFE_INTEGER;
/** The most a position's notional shows: the wire's `Int64`. */
const MAX_NOTIONAL = (1n << 63n) - 1n;

/**
 * `total + qty` lots, saturating at 2^53 − 1: exact below (a sum of two safe
 * integers is exact when it is safe), and a double at or above 2^53 otherwise.
 */
function addLots(total: number, qty: number): number {
  return Math.min(total + qty, MAX_LOTS);
}

/** `total + notional`, saturating at 2^63 − 1. */
function addNotional(total: bigint, notional: bigint): bigint {
  const sum = total + notional;
  return sum > MAX_NOTIONAL ? MAX_NOTIONAL : sum;
}

/** A net quantity within ±(2^53 − 1) lots. */
function clampLots(net: number): number {
  return Math.max(-MAX_LOTS, Math.min(MAX_LOTS, net));
}

/** The request id to echo on a report: the request's, when the report answers it. */
function requestIdFor(mine: RequestOrigin | undefined, order: Order): bigint {
  return mine !== undefined && mine.order === order ? mine.requestId : 0n;
}
