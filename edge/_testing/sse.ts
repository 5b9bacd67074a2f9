/**
 * Reads a Server-Sent Events body message by message, for tests.
 *
 * @module
 */

/** One message: the fields it had (a comment-only message has `comment`). */
export interface SseMessage {
  readonly event?: string;
  readonly id?: string;
  readonly data?: string;
  readonly retry?: string;
  readonly comment?: string;
}

/** Reads messages off an event stream body. */
export class SseReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  #buffer = "";
  #done = false;

  /**
   * Reads `body`.
   *
   * @param body The response body.
   */
  constructor(body: ReadableStream<Uint8Array>) {
    this.#reader = body.getReader();
  }

  /**
   * The next message.
   *
   * @param timeoutMs How long to wait.
   * @returns The message, or undefined when the stream ended.
   * @throws {Error} When none comes in time.
   */
  async next(timeoutMs = 2000): Promise<SseMessage | undefined> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`No event within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      for (;;) {
        const end = this.#buffer.indexOf("\n\n");
        if (end >= 0) {
          const block = this.#buffer.slice(0, end);
          this.#buffer = this.#buffer.slice(end + 2);
          return parse(block);
        }
        if (this.#done) return undefined;
        const { value, done } = await Promise.race([this.#reader.read(), timeout]);
        if (done) this.#done = true;
        else this.#buffer += this.#decoder.decode(value, { stream: true });
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The next `n` quote events (skipping `retry:` and comments).
   *
   * @param n How many.
   * @param timeoutMs How long to wait for each.
   * @returns The events.
   */
  async quotes(n: number, timeoutMs = 2000): Promise<SseMessage[]> {
    const out: SseMessage[] = [];
    while (out.length < n) {
      const m = await this.next(timeoutMs);
      if (m === undefined) throw new Error(`The stream ended after ${out.length} of ${n} events`);
      if (m.event === "quote") out.push(m);
    }
    return out;
  }

  /** Whether the stream has ended (after what is buffered). */
  async ended(timeoutMs = 2000): Promise<boolean> {
    for (;;) {
      const m = await this.next(timeoutMs);
      if (m === undefined) return true;
    }
  }

  /** Stops reading (the server sees the client go away). */
  async cancel(): Promise<void> {
    await this.#reader.cancel();
  }
}

function parse(block: string): SseMessage {
  const m: Record<string, string> = {};
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) m.comment = line.slice(1).trim();
    else {
      const colon = line.indexOf(":");
      const name = line.slice(0, colon);
      const value = line.slice(colon + 1).replace(/^ /, "");
      m[name] = name in m ? `${m[name]}\n${value}` : value;
    }
  }
  return m;
}

/**
 * The symbols and versions of quote events, as `SYM@version`.
 *
 * @param events The events.
 * @returns One string each.
 */
export function summary(events: readonly SseMessage[]): string[] {
  return events.map((e) => {
    const t = JSON.parse(e.data ?? "{}");
    return `${t.ticker}@${t.version}${e.id === undefined ? "" : `#${e.id}`}`;
  });
}
