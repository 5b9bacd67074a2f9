/**
 * What the market data publisher delivers: book-delta frames produced per
 * second, each command applied to the L2 view, its frames encoded once, and
 * every frame handed to N subscriber sinks whose `send` copies it into a
 * bounded queue (as a WebSocket's send buffer would), drained after each
 * flush (a reader that keeps up).
 *
 * The stream is the matching bench's ({@linkcode benchFlow}); its events come
 * from the reference matcher beforehand, so only the publisher is timed.
 * One flush per `batch` commands stands for one engine drain.
 *
 * @module
 */

import { type Command, type EngineEvent, type Instrument } from "../core/matching/types.ts";
import { ReferenceMatcher } from "../core/matching/reference_matcher.ts";
import { encodeSymbol, FrameEncoder, type FrameSink, MarketData } from "../core/marketdata/mod.ts";
import { encodeServerMessage } from "../core/wire/server.ts";
import type { BookDeltaEvent } from "../core/wire/types.ts";
import type { SubjectResult } from "./matching_bench.ts";
import { formatNs } from "./subject.ts";

/** The subject name of a market data run with `subscribers` sinks, as targets name it. */
export function marketDataSubject(subscribers: number): string {
  return `marketdata-${subscribers}`;
}

/** Union tags of `ServerMessage`, read from byte 32 of a single-segment frame (root word 3). */
const TAG_BYTE = 32;
const TAG_DELTA = 3;
const TAG_TRADE = 4;
const TAG_QUOTE = 5;
const TAG_RESYNC = 7;

/**
 * A sink that copies every frame into a fixed ring of bytes and reports
 * what it holds as `bufferedAmount`; `drain()` stands for the network
 * taking it all. A frame that does not fit is counted as dropped.
 */
class QueueSink implements FrameSink {
  readonly #ring: Uint8Array;
  readonly #capacity: number;
  #head = 0;
  #queued = 0;
  dropped = 0;
  closed = false;
  /** Frames by union tag, and the bytes of book deltas, when tallying. */
  readonly tags: number[] | undefined;
  deltaBytes = 0;

  constructor(capacity: number, tally: boolean) {
    this.#ring = new Uint8Array(capacity);
    this.#capacity = capacity;
    this.tags = tally ? [0, 0, 0, 0, 0, 0, 0, 0, 0, 0] : undefined;
  }

  get bufferedAmount(): number {
    return this.#queued;
  }

  send(frame: Uint8Array): void {
    const n = frame.byteLength;
    const ring = this.#ring;
    const capacity = this.#capacity;
    if (this.#queued + n > capacity) {
      this.dropped++;
      return;
    }
    const head = this.#head;
    const room = capacity - head;
    if (n <= room) {
      ring.set(frame, head);
      this.#head = head + n === capacity ? 0 : head + n;
    } else {
      ring.set(frame.subarray(0, room), head);
      ring.set(frame.subarray(room), 0);
      this.#head = n - room;
    }
    this.#queued += n;
    if (this.tags !== undefined) {
      const tag = frame[TAG_BYTE]!;
      this.tags[tag]!++;
      if (tag === TAG_DELTA) this.deltaBytes += n;
    }
  }

  /** Forgets the tallies (of the snapshot sent at subscription). */
  reset(): void {
    this.tags?.fill(0);
    this.deltaBytes = 0;
    this.#queued = 0;
  }

  drain(): void {
    this.#queued = 0;
  }

  close(): void {
    this.closed = true;
  }
}

