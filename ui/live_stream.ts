/**
 * The browser's side of the edge's Server-Sent Events stream
 * (`GET /api/v1/stream`, `edge/event_stream.ts`): each `quote` event's data
 * is a ticker, read into a {@linkcode QuoteView} and handed on.
 *
 * # Reconnecting
 *
 * Two ways, both losing nothing, because the edge's `id:` lines mean "you
 * have every change up to this version":
 *
 * - When the connection drops, `EventSource` itself reconnects after the
 *   server's `retry:` delay and sends the last `id:` it saw as
 *   `Last-Event-ID`; the edge resumes after it.
 * - When the edge refuses a connection (a 429 or 503, or any answer that is
 *   not an event stream), `EventSource` gives up for good. Then this module
 *   opens a new one after a growing, jittered delay, with the last event id
 *   as `since` in the URL (a new `EventSource` cannot set the header).
 *
 * @module
 */

import type { Signal } from "@preact/signals";
import { parseTickerEvent, type QuoteView } from "./quote_view.ts";
import type { StreamStatus } from "./stream_status.tsx";

/** What this module needs of an `EventSource`. */
export interface EventSourceLike {
  readonly readyState: number;
  addEventListener(type: string, listener: (event: MessageEvent<unknown>) => void): void;
  close(): void;
}

/** The `readyState` of an `EventSource` that will not reconnect by itself. */
export const EVENT_SOURCE_CLOSED = 2;

/** Options of {@linkcode connectLiveStream}. */
export interface LiveStreamOptions {
  /**
   * The stream's URL for a version to resume from.
   *
   * @param since The newest version the page holds every change up to.
   * @returns The URL.
   */
  readonly url: (since: number) => string;
  /** The version the page was rendered at. */
  readonly since: number;
  /**
   * Called with each quote received.
   *
   * @param view The quote.
   */
  readonly onQuote: (view: QuoteView) => void;
  /** Set as the stream's state changes. */
  readonly status: Signal<StreamStatus>;
  /** Makes the event source (default: `new EventSource(url)`). */
  readonly open?: (url: string) => EventSourceLike;
  /** The first delay before opening a refused stream again (default 1,000 ms); it doubles each time. */
  readonly retryMs?: number;
  /** The longest delay (default 30,000 ms). */
  readonly maxRetryMs?: number;
  /** A number in [0, 1) (default `Math.random`): the jitter that spreads many pages' retries. */
  readonly random?: () => number;
}

/** A connected stream. */
export interface LiveStream {
  /** The newest version received with an `id:` (or the page's, before any). */
  readonly since: number;
  /** Closes the stream and stops reconnecting. */
  close(): void;
}

/**
 * Opens the stream and keeps it open.
 *
 * @param options Where to connect, what to call, and the retry delays.
 * @returns The stream.
 *
 * @example
 * ```ts
 * import { signal } from "@preact/signals";
 * import { connectLiveStream } from "./live_stream.ts";
 * import type { StreamStatus } from "./stream_status.tsx";
 * const listeners = new Map<string, (e: MessageEvent<unknown>) => void>();
 * const fake = { readyState: 1, addEventListener: listeners.set.bind(listeners), close() {} };
 * const status = signal<StreamStatus>("snapshot");
 * const stream = connectLiveStream({
 *   url: (since) => `/api/v1/stream?since=${since}`, since: 4, onQuote() {}, status,
 *   open: () => fake,
 * });
 * listeners.get("open")!(new MessageEvent("open"));
 * if (status.value !== "live") throw new Error(status.value);
 * stream.close();
 * ```
 */
export function connectLiveStream(options: LiveStreamOptions): LiveStream {
  const open = options.open ?? ((url: string) => new EventSource(url));
  const firstDelay = options.retryMs ?? 1_000;
  const maxDelay = options.maxRetryMs ?? 30_000;
  const random = options.random ?? Math.random;
  let since = options.since;
  let delay = firstDelay;
  let source: EventSourceLike | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  const connect = () => {
    timer = undefined;
    const es = open(options.url(since));
    source = es;
    es.addEventListener("open", () => {
      delay = firstDelay;
      options.status.value = "live";
    });
    es.addEventListener("quote", (event) => {
      const id = Number(event.lastEventId);
      if (event.lastEventId !== "" && Number.isSafeInteger(id)) since = id;
      const view = typeof event.data === "string" ? parseTickerEvent(event.data) : undefined;
      if (view !== undefined) options.onQuote(view);
    });
    es.addEventListener("error", () => {
      if (closed || source !== es) return;
      options.status.value = "reconnecting";
      if (es.readyState !== EVENT_SOURCE_CLOSED) return; // EventSource retries by itself
      es.close();
      // Half the delay fixed, half random, so that pages refused together do not return together.
      timer = setTimeout(connect, delay / 2 + random() * delay / 2);
      delay = Math.min(delay * 2, maxDelay);
    });
  };

  options.status.value = "connecting";
  connect();
  return {
    get since() {
      return since;
    },
    close() {
      closed = true;
      clearTimeout(timer);
      source?.close();
    },
  };
}
