import { type SnapshotLogger, type SnapshotStore, Snapshotter } from "./snapshotter.ts";
import { QuoteBook } from "./quote_book.ts";
import { marketDataTop, type TopOfBook } from "./top_of_book.ts";
import { MarketData } from "../marketdata/mod.ts";
import { type EngineEvent, EventKind, loadInstruments, ReferenceMatcher } from "../matching/mod.ts";
import { randomCommandStream } from "../matching/matcher_suite.ts";
import {
  ALIVE_EVERY_MS,
  type EngineState,
  parseAlive,
  parseQuoteSnapshot,
  parseSymbolList,
  QUOTE_KEYS,
  type QuoteSnapshot,
} from "../../schemas/quotes.ts";
import assert from "node:assert";

const instruments = loadInstruments();
const SYMBOLS = instruments.map((i) => i.symbol);
const T0 = Date.UTC(2025, 10, 24, 16);
const ns = (ms: number) => BigInt(ms) * 1_000_000n;
const EMPTY: TopOfBook = { bidPrice: 0, bidSize: 0, askPrice: 0, askSize: 0, sequence: 0 };

const trade = (instrument: number, price: number, qty: number): EngineEvent => ({
  kind: EventKind.OrderTraded,
  instrument,
  taker: 2,
  maker: 1,
  price,
  qty,
});

/** A logger that keeps what it is told. */
function recorder(): SnapshotLogger & { errors: string[]; infos: string[] } {
  const errors: string[] = [];
  const infos: string[] = [];
  return {
    errors,
    infos,
    error: (m) => void errors.push(m),
    info: (m) => void infos.push(m),
  };
}

/** Reads every quote key back; checks each value against the contract. */
async function readAll(kv: Deno.Kv) {
  const version = (await kv.get(QUOTE_KEYS.version)).value;
  const list = parseSymbolList((await kv.get(QUOTE_KEYS.symbols)).value);
  assert(list.ok, `the symbol list: ${list.ok ? "" : list.problem}`);
  const snapshots = new Map<string, QuoteSnapshot>();
  const stamps = new Map<string, string>();
  for await (const entry of kv.list({ prefix: ["quotes", "symbol"] })) {
    const parsed = parseQuoteSnapshot(entry.value);
    assert(parsed.ok, `${String(entry.key[2])}: ${parsed.ok ? "" : parsed.problem}`);
    assert.deepStrictEqual(entry.key, [...QUOTE_KEYS.symbol(parsed.snapshot.symbol)]);
    snapshots.set(parsed.snapshot.symbol, parsed.snapshot);
    stamps.set(parsed.snapshot.symbol, entry.versionstamp);
  }
  return { version, list: list.list, snapshots, stamps };
}

/** A KV store whose commits can be held, made to throw, or made to throw after landing. */
class ScriptedKv implements SnapshotStore {
  commits = 0;
  inFlight = 0;
  maxInFlight = 0;
  hold: Promise<void> | undefined;
  /** The next commits: "throw" before writing, "landed" after writing. */
  failures: ("throw" | "landed")[] = [];

  constructor(readonly kv: Deno.Kv) {}

  get: Deno.Kv["get"] = ((key: Deno.KvKey) => this.kv.get(key)) as Deno.Kv["get"];
  getMany: Deno.Kv["getMany"] = ((keys: Deno.KvKey[]) => this.kv.getMany(keys)) as Deno.Kv[
    "getMany"
  ];

  atomic(): Deno.AtomicOperation {
    const op = this.kv.atomic();
    const commit = op.commit.bind(op);
    op.commit = async () => {
      this.commits++;
      this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
      try {
        await this.hold;
        const failure = this.failures.shift();
        if (failure === "throw") throw new Error("disk I/O error");
        const result = await commit();
        if (failure === "landed") throw new Error("connection reset after commit");
        return result;
      } finally {
        this.inFlight--;
      }
    };
    return op;
  }
}

async function withKv(fn: (kv: Deno.Kv) => Promise<void>): Promise<void> {
  const kv = await Deno.openKv(":memory:");
  try {
    await fn(kv);
  } finally {
    kv.close();
  }
}

