/**
 * The core's app factory: {@linkcode createCore} builds and wires every
 * part of the colocated core — the native engine on its pinned thread (and
 * its journal), the dispatcher that owns the engine's rings, the account
 * registry and directory, the order router, market data, the quote book and
 * its snapshotter, the engine watch, the statistics, the synthetic market,
 * the admin API, health and status, and the gateway served on
 * `Deno.serve` — and returns a {@linkcode Core} handle: where it listens,
 * what it has done, what recovery found, and `close()`.
 *
 * `core/main.ts` is its entry point (configuration from the environment,
 * signals, `RUN_FOR_MS`); the gateway's test harness builds its cores with
 * it too, so the wiring exists once.
 *
 * Every source of commands goes through the one dispatcher, which hands
 * each command's events, in engine order, to the synthetic market, the
 * order router, market data, the statistics, the engine watch and the quote
 * book, whose snapshots go to Deno KV (`KV_PATH`) for the edge.
 *
 * @module
 */

import {
  type Account,
  AccountStore,
  adminApi,
  applyAll,
  AuditLog,
  type VerifyToken,
} from "../admin/mod.ts";
import { authApi, createDemoTrader } from "../auth/mod.ts";
import {
  AUDIENCE,
  connectMarketData,
  createGateway,
  type Gateway,
  type GatewayOptions,
  ISSUER,
  loadSecret,
  type MarketDataPort,
  OrderRouter,
  verifyJwt,
} from "../gateway/mod.ts";
import { MarketData, type MarketDataOptions } from "../marketdata/mod.ts";
import { DEFAULT_INSTRUMENTS_URL, loadInstruments } from "../matching/mod.ts";
import type { Instrument } from "../matching/types.ts";
import {
  describePlacement,
  describeRecovery,
  journalMeta,
  NativeEngine,
  nativeLibrary,
  pinCurrentThread,
  type Placement,
  type RecoveryReport,
  trimHeap,
} from "../native/mod.ts";
import { marketDataTop, QuoteBook, Snapshotter } from "../snapshotter/mod.ts";
import { AccountDirectory } from "./account_directory.ts";
import { AccountRegistry } from "./accounts.ts";
import type { CoreConfig } from "./config.ts";
import { Dispatcher } from "./dispatcher.ts";
import { EngineStats } from "./engine_stats.ts";
import { EngineWatch } from "./engine_watch.ts";
import { coreHealth } from "./health.ts";
import { accountAuthorizer } from "./login.ts";
import { MarketLoop } from "./market_loop.ts";
import { makeKvPrivate, makePrivateDir } from "./private_files.ts";
import { riskControlPort } from "./risk_port.ts";
import {
  type CoreAddresses,
  coreAddresses,
  type CoreStats,
  type CoreStatus,
  type JournalStatus,
  statusRoute,
} from "./status.ts";

/** What the gateway's options may be overridden with (tests: limits, a stub admin API, routes). */
export type CoreGatewayOverrides = Partial<Omit<GatewayOptions, "key" | "orders" | "marketData">>;

/**
 * How {@linkcode createCore} builds the core beyond its configuration.
 * The defaults are the production core's; the others are seams for tests
 * and benches that run a core in their own process.
 */
