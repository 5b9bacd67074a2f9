import assert from "node:assert";
import { loadInstruments } from "./instruments.ts";
import { CommandParser } from "./protocol.ts";
import { ReferenceMatcher } from "./reference_matcher.ts";
import { lines, LineWriter, replay } from "./replay.ts";
import { type Command, type EngineEvent, EventKind, type Matcher } from "./types.ts";

const instruments = loadInstruments();
const encoder = new TextEncoder();

/** A byte stream of `text` cut into chunks of `size` bytes, so cuts land mid-line and mid-character. */
function stream(text: string, size: number): ReadableStream<Uint8Array> {
  const bytes = encoder.encode(text);
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return ReadableStream.from(chunks);
}

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const line of iterable) out.push(line);
  return out;
}

/** A matcher that records the batches it is given and answers every command with one event. */
class SpyMatcher implements Matcher {
  readonly batches: number[][] = [];
  apply(command: Command): EngineEvent[] {
    return this.applyAll([command])[0]!;
  }
  applyAll(commands: readonly Command[]): EngineEvent[][] {
    this.batches.push(commands.map((c) => c.id));
    return commands.map((c) => [{ kind: EventKind.OrderAccepted, id: c.id, instrument: 0 }]);
  }
  stateHash(): bigint {
    return 0n;
  }
  close(): void {}
}

const cancel = (id: number) => `{"op":"cancel","id":${id}}`;

Deno.test("replay() over a byte stream writes events and errors in input order", async () => {
  const input = [
    '{"op":"new","id":1,"account":"A","symbol":"AAPL","side":"sell","type":"limit","price":100,"qty":5}',
    "not json",
    "",
    '{"op":"new","id":2,"account":"B","symbol":"AAPL","side":"buy","type":"limit","price":100,"qty":2}',
    "   ",
    '{"op":"new","id":3,"account":"B","symbol":"AAPL","side":"hold","type":"limit","price":100,"qty":2}',
    cancel(1),
  ].join("\r\n");
  const expected = [
    '{"ev":"accepted","id":1,"symbol":"AAPL"}',
    '{"ev":"error","line":2,"message":"Cannot read line 2: it is not valid JSON"}',
    '{"ev":"accepted","id":2,"symbol":"AAPL"}',
    '{"ev":"trade","taker":2,"maker":1,"price":100,"qty":2,"symbol":"AAPL"}',
    '{"ev":"error","line":6,"message":"Cannot read line 6: field \\"side\\" must be \\"buy\\" or \\"sell\\""}',
    '{"ev":"cancelled","id":1,"leaves":3,"symbol":"AAPL"}',
  ];
  for (const [chunk, batch] of [[1, 1], [7, 2], [64, 4096]] as const) {
    const out: string[] = [];
    const matcher = new ReferenceMatcher(instruments);
    await replay(lines(stream(input, chunk)), matcher, new CommandParser(instruments), (line) => {
      out.push(line);
    }, { batch });
    matcher.close();
    assert.deepStrictEqual(out, expected, `chunk ${chunk}, batch ${batch}`);
  }
});

Deno.test("replay() batches consecutive commands and flushes them before an error", async () => {
  const matcher = new SpyMatcher();
  const input = [1, 2, 3, 4, 5, 6].map(cancel).concat([
    "x",
    cancel(7),
    cancel(8),
    "",
    "y",
    cancel(9),
  ]);
  const out: string[] = [];
  await replay(input, matcher, new CommandParser(instruments), (line) => {
    out.push(line);
  }, { batch: 4 });
  assert.deepStrictEqual(matcher.batches, [[1, 2, 3, 4], [5, 6], [7, 8], [9]]);
  const ids = out.map((line) => {
    const event = JSON.parse(line) as { id?: number; line?: number };
    return event.id ?? `line ${event.line}`;
  });
  assert.deepStrictEqual(ids, [1, 2, 3, 4, 5, 6, "line 7", 7, 8, "line 11", 9]);
});

