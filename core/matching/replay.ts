/**
 * The replay loop behind `deno task match`: command lines in, event lines
 * out, through any {@linkcode Matcher}; and the line reader and writer the
 * tools share.
 *
 * @module
 */

import { CommandParser, eventToJson, formatError } from "./protocol.ts";
import type { Command, Matcher } from "./types.ts";

/** Options for {@linkcode replay}. */
export interface ReplayOptions {
  /**
   * The most commands passed to one {@linkcode Matcher.applyAll} call. Larger
   * batches let a pipelined engine keep more commands in flight. Default 4096.
   */
  readonly batch?: number;
}

/**
 * Replays command lines through a matcher and writes one JSON event line
 * per event, in order. Consecutive commands are batched for
 * {@linkcode Matcher.applyAll}; a line that is not a command flushes the
 * pending batch first, so its error event lands between the events of the
 * commands around it. Blank lines are skipped but still counted, so error
 * line numbers match the input's.
 *
 * @param lines The input, one line per element, without line breaks.
 * @param matcher The matcher; the caller opens and closes it.
 * @param parser The parser for this run (it interns accounts, so use a fresh one per run).
 * @param write Called with each event's JSON text, without a line break; awaited when it returns a promise.
 * @param options See {@linkcode ReplayOptions}.
 * @returns When every line is replayed and written.
 * @throws {RangeError} If `options.batch` is not a positive integer.
 *
 * @example
 * ```ts
 * import { CommandParser, loadInstruments, ReferenceMatcher, replay } from "./mod.ts";
 * import assert from "node:assert";
 *
 * const instruments = loadInstruments();
 * const out: string[] = [];
 * await replay(
 *   ['{"op":"cancel","id":1}', "oops"],
 *   new ReferenceMatcher(instruments),
 *   new CommandParser(instruments),
 *   (line) => void out.push(line),
 * );
 * assert.deepStrictEqual(out, [
 *   '{"ev":"rejected","id":1,"reason":"unknown_order"}',
 *   '{"ev":"error","line":2,"message":"Cannot read line 2: it is not valid JSON"}',
 * ]);
 * ```
 */
export async function replay(
  lines: AsyncIterable<string> | Iterable<string>,
  matcher: Matcher,
  parser: CommandParser,
  write: (jsonLine: string) => void | Promise<void>,
  options: ReplayOptions = {},
): Promise<void> {
  const batch = options.batch ?? 4096;
  if (!Number.isSafeInteger(batch) || batch < 1) {
    throw new RangeError(`Cannot replay: batch must be a positive integer, got ${batch}`);
  }
  let pending: Command[] = [];
  const flush = async () => {
    if (pending.length === 0) return;
    const results = matcher.applyAll(pending);
    pending = [];
    for (const events of results) {
      for (const event of events) {
        const done = write(JSON.stringify(eventToJson(event, parser.instruments)));
        // Awaiting only real promises spares a synchronous writer a microtask per line.
        if (done !== undefined) await done;
      }
    }
  };
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber++;
    if (line.trim() === "") continue;
    const parsed = parser.parse(line);
    if (parsed.ok) {
      pending.push(parsed.command);
      if (pending.length >= batch) await flush();
    } else {
      await flush();
      const done = write(JSON.stringify(formatError(lineNumber, parsed.message)));
      if (done !== undefined) await done;
    }
  }
  await flush();
}

/**
 * Splits a byte stream into UTF-8 lines on `\n`, dropping a `\r` before it
 * (so `\r\n` works) and yielding a last line that has no line break. A final
 * line break does not start another, empty line.
 *
 * @param readable The bytes, e.g. `Deno.stdin.readable`.
 * @returns The lines, without line breaks.
 *
 * @example
 * ```ts
 * import { lines } from "./replay.ts";
 * import assert from "node:assert";
 *
 * const bytes = new TextEncoder().encode("a\r\nb\nc");
 * const out: string[] = [];
 * for await (const line of lines(ReadableStream.from([bytes]))) out.push(line);
 * assert.deepStrictEqual(out, ["a", "b", "c"]);
 * ```
 */
export async function* lines(readable: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  // V8 concatenates strings as ropes, so a line spread over many chunks
  // costs linear time; only the new chunk is ever searched for "\n".
  let partial = "";
  for await (const chunk of readable) {
    const text = decoder.decode(chunk, { stream: true });
    let start = 0;
    let end = text.indexOf("\n");
    while (end !== -1) {
      yield stripCr(partial + text.slice(start, end));
      partial = "";
      start = end + 1;
      end = text.indexOf("\n", start);
    }
    partial += text.slice(start);
  }
  partial += decoder.decode();
  if (partial !== "") yield stripCr(partial);
}

function stripCr(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}

/** Where a {@linkcode LineWriter} writes: `Deno.stdout`, a file, … */
export interface ByteWriter {
  /** Writes some of `bytes`, returning how many. */
  write(bytes: Uint8Array): Promise<number>;
}

/**
 * Buffers text lines and writes them in large chunks, each line followed by
 * `\n`: few system calls, bounded memory.
 *
 * @example
 * ```ts
 * import { LineWriter } from "./replay.ts";
 * import assert from "node:assert";
 *
 * const chunks: string[] = [];
 * const sink = {
 *   write: (bytes: Uint8Array) => {
 *     chunks.push(new TextDecoder().decode(bytes));
 *     return Promise.resolve(bytes.length);
 *   },
 * };
 * const out = new LineWriter(sink);
 * out.write("a");
 * out.write("b");
 * assert.deepStrictEqual(chunks, []);
 * await out.flush();
 * assert.deepStrictEqual(chunks, ["a\nb\n"]);
 * ```
 */
export class LineWriter {
  readonly #writer: ByteWriter;
  readonly #flushAt: number;
  readonly #encoder = new TextEncoder();
  #lines: string[] = [];
  #size = 0;

  /**
   * Makes a writer.
   *
   * @param writer Where the bytes go.
   * @param flushAt Writes once this many UTF-16 code units are buffered (default 65536).
   */
  constructor(writer: ByteWriter, flushAt = 1 << 16) {
    this.#writer = writer;
    this.#flushAt = flushAt;
  }

  /**
   * Buffers one line, writing the buffer when it is full.
   *
   * @param line The line, without its line break.
   * @returns A promise when it writes (await it before writing on), else nothing.
   */
  write(line: string): Promise<void> | void {
    this.#lines.push(line);
    this.#size += line.length + 1;
    if (this.#size >= this.#flushAt) return this.flush();
  }

  /**
   * Writes every buffered line.
   *
   * @returns When the bytes are written.
   * @throws Whatever the writer throws (`Deno.errors.BrokenPipe` when a reader stops early).
   */
  async flush(): Promise<void> {
    if (this.#lines.length === 0) return;
    const bytes = this.#encoder.encode(this.#lines.join("\n") + "\n");
    this.#lines = [];
    this.#size = 0;
    // A write may take only part of the buffer.
    for (let written = 0; written < bytes.length;) {
      written += await this.#writer.write(bytes.subarray(written));
    }
  }
}
