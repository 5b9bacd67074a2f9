import { readConfig } from "./config.ts";
import assert from "node:assert";

const from = (vars: Record<string, string>) => (name: string) => vars[name];

Deno.test("readConfig() applies the documented defaults", () => {
  assert.deepStrictEqual(readConfig(from({})), {
    instrumentsPath: undefined,
    engineCpu: -1,
    syntheticRate: 2000,
    syntheticSeed: 1,
    statsIntervalMs: 5000,
    runForMs: 0,
    journalDir: "data/journal",
    durability: "process-crash",
    groupCommitMs: 2,
    snapshotEvery: 1_000_000,
    journalRetention: "snapshots",
    kvPath: "data/core.kv",
    snapshotCadenceMs: 100,
    corePort: 8080,
    coreHostname: "127.0.0.1",
    allowedOrigins: [],
    heartbeatMs: 1000,
    reportsKept: 10_000,
    idsKept: 10_000,
    replayPage: 1_000,
    edgeUrl: "http://127.0.0.1:8000",
    queueBytes: 256 * 1024,
    queueBudgetBytes: 16 * 1024 * 1024,
    maxPerAccount: 32,
    maxPerAddress: 256,
    accountRate: 1000,
    authTokenTtlSeconds: 900,
    authAttemptsPerAccount: 5,
    authAttemptsPerAddress: 20,
    demoTrader: undefined,
  });
});

Deno.test("readConfig() reads every variable", () => {
  const config = readConfig(from({
    INSTRUMENTS: "/tmp/i.json",
    ENGINE_CPU: "0",
    SYNTHETIC_RATE: "0",
    SYNTHETIC_SEED: "42",
    STATS_INTERVAL_MS: "250",
    RUN_FOR_MS: "1000",
    JOURNAL_DIR: "none",
    DURABILITY: "synchronous",
    GROUP_COMMIT_MS: "10",
    SNAPSHOT_EVERY: "0",
    JOURNAL_RETENTION: "all",
    KV_PATH: "/tmp/accounts.kv",
    SNAPSHOT_CADENCE_MS: "250",
    CORE_PORT: "0",
    CORE_HOSTNAME: "0.0.0.0",
    GATEWAY_ORIGINS: "https://trade.example, http://localhost:5173",
    HEARTBEAT_MS: "250",
    GATEWAY_REPORTS_KEPT: "500",
    GATEWAY_IDS_KEPT: "200",
    GATEWAY_REPLAY_PAGE: "50",
    EDGE_URL: "https://quotes.example/",
    GATEWAY_QUEUE_BYTES: "65536",
    GATEWAY_QUEUE_BUDGET_BYTES: "1048576",
    GATEWAY_MAX_PER_ACCOUNT: "4",
    GATEWAY_MAX_PER_ADDRESS: "8",
    GATEWAY_ACCOUNT_RATE: "100",
    AUTH_TOKEN_TTL_SECONDS: "120",
    AUTH_ATTEMPTS_PER_ACCOUNT: "3",
    AUTH_ATTEMPTS_PER_ADDRESS: "7",
    DEMO_TRADER: "DEMO",
  }));
  assert.deepStrictEqual(config, {
    instrumentsPath: "/tmp/i.json",
    engineCpu: 0,
    syntheticRate: 0,
    syntheticSeed: 42,
    statsIntervalMs: 250,
    runForMs: 1000,
    journalDir: undefined,
    durability: "synchronous",
    groupCommitMs: 10,
    snapshotEvery: 0,
    journalRetention: "all",
    kvPath: "/tmp/accounts.kv",
    snapshotCadenceMs: 250,
    corePort: 0,
    coreHostname: "0.0.0.0",
    allowedOrigins: ["https://trade.example", "http://localhost:5173"],
    heartbeatMs: 250,
    reportsKept: 500,
    idsKept: 200,
    replayPage: 50,
    edgeUrl: "https://quotes.example",
    queueBytes: 65536,
    queueBudgetBytes: 1048576,
    maxPerAccount: 4,
    maxPerAddress: 8,
    accountRate: 100,
    authTokenTtlSeconds: 120,
    authAttemptsPerAccount: 3,
    authAttemptsPerAddress: 7,
    demoTrader: "DEMO",
  });
});

Deno.test("readConfig() refuses an EDGE_URL that is not an http or https URL", () => {
  for (const bad of ["quotes.example", "ftp://quotes.example", "http://"]) {
    assert.throws(
      () => readConfig(from({ EDGE_URL: bad })),
      (error: unknown) =>
        error instanceof RangeError &&
        error.message.includes(`EDGE_URL=${JSON.stringify(bad)} must be an http or https URL`),
    );
  }
});

