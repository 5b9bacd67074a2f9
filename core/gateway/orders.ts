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
 * - the client order ids its connections used: unique within the session
 *   (a reused one is refused with `duplicateId`, even once the order is
 *   done), each mapped to the engine's id for the order;
 * - its working orders, which `cancel`, `replace` and `cancelAll` name;
 * - the account's execution reports, numbered 1, 2, 3… without gaps, which
 *   `requestOrders(sinceSequence)` re-sends (`replayed`), followed by the
 *   account's positions.
 *
 * # Routing
 *
 * Every command's events reach the router in engine order (it listens to
 * the dispatcher), whoever sent the command, so a resting order's fill is
 * reported when someone else's order takes it (liquidity `maker`). Each
 * report goes to every connection of the order's account, and to the
 * placing session's connections when an admin placed it for another account
 * (with the owning account's sequence). Trade ids count the engine's trades
 * over all symbols from 1, in engine order, as the market data publisher
 * numbers them (`core/marketdata/`), so a fill and its public trade share
 * an id: attach both before the first command. Refusals are `reject` messages to
 * the requesting connection only: the engine's reasons (risk's 11–17
 * included) under their wire names, and the router's own — `duplicateId`,
 * `notAuthorised`, `unknownSymbol` (not traded here), `unknownOrder` (no
 * such working order in the session) — before anything reaches the engine.
 *
 * # Permissions
 *
 * A trader trades for its own account only; an admin for any account (the
 * request's `account`); a viewer not at all (`notAuthorised`).
 *
 * # Known limitations
 *
 * - Sessions, reports and the client-id map live in memory: a core restart
 *   starts every sequence at 1 again, and orders recovered from the journal
 *   are unknown to the router (their fills are not reported). Journaling the
 *   client order id with the command would lift this.
 * - Every client order id a session used is remembered for its lifetime,
 *   and every report for replay: memory grows with the day's orders.
 *
 * @module
 */

import {
  type Command,
  CommandKind,
  type EngineEvent,
  EventKind,
  type Instrument,
  OrderType as EngineOrderType,
  RejectReason,
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
  ReasonCode,
  type ReplaceRequest,
  type RequestType,
  type Side,
  type TimeInForce,
} from "../wire/types.ts";
import type { Role } from "./config.ts";
import { nowNs } from "./_clock.ts";

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
  /** Submits a command in order; never drops it. */
  submit(command: Command, origin: CommandOrigin): void;
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
}

class Session {
  readonly clients = new Set<SessionClient>();
  /** Every client order id used, for `duplicateId`. */
  readonly used = new Set<bigint>();
  /** Orders this session placed that are still working, by client order id. */
  readonly working = new Map<bigint, Order>();
  /** This account's orders still working (whoever placed them). */
  readonly open = new Set<Order>();
  /** This account's execution reports; `log[i].sequence === i + 1`. */
  readonly log: ExecutionReportEvent[] = [];
  readonly fills = new Map<string, Fills>();
  #number: number | undefined;