Deno.test("replay() batches 4096 commands by default", async () => {
  const matcher = new SpyMatcher();
  const input = Array.from({ length: 10_000 }, (_, i) => cancel(i));
  await replay(input, matcher, new CommandParser(instruments), () => {});
  assert.deepStrictEqual(matcher.batches.map((batch) => batch.length), [4096, 4096, 1808]);
});

Deno.test("replay() awaits an asynchronous writer before writing on", async () => {
  const out: string[] = [];
  let busy = false;
  await replay(
    [cancel(1), "x", cancel(2)],
    new SpyMatcher(),
    new CommandParser(instruments),
    async (line) => {
      assert(!busy, "write called while the previous write was pending");
      busy = true;
      await new Promise((resolve) => setTimeout(resolve, 1));
      out.push(line);
      busy = false;
    },
  );
  assert.deepStrictEqual(out.length, 3);
});

Deno.test("replay() refuses a batch size that is not a positive integer", async () => {
  for (const batch of [0, -1, 1.5, NaN]) {
    let error: unknown;
    try {
      await replay([], new SpyMatcher(), new CommandParser(instruments), () => {}, { batch });
    } catch (e) {
      error = e;
    }
    assert(error instanceof RangeError, `batch ${batch}`);
  }
});

Deno.test("lines() splits on \\n, drops \\r before it and keeps a last line without one", async () => {
  const cases: [string, string[]][] = [
    ["", []],
    ["\n", [""]],
    ["a", ["a"]],
    ["a\n", ["a"]],
    ["a\r\n\r\nb\r", ["a", "", "b"]],
    ["a\n\nb\n", ["a", "", "b"]],
    ["x\ry\n", ["x\ry"]],
    ["é€😀\n€", ["é€😀", "€"]],
  ];
  for (const [text, expected] of cases) {
    for (const size of [1, 2, 3, 1024]) {
      assert.deepStrictEqual(
        await collect(lines(stream(text, size))),
        expected,
        `${JSON.stringify(text)}/${size}`,
      );
    }
  }
});

Deno.test("lines() handles large inputs and long lines in linear time", async () => {
  const many = Array.from({ length: 200_000 }, (_, i) => cancel(i)).join("\n");
  const long = "x".repeat(4_000_000);
  const start = performance.now();
  const split = await collect(lines(stream(many, 65_536)));
  const joined = await collect(lines(stream(`${long}\nend`, 1000)));
  const elapsed = performance.now() - start;
  assert.deepStrictEqual(split.length, 200_000);
  assert.deepStrictEqual(split[123_456], cancel(123_456));
  assert.deepStrictEqual(joined.map((line) => line.length), [long.length, 3]);
  assert(elapsed < 3000, `took ${elapsed.toFixed(0)} ms`);
});

/** A writer that takes at most `max` bytes per call, recording each call. */
class TrickleWriter {
  readonly calls: string[] = [];
  constructor(readonly max: number) {}
  write(bytes: Uint8Array): Promise<number> {
    const n = Math.min(this.max, bytes.length);
    this.calls.push(new TextDecoder().decode(bytes.subarray(0, n)));
    return Promise.resolve(n);
  }
}

Deno.test("LineWriter writes lines with line breaks once flushAt is reached, and all of a partial write", async () => {
  const sink = new TrickleWriter(3);
  const out = new LineWriter(sink, 6);
  assert.deepStrictEqual(out.write("ab"), undefined);
  const pending = out.write("cde");
  assert(pending instanceof Promise, "expected a flush at 6 code units");
  await pending;
  assert.deepStrictEqual(sink.calls.join(""), "ab\ncde\n");
  assert.deepStrictEqual(sink.calls.length, 3);
  out.write("é");
  await out.flush();
  await out.flush();
  assert.deepStrictEqual(sink.calls.join(""), "ab\ncde\né\n");
});