const quoteBook = (tops: TopOfBook[] = []) =>
  new QuoteBook({ instruments, top: (i) => tops[i] ?? EMPTY });

Deno.test("start() writes the symbol list, every symbol and version 1, each passing the contract", async () => {
  await withKv(async (kv) => {
    const snapshotter = new Snapshotter({ kv, quotes: quoteBook(), now: () => T0 });
    assert.deepStrictEqual(await snapshotter.start(), {
      previousVersion: 0n,
      resumed: 0,
      version: 1n,
    });
    const { version, list, snapshots } = await readAll(kv);
    assert.deepStrictEqual(version, 1n);
    assert.deepStrictEqual(list.symbols.map((s) => s.symbol), SYMBOLS);
    assert.deepStrictEqual([...snapshots.keys()].sort(), [...SYMBOLS].sort());
    const es = snapshots.get("ES-FUT")!;
    assert.deepStrictEqual([es.version, es.updated, es.prevClose, es.lastTrade, es.bid], [
      1,
      T0,
      5600,
      null,
      null,
    ]);
    await snapshotter.close();
  });
});

Deno.test("a write bumps the version and rewrites only the symbols that changed, in one atomic write", async () => {
  await withKv(async (kv) => {
    const scripted = new ScriptedKv(kv);
    const quotes = quoteBook();
    let now = T0;
    const snapshotter = new Snapshotter({
      kv: scripted,
      quotes,
      cadenceMs: 3_600_000,
      now: () => now,
    });
    await snapshotter.start();
    const before = await readAll(kv);
    now += 100;
    quotes.apply([trade(0, 19_010, 3)], ns(now));
    quotes.apply([trade(9, 560_025, 1)], ns(now));
    await snapshotter.flush();
    const after = await readAll(kv);
    assert.deepStrictEqual(after.version, 2n);
    assert.deepStrictEqual(scripted.commits, 2, "one commit at start, one for both symbols");
    for (const symbol of SYMBOLS) {
      const changed = symbol === "AAPL" || symbol === "ES-FUT";
      assert.deepStrictEqual(
        after.stamps.get(symbol) !== before.stamps.get(symbol),
        changed,
        symbol,
      );
      assert.deepStrictEqual(after.snapshots.get(symbol)!.version, changed ? 2 : 1, symbol);
    }
    assert.deepStrictEqual(after.snapshots.get("AAPL")!.lastTrade, {
      price: 190.1,
      size: 3,
      time: now,
    });
    assert.deepStrictEqual(after.snapshots.get("ES-FUT")!.updated, now);
    // Nothing changed since: no write, the version stays.
    await snapshotter.flush();
    assert.deepStrictEqual([scripted.commits, snapshotter.stats.version], [2, 2n]);
    assert.deepStrictEqual(snapshotter.stats.snapshots, instruments.length + 2);
    await snapshotter.close();
  });
});

Deno.test("a slow KV gets one write at a time, and the changes made meanwhile coalesce into the next", async () => {
  await withKv(async (kv) => {
    const scripted = new ScriptedKv(kv);
    const quotes = quoteBook();
    const snapshotter = new Snapshotter({ kv: scripted, quotes, cadenceMs: 2, now: () => T0 });
    await snapshotter.start();
    let release!: () => void;
    scripted.hold = new Promise((resolve) => (release = resolve));
    quotes.apply([trade(0, 19_001, 1)], ns(T0));
    // The cadence starts a write, which hangs; meanwhile the market goes on.
    while (scripted.inFlight === 0) await new Promise((r) => setTimeout(r, 1));
    const started = scripted.commits;
    let ticks = 0;
    const events = setInterval(() => ticks++, 1);
    for (let i = 1; i <= 20; i++) {
      quotes.apply([trade(0, 19_001 + i, 1), trade(1, 42_000 + i, 1)], ns(T0));
      await new Promise((r) => setTimeout(r, 2));
    }
    clearInterval(events);
    assert(ticks >= 5, `the event loop stalled behind the write: ${ticks} ticks`);
    assert.deepStrictEqual(
      scripted.commits,
      started,
      "a second write started while one was in flight",
    );
    release();
    scripted.hold = undefined;
    await snapshotter.close();
    assert.deepStrictEqual(scripted.maxInFlight, 1);
    // After the held write (AAPL only), one write carried the 20 later changes of both.
    assert.deepStrictEqual(scripted.commits, started + 1);
    const { version, snapshots } = await readAll(kv);
    assert.deepStrictEqual(version, 3n);
    assert.deepStrictEqual(snapshots.get("AAPL")!.lastTrade?.price, 190.21);
    assert.deepStrictEqual(snapshots.get("MSFT")!.day?.trades, 20);
    assert.deepStrictEqual(snapshots.get("MSFT")!.version, 3);
  });
});

