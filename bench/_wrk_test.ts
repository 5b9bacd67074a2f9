import assert from "node:assert";
import { parseWrk, parseWrkTime, runWrk, WRK_MISSING, wrkArgs, wrkVersion } from "./_wrk.ts";

// wrk 4.1.0 (Debian) output, as printed.
const LOADED = `Running 5s test @ http://127.0.0.1:8101/api/v1/quotes/AAPL
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.62ms  382.63us   8.67ms   90.60%
    Req/Sec    31.19k     2.68k   35.02k    84.00%
  Latency Distribution
     50%    1.56ms
     75%    1.66ms
     90%    1.90ms
     99%    3.32ms
  155215 requests in 5.00s, 155.87MB read
Requests/sec:  31024.85
Transfer/sec:     31.16MB
`;

const TIMED_OUT = `Running 2s test @ http://127.0.0.1:8110/
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     0.00us    0.00us   0.00us    -nan%
    Req/Sec     2.00      0.00     2.00    100.00%
  Latency Distribution
     50%    0.00us
     75%    0.00us
     90%    0.00us
     99%    0.00us
  4 requests in 2.00s, 496.00B read
  Socket errors: connect 0, read 0, write 0, timeout 4
  Non-2xx or 3xx responses: 4
Requests/sec:      2.00
Transfer/sec:     247.51B
`;

Deno.test("parseWrk reads throughput, the latency percentiles in ns, and the run's length", () => {
  assert.deepStrictEqual(parseWrk(LOADED), {
    requests: 155_215,
    seconds: 5,
    requestsPerSecond: 31_024.85,
    latency: {
      mean: 1_620_000,
      max: 8_670_000,
      p50: 1_560_000,
      p75: 1_660_000,
      p90: 1_900_000,
      p99: 3_320_000,
    },
    non2xx: 0,
    socketErrors: { connect: 0, read: 0, write: 0, timeout: 0 },
  });
});

Deno.test("parseWrk reads non-2xx answers and socket errors (and a NaN deviation)", () => {
  const r = parseWrk(TIMED_OUT);
  assert.deepStrictEqual([r.requests, r.non2xx, r.socketErrors.timeout, r.latency.p99], [
    4,
    4,
    4,
    0,
  ]);
});

Deno.test("parseWrk refuses output without a report, naming what is missing", () => {
  assert.throws(() => parseWrk("unable to connect to 127.0.0.1:1 Connection refused\n"), {
    name: "SyntaxError",
    message: /^Cannot read wrk's report: no Requests\/sec line in:\n/,
  });
  const noLatency = LOADED.replace(/ {2}Latency Distribution\n(.*%.*\n)+/, "");
  assert.throws(() => parseWrk(noLatency), {
    name: "SyntaxError",
    message: /50% line \(was --latency given\?\)/,
  });
});

Deno.test("parseWrkTime reads every unit wrk prints", () => {
  const check = (text: string, ns: number) => assert.deepStrictEqual(parseWrkTime(text), ns, text);
  check("873.00us", 873_000);
  check("1.56ms", 1_560_000);
  check("2.00s", 2e9);
  check("1.50m", 90e9);
  check("1.00h", 3600e9);
  assert.deepStrictEqual(Number.isNaN(parseWrkTime("-nan%")), true);
});

Deno.test("wrkArgs passes the headers and refuses impossible runs", () => {
  assert.deepStrictEqual(
    wrkArgs({
      url: "http://127.0.0.1:1/x",
      threads: 2,
      connections: 64,
      durationSeconds: 3,
      timeoutSeconds: 1,
      headers: [["Accept", "application/json"]],
    }),
    [
      "-t2",
      "-c64",
      "-d3s",
      "--timeout",
      "1s",
      "-H",
      "Accept: application/json",
      "--latency",
      "http://127.0.0.1:1/x",
    ],
  );
  assert.throws(
    () => wrkArgs({ url: "x", threads: 4, connections: 2, durationSeconds: 1 }),
    RangeError,
  );
  assert.throws(() => wrkArgs({ url: "x", threads: 1, connections: 2, durationSeconds: 1.5 }), {
    name: "RangeError",
    message: /durationSeconds must be a positive integer/,
  });
});

// The real wrk once, against a server in this process: its report must
// still parse. Skipped without wrk, except in CI (CI=true), which installs it.
const IN_CI = Deno.env.get("CI") === "true";
const version = await wrkVersion();
Deno.test({
  name: "runWrk runs Debian's wrk and reads its report" +
    (version === undefined && !IN_CI
      ? " (SKIPPED: wrk is not installed; apt-get install wrk)"
      : ""),
  ignore: version === undefined && !IN_CI,
  async fn() {
    assert(
      version !== undefined,
      `Cannot run the wrk test: ${WRK_MISSING}, and CI=true forbids skipping`,
    );
    assert(/^wrk /.test(version), version);
    await using server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () => new Response('{"ok":true}', { headers: { "content-type": "application/json" } }),
    );
    const r = await runWrk({
      url: `http://127.0.0.1:${server.addr.port}/`,
      threads: 1,
      connections: 2,
      durationSeconds: 1,
      headers: [["Accept", "application/json"]],
    });
    assert(r.requests > 0 && r.requestsPerSecond > 0, JSON.stringify(r));
    assert.deepStrictEqual([r.non2xx, r.socketErrors], [0, {
      connect: 0,
      read: 0,
      write: 0,
      timeout: 0,
    }]);
    for (const p of [r.latency.p50, r.latency.p75, r.latency.p90, r.latency.p99, r.latency.max]) {
      assert(Number.isFinite(p) && p > 0, JSON.stringify(r.latency));
    }
    assert(
      r.latency.p50 <= r.latency.p99 && r.latency.p99 <= r.latency.max,
      "percentiles out of order",
    );
  },
});