Deno.test("readConfig() names the variable and the allowed range for a bad value", () => {
  for (
    const [name, value] of [
      ["SYNTHETIC_RATE", "fast"],
      ["SYNTHETIC_RATE", "-5"],
      ["SYNTHETIC_RATE", "1.5"],
      ["ENGINE_CPU", "-2"],
      ["STATS_INTERVAL_MS", "10"],
      ["RUN_FOR_MS", "1e3"],
      ["GROUP_COMMIT_MS", "0"],
      ["SNAPSHOT_EVERY", "-1"],
      ["CORE_PORT", "65536"],
      ["HEARTBEAT_MS", "5"],
      ["SNAPSHOT_CADENCE_MS", "0"],
      ["GATEWAY_REPORTS_KEPT", "0"],
      ["GATEWAY_IDS_KEPT", "-1"],
      ["GATEWAY_REPLAY_PAGE", "100001"],
      ["GATEWAY_QUEUE_BYTES", "100"],
      ["GATEWAY_QUEUE_BUDGET_BYTES", "lots"],
      ["GATEWAY_MAX_PER_ACCOUNT", "0"],
      ["GATEWAY_MAX_PER_ADDRESS", "-1"],
      ["GATEWAY_ACCOUNT_RATE", "0"],
    ]
  ) {
    assert.throws(
      () => readConfig(from({ [name!]: value! })),
      (error: unknown) =>
        error instanceof RangeError &&
        error.message.startsWith(`Cannot start core: ${name}="${value}" must be an integer`),
    );
  }
});

Deno.test("readConfig() names the durability modes when given another", () => {
  assert.throws(() => readConfig(from({ DURABILITY: "paranoid" })), {
    name: "RangeError",
    message: /DURABILITY="paranoid" must be one of process-crash, group-commit, synchronous/,
  });
});

Deno.test("readConfig() names the journal retentions when given another", () => {
  assert.throws(() => readConfig(from({ JOURNAL_RETENTION: "forever" })), {
    name: "RangeError",
    message: /JOURNAL_RETENTION="forever" must be one of all, snapshots/,
  });
});

Deno.test("readConfig() refuses a GATEWAY_ORIGINS entry that is not an origin", () => {
  for (const bad of ["trade.example", "https://trade.example/", "https://trade.example/x"]) {
    assert.throws(
      () => readConfig(from({ GATEWAY_ORIGINS: `http://ok.example,${bad}` })),
      (error: unknown) =>
        error instanceof RangeError &&
        error.message.includes(`GATEWAY_ORIGINS entry ${JSON.stringify(bad)} must be an origin`),
    );
  }
});

Deno.test("readConfig() bounds the journal by default: retention to the kept snapshots, keeping all is the opt-in", () => {
  const config = readConfig(from({}));
  assert.deepStrictEqual([config.journalRetention, config.snapshotEvery > 0], ["snapshots", true]);
  assert.deepStrictEqual(readConfig(from({ JOURNAL_RETENTION: "all" })).journalRetention, "all");
  // Without snapshots nothing could be released: said, not silently unbounded.
  assert.throws(() => readConfig(from({ SNAPSHOT_EVERY: "0" })), {
    name: "RangeError",
    message:
      /SNAPSHOT_EVERY=0 takes no snapshots, so JOURNAL_RETENTION=snapshots \(the default\) could release nothing/,
  });
  const all = readConfig(from({ SNAPSHOT_EVERY: "0", JOURNAL_RETENTION: "all" }));
  assert.deepStrictEqual([all.snapshotEvery, all.journalRetention], [0, "all"]);
  assert.deepStrictEqual(
    readConfig(from({ SNAPSHOT_EVERY: "0", JOURNAL_DIR: "none" })).snapshotEvery,
    0,
  );
});

Deno.test("readConfig() refuses a DEMO_TRADER that is no account name, and reads none or empty as no demo", () => {
  assert.deepStrictEqual(readConfig(from({ DEMO_TRADER: "none" })).demoTrader, undefined);
  assert.deepStrictEqual(readConfig(from({ DEMO_TRADER: "" })).demoTrader, undefined);
  for (const bad of ["..", "x".repeat(49), "A\u0000B"]) {
    assert.throws(
      () => readConfig(from({ DEMO_TRADER: bad })),
      (error: unknown) =>
        error instanceof RangeError && error.message.startsWith("Cannot start core: DEMO_TRADER="),
      bad,
    );
  }
  assert.throws(() => readConfig(from({ AUTH_TOKEN_TTL_SECONDS: "30" })), RangeError);
});
