/**
 * `deno task start`: the colocated core. It starts the native engine on its
 * pinned thread, drives it with the synthetic market, serves the trader
 * gateway (`ws://<CORE_HOSTNAME>:<CORE_PORT>/ws`, with the admin API's hook
 * under `/admin`), and prints what it does. Configuration is in
 * `app/config.ts` (environment variables).
 *
 * Every command source goes through one dispatcher, which owns the engine's
 * rings and hands each command's events, in engine order, to the synthetic
 * market, the order router, market data and the quote book, whose snapshots
 * go to Deno KV (`KV_PATH`) for the edge.
 *
 * @module
 */

import { AccountStore, adminApi, applyAll, AuditLog, type VerifyToken } from "./admin/mod.ts";
import { AccountRegistry } from "./app/accounts.ts";
import { readConfig } from "./app/config.ts";
import { Dispatcher } from "./app/dispatcher.ts";
import { EngineStats } from "./app/engine_stats.ts";
import { EngineWatch } from "./app/engine_watch.ts";
import { coreHealth } from "./app/health.ts";
import { AccountDirectory } from "./app/account_directory.ts";
import { accountAuthorizer } from "./app/login.ts";
import { MarketLoop } from "./app/market_loop.ts";
import { makeKvPrivate, makePrivateDir } from "./app/private_files.ts";
import { riskControlPort } from "./app/risk_port.ts";
import { starterPid, watchParent } from "./app/supervision.ts";
import {
  AUDIENCE,
  connectMarketData,
  createGateway,
  ISSUER,
  loadSecret,
  OrderRouter,
  verifyJwt,
} from "./gateway/mod.ts";
import { MarketData } from "./marketdata/mod.ts";
import { marketDataTop, QuoteBook, Snapshotter } from "./snapshotter/mod.ts";
import { DEFAULT_INSTRUMENTS_URL, loadInstruments } from "./matching/mod.ts";
import {
  describePlacement,
  describeRecovery,
  journalMeta,
  NativeEngine,
  nativeLibrary,
  pinCurrentThread,
  type RecoveryReport,
  trimHeap,
} from "./native/mod.ts";
import type { Instrument } from "./matching/types.ts";

const price = (units: number, instrument: Instrument) =>
  (units / instrument.priceScale).toFixed(Math.round(Math.log10(instrument.priceScale)));

/** Commands per source, as "by source: synthetic 4990, gateway 10" ("none yet" before any). */
const bySource = (counts: ReadonlyMap<string, number>) =>
  `by source: ${
    counts.size === 0 ? "none yet" : [...counts].map(([source, n]) => `${source} ${n}`).join(", ")
  }`;

