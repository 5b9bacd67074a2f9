import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { signal } from "@preact/signals";
import { tickerJson } from "../edge/ticker.ts";
import { connectLiveStream, EVENT_SOURCE_CLOSED, type EventSourceLike } from "./live_stream.ts";
import type { QuoteView } from "./quote_view.ts";
import type { StreamStatus } from "./stream_status.tsx";
import { makeSnapshot } from "./_testing/fixtures.ts";

/** An `EventSource` the test drives by hand. */
class FakeSource implements EventSourceLike {
  readyState = 0;
  closed = false;
  readonly #listeners = new Map<string, ((e: MessageEvent<unknown>) => void)[]>();
  constructor(readonly url: string) {}
  addEventListener(type: string, listener: (e: MessageEvent<unknown>) => void): void {
    this.#listeners.set(type, [...(this.#listeners.get(type) ?? []), listener]);
  }
  close(): void {
    this.closed = true;
    this.readyState = EVENT_SOURCE_CLOSED;
  }
  emit(type: string, init: MessageEventInit<unknown> = {}): void {
    if (type === "open") this.readyState = 1;
    for (const l of this.#listeners.get(type) ?? []) l(new MessageEvent(type, init));
  }
  quote(price: number, id?: number): void {
    const data = tickerJson(makeSnapshot("AAPL", { lastTrade: { price, size: 1, time: 1 } }));
    this.emit("quote", { data, lastEventId: id === undefined ? "" : String(id) });
  }
}

function setup() {
  const sources: FakeSource[] = [];
  const quotes: QuoteView[] = [];
  const status = signal<StreamStatus>("snapshot");
  const stream = connectLiveStream({
    url: (since) => `/api/v1/stream?symbols=AAPL&since=${since}`,
    since: 5,
    onQuote: (v) => quotes.push(v),
    status,
    open: (url) => {
      const s = new FakeSource(url);
      sources.push(s);
      return s;
    },
    retryMs: 4,
    maxRetryMs: 8,
    random: () => 0,
  });
  return { sources, quotes, status, stream };
}

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("connectLiveStream() hands on each quote and tracks the last event id", () => {
  const { sources, quotes, status, stream } = setup();
  strictEqual(status.value, "connecting");
  const source = sources[0]!;
  strictEqual(source.url, "/api/v1/stream?symbols=AAPL&since=5");
  source.emit("open");
  strictEqual(status.value, "live");
  source.quote(101.5);
  source.quote(101.75, 9);
  source.emit("quote", { data: "{broken" });
  deepStrictEqual(quotes.map((q) => q.lastTrade?.price), [101.5, 101.75]);
  strictEqual(stream.since, 9);
  stream.close();
  strictEqual(source.closed, true);
});

Deno.test("connectLiveStream() leaves a dropped connection to EventSource's own retry", async () => {
  const { sources, status, stream } = setup();
  sources[0]!.emit("open");
  sources[0]!.readyState = 0; // CONNECTING: the browser retries, with Last-Event-ID
  sources[0]!.emit("error");
  strictEqual(status.value, "reconnecting");
  await tick(20);
  strictEqual(sources.length, 1);
  sources[0]!.emit("open");
  strictEqual(status.value, "live");
  stream.close();
});

Deno.test("connectLiveStream() reopens a refused stream from the last event id, backing off", async () => {
  const { sources, status, stream } = setup();
  sources[0]!.emit("open");
  sources[0]!.quote(102, 17);
  sources[0]!.readyState = EVENT_SOURCE_CLOSED; // e.g. a 429: EventSource gives up
  sources[0]!.emit("error");
  strictEqual(status.value, "reconnecting");
  await tick(20);
  strictEqual(sources.length, 2);
  strictEqual(sources[1]!.url, "/api/v1/stream?symbols=AAPL&since=17");
  // Refused again: the delay doubles up to the most (waits of 2, 4, 4 ms with no jitter).
  for (let i = 1; i <= 3; i++) {
    sources[i]!.readyState = EVENT_SOURCE_CLOSED;
    sources[i]!.emit("error");
    await tick(20);
  }
  strictEqual(sources.length, 5);
  sources[4]!.emit("open");
  strictEqual(status.value, "live");
  stream.close();
});

Deno.test("connectLiveStream() stops retrying once closed", async () => {
  const { sources, stream } = setup();
  sources[0]!.readyState = EVENT_SOURCE_CLOSED;
  sources[0]!.emit("error");
  stream.close();
  await tick(20);
  strictEqual(sources.length, 1);
});
