/**
 * The edge as a process: `edge/main.ts` started as a child against a KV file
 * this test writes to, as the core would, and asked over HTTP.
 */

import assert from "node:assert";
import { makeSnapshot, makeSymbolInfo, writeSnapshots } from "./_testing/kv.ts";
import { SseReader, summary } from "./_testing/sse.ts";
import { EDGE_ENVIRONMENT, isLoopback, readConfig, waitingLine } from "./main.ts";
import { parseStatusLine } from "../schemas/status_line.ts";

/** Reads a child's output line by line. */
class Lines {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  #buffer = "";
  readonly seen: string[] = [];

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader();
  }

  /** Waits for a line matching `pattern`. */
  waitFor(pattern: RegExp, ms = 10_000): Promise<RegExpExecArray> {
    return this.next((line) => pattern.exec(line) ?? undefined, String(pattern), ms);
  }

  /** Waits for a line that `match` makes something of. */
  async next<T>(match: (line: string) => T | undefined, what: string, ms = 10_000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const newline = this.#buffer.indexOf("\n");
      if (newline >= 0) {
        const line = this.#buffer.slice(0, newline);
        this.#buffer = this.#buffer.slice(newline + 1);
        this.seen.push(line);
        const found = match(line);
        if (found !== undefined) return found;
        continue;
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const { value, done } = await Promise.race([
        this.#reader.read(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`No line ${what} in:\n${this.seen.join("\n")}`)),
            Math.max(0, deadline - Date.now()),
          );
        }),
      ]).finally(() => clearTimeout(timer));
      if (done) throw new Error(`Output ended before ${what}:\n${this.seen.join("\n")}`);
      this.#buffer += this.#decoder.decode(value, { stream: true });
    }
  }

  /** Reads the rest. */
  async rest(): Promise<string> {
    let text = this.#buffer;
    for (;;) {
      const { value, done } = await this.#reader.read();
      if (done) return text;
      text += this.#decoder.decode(value, { stream: true });
    }
  }
}

/** Sends raw bytes and returns the status line of the answer. */
async function rawStatus(port: number, request: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(request));
    const buffer = new Uint8Array(4096);
    let text = "";
    while (!text.includes("\r\n")) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
    return text.split("\r\n")[0] ?? "";
  } finally {
    conn.close();
  }
}