Deno.test("a write that finds another writer's version stops writing and says why", async () => {
  await withKv(async (kv) => {
    const logger = recorder();
    const quotes = quoteBook();
    const snapshotter = new Snapshotter({ kv, quotes, cadenceMs: 3_600_000, logger });
    await snapshotter.start();
    // Another process (a second core on the same KV_PATH) writes.
    const other = new Snapshotter({ kv, quotes: quoteBook(), logger: recorder() });
    await other.start();
    assert.deepStrictEqual(other.stats.version, 2n);
    quotes.apply([trade(0, 19_010, 1)], ns(T0));
    await snapshotter.flush();
    assert.deepStrictEqual(logger.errors.length, 1, logger.errors.join("\n"));
    const message = logger.errors[0]!;
    assert(message.startsWith("Cannot write quote snapshots: another process writes"), message);
    assert(message.includes('its check of ["quotes","version"] failed writing version 2'), message);
    assert(message.includes("KV holds version 2; this core last wrote 1"), message);
    assert(message.includes("stops writing"), message);
    assert(snapshotter.stats.halted !== undefined);
    // It does not fight: later changes are not written, the other writer's stand.
    quotes.apply([trade(0, 19_020, 1)], ns(T0));
    await snapshotter.flush();
    await snapshotter.close();
    const { version, snapshots } = await readAll(kv);
    assert.deepStrictEqual(version, 2n);
    assert.deepStrictEqual(snapshots.get("AAPL")!.lastTrade, null);
    assert.deepStrictEqual([snapshotter.stats.writes, snapshotter.stats.failures], [1, 1]);
    assert.deepStrictEqual(logger.errors.length, 1);
    await other.close();
  });
});

Deno.test("a commit that throws is reported once and retried with the symbols it lost", async () => {
  await withKv(async (kv) => {
    const scripted = new ScriptedKv(kv);
    const logger = recorder();
    const quotes = quoteBook();
    const snapshotter = new Snapshotter({ kv: scripted, quotes, cadenceMs: 3_600_000, logger });
    await snapshotter.start();
    scripted.failures = ["throw", "throw"];
    quotes.apply([trade(0, 19_010, 1)], ns(T0));
    await snapshotter.flush();
    quotes.apply([trade(1, 42_010, 1)], ns(T0));
    await snapshotter.flush();
    assert.deepStrictEqual(logger.errors, [
      "Cannot write quote snapshots (version 2, 1 symbol): disk I/O error; retrying every 3600000 ms",
    ]);
    await snapshotter.flush();
    assert.deepStrictEqual(logger.infos, [
      "quote snapshots: writing again (version 2) after 2 failed attempts",
    ]);
    const { version, snapshots } = await readAll(kv);
    assert.deepStrictEqual(version, 2n);
    assert.deepStrictEqual(snapshots.get("AAPL")!.lastTrade?.price, 190.1);
    assert.deepStrictEqual(snapshots.get("MSFT")!.lastTrade?.price, 420.1);
    assert.deepStrictEqual([snapshotter.stats.failures, snapshotter.stats.halted], [2, undefined]);
    await snapshotter.close();
  });
});