export interface CoreOptions {
  /** Where the human lines go, one per call (default `console.log`). */
  readonly log?: (line: string) => void;
  /** Where human error lines go (default `console.error`). */
  readonly logError?: (line: string) => void;
  /** Where unexpected errors of the dispatcher, registry and gateway go (default: theirs). */
  readonly onError?: (error: unknown) => void;
  /** The instrument table (default: read from `config.instrumentsPath`). */
  readonly instruments?: readonly Instrument[];
  /** The HS256 key of trader tokens (default: `loadSecret()`, from the environment or data/). */
  readonly key?: CryptoKey;
  /**
   * An open KV for accounts and quote snapshots, which the caller keeps and
   * closes (default: `config.kvPath`, opened and closed by the core).
   */
  readonly kv?: Deno.Kv;
  /**
   * False builds no synthetic market at all: its accounts are not defined
   * and nothing of it is cancelled (default true: `config.syntheticRate`
   * decides its pace, and 0 still defines its accounts and cancels its
   * orders left from before a restart).
   */
  readonly syntheticMarket?: boolean;
  /** Pin the calling thread off the engine's CPU (default true, where there is another). */
  readonly pinMainThread?: boolean;
  /** Bytes per journal segment (default the engine's, 64 MiB). */
  readonly journalSegmentBytes?: number;
  /** The publisher's limits, over the core's (a quarter of `config.queueBytes`). */
  readonly marketDataOptions?: Omit<MarketDataOptions, "instruments">;
  /**
   * A market data port fed by the dispatcher and served to the gateway in
   * place of the publisher (tests); the quote snapshots then show no book.
   */
  readonly marketData?: MarketDataPort;
  /** Wraps the market data port the gateway sees (tests that watch subscriptions). */
  readonly gatewayMarketData?: (port: MarketDataPort) => MarketDataPort;
  /** How often market data is flushed when no drain does it, ms (default 100). */
  readonly marketDataFlushMs?: number;
  /**
   * Whether an admin may trade for an account: a problem, or undefined
   * (default: the account directory's answer: registered and enabled).
   */
  readonly canTradeFor?: (account: string) => string | undefined;
  /** False mounts no admin API: `/admin` is a 404 (tests of the gateway alone; default true). */
  readonly adminApi?: boolean;
  /** Gateway options over the core's (default none). */
  readonly gateway?: CoreGatewayOverrides;
}

/** The parts a core is wired from, for tests and in-process benches. */
export interface CoreParts {
  readonly instruments: readonly Instrument[];
  /**
   * The engine. Only the dispatcher pushes to or drains its rings; read
   * its state (`restingOrders` once stopped, `stateHash`) but send nothing.
   */
  readonly engine: NativeEngine;
  readonly dispatcher: Dispatcher;
  readonly accounts: AccountRegistry;
  readonly orders: OrderRouter;
  readonly gateway: Gateway;
  /** The publisher (fed by the dispatcher unless `marketData` replaced it). */
  readonly marketData: MarketData;
  /** The port fed by the dispatcher: the publisher or `options.marketData`. */
  readonly marketDataPort: MarketDataPort;
  /** The key that verifies trader tokens. */
  readonly key: CryptoKey;
  readonly kv: Deno.Kv;
  readonly store: AccountStore;
  readonly directory: AccountDirectory;
  readonly watch: EngineWatch;
  /** The synthetic market, unless `syntheticMarket: false`. */
  readonly market: MarketLoop | undefined;
}

/** A running core: see {@linkcode createCore}. */
export interface Core {
  /** Where it listens, as bound. */
  readonly addresses: CoreAddresses;
  /** What journal recovery found; undefined when journaling is off. */
  readonly recovery: RecoveryReport | undefined;
  /** The engine's state hash after recovery (undefined when journaling is off). */
  readonly recoveredStateHash: bigint | undefined;
  /** Where the engine thread runs, and what the host allowed. */
  readonly placement: Placement;
  /** The stored accounts applied to the engine at start, and the control commands that took. */
  readonly applied: { readonly accounts: number; readonly controls: number };
  /** What it has done so far. */
  stats(): CoreStats;
  /** The answer of `GET /status`. */
  status(): CoreStatus;
  /** The parts it is wired from. */
  readonly parts: CoreParts;
  /**
   * Stops it as a signal does: the synthetic market, then the traders'
   * connections (1001), the server, the dispatcher (the engine's last
   * answers), the last quote snapshots, the engine, the KV (if the core
   * opened it); then logs `stopped (<why>): …`. Calls after the first
   * return the first's result.
   *
   * @param why Why it stops, for the line (default `"closed"`).
   * @returns The final counts.
   */
  close(why?: string): Promise<CoreStats>;
}