/** Options of {@linkcode runMarketDataBench}. */
export interface MarketDataBenchOptions {
  readonly instruments: readonly Instrument[];
  /** The stream (one instrument's, as `benchFlow` makes it). */
  readonly commands: readonly Command[];
  /** The instrument the stream trades (its symbol is subscribed). */
  readonly instrument: number;
  /** Subscriber counts to measure, one run each. Default 1, 10, 100. */
  readonly subscribers?: readonly number[];
  /** Commands per flush. Default 64. */
  readonly batch?: number;
  /** Measured repetitions per run (median reported), after one warm-up pass. Default 3. */
  readonly repeat?: number;
  /** Each sink's ring, bytes. Default 1 MiB + 64 KiB: above the publisher's 1 MiB limit. */
  readonly queueBytes?: number;
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

/** One run: N subscribers over the whole stream. */
export interface MarketDataRun {
  readonly subscribers: number;
  /** Book-delta frames produced per second (median repetition). */
  readonly deltaFramesPerSecond: number;
  /** Every frame produced (delta, trade, quote) per second. */
  readonly framesPerSecond: number;
  /** Commands applied per second. */
  readonly commandsPerSecond: number;
  /** Frames handed to sinks per second (frames × subscribers). */
  readonly deliveriesPerSecond: number;
  /** Each repetition's delta frames per second, in order. */
  readonly repetitions: readonly number[];
  /** Frames any sink dropped (a full ring): 0 when the publisher's limit holds. */
  readonly dropped: number;
  /** Resyncs the first sink was sent: 0 when the sinks keep up. */
  readonly resyncs: number;
}

/** Everything {@linkcode runMarketDataBench} measured. */
export interface MarketDataFigures {
  readonly commands: number;
  readonly batch: number;
  readonly queueBytes: number;
  readonly repeat: number;
  /** Frames per pass, by kind (every run produces the same). */
  readonly deltas: number;
  readonly trades: number;
  readonly quotes: number;
  /** Mean bytes per delta frame, and levels per delta. */
  readonly meanDeltaBytes: number;
  readonly meanDeltaLevels: number;
  readonly runs: readonly MarketDataRun[];
  /** Encoding one 2-level delta alone (best of 5 rounds): direct, and capnp-es's `encodeServerMessage`, in ns. */
  readonly encodeNs: {
    readonly direct: number;
    readonly capnpEs: number;
    readonly samples: number;
  };
}

/**
 * Measures the publisher over the stream for each subscriber count.
 *
 * @param options The stream and the configuration.
 * @returns The figures.
 * @throws {Error} If the publisher rejects the stream (it would be a bug).
 *
 * @example
 * ```ts
 * import { runMarketDataBench } from "./marketdata_bench.ts";
 * import { benchFlow } from "../core/synthetic/mod.ts";
 * import { loadInstruments } from "../core/matching/mod.ts";
 *
 * const instruments = loadInstruments();
 * const commands = benchFlow({ seed: 1, count: 5_000, depth: 50, instruments });
 * const figures = runMarketDataBench({ instruments, commands, instrument: 0, subscribers: [2], repeat: 1 });
 * if (figures.deltas === 0 || figures.runs[0]!.dropped !== 0) throw new Error("bad run");
 * ```
 */
export function runMarketDataBench(options: MarketDataBenchOptions): MarketDataFigures {
  const {
    instruments,
    commands,
    instrument,
    subscribers = [1, 10, 100],
    batch = 64,
    repeat = 3,
    queueBytes = 1024 * 1024 + 64 * 1024,
    log = () => {},
  } = options;
  const symbol = instruments[instrument]?.symbol;
  if (symbol === undefined) {
    throw new RangeError(`Cannot bench market data: no instrument ${instrument}`);
  }
  log(
    `market data: events of ${
      commands.length.toLocaleString("en-US")
    } commands (reference matcher)`,
  );
  const matcher = new ReferenceMatcher(instruments);
  const events = matcher.applyAll(commands);
  matcher.close();
  const times = commands.map((_, i) => 1_700_000_000_000_000_000n + BigInt(i));

  let tally = { deltas: 0, trades: 0, quotes: 0, deltaBytes: 0 };
  const runs: MarketDataRun[] = [];
  for (const n of subscribers) {
    if (!Number.isSafeInteger(n) || n < 1) {
      throw new RangeError(`Cannot bench market data: subscriber counts must be >= 1, got ${n}`);
    }
    log(`market data: ${n} subscriber(s), 1 warm-up + ${repeat} pass(es)`);
    const rates: { delta: number; seconds: number }[] = [];
    let dropped = 0;
    let resyncs = 0;
    for (let r = 0; r <= repeat; r++) {
      const pass = runPass(instruments, symbol, commands, events, times, n, batch, queueBytes);
      if (r === 0) {
        tally = pass.tally;
        continue;
      }
      dropped += pass.dropped;
      resyncs += pass.resyncs;
      rates.push({ delta: pass.tally.deltas / pass.seconds, seconds: pass.seconds });
    }
    const sorted = [...rates].sort((a, b) => a.delta - b.delta);
    const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
    const frames = tally.deltas + tally.trades + tally.quotes;
    runs.push({
      subscribers: n,
      deltaFramesPerSecond: median.delta,
      framesPerSecond: frames / median.seconds,
      commandsPerSecond: commands.length / median.seconds,
      deliveriesPerSecond: (frames * n) / median.seconds,
      repetitions: rates.map((x) => x.delta),
      dropped,
      resyncs,
    });
  }
  return {
    commands: commands.length,
    batch,
    queueBytes,
    repeat,
    deltas: tally.deltas,
    trades: tally.trades,
    quotes: tally.quotes,
    meanDeltaBytes: tally.deltaBytes / Math.max(1, tally.deltas),
    // A delta is 8 + 8 × (10 + text words) bytes, plus 24 per level.
    meanDeltaLevels: (tally.deltaBytes / Math.max(1, tally.deltas) - 8 -
      8 * (10 + encodeSymbol(symbol).words)) / 24,
    runs,
    encodeNs: measureEncoders(symbol),
  };
}

/** One pass over the stream with a fresh publisher and `n` fresh sinks. */
function runPass(
  instruments: readonly Instrument[],
  symbol: string,
  commands: readonly Command[],
  events: readonly EngineEvent[][],
  times: readonly bigint[],
  n: number,
  batch: number,
  queueBytes: number,
) {
  const market = new MarketData({ instruments });
  const sinks = Array.from({ length: n }, (_, i) => new QueueSink(queueBytes, i === 0));
  for (const sink of sinks) {
    if (market.subscribe(sink, symbol, 0n) !== undefined) {
      throw new Error(`Cannot bench market data: ${symbol} is not a channel`);
    }
    sink.reset();
  }
  const first = sinks[0]!;
  const start = performance.now();
  for (let i = 0; i < commands.length;) {
    const end = Math.min(commands.length, i + batch);
    for (; i < end; i++) market.apply(commands[i]!, events[i]!, times[i]!);
    market.flush();
    for (let s = 0; s < sinks.length; s++) sinks[s]!.drain();
  }
  const seconds = (performance.now() - start) / 1_000;
  const tags = first.tags!;
  return {
    seconds,
    tally: {
      deltas: tags[TAG_DELTA]!,
      trades: tags[TAG_TRADE]!,
      quotes: tags[TAG_QUOTE]!,
      deltaBytes: first.deltaBytes,
    },
    dropped: sinks.reduce((total, s) => total + s.dropped, 0),
    resyncs: tags[TAG_RESYNC]!, // the first sink's: every sink is alike
  };
}

/**
 * ns per delta encode, direct and through capnp-es, over one typical delta:
 * the best of 5 rounds each (the figure is the encoder's cost, not the
 * machine's noise).
 */
function measureEncoders(symbol: string): { direct: number; capnpEs: number; samples: number } {
  const text = encodeSymbol(symbol);
  const levels = [
    { side: 0 as const, price: 19000, qty: 120, count: 3 },
    { side: 1 as const, price: 19001, qty: 0, count: 0 },
  ];
  const event: BookDeltaEvent = {
    type: "bookDelta",
    symbol,
    sequence: 1n,
    levels: levels.map((l) => ({
      side: l.side === 0 ? "buy" : "sell",
      price: l.price,
      quantity: l.qty,
      orderCount: l.count,
    })),
    engineTime: 1_700_000_000_000_000_000n,
  };
  const encoder = new FrameEncoder();
  const direct = bestOf(5, 20_000, (i) => {
    encoder.bookDelta(text, i, 1_700_000_000_000_000_000n, levels);
    if ((i & 63) === 63) encoder.stampSentAt(0n); // a flush
  });
  encoder.stampSentAt(0n);
  const capnpEs = bestOf(5, 400, () => void encodeServerMessage(event));
  return { direct, capnpEs, samples: 5 * 20_000 };
}

/** The fastest of `rounds` rounds of `n` calls, in ns per call (after one warm-up round). */
function bestOf(rounds: number, n: number, fn: (i: number) => void): number {
  let best = Infinity;
  for (let r = 0; r <= rounds; r++) {
    const start = performance.now();
    for (let i = 0; i < n; i++) fn(i);
    const ns = ((performance.now() - start) * 1e6) / n;
    if (r > 0) best = Math.min(best, ns);
  }
  return best;
}

/**
 * The market data runs as results for `checkTargets` (throughput = book-delta frames/s).
 *
 * @param figures The figures.
 * @returns One result per run, named by {@linkcode marketDataSubject}.
 *
 * @example
 * ```ts
 * import { marketDataResults, runMarketDataBench } from "./marketdata_bench.ts";
 * import { checkTargets, MARKET_DATA_TARGETS } from "./targets.ts";
 * import { benchFlow } from "../core/synthetic/mod.ts";
 * import { loadInstruments } from "../core/matching/mod.ts";
 *
 * const instruments = loadInstruments();
 * const commands = benchFlow({ seed: 1, count: 2_000, depth: 50, instruments });
 * const figures = runMarketDataBench({ instruments, commands, instrument: 0, subscribers: [10], repeat: 1 });
 * const [check] = checkTargets(marketDataResults(figures), MARKET_DATA_TARGETS);
 * console.log(check?.status, check?.detail); // PASS or FAIL, and the rate
 * ```
 */
export function marketDataResults(figures: MarketDataFigures): SubjectResult[] {
  return figures.runs.map((run) => ({
    name: marketDataSubject(run.subscribers),
    commandsPerSecond: run.deltaFramesPerSecond,
  }));
}

/**
 * Prints the configuration and one line per run.
 *
 * @param f The figures.
 *
 * @example
 * ```ts ignore
 * printMarketData(runMarketDataBench({ instruments, commands, instrument: 0 }));
 * ```
 */
export function printMarketData(f: MarketDataFigures): void {
  const num = (x: number) => Math.round(x).toLocaleString("en-US");
  const m = (x: number) => `${(x / 1e6).toFixed(2)} M/s`;
  console.log();
  console.log("market data (core/marketdata: apply to the L2 view + encode once + fan out)");
  console.log(
    `  config    ${num(f.commands)} commands of the stream above, flush every ${f.batch} ` +
      `commands, sinks copy each frame into a ${num(f.queueBytes)}-byte ring drained after ` +
      `each flush; publisher limit 1 MiB; 1 warm-up + ${f.repeat} pass(es), median`,
  );
  console.log(
    `  frames    per pass: ${num(f.deltas)} book deltas (mean ${f.meanDeltaBytes.toFixed(0)} B), ` +
      `${num(f.trades)} trades, ${num(f.quotes)} quotes; ${
        f.meanDeltaLevels.toFixed(2)
      } levels per delta`,
  );
  console.log(
    `  encode    one 2-level delta (best of 5 rounds): direct ${
      formatNs(f.encodeNs.direct)
    }, capnp-es ` +
      `encodeServerMessage ${formatNs(f.encodeNs.capnpEs)} (${
        (f.encodeNs.capnpEs / f.encodeNs.direct).toFixed(0)
      }×)`,
  );
  for (const r of f.runs) {
    console.log(
      `  ${String(r.subscribers).padStart(4)} subscriber(s): ${
        m(r.deltaFramesPerSecond)
      } delta frames, ` +
        `${m(r.framesPerSecond)} frames, ${m(r.commandsPerSecond)} commands, ` +
        `${m(r.deliveriesPerSecond)} deliveries; runs ${
          r.repetitions.map((x) => (x / 1e6).toFixed(2)).join(" ")
        }${r.dropped + r.resyncs > 0 ? `; ${r.dropped} dropped, ${r.resyncs} resyncs` : ""}`,
    );
  }
}