Deno.test("a commit that landed but threw is recognised as this writer's own, not another's", async () => {
  await withKv(async (kv) => {
    const scripted = new ScriptedKv(kv);
    const logger = recorder();
    const quotes = quoteBook();
    const snapshotter = new Snapshotter({ kv: scripted, quotes, cadenceMs: 3_600_000, logger });
    await snapshotter.start();
    scripted.failures = ["landed"];
    quotes.apply([trade(0, 19_010, 1)], ns(T0));
    await snapshotter.flush();
    assert.deepStrictEqual(logger.errors.length, 1);
    quotes.apply([trade(0, 19_020, 1)], ns(T0));
    await snapshotter.flush();
    assert.deepStrictEqual(snapshotter.stats.halted, undefined);
    const { version, snapshots } = await readAll(kv);
    assert.deepStrictEqual(version, 3n);
    assert.deepStrictEqual(snapshots.get("AAPL")!.lastTrade?.price, 190.2);
    await snapshotter.close();
  });
});

Deno.test("close() makes a last write of what changed, and nothing after", async () => {
  await withKv(async (kv) => {
    const quotes = quoteBook();
    const snapshotter = new Snapshotter({ kv, quotes, cadenceMs: 3_600_000, now: () => T0 });
    await snapshotter.start();
    quotes.apply([trade(4, 13_050, 7)], ns(T0));
    await snapshotter.close();
    let read = await readAll(kv);
    assert.deepStrictEqual([read.version, read.snapshots.get("NVDA")!.day?.volume], [2n, 7]);
    quotes.apply([trade(4, 13_060, 1)], ns(T0));
    await snapshotter.flush();
    await snapshotter.close();
    read = await readAll(kv);
    assert.deepStrictEqual([read.version, read.snapshots.get("NVDA")!.day?.volume], [2n, 7]);
  });
});

Deno.test("a restart resumes the day from the stored snapshots and continues the version", async () => {
  await withKv(async (kv) => {
    const now = () => T0 + 1000;
    const first = quoteBook();
    const one = new Snapshotter({ kv, quotes: first, now });
    await one.start();
    first.apply([trade(0, 19_100, 10), trade(0, 19_000, 10)], ns(T0));
    await one.close();

    const tops: TopOfBook[] = [];
    tops[0] = { bidPrice: 18_999, bidSize: 4, askPrice: 19_001, askSize: 2, sequence: 0 };
    const second = quoteBook(tops);
    const two = new Snapshotter({ kv, quotes: second, now });
    assert.deepStrictEqual(await two.start(), { previousVersion: 2n, resumed: 1, version: 3n });
    let aapl = (await readAll(kv)).snapshots.get("AAPL")!;
    assert.deepStrictEqual([aapl.bid, aapl.ask, aapl.version], [
      { price: 189.99, size: 4 },
      { price: 190.01, size: 2 },
      3,
    ]);
    assert.deepStrictEqual(aapl.day, {
      open: 191,
      high: 191,
      low: 190,
      close: 190,
      volume: 20,
      vwap: 190.5,
      trades: 2,
    });
    second.apply([trade(0, 19_100, 20)], ns(T0 + 500));
    await two.close();
    aapl = (await readAll(kv)).snapshots.get("AAPL")!;
    assert.deepStrictEqual([aapl.day?.volume, aapl.day?.vwap, aapl.day?.trades], [40, 190.75, 3]);
  });
});

Deno.test("start() refuses a version key that is not a bigint", async () => {
  await withKv(async (kv) => {
    await kv.set(QUOTE_KEYS.version, "seven");
    const snapshotter = new Snapshotter({ kv, quotes: quoteBook() });
    let error: unknown;
    try {
      await snapshotter.start();
    } catch (e) {
      error = e;
    }
    assert(error instanceof TypeError, String(error));
    assert.deepStrictEqual(
      error.message,
      'Cannot start snapshotter: KV key ["quotes","version"] holds string, not a non-negative ' +
        "bigint; another program uses the quote keys",
    );
    await snapshotter.close();
  });
});