/** Why an account's connections end when its token epoch moved on, for their close frame. */
function accessWhy(before: Account, after: Account): string {
  if (!after.enabled) return "account disabled";
  if (before.role !== after.role) return `account's role changed to ${after.role}`;
  return "account's tokens ended (re-enabled, or its password changed): log in again";
}

const price = (units: number, instrument: Instrument) =>
  (units / instrument.priceScale).toFixed(Math.round(Math.log10(instrument.priceScale)));

/** Commands per source, as "by source: synthetic 4990, gateway 10" ("none yet" before any). */
const bySource = (counts: ReadonlyMap<string, number>) =>
  `by source: ${
    counts.size === 0 ? "none yet" : [...counts].map(([source, n]) => `${source} ${n}`).join(", ")
  }`;

/**
 * Builds, starts and serves a core; see the module documentation. It says
 * what it does on `options.log` (the lines `deno task start` prints), and
 * resolves once the gateway listens and the synthetic market runs.
 *
 * @param config The settings (`readConfig()`; `corePort: 0` picks a free port).
 * @param options Seams for tests and benches; the defaults are production's.
 * @returns The running core.
 * @throws {Error} When a part cannot start (a bad secret or account store,
 *   a journal that cannot be recovered, a port in use); whatever had
 *   started is closed again first.
 *
 * @example
 * ```ts
 * import { createCore, readConfig } from "./mod.ts";
 * const kv = await Deno.openKv(":memory:");
 * const config = { ...readConfig(() => undefined), corePort: 0, journalDir: undefined };
 * const core = await createCore(config, {
 *   kv,
 *   key: await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]),
 *   log: () => {},
 * });
 * const answer = await fetch(core.addresses.status);
 * const status = await answer.json();
 * if (status.addresses.port !== core.addresses.port) throw new Error("wrong port");
 * await core.close();
 * kv.close();
 * ```
 */
