import assert from "node:assert";
import {
  CommandKind,
  CommandParser,
  eventToJson,
  loadInstruments,
  OrderType,
  type PlaceOrder,
  ReferenceMatcher,
  Side,
  TimeInForce,
} from "../matching/mod.ts";
import {
  eventFlags,
  EVF_LAST,
  journalMeta,
  type JournalOptions,
  NativeEngine,
  readJournal,
  verifyJournal,
} from "../native/mod.ts";
import { CORE_PERMISSIONS } from "../start.ts";
import { dumpJournal } from "./journal.ts";
import {
  expectCode,
  firstSegment,
  jsonl,
  recordExtents,
  runTool,
  sampleLines,
} from "./_test_support.ts";

const LINES = sampleLines(300);

/** A temp folder for `fn`, removed afterwards. */
async function withDir(fn: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Journals `LINES` in `parts` runs of `match --journal` and returns what they printed. */
async function journalRuns(dir: string, parts: number, args: string[] = []): Promise<string> {
  let out = "";
  const size = Math.ceil(LINES.length / parts);
  for (let i = 0; i < LINES.length; i += size) {
    const run = await runTool(
      "match",
      ["--journal", dir, ...args],
      jsonl(LINES.slice(i, i + size)),
    );
    out += expectCode(run, 0).stdout;
  }
  return out;
}

const lineList = (text: string) => text.split("\n").filter((line) => line !== "");

/** A resting buy of 1 lot of instrument 0 with id `id`, for account 0. */
const restingBuy = (id: number): PlaceOrder => ({
  kind: CommandKind.PlaceOrder,
  id,
  account: 0,
  instrument: 0,
  side: Side.Buy,
  type: OrderType.Limit,
  tif: TimeInForce.Gtc,
  postOnly: false,
  price: 10_000,
  qty: 1,
});

/**
 * Runs `push` on a started engine journaling into `dir`, then waits for
 * every command pushed to be answered, and closes the engine.
 */
function journalRun(
  dir: string,
  options: Partial<JournalOptions>,
  push: (engine: NativeEngine, drain: () => void) => void,
): void {
  const instruments = loadInstruments();
  const engine = NativeEngine.open(instruments);
  try {
    engine.openJournal({ dir, meta: journalMeta(instruments), snapshotEvery: 0, ...options });
    engine.start();
    let answered = 0;
    const count = (u32: Uint32Array, at: number) => {
      if (eventFlags(u32, at) & EVF_LAST) answered++;
    };
    push(engine, () => engine.drain(count));
    engine.flush();
    while (answered < engine.pushed) engine.drain(count);
  } finally {
    engine.close();
  }
}

Deno.test("journal dump | match reproduces the events of the journaled runs", async () => {
  await withDir(async (dir) => {
    const events = await journalRuns(dir, 2);
    const dump = expectCode(await runTool("journal", ["dump", dir]), 0).stdout;
    assert.deepStrictEqual(lineList(dump).length, LINES.length);
    const replayed = expectCode(await runTool("match", [], dump), 0).stdout;
    assert(replayed === events, "dump | match differs from the journaled runs' events");
  });
});

Deno.test("journal dump --events puts each command's events, in match's format, after it", async () => {
  await withDir(async (dir) => {
    const events = await journalRuns(dir, 3);
    const dump = lineList(expectCode(await runTool("journal", ["dump", dir]), 0).stdout);
    const interleaved = lineList(
      expectCode(await runTool("journal", ["dump", "--events", dir]), 0).stdout,
    );
    // The reference matcher, fed the dumped lines one by one, says what follows each.
    const instruments = loadInstruments();
    const parser = new CommandParser(instruments);
    const reference = new ReferenceMatcher(instruments);
    const expected = dump.flatMap((line) => {
      const parsed = parser.parse(line);
      if (!parsed.ok) throw new Error(parsed.message);
      return [
        line,
        ...reference.apply(parsed.command).map((e) => JSON.stringify(eventToJson(e, instruments))),
      ];
    });
    assert.deepStrictEqual(interleaved, expected);
    assert.deepStrictEqual(
      interleaved.filter((line) => line.startsWith('{"ev":')),
      lineList(events),
    );
  });
});

Deno.test("journal dump names symbols from the journal's own instrument table", async () => {
  await withDir(async (dir) => {
    const table = `${dir}/table.json`;
    await Deno.writeTextFile(
      table,
      JSON.stringify({
        instruments: ["ZED", "QQ.B"].map((symbol) => ({
          symbol,
          name: symbol,
          tickSize: 5,
          lotSize: 1,
          priceScale: 100,
          referencePrice: 1000,
        })),
      }),
    );
    const lines = [
      '{"op":"new","id":1,"account":"A","symbol":"QQ.B","side":"sell","type":"limit","price":1005,"qty":3}',
      '{"op":"new","id":2,"account":"B","symbol":"QQ.B","side":"buy","type":"limit","price":1005,"qty":1}',
      '{"op":"new","id":3,"account":"B","symbol":"AAPL","side":"buy","type":"limit","price":1003,"qty":1}',
    ];
    const journal = `${dir}/journal`;
    const events = await runTool(
      "match",
      ["--journal", journal, "--instruments", table],
      jsonl(lines),
    );
    const dump = expectCode(await runTool("journal", ["dump", journal]), 0).stdout;
    assert.deepStrictEqual(lineList(dump), [
      '{"op":"new","id":1,"account":"A","symbol":"QQ.B","side":"sell","type":"limit","tif":"gtc","price":1005,"qty":3,"postOnly":false}',
      '{"op":"new","id":2,"account":"B","symbol":"QQ.B","side":"buy","type":"limit","tif":"gtc","price":1005,"qty":1,"postOnly":false}',
      // AAPL is not in this table: the journal holds "unknown instrument", dumped as "?".
      '{"op":"new","id":3,"account":"B","symbol":"?","side":"buy","type":"limit","tif":"gtc","price":1003,"qty":1,"postOnly":false}',
    ]);
    const replayed = await runTool("match", ["--instruments", table], dump);
    assert.deepStrictEqual(expectCode(replayed, 0).stdout, expectCode(events, 0).stdout);
  });
});

Deno.test("journal verify reports a clean journal (exit 0), and --json the raw report", async () => {
  await withDir(async (dir) => {
    await journalRuns(dir, 2);
    const records = [...readJournal(dir)].length;
    const run = expectCode(await runTool("journal", ["verify", dir]), 0);
    assert.deepStrictEqual(lineList(run.stdout), [
      "segments: 2",
      `records: ${records}`,
      "first sequence: 1",
      `last sequence: ${records}`,
      "torn tail: none",
      "corruption: none",
      "verdict: valid",
    ]);
    const json = expectCode(await runTool("journal", ["verify", "--json", dir]), 0);
    assert.deepStrictEqual(JSON.parse(json.stdout), verifyJournal(dir));
  });
});

Deno.test("journal verify reports a torn tail it would cut (exit 0), and match recovers past it", async () => {
  await withDir(async (dir) => {
    await journalRuns(dir, 3);
    const before = [...readJournal(dir)].length;
    const segment = firstSegment(dir);
    const last = recordExtents(await Deno.readFile(segment)).at(-1)!;
    const cutAt = last.offset + Math.floor(last.length / 2);
    await Deno.truncate(segment, cutAt);

    const run = expectCode(await runTool("journal", ["verify", dir]), 0);
    const lines = lineList(run.stdout);
    assert.deepStrictEqual(lines.slice(1, 4), [
      `records: ${before - 1}`,
      "first sequence: 1",
      `last sequence: ${before - 1}`,
    ]);
    assert(
      lines[4]!.startsWith(
        `torn tail: segment-0000000000000000.tcj at byte ${last.offset} (sequence ${before}, `,
      ) && lines[4]!.endsWith("; recovery would cut it there"),
      lines[4],
    );
    assert.deepStrictEqual(lines.slice(5), [
      "corruption: none",
      "verdict: valid up to a torn tail",
    ]);

    const resumed = await runTool("match", ["--journal", dir], jsonl(LINES.slice(0, 1)));
    expectCode(resumed, 0);
    assert(resumed.stderr.includes(`cut a torn tail`), resumed.stderr);
    assert(resumed.stderr.includes(`at byte ${last.offset}`), resumed.stderr);
    const after = expectCode(await runTool("journal", ["verify", dir]), 0).stdout;
    assert(after.includes("verdict: valid\n"), after);
  });
});

Deno.test("journal verify reports corruption before the tail (exit 1); dump stops there (exit 1)", async () => {
  await withDir(async (dir) => {
    await journalRuns(dir, 3);
    const segment = firstSegment(dir);
    const bytes = await Deno.readFile(segment);
    const extents = recordExtents(bytes);
    assert(extents.length >= 3, `expected 3 records or more, got ${extents.length}`);
    const middle = extents[extents.length >> 1]!;
    const file = await Deno.open(segment, { write: true });
    await file.seek(middle.offset + 40, Deno.SeekMode.Start);
    await file.write(new Uint8Array([bytes[middle.offset + 40]! ^ 0x10]));
    file.close();

    const run = await runTool("journal", ["verify", dir]);
    assert.deepStrictEqual(run.code, 1);
    const lines = lineList(run.stdout);
    assert.deepStrictEqual(lines[4], "torn tail: none");
    assert(
      lines[5]!.startsWith(`corruption: segment-0000000000000000.tcj at byte ${middle.offset} (`) &&
        lines[5]!.includes("bad CRC; valid records follow it"),
      lines[5],
    );
    assert.deepStrictEqual(lines[6], "verdict: corrupt");
    const json = await runTool("journal", ["verify", "--json", dir]);
    assert.deepStrictEqual(json.code, 1);
    assert.deepStrictEqual(JSON.parse(json.stdout).corruption.offset, middle.offset);

    const dump = await runTool("journal", ["dump", dir]);
    assert.deepStrictEqual(dump.code, 1);
    assert(dump.stderr.includes("is corrupt at byte"), dump.stderr);
  });
});

Deno.test("journal --help and -h print the usage on stdout and exit 0, whatever else is given", async () => {
  for (const args of [["--help"], ["verify", "-h"], ["dump", "--frobnicate", "--help"]]) {
    const run = await runTool("journal", args);
    assert.deepStrictEqual(run.code, 0, args.join(" "));
    assert(run.stdout.startsWith("Usage: deno task journal verify"), run.stdout);
  }
});

Deno.test("journal refuses a missing folder and bad usage with exit code 2", async () => {
  const missing = `${await Deno.makeTempDir()}/none`;
  const cases: [string[], string][] = [
    [["verify", missing], `${missing} does not exist`],
    [["dump", "--events", missing], `${missing} does not exist`],
    [["verify", new URL(import.meta.url).pathname], "is not a folder"],
    [[], "a command is needed: verify or dump"],
    [["check", "/tmp"], 'unknown command "check"'],
    [["verify"], "verify needs the journal folder"],
    [["verify", "/tmp", "/var"], "verify takes one folder, not 2"],
    [["dump", "--json", "/tmp"], 'unknown option "--json" for dump'],
    [["verify", "--events", "/tmp"], 'unknown option "--events" for verify'],
    [["verify", "--jsno", "/tmp"], 'unknown option "--jsno" for verify'],
    [["dump", "-x", "/tmp"], 'unknown option "-x" for dump'],
    [["verify", "--live=yes", "/tmp"], "--live takes no value"],
  ];
  for (const [args, message] of cases) {
    const run = await runTool("journal", args);
    assert.deepStrictEqual(run.code, 2, args.join(" "));
    assert(run.stderr.includes(message), run.stderr);
  }
  await Deno.remove(missing.slice(0, -"/none".length));
});

Deno.test("journal dump refuses a journal whose first records were released, saying why", async () => {
  await withDir((dir) => {
    journalRun(dir, { segmentBytes: 64 * 1024, snapshotEvery: 500, retention: "snapshots" }, (
      engine,
      drain,
    ) => {
      for (let id = 1; id <= 4_000; id++) {
        while (!engine.push(restingBuy(id))) drain();
      }
    });
    const first = verifyJournal(dir).firstSeq ?? 0;
    assert(first > 1, `records before ${first} were released`);
    let message = "";
    try {
      [...dumpJournal(dir)];
    } catch (error) {
      message = error instanceof Error ? error.message : String(error);
    }
    assert.deepStrictEqual(
      message,
      `Cannot dump journal ${dir}: record ${first}: it starts at record ${first}: the records ` +
        `before it were released after a snapshot (retention "snapshots"), so its commands ` +
        `cannot be replayed from the start`,
    );
  });
});

Deno.test("journal dump leaves risk controls out, and says so", async () => {
  await withDir((dir) => {
    journalRun(dir, {}, (engine) => {
      engine.pushRiskControl({ killSwitch: false, account: "all" });
      engine.push(restingBuy(1));
    });
    const notes: string[] = [];
    const lines = [...dumpJournal(dir, { onNote: (note) => notes.push(note) })];
    assert.deepStrictEqual(lines.length, 1);
    assert(lines[0]!.startsWith('{"op":"new","id":1,'), lines[0]);
    assert.deepStrictEqual(notes.length, 1);
    assert(notes[0]!.includes("match's input has no line for them"), notes[0]);
  });
});

/**
 * Runs `body` while an engine in this process journals into `dir`: it
 * pushes resting orders (ids from 1) every few milliseconds until `body`
 * ends, then waits for every answer and closes the engine.
 */
async function whileWriting(dir: string, body: () => Promise<void>): Promise<void> {
  const instruments = loadInstruments();
  const engine = NativeEngine.open(instruments);
  let answered = 0;
  const count = (u32: Uint32Array, at: number) => {
    if (eventFlags(u32, at) & EVF_LAST) answered++;
  };
  try {
    engine.openJournal({ dir, meta: journalMeta(instruments), snapshotEvery: 0 });
    engine.start();
    let writing = true;
    let id = 0;
    const writer = (async () => {
      while (writing) {
        for (let i = 0; i < 50 && engine.push(restingBuy(++id)); i++);
        engine.flush();
        engine.drain(count);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    // Something is journaled before the tools look.
    while (answered < 50) {
      engine.drain(count);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    try {
      await body();
    } finally {
      writing = false;
      await writer;
    }
    while (answered < engine.pushed) engine.drain(count);
  } finally {
    engine.close();
  }
}

Deno.test("journal verify and dump refuse a journal a running engine writes, naming its process; --live reads it", async () => {
  await withDir(async (dir) => {
    await whileWriting(dir, async () => {
      for (const args of [["verify", dir], ["verify", "--json", dir], ["dump", dir]]) {
        const run = await runTool("journal", args);
        assert.deepStrictEqual(run.code, 1, args.join(" "));
        assert.deepStrictEqual(run.stdout, "");
        assert(
          run.stderr.includes(`: process ${Deno.pid} is writing it (it holds ${dir}/lock)`) &&
            run.stderr.includes("with --live"),
          run.stderr,
        );
      }
      const verified = expectCode(await runTool("journal", ["verify", "--json", "--live", dir]), 0);
      const report = JSON.parse(verified.stdout);
      assert(report.records > 0 && report.corruption === null, verified.stdout);
      const dump = lineList(
        expectCode(await runTool("journal", ["dump", "--live", dir]), 0).stdout,
      );
      assert(dump.length >= 50, `${dump.length} commands dumped`);
      assert(dump[0]!.startsWith('{"op":"new","id":1,'), dump[0]);
      // In this process, the mapping readers refuse it too, and the live ones read it.
      assert.throws(
        () => verifyJournal(dir),
        messageIncludes(`this process (${Deno.pid}) is writing it`),
      );
      assert.throws(
        () => [...readJournal(dir)],
        messageIncludes(`this process (${Deno.pid}) is writing it`),
      );
      assert([...readJournal(dir, { live: true })].length > 0);
    });
    // Once the engine is closed, nothing holds the folder.
    const after = expectCode(await runTool("journal", ["verify", dir]), 0);
    assert(after.stdout.includes("verdict: valid\n"), after.stdout);
  });
});

Deno.test("a second engine on a journal folder is refused, in this process or another, naming the holder", async () => {
  await withDir(async (dir) => {
    await whileWriting(dir, async () => {
      const instruments = loadInstruments();
      const second = NativeEngine.open(instruments);
      try {
        assert.throws(
          () => second.openJournal({ dir, meta: journalMeta(instruments) }),
          messageIncludes(
            `Cannot open journal ${dir}: this process (${Deno.pid}) is writing it (it holds ${dir}/lock)`,
          ),
        );
      } finally {
        second.close();
      }
      // Another process, opening an engine's journal as the core does.
      const opener = new URL("../native/mod.ts", import.meta.url).href;
      const table = new URL("../matching/mod.ts", import.meta.url).href;
      const script = `
        import { journalMeta, NativeEngine } from ${JSON.stringify(opener)};
        import { loadInstruments } from ${JSON.stringify(table)};
        const instruments = loadInstruments();
        const engine = NativeEngine.open(instruments);
        try {
          engine.openJournal({ dir: Deno.args[0], meta: journalMeta(instruments) });
        } catch (error) {
          console.error(error.message);
          Deno.exit(3);
        }
        engine.close();`;
      const { code, stderr } = await new Deno.Command(Deno.execPath(), {
        args: ["eval", "--quiet", script, dir],
        stdout: "null",
        stderr: "piped",
      }).output();
      const message = new TextDecoder().decode(stderr);
      assert.deepStrictEqual(code, 3, message);
      assert(
        message.includes(`Cannot open journal ${dir}: process ${Deno.pid} is writing it`),
        message,
      );
    });
  });
});

/** For `assert.throws`: an Error whose message includes `part`. */
function messageIncludes(part: string): (error: unknown) => boolean {
  return (error) => error instanceof Error && error.message.includes(part);
}

Deno.test("a core started on a journal folder another process writes refuses to start, naming it", async () => {
  await withDir(async (dir) => {
    const journal = `${dir}/journal`;
    await whileWriting(journal, async () => {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", ...CORE_PERMISSIONS, new URL("../main.ts", import.meta.url).pathname],
        env: {
          CORE_PORT: "0",
          // Its own secret and account store: nothing written under data/.
          GATEWAY_JWT_SECRET: "A".repeat(43),
          KV_PATH: `${dir}/core.kv`,
          JOURNAL_DIR: journal,
        },
        stdout: "null",
        stderr: "piped",
      }).spawn();
      // Bounded: a core that did start is stopped, and the test fails below.
      const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
      const { code, stderr } = await child.output();
      clearTimeout(timer);
      const message = new TextDecoder().decode(stderr);
      assert(code !== 0, `the second core started:\n${message}`);
      assert(
        message.includes(`Cannot open journal ${journal}: process ${Deno.pid} is writing it`),
        message,
      );
    });
  });
});