async function main(): Promise<void> {
  const config = readConfig();
  const instruments = loadInstruments(config.instrumentsPath ?? DEFAULT_INSTRUMENTS_URL);
  const version = Deno.UnsafePointerView.getCString(nativeLibrary().native_version()!);
  console.log(`TradeCaptain core — ${version}, Deno ${Deno.version.deno}`);
  console.log(`instruments (${instruments.length}):`);
  for (const i of instruments) {
    console.log(
      `  ${i.symbol.padEnd(7)} ${i.name} — tick ${price(i.tickSize, i)}, lot ${i.lotSize}, ` +
        `reference ${price(i.referencePrice, i)}`,
    );
  }
  // Before the engine starts: a bad secret or account store stops the core
  // with nothing running.
  const key = await loadSecret();
  const kvDir = config.kvPath.slice(0, Math.max(0, config.kvPath.lastIndexOf("/")));
  // The data is the owner's only: folders 0700, files 0600 (app/private_files.ts).
  if (kvDir !== "") makePrivateDir(kvDir);
  const kv = await Deno.openKv(config.kvPath);
  makeKvPrivate(config.kvPath);
  const store = new AccountStore(kv);

  const engine = NativeEngine.open(instruments);
  let recovered: RecoveryReport | undefined;
  if (config.journalDir === undefined) {
    console.log("journal: off (JOURNAL_DIR=none): nothing survives a restart");
  } else {
    makePrivateDir(config.journalDir);
    recovered = engine.openJournal({
      dir: config.journalDir,
      meta: journalMeta(instruments),
      durability: config.durability,
      groupCommitDelayMs: config.groupCommitMs,
      snapshotEvery: config.snapshotEvery,
      retention: config.journalRetention,
    });
    for (const line of describeRecovery(config.journalDir, config.durability, recovered)) {
      console.log(`journal: ${line}`);
    }
    console.log(`journal: state hash after recovery ${engine.stateHash()}`);
    console.log(
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
    instruments,
    now: () => performance.timeOrigin + performance.now(),
    maxQueueBytes: Math.floor(config.queueBytes / 4),
  });
  const recoveredOrders = instruments.flatMap((_, i) => engine.restingOrders(i));
  // Accounts' net positions from every fill the journal holds.
  const recoveredPositions = engine.positions();
  marketData.seed(recoveredOrders);
  // Quote snapshots read the top of book from market data's books: after a
  // restart, the recovered ones.
  const quotes = new QuoteBook({ instruments, top: marketDataTop(marketData, instruments) });
  const placement = engine.start(config.engineCpu);
  for (const line of describePlacement(placement)) console.log(`engine: ${line}`);

  // Deno's own thread stays off the engine's CPU (where there is another).
  if (navigator.hardwareConcurrency > 1) {
    const cpu = placement.cpu === 0 ? 1 : 0;
    const refused = pinCurrentThread(cpu);
    console.log(
      refused
        ? `core: main thread not pinned (${refused})`
        : `core: main thread pinned to CPU ${cpu}`,
    );
  }

  // Ids are never reused: new orders go above every id the journal holds.
  const dispatcher = new Dispatcher({
    engine,
    firstOrderId: (recovered?.maxOrderId ?? 0) + 1,
  });
  const accounts = new AccountRegistry({ dispatcher, known: recovered?.accounts ?? [] });
  // The account store as the order path reads it (no KV read per order):
  // an admin trades only for registered, enabled accounts.
  const directory = await AccountDirectory.open(store);
  // Listeners first: they must see every command from the first one.
  const orders = new OrderRouter({
    dispatcher,
    accounts,
    instruments,
    canTradeFor: (account) => directory.tradeForProblem(account),
    reportsKept: config.reportsKept,
    idsKept: config.idsKept,
    replayPage: config.replayPage,
  });
  // Orders that rested before a restart stay their traders' to see and cancel.
  const adopted = orders.adopt(recoveredOrders, (n) => accounts.name(n));
  if (adopted > 0) console.log(`gateway: ${adopted} working orders recovered into their accounts`);
  // Their positions too: the engine's, not only what they trade from now on.
  const carried = orders.carryPositions(recoveredPositions, (n) => accounts.name(n));
  if (carried > 0) console.log(`gateway: ${carried} positions recovered into their accounts`);
  connectMarketData(dispatcher, marketData);
  // What the engine takes from every source, for the statistics line.
  const engineStats = new EngineStats(dispatcher, instruments);
  dispatcher.listen((_command, events, _origin, engineTime) => quotes.apply(events, engineTime));
  // A halt (the journal failed: a full disk, a failed sync) is logged once
  // with its cause, makes the core not ready and reaches the edge through
  // the snapshots' alive mark. Checked per command (one atomic load) and on
  // a timer for a quiet market.
  const watch = new EngineWatch({ engine });
  dispatcher.listen(() => watch.check());
  watch.start();
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
  console.log(
    `quotes: ${instruments.length} symbols to ${config.kvPath} every ${config.snapshotCadenceMs} ms, ` +
      `version ${snapshots.version}` +
      (snapshots.resumed > 0
        ? `, day statistics of ${snapshots.resumed} symbols resumed from KV`
        : ""),
  );
  // Each drain flushes market data; on a quiet market this timer does, so
  // that a slow consumer's resync completes once its queue has drained.
  const marketDataFlush = setInterval(() => marketData.flush(), 100);
  const loop = new MarketLoop({
    instruments,
    dispatcher,
    rate: config.syntheticRate,
    seed: config.syntheticSeed,
  });
  // The market stops at its first halted answer; a halt seen first
  // elsewhere (a sync on a quiet market) stops it too.
  watch.onHalt(() => {
    loop.stop();
    if (config.syntheticRate > 0) console.error("synthetic market: stopped (the engine halted)");
  });
  await loop.defineAccounts(accounts);
  // The market starts afresh: what it left resting before a restart goes.
  const leftovers = loop.cancelLeftovers(recoveredOrders, accounts);
  if (leftovers > 0) {
    console.log(
      `synthetic market: cancelled ${leftovers} of its orders left from before the restart`,
    );
  }
  dispatcher.start();
  // The stored accounts, limits and switches, before any trader connects.
  const port = riskControlPort(dispatcher, accounts);
  const applied = await applyAll(store, port, instruments);
  console.log(
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

  const gateway = createGateway({
    key,
    allowedOrigins: config.allowedOrigins,
    orders,
    marketData,
    admin: async (request) => await admin.fetch(request),
    authorize: accountAuthorizer(store),
    heartbeatIntervalMs: config.heartbeatMs,
    maxBufferedBytes: config.queueBytes,
    queueBudgetBytes: config.queueBudgetBytes,
    maxConnectionsPerAccount: config.maxPerAccount,
    maxConnectionsPerAddress: config.maxPerAddress,
    accountMessageRate: { perSecond: config.accountRate },
    edgeUrl: config.edgeUrl,
    // Health and metrics beside the gateway, behind its Host check and
    // security headers (health is made below; asked only once serving).
    routes: (request) => health(request),
  });
  // Closed connections leave what their queues held free but resident (a
  // copy and a write task per frame, in small blocks of the C heap): give
  // it back to the system after connections have closed, now and then.
  let closedWhenTrimmed = 0;
  const heapTrim = setInterval(() => {
    if (gateway.closedConnections === closedWhenTrimmed) return;
    closedWhenTrimmed = gateway.closedConnections;
    trimHeap();
  }, 5_000);
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
  const server = Deno.serve({
    hostname: config.coreHostname,
    port: config.corePort,
    onListen: ({ hostname, port }) => {
      const host = hostname.includes(":") ? `[${hostname}]` : hostname;
      console.log(
        `gateway: listening on ws://${host}:${port}/ws, admin API on http://${host}:${port}/admin`,
      );
      console.log(`health: http://${host}:${port}/readyz, /livez, /metrics`);
    },
  }, gateway.handler);

  console.log(
    config.syntheticRate === 0
      ? "synthetic market: off (SYNTHETIC_RATE=0)"
      : `synthetic market: ${config.syntheticRate} commands/s, seed ${config.syntheticSeed}`,
  );
  loop.start();

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
    console.log(
      `${s.commands} commands (${rate.toFixed(0)}/s), ${s.events} events, ${s.trades} trades, ` +
        `${s.rejects} rejects, ${gateway.connections} connections; ${
          bySource(s.bySource)
        } | ${tops}`,
    );
  }, config.statsIntervalMs);

  let stopped = false;
  const shutdown = async (why: string) => {
    if (stopped) return;
    stopped = true;
    loop.stop();
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
    kv.close();
    const s = engineStats.totals;
    console.log(
      `stopped (${why}): ${s.commands} commands, ${s.events} events, ${s.trades} trades; ` +
        bySource(s.bySource),
    );
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", () => void shutdown("SIGINT"));
  Deno.addSignalListener("SIGTERM", () => void shutdown("SIGTERM"));
  // Under `deno task start`: stop with the starter, even one killed outright.
  const starter = starterPid();
  if (starter !== undefined) {
    watchParent(starter, () => void shutdown(`its starter, process ${starter}, is gone`));
  }
  if (config.runForMs > 0) {
    setTimeout(() => void shutdown(`RUN_FOR_MS=${config.runForMs}`), config.runForMs);
  }
}

if (import.meta.main) {
  try {
    await main();
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    Deno.exit(2);
  }
}