  constructor(readonly account: string) {}

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

const WIRE_REASONS: ReadonlyMap<number, Reason> = new Map(
  Object.entries(ReasonCode).map(([name, code]) => [code, name as Reason]),
);

/**
 * The wire's name of an engine reject reason (same number: codes 1–17 are
 * the engine's on both sides).
 *
 * @param reason The engine's reason.
 * @returns Its wire name (`"max_order_qty"` → `"maxOrderQty"`).
 *
 * @example
 * ```ts
 * import { wireReason } from "./orders.ts";
 * if (wireReason("kill_switch") !== "killSwitch") throw new Error("wrong name");
 * ```
 */
export function wireReason(reason: RejectReasonName): Reason {
  return WIRE_REASONS.get(RejectReason[reason]) ?? "unspecified";
}

/** What each engine reason means, for the reject's message. */
const REASON_TEXT: Readonly<Record<RejectReasonName, string>> = {
  unknown_symbol: "the symbol is not traded",
  invalid_qty: "the quantity is not a positive number of lots",
  invalid_price: "the price is not a positive multiple of the tick size",
  duplicate_id: "the engine already has an order with this id",
  invalid_order: "the order's fields do not go together",
  would_cross: "a post-only order would take liquidity",
  unknown_order: "the order is not working",
  unknown_command: "the engine does not know the command",
  halted: "the engine has halted and takes no orders",
  in_doubt: "the journal could not confirm the command; recovery will tell whether it happened",
  max_order_qty: "the quantity is above the account's per-order limit",
  max_notional: "price × quantity is above the account's per-order notional limit",
  price_collar: "the price is too far from the reference price",
  position_limit: "a full fill would take the position beyond its limit",
  open_order_limit: "the account has too many working orders",
  order_rate_limit: "the account sends orders too fast",
  kill_switch: "trading is switched off for the account",
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
  readonly #symbols: ReadonlyMap<string, number>;
  readonly #sessions = new Map<string, Session>();
  /** Working orders by engine id. */
  readonly #orders = new Map<number, Order>();
  readonly #stop: () => void;

  /**
   * Starts listening to the dispatcher.
   *
   * @param options The dispatcher, the account registry, the instruments.
   */
  constructor(options: OrderRouterOptions) {
    this.#dispatcher = options.dispatcher;
    this.#accounts = options.accounts;
    this.#symbols = new Map(options.instruments.map((i, n) => [i.symbol, n]));
    this.#stop = options.dispatcher.listen(this.#onCommand);
  }

  /**
   * Takes over the orders a restart recovered from the journal, before any
   * client connects: each becomes a working order of its account's session,
   * known by its engine id as its client order id (the client's own ids are
   * not journaled), with an `accepted` report in the account's log, so that
   * a client's `requestOrders` finds it and `cancel`/`cancelAll` reach it.
   * Its filled quantity before the restart is not known (reported as 0).
   *
   * @param orders The resting orders (`NativeEngine.restingOrders`).
   * @param accountName The name of an engine account number; orders of
   *   accounts without one are left alone.
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
   *   [{ id: 42, account: 7, instrument: 0, side: 0, postOnly: false, price: 18_990, qty: 5 }],
   *   () => "ALICE",
   * );
   * if (taken !== 1 || router.executionSequence("ALICE") !== 1n) throw new Error("not adopted");
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
      const session = this.#session(name);
      const order: Order = {
        id: o.id,
        clientOrderId: BigInt(o.id),
        placer: session,
        owner: session,
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
      session = new Session(account);
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
    return BigInt(this.#sessions.get(account)?.log.length ?? 0);
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
    const placer = this.#session(client.account);
    if (placer.used.has(request.clientOrderId)) {
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
          : `this session has no order ${request.clientOrderId}`,
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

  #replay(client: SessionClient, request: OrdersRequest): void {
    const session = this.#session(client.account);
    const log = session.log;
    const since = request.sinceSequence;
    const from = since >= BigInt(log.length) ? log.length : Number(since);
    const requestId = request.requestId;
    for (let i = from; i < log.length; i++) {
      client.send(
        encodeServerMessage({ ...log[i]!, requestId, sentAt: nowNs(), replayed: true }),
      );
    }
    client.send(encodeServerMessage({
      type: "positions",
      requestId,
      sentAt: nowNs(),
      account: session.account,
      executionSequence: BigInt(log.length),
      positions: this.#positions(session),
    }));
  }

  #positions(session: Session): Position[] {
    const open = new Map<string, { buy: number; sell: number }>();
    for (const order of session.open) {
      let o = open.get(order.symbol);
      if (o === undefined) open.set(order.symbol, o = { buy: 0, sell: 0 });
      if (order.side === "buy") o.buy += order.leaves;
      else o.sell += order.leaves;
    }
    const symbols = [...new Set([...session.fills.keys(), ...open.keys()])].sort();
    return symbols.map((symbol) => {
      const f = session.fills.get(symbol);
      const o = open.get(symbol);
      const bought = f?.bought ?? 0;
      const sold = f?.sold ?? 0;
      return {
        symbol,
        netQuantity: bought - sold,
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
            cancelReason: event.reason === "self_trade" ? "selfTrade" : "requested",
          });
          break;
        }
        case EventKind.OrderExpired: {
          const order = orders.get(event.id);
          if (order === undefined) break;
          this.#finish(order);
          this.#report(order, "expired", engineTime, requestIdFor(mine, order));
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
      fills.bought += qty;
      fills.boughtNotional += notional;
    } else {
      fills.sold += qty;
      fills.soldNotional += notional;
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
      sequence: BigInt(owner.log.length + 1),
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
    owner.log.push(report);
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
      reason: wireReason(reason),
      message: `Cannot ${VERB[origin.request] ?? "do that"} ${order.clientOrderId}: ${
        REASON_TEXT[reason]
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

/** The request id to echo on a report: the request's, when the report answers it. */
function requestIdFor(mine: RequestOrigin | undefined, order: Order): bigint {
  return mine !== undefined && mine.order === order ? mine.requestId : 0n;
}