Deno.test("at its cadence, fed a random market, every value written passes the contract", async () => {
  await withKv(async (kv) => {
    const matcher = new ReferenceMatcher(instruments);
    const market = new MarketData({ instruments });
    const quotes = new QuoteBook({ instruments, top: marketDataTop(market, instruments) });
    const scripted = new ScriptedKv(kv);
    const snapshotter = new Snapshotter({ kv: scripted, quotes, cadenceMs: 5 });
    await snapshotter.start();
    const commands = randomCommandStream(11, 4000, instruments);
    for (let i = 0; i < commands.length; i += 200) {
      for (const command of commands.slice(i, i + 200)) {
        const events = matcher.apply(command);
        market.apply(command, events, ns(Date.now()));
        quotes.apply(events, ns(Date.now()));
      }
      await new Promise((r) => setTimeout(r, 3));
      const { snapshots } = await readAll(kv);
      assert.deepStrictEqual(snapshots.size, instruments.length);
    }
    await snapshotter.close();
    const { version, snapshots } = await readAll(kv);
    assert(version === snapshotter.stats.version && version > 3n, `version ${version}`);
    assert.deepStrictEqual(scripted.maxInFlight, 1);
    for (const [i, { symbol }] of instruments.entries()) {
      const best = matcher.snapshot(i, 1);
      assert.deepStrictEqual(
        snapshots.get(symbol)!.bid?.price ?? null,
        best.bids[0] === undefined ? null : best.bids[0].price / 100,
        symbol,
      );
      assert.deepStrictEqual(
        snapshots.get(symbol)!.sequence,
        Number(market.book(symbol)!.sequence),
        symbol,
      );
    }
  });
});

Deno.test("a quiet market moves no version but says the core is alive once a second", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    let now = T0;
    const snapshotter = new Snapshotter({
      kv,
      quotes: quoteBook(),
      cadenceMs: 3_600_000,
      now: () => now,
    });
    await snapshotter.start();
    const alive = async () => parseAlive((await kv.get(QUOTE_KEYS.alive)).value);
    assert.deepStrictEqual(await alive(), { ok: true, alive: { format: 1, at: T0, version: 1 } });
    now += 500;
    await snapshotter.flush(); // nothing changed, and it said so 500 ms ago
    assert.deepStrictEqual(await alive(), { ok: true, alive: { format: 1, at: T0, version: 1 } });
    now += ALIVE_EVERY_MS;
    await snapshotter.flush();
    assert.deepStrictEqual(await alive(), {
      ok: true,
      alive: { format: 1, at: T0 + 500 + ALIVE_EVERY_MS, version: 1 },
    });
    assert.deepStrictEqual((await kv.get(QUOTE_KEYS.version)).value, 1n, "the version stays");
    await snapshotter.close();
  } finally {
    kv.close();
  }
});

Deno.test("alive carries the engine's state, and a halt is written at the next write, not a second later", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    let now = T0;
    let engine: EngineState = { state: "running", cause: null, since: null };
    const snapshotter = new Snapshotter({
      kv,
      quotes: quoteBook(),
      cadenceMs: 3_600_000,
      now: () => now,
      engine: () => engine,
    });
    await snapshotter.start();
    const alive = async () => parseAlive((await kv.get(QUOTE_KEYS.alive)).value);
    assert.deepStrictEqual(await alive(), {
      ok: true,
      alive: { format: 1, at: T0, version: 1, engine },
    });
    now += 10;
    await snapshotter.flush(); // nothing changed: nothing written
    assert.deepStrictEqual(await alive(), {
      ok: true,
      alive: { format: 1, at: T0, version: 1, engine },
    });
    engine = { state: "halted", cause: "ENOSPC", since: T0 + 15 };
    now += 10;
    await snapshotter.flush(); // no quote moved, but the engine halted: written now
    assert.deepStrictEqual(await alive(), {
      ok: true,
      alive: { format: 1, at: T0 + 20, version: 1, engine },
    });
    assert.deepStrictEqual((await kv.get(QUOTE_KEYS.version)).value, 1n, "the version stays");
    now += 10;
    await snapshotter.flush(); // said already
    assert.deepStrictEqual(await alive(), {
      ok: true,
      alive: { format: 1, at: T0 + 20, version: 1, engine },
    });
    await snapshotter.close();
  } finally {
    kv.close();
  }
});