export async function createCore(config: CoreConfig, options: CoreOptions = {}): Promise<Core> {
  const log = options.log ?? ((line: string) => console.log(line));
  const logError = options.logError ?? ((line: string) => console.error(line));
  const onError = options.onError === undefined ? {} : { onError: options.onError };
  // Whatever has started, undone in reverse if a later part fails.
  const undo: (() => unknown)[] = [];
  try {
    return await build();
  } catch (error) {
    for (const step of undo.reverse()) {
      try {
        await step();
      } catch {
        // Already failing: the first error is the one to report.
      }
    }
    throw error;
  }

  async function build(): Promise<Core> {
    const instruments = options.instruments ??
      loadInstruments(config.instrumentsPath ?? DEFAULT_INSTRUMENTS_URL);
    const version = Deno.UnsafePointerView.getCString(nativeLibrary().native_version()!);
    log(`TradeCaptain core — ${version}, Deno ${Deno.version.deno}`);
    log(`instruments (${instruments.length}):`);
    for (const i of instruments) {
      log(
        `  ${i.symbol.padEnd(7)} ${i.name} — tick ${price(i.tickSize, i)}, lot ${i.lotSize}, ` +
          `reference ${price(i.referencePrice, i)}`,
      );
    }
    // Before the engine starts: a bad secret or account store stops the core
    // with nothing running.
    const key = options.key ?? await loadSecret();
    let kv = options.kv;
    if (kv === undefined) {
      const kvDir = config.kvPath.slice(0, Math.max(0, config.kvPath.lastIndexOf("/")));
      // The data is the owner's only: folders 0700, files 0600 (private_files.ts).
      if (kvDir !== "") makePrivateDir(kvDir);
      const opened = await Deno.openKv(config.kvPath);
      undo.push(() => opened.close());
      makeKvPrivate(config.kvPath);
      kv = opened;
    }
    const ownKv = options.kv === undefined;
    const store = new AccountStore(kv);

    const engine = NativeEngine.open(instruments);
    undo.push(() => engine.close());
    let recovered: RecoveryReport | undefined;
    let journal: JournalStatus | null = null;
    if (config.journalDir === undefined) {
      log("journal: off (JOURNAL_DIR=none): nothing survives a restart");
    } else {
      makePrivateDir(config.journalDir);
      recovered = engine.openJournal({
        dir: config.journalDir,
        meta: journalMeta(instruments),
        durability: config.durability,
        groupCommitDelayMs: config.groupCommitMs,
        snapshotEvery: config.snapshotEvery,
        retention: config.journalRetention,
        ...(options.journalSegmentBytes === undefined
          ? {}
          : { segmentBytes: options.journalSegmentBytes }),
      });
      for (const line of describeRecovery(config.journalDir, config.durability, recovered)) {
        log(`journal: ${line}`);
      }
      const hash = engine.stateHash();
      journal = {
        dir: config.journalDir,
        created: recovered.created,
        replayed: recovered.replayed,
        snapshot: recovered.snapshot,
        stateHash: String(hash),
      };
      log(`journal: state hash after recovery ${hash}`);
      log(
        config.journalRetention === "snapshots"
          ? `journal: keeps what the two newest snapshots need (one every ${config.snapshotEvery} ` +
            "commands), recycling older segments; JOURNAL_RETENTION=all keeps every record"
          : "journal: keeps every record (JOURNAL_RETENTION=all): it grows without bound",
      );
    }
    // Market data starts from the recovered books (read before the engine thread runs).
    // Frames carry sentAt to the microsecond (Date.now would give whole ms).
    // A quarter of a connection's queue limit: market data resyncs a slow
    // reader well before the gateway would close it.
    const marketData = new MarketData({
      now: () => performance.timeOrigin + performance.now(),
      maxQueueBytes: Math.floor(config.queueBytes / 4),
      ...options.marketDataOptions,
      instruments,
    });
    const marketDataPort: MarketDataPort = options.marketData ?? marketData;
    const recoveredOrders = instruments.flatMap((_, i) => engine.restingOrders(i));
    // Accounts' net positions from every fill the journal holds.
    const recoveredPositions = engine.positions();
    marketData.seed(recoveredOrders);
    // Quote snapshots read the top of book from market data's books: after a
    // restart, the recovered ones.
    const quotes = new QuoteBook({ instruments, top: marketDataTop(marketData, instruments) });
    const placement = engine.start(config.engineCpu);
    for (const line of describePlacement(placement)) log(`engine: ${line}`);

    // Deno's own thread stays off the engine's CPU (where there is another).
    if ((options.pinMainThread ?? true) && navigator.hardwareConcurrency > 1) {
      const cpu = placement.cpu === 0 ? 1 : 0;
      const refused = pinCurrentThread(cpu);
      log(
        refused
          ? `core: main thread not pinned (${refused})`
          : `core: main thread pinned to CPU ${cpu}`,
      );
    }

    // Ids are never reused: new orders go above every id the journal holds.
    const dispatcher = new Dispatcher({
      engine,
      firstOrderId: (recovered?.maxOrderId ?? 0) + 1,
      ...onError,
    });
    undo.push(() => dispatcher.stop());
    const accounts = new AccountRegistry({
      dispatcher,
      known: recovered?.accounts ?? [],
      ...onError,
    });
    // The account store as the order path reads it (no KV read per order):
    // an admin trades only for registered, enabled accounts.
    // Whoever moves an account's token epoch on (this core's admin API, or
    // another process: deno task user disable), its connections end within
    // the directory's poll.
    const live: { gateway?: Gateway } = {};
    const directory = await AccountDirectory.open(store, {
      onAccessChange: (before, after) =>
        live.gateway?.closeAccount(after.name, 1008, accessWhy(before, after)),
    });
    undo.push(() => directory.close());
    // Listeners first: they must see every command from the first one.
    const orders = new OrderRouter({
      dispatcher,
      accounts,
      instruments,
      canTradeFor: options.canTradeFor ?? ((account) => directory.tradeForProblem(account)),
      reportsKept: config.reportsKept,
      idsKept: config.idsKept,
      replayPage: config.replayPage,
    });
    undo.push(() => orders.close());
    // Orders that rested before a restart stay their traders' to see and cancel.
    const adopted = orders.adopt(recoveredOrders, (n) => accounts.name(n));
    if (adopted > 0) log(`gateway: ${adopted} working orders recovered into their accounts`);
    // Their positions too: the engine's, not only what they trade from now on.
    const carried = orders.carryPositions(recoveredPositions, (n) => accounts.name(n));
    if (carried > 0) log(`gateway: ${carried} positions recovered into their accounts`);
    connectMarketData(dispatcher, marketDataPort);
    // What the engine takes from every source, for the statistics line.
    const engineStats = new EngineStats(dispatcher, instruments);
    dispatcher.listen((_command, events, _origin, engineTime) => quotes.apply(events, engineTime));
    // A halt (the journal failed: a full disk, a failed sync) is logged once
    // with its cause, makes the core not ready and reaches the edge through
    // the snapshots' alive mark. Checked per command (one atomic load) and on
    // a timer for a quiet market.
    const watch = new EngineWatch({ engine, log: logError });
    dispatcher.listen(() => watch.check());
    watch.start();
    undo.push(() => watch.stop());
    // Before the first trade: it restores the day's statistics from the
    // snapshots stored in KV, then writes every symbol (accounts' keys are
    // under ["admin", …], the snapshots' under ["quotes", …]).
    const snapshotter = new Snapshotter({
      kv,
      quotes,
      cadenceMs: config.snapshotCadenceMs,
      engine: () => watch.state,
    });
    const snapshots = await snapshotter.start();
    undo.push(() => snapshotter.close());
    log(
      `quotes: ${instruments.length} symbols to ${config.kvPath} every ${config.snapshotCadenceMs} ms, ` +
        `version ${snapshots.version}` +
        (snapshots.resumed > 0
          ? `, day statistics of ${snapshots.resumed} symbols resumed from KV`
          : ""),
    );
    // Each drain flushes market data; on a quiet market this timer does, so
    // that a slow consumer's resync completes once its queue has drained.
    const marketDataFlush = setInterval(
      () => marketDataPort.flush(),
      options.marketDataFlushMs ?? 100,
    );
    undo.push(() => clearInterval(marketDataFlush));
    let loop: MarketLoop | undefined;
    if (options.syntheticMarket ?? true) {
      const market = new MarketLoop({
        instruments,
        dispatcher,
        rate: config.syntheticRate,
        seed: config.syntheticSeed,
      });
      loop = market;
      undo.push(() => market.stop());
      // The market stops at its first halted answer; a halt seen first
      // elsewhere (a sync on a quiet market) stops it too.
      watch.onHalt(() => {
        market.stop();
        if (config.syntheticRate > 0) logError("synthetic market: stopped (the engine halted)");
      });
      await market.defineAccounts(accounts);
      // The market starts afresh: what it left resting before a restart goes.
      // With the market off (rate 0) nothing piles up, and the recovered
      // books stay as the journal left them, to be looked at.
      const leftovers = config.syntheticRate > 0
        ? market.cancelLeftovers(recoveredOrders, accounts)
        : 0;
      if (leftovers > 0) {
        log(`synthetic market: cancelled ${leftovers} of its orders left from before the restart`);
      }
    }
    dispatcher.start();
    // A fresh store gets the demo trader asked for, before the accounts go to the engine.
    const demo = config.demoTrader === undefined
      ? undefined
      : await createDemoTrader(store, config.demoTrader);
    // The stored accounts, limits and switches, before any trader connects.
    const port = riskControlPort(dispatcher, accounts);
    const applied = await applyAll(store, port, instruments);
    log(
      `accounts: ${applied.accounts.size} from ${config.kvPath} applied to the engine ` +
        `(${applied.commands} controls)`,
    );
    const verify: VerifyToken = async (token) => {
      const result = await verifyJwt(token, key, { issuer: ISSUER, audience: AUDIENCE });
      return result.ok
        ? {
          ok: true,
          sub: result.claims.sub,
          role: result.claims.role,
          ...(result.claims.epoch === undefined ? {} : { epoch: result.claims.epoch }),
          ...(result.claims.jti === undefined ? {} : { jti: result.claims.jti }),
        }
        : { ok: false, status: 401, reason: result.reason, message: result.message };
    };
    const admin = adminApi({
      store,
      port,
      verify,
      audit: new AuditLog(kv),
      instruments,
      accountNumbers: applied.accounts,
      // A change of role or enabled ends the account's connections at once
      // (its tokens already stopped working: the token epoch moved on).
      onAccessChange: (change) => {
        void directory.refresh();
        gateway.closeAccount(change.account, 1008, change.why);
      },
    });

    const auth = authApi({
      store,
      key,
      allowedOrigins: config.allowedOrigins,
      tokenTtlSeconds: config.authTokenTtlSeconds,
      perAccount: { perMinute: config.authAttemptsPerAccount },
      perAddress: { perMinute: config.authAttemptsPerAddress },
      // A logout ends that token's connections at once.
      onLogout: ({ jti }) => void gateway.closeToken(jti, 1008, "logged out"),
    });

    const gateway: Gateway = createGateway({
      key,
      allowedOrigins: config.allowedOrigins,
      orders,
      marketData: options.gatewayMarketData?.(marketDataPort) ?? marketDataPort,
      ...(options.adminApi === false
        ? {}
        : { admin: async (request) => await admin.fetch(request) }),
      auth,
      authorize: accountAuthorizer(store),
      heartbeatIntervalMs: config.heartbeatMs,
      maxBufferedBytes: config.queueBytes,
      queueBudgetBytes: config.queueBudgetBytes,
      maxConnectionsPerAccount: config.maxPerAccount,
      maxConnectionsPerAddress: config.maxPerAddress,
      accountMessageRate: { perSecond: config.accountRate },
      edgeUrl: config.edgeUrl,
      // Health, metrics and status beside the gateway, behind its Host check
      // and security headers (made below; asked only once serving).
      routes: (request, info) => health(request) ?? status(request, info),
      ...onError,
      ...options.gateway,
    });
    undo.push(() => gateway.close());
    live.gateway = gateway;
    // Closed connections leave what their queues held free but resident (a
    // copy and a write task per frame, in small blocks of the C heap): give
    // it back to the system after connections have closed, now and then.
    let closedWhenTrimmed = 0;
    const heapTrim = setInterval(() => {
      if (gateway.closedConnections === closedWhenTrimmed) return;
      closedWhenTrimmed = gateway.closedConnections;
      trimHeap();
    }, 5_000);
    undo.push(() => clearInterval(heapTrim));
    const health = coreHealth({
      engine: watch,
      metrics: () =>
        "# HELP core_gateway_connections Open trader WebSocket connections.\n" +
        "# TYPE core_gateway_connections gauge\n" +
        `core_gateway_connections ${gateway.connections}\n` +
        "# HELP core_gateway_queued_bytes Bytes queued for every open connection (budget GATEWAY_QUEUE_BUDGET_BYTES).\n" +
        "# TYPE core_gateway_queued_bytes gauge\n" +
        `core_gateway_queued_bytes ${gateway.queuedBytes}\n`,
    });
    const stats = (): CoreStats => {
      const s = engineStats.totals;
      return {
        commands: s.commands,
        events: s.events,
        trades: s.trades,
        rejects: s.rejects,
        bySource: Object.fromEntries(s.bySource),
        connections: gateway.connections,
        queuedBytes: gateway.queuedBytes,
        closedConnections: gateway.closedConnections,
        engine: watch.state,
      };
    };
    const server = Deno.serve({
      hostname: config.coreHostname,
      port: config.corePort,
      onListen: () => {},
    }, gateway.handler);
    undo.push(() => server.shutdown());
    // Made before this turn ends, so before the server answers anything.
    const addresses = coreAddresses(server.addr.hostname, server.addr.port);
    let closing: Promise<CoreStats> | undefined;
    const coreStatus = (): CoreStatus => ({
      pid: Deno.pid,
      state: closing === undefined ? "running" : "closing",
      addresses,
      journal,
      stats: stats(),
    });
    const status = statusRoute(coreStatus);
    const { hostname: listenHost, port: listenPort } = server.addr;
    const host = listenHost.includes(":") ? `[${listenHost}]` : listenHost;
    log(
      `gateway: listening on ws://${host}:${listenPort}/ws, admin API on http://${host}:${listenPort}/admin`,
    );
    log(`health: http://${host}:${listenPort}/readyz, /livez, /metrics`);
    log(
      `login: http://${host}:${listenPort}/auth/login (tokens for ${config.authTokenTtlSeconds} s)`,
    );
    if (demo !== undefined) {
      log(
        `demo trader: account ${demo.account}, password ${demo.password} ` +
          `(shown once; change it with deno task user passwd ${demo.account})`,
      );
    }

    if (loop !== undefined) {
      log(
        config.syntheticRate === 0
          ? "synthetic market: off (SYNTHETIC_RATE=0)"
          : `synthetic market: ${config.syntheticRate} commands/s, seed ${config.syntheticSeed}`,
      );
      loop.start();
    }

    let previous = 0;
    const report = setInterval(() => {
      const s = engineStats.totals;
      const rate = ((s.commands - previous) * 1000) / config.statsIntervalMs;
      previous = s.commands;
      const tops = instruments
        .map((i, n) => ({ i, s: s.perInstrument[n]! }))
        .filter(({ s }) => s.lastPrice !== undefined)
        .map(({ i, s }) => `${i.symbol} ${price(s.lastPrice!, i)}×${s.volume}`)
        .join("  ");
      log(
        `${s.commands} commands (${rate.toFixed(0)}/s), ${s.events} events, ${s.trades} trades, ` +
          `${s.rejects} rejects, ${gateway.connections} connections; ${
            bySource(s.bySource)
          } | ${tops}`,
      );
    }, config.statsIntervalMs);

    const close = async (why: string): Promise<CoreStats> => {
      loop?.stop();
      watch.stop();
      clearInterval(report);
      clearInterval(marketDataFlush);
      clearInterval(heapTrim);
      // Traders first (1001, going away), then the engine's last answers.
      await gateway.close();
      await server.shutdown();
      await dispatcher.stop();
      // The last quotes, once every command's events are in.
      await snapshotter.close();
      orders.close();
      directory.close();
      engine.close();
      if (ownKv) kv.close();
      const s = engineStats.totals;
      log(
        `stopped (${why}): ${s.commands} commands, ${s.events} events, ${s.trades} trades; ` +
          bySource(s.bySource),
      );
      return stats();
    };

    return {
      addresses,
      recovery: recovered,
      recoveredStateHash: journal === null ? undefined : BigInt(journal.stateHash),
      placement,
      applied: { accounts: applied.accounts.size, controls: applied.commands },
      stats,
      status: coreStatus,
      parts: {
        instruments,
        engine,
        dispatcher,
        accounts,
        orders,
        gateway,
        marketData,
        marketDataPort,
        key,
        kv,
        store,
        directory,
        watch,
        market: loop,
      },
      close(why = "closed") {
        closing ??= close(why);
        return closing;
      },
    };
  }
}