Deno.test("edge/main.ts serves quotes from a KV file another process writes, says where in its status line, and stops on SIGTERM", async () => {
  const dir = await Deno.makeTempDir();
  const kvPath = `${dir}/core.kv`;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-env",
      `--allow-write=${dir}`,
      new URL("./main.ts", import.meta.url).pathname,
    ],
    env: { EDGE_PORT: "0", KV_PATH: kvPath, EDGE_STREAMS_PER_ADDRESS: "1", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = new Lines(child.stdout);
  let kv: Deno.Kv | undefined;
  try {
    // The core has not made its KV yet: the edge waits for it.
    const [waiting] = await out.waitFor(/^edge: waiting for .*/);
    assert.deepStrictEqual(
      waiting,
      `edge: waiting for the core to start: its KV file ${kvPath} does not exist yet ` +
        "(start it with `deno task start`, or point KV_PATH at its KV file)",
    );
    kv = await Deno.openKv(kvPath);
    const now = Date.now();
    await writeSnapshots(kv, {
      symbols: { format: 1, symbols: [makeSymbolInfo("AAPL"), makeSymbolInfo("MSFT")] },
      snapshots: [makeSnapshot("AAPL", { updated: now }), makeSnapshot("MSFT", { updated: now })],
    });
    // Where it listens, from its ready status line (port 0 asked: the one it got).
    const ready = await out.next((line) => {
      const status = parseStatusLine(line);
      return status?.event === "ready" ? status : undefined;
    }, "the ready status line");
    const { port, http } = ready.addresses;
    assert.deepStrictEqual([ready.pid, ready.addresses.hostname, http], [
      child.pid,
      "127.0.0.1",
      `http://127.0.0.1:${port}`,
    ]);
    assert.ok(port > 0, `port ${port}`);
    // People still read where it listens, before the status line.
    assert.deepStrictEqual(out.seen.at(-2), `edge: listening on ${http}/`);
    const url = (path: string) => new URL(path, http).href;

    // The quote, its tag, a 304.
    let res = await fetch(url("/api/v1/quotes/AAPL"));
    for (let i = 0; i < 100 && res.status === 404; i++) { // the first read may predate the write
      await res.body?.cancel();
      await new Promise((resolve) => setTimeout(resolve, 20));
      res = await fetch(url("/api/v1/quotes/AAPL"));
    }
    assert.deepStrictEqual(res.status, 200);
    const { ticker } = await res.json();
    assert.deepStrictEqual([ticker.ticker, ticker.lastQuote.p, ticker.version], ["AAPL", 101.2, 1]);
    const etag = res.headers.get("etag")!;
    const cached = await fetch(url("/api/v1/quotes/AAPL"), { headers: { "if-none-match": etag } });
    assert.deepStrictEqual(cached.status, 304);
    assert.match(cached.headers.get("ratelimit") ?? "", /^"edge";r=\d+;t=\d+$/);
    assert.deepStrictEqual((await fetch(url("/readyz"))).status, 200);

    // A write in this process reaches an open stream in the child.
    const stream = await fetch(url("/api/v1/stream?symbols=AAPL"));
    const sse = new SseReader(stream.body!);
    assert.deepStrictEqual(summary(await sse.quotes(1)), ["AAPL@1#1"]);
    // EDGE_STREAMS_PER_ADDRESS=1: this address may hold no second stream.
    const second = await fetch(url("/api/v1/stream?symbols=AAPL"));
    assert.deepStrictEqual([second.status, (await second.json()).reason], [
      429,
      "too_many_streams_per_address",
    ]);
    const lags: number[] = [];
    for (let i = 0; i < 10; i++) {
      const written = performance.now();
      const version = await writeSnapshots(kv, {
        snapshots: [makeSnapshot("AAPL", { sequence: i, updated: Date.now() })],
      });
      assert.deepStrictEqual(summary(await sse.quotes(1)), [`AAPL@${version}#${version}`]);
      lags.push(performance.now() - written);
    }
    lags.sort((a, b) => a - b);
    assert(lags.at(-1)! < 250, `write to event: ${lags.map((l) => l.toFixed(1)).join(", ")} ms`);
    const after = await (await fetch(url("/api/v1/quotes/AAPL"))).json();
    assert.deepStrictEqual(after.ticker.version, 11);

    // Oversized requests: 431 from the app under its limit, a bare 400
    // from Deno.serve over ~64 KiB (documented in request_limits.ts).
    const big = await fetch(url("/livez"), { headers: { "x-big": "b".repeat(20_000) } });
    assert.deepStrictEqual([big.status, big.headers.get("content-type")], [
      431,
      "application/problem+json",
    ]);
    await big.body?.cancel();
    assert.deepStrictEqual(
      await rawStatus(
        port,
        `GET /livez HTTP/1.1\r\nHost: x\r\nX-Big: ${"b".repeat(70_000)}\r\n\r\n`,
      ),
      "HTTP/1.1 400 Bad Request",
    );
    const metrics = await (await fetch(url("/metrics"))).text();
    assert(metrics.includes('http_requests_total{route="/livez",status="431"} 1\n'), metrics);
    assert(!metrics.includes('status="400"'), "Deno's own 400 reached the app");

    // SIGTERM with a stream open: the stream ends, the process exits 0.
    child.kill("SIGTERM");
    assert(await sse.ended(5_000), "the stream did not end");
    const status = await child.status;
    assert.deepStrictEqual([status.success, status.code], [true, 0]);
    const rest = (await out.rest()).split("\n");
    assert.ok(rest.includes("edge: shutting down"), rest.join("\n"));
    // Its stopped status line, last: why, and the snapshots it held.
    assert.deepStrictEqual(parseStatusLine(rest.at(-2)!), {
      event: "stopped",
      pid: child.pid,
      why: "SIGTERM",
      symbols: 2,
      version: 11,
    });
    assert.deepStrictEqual(rest.at(-1), "");
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
    await child.status;
    await child.stderr.cancel();
    kv?.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("edge/main.ts stopped the moment it says it is ready still shuts down in order", async () => {
  const dir = await Deno.makeTempDir();
  const kvPath = `${dir}/core.kv`;
  (await Deno.openKv(kvPath)).close(); // there, but empty: no snapshots yet
  try {
    // A parent may stop it as soon as it reads the ready line; a few times, since
    // a signal that came before the edge listened for it would kill it outright.
    for (let i = 0; i < 3; i++) {
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-net",
          "--allow-read",
          "--allow-env",
          `--allow-write=${dir}`,
          new URL("./main.ts", import.meta.url).pathname,
        ],
        env: { EDGE_PORT: "0", KV_PATH: kvPath, NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const out = new Lines(child.stdout);
      try {
        const ready = await out.next((line) => {
          const status = parseStatusLine(line);
          return status?.event === "ready" ? status : undefined;
        }, "the ready status line");
        child.kill("SIGTERM");
        const status = await child.status;
        assert.deepStrictEqual([status.code, status.signal], [0, null]);
        const rest = (await out.rest()).trimEnd().split("\n");
        assert.deepStrictEqual(parseStatusLine(rest.at(-1)!), {
          event: "stopped",
          pid: ready.pid,
          why: "SIGTERM",
          symbols: 0,
          version: 0,
        });
      } finally {
        try {
          child.kill("SIGKILL");
        } catch { /* exited */ }
        await child.status;
        await child.stderr.cancel();
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the edge task in deno.json allows exactly the variables the edge reads", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  const flag = /--allow-env=(\S+)/.exec(config.tasks.edge.command)?.[1];
  assert.deepStrictEqual(flag?.split(",").sort(), [...EDGE_ENVIRONMENT].sort());
  // And readConfig reads each of them (a setting added without the list fails here).
  const asked = new Set<string>();
  readConfig({
    get: (name) => {
      asked.add(name);
      return undefined;
    },
  });
  assert.deepStrictEqual([...asked].sort(), [...EDGE_ENVIRONMENT].sort());
});

Deno.test("readConfig reads EDGE_METRICS_TOKEN and refuses one the edge would not accept", () => {
  const env = (vars: Record<string, string>) => ({ get: (name: string) => vars[name] });
  assert.deepStrictEqual(readConfig(env({})).metricsToken, undefined);
  assert.deepStrictEqual(
    readConfig(env({ EDGE_METRICS_TOKEN: "0123456789abcdef" })).metricsToken,
    "0123456789abcdef",
  );
  for (const token of ["", "0123456789abcde", "0123456789 abcdef"]) {
    assert.throws(() => readConfig(env({ EDGE_METRICS_TOKEN: token })), {
      message:
        "Cannot start the edge: EDGE_METRICS_TOKEN must be 16–256 visible ASCII characters " +
        `(no spaces); it has ${token.length}`,
    });
  }
});

Deno.test("readConfig reads EDGE_CORE_URL as an origin, default the local core, and refuses others", () => {
  const env = (vars: Record<string, string>) => ({ get: (name: string) => vars[name] });
  assert.deepStrictEqual(readConfig(env({})).coreUrl, "http://127.0.0.1:8080");
  assert.deepStrictEqual(
    readConfig(env({ EDGE_CORE_URL: "https://core.example:8443/" })).coreUrl,
    "https://core.example:8443",
  );
  for (const url of ["core.example:8443", "ws://core:1", "http://core:1/ws"]) {
    assert.throws(() => readConfig(env({ EDGE_CORE_URL: url })), /EDGE_CORE_URL must be/, url);
  }
});

Deno.test("waitingLine says the edge waits for the core, and where it looks for its KV file", () => {
  const tail =
    "does not exist yet (start it with `deno task start`, or point KV_PATH at its KV file)";
  assert.deepStrictEqual(
    waitingLine("data/core.kv", "/srv/tc/"),
    `edge: waiting for the core to start: its KV file /srv/tc/data/core.kv ${tail}`,
  );
  assert.deepStrictEqual(
    waitingLine("/var/lib/tc/core.kv", "/srv/tc"),
    `edge: waiting for the core to start: its KV file /var/lib/tc/core.kv ${tail}`,
  );
});

Deno.test("readConfig reads EDGE_STREAMS_PER_ADDRESS and refuses what is not 1 to 1,000,000", () => {
  const env = (vars: Record<string, string>) => ({ get: (name: string) => vars[name] });
  assert.deepStrictEqual(readConfig(env({})).streamsPerAddress, undefined);
  assert.deepStrictEqual(readConfig(env({ EDGE_STREAMS_PER_ADDRESS: "4" })).streamsPerAddress, 4);
  for (const value of ["", "0", "-1", "2.5", "1e3", "1000001", " 4"]) {
    assert.throws(() => readConfig(env({ EDGE_STREAMS_PER_ADDRESS: value })), {
      message: "Cannot start the edge: EDGE_STREAMS_PER_ADDRESS must be a whole number from 1 to " +
        `1,000,000, not ${value}`,
    });
  }
});

Deno.test("isLoopback knows localhost, 127.0.0.0/8 and ::1, and nothing else", () => {
  for (const host of ["localhost", "127.0.0.1", "127.1.2.3", "::1", "[::1]"]) {
    assert(isLoopback(host), host);
  }
  for (const host of ["0.0.0.0", "::", "192.0.2.1", "127.0.0.1.example", "localhost.example"]) {
    assert(!isLoopback(host), host);
  }
});

Deno.test("edge/main.ts stops on a bad setting with the reason and exit code 2, before it listens", async () => {
  for (
    const [env, reason] of [
      [{ EDGE_PORT: "http" }, "Cannot start the edge: EDGE_PORT must be a port number, not http"],
      [
        { EDGE_PORT: "0", EDGE_METRICS_TOKEN: "short" },
        "Cannot start the edge: EDGE_METRICS_TOKEN must be 16–256 visible ASCII characters (no spaces); it has 5",
      ],
    ] as const
  ) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net",
        "--allow-read",
        "--allow-env",
        new URL("./main.ts", import.meta.url).pathname,
      ],
      env: { ...env, KV_PATH: "/nonexistent/edge-test.kv", NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.deepStrictEqual(out.code, 2);
    assert.deepStrictEqual(new TextDecoder().decode(out.stderr).trim(), reason);
    assert.deepStrictEqual(new TextDecoder().decode(out.stdout), "");
  }
});
