import assert from "node:assert";
import { AccountStore } from "./admin/mod.ts";
import { CORE_PERMISSIONS } from "./start.ts";
import { encodeBase64Url } from "./gateway/_base64url.ts";
import { AUDIENCE, BEARER_PREFIX, ISSUER, signJwt, SUBPROTOCOL } from "./gateway/mod.ts";
import { decodeServerMessage, encodeClientMessage, type ServerEvent } from "./wire/mod.ts";
import { rawUpgrade } from "./gateway/_harness.ts";
import { parseStatusLine, type StatusEvent } from "./app/status.ts";

const MAIN = new URL("./main.ts", import.meta.url).pathname;

/** A gateway secret for the child (so that it writes no data/jwt.secret here). */
const SECRET = crypto.getRandomValues(new Uint8Array(32));

/** The children's account store (so that they write no data/core.kv here). */
const KV_PATH = `${Deno.makeTempDirSync({ prefix: "tc-main-test-" })}/core.kv`;

/** The child's environment: a free port, the test's secret and account store, then `env`. */
function coreEnv(env: Record<string, string>): Record<string, string> {
  return {
    CORE_PORT: "0",
    GATEWAY_JWT_SECRET: encodeBase64Url(SECRET),
    KV_PATH,
    ...env,
  };
}

async function runCore(env: Record<string, string>) {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...CORE_PERMISSIONS, MAIN],
    env: coreEnv(env),
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code,
    out: new TextDecoder().decode(stdout),
    err: new TextDecoder().decode(stderr),
  };
}

/** The status line of `event` in a core's output: what programs read, never the human lines. */
function statusIn<E extends StatusEvent["event"]>(
  out: string,
  event: E,
): Extract<StatusEvent, { event: E }> | undefined {
  for (const line of out.split("\n")) {
    const status = parseStatusLine(line);
    if (status?.event === event) return status as Extract<StatusEvent, { event: E }>;
  }
  return undefined;
}

Deno.test("the core starts the engine, runs the synthetic market and reports what it does", async () => {
  const journal = await Deno.makeTempDir();
  const { code, out, err } = await runCore({
    RUN_FOR_MS: "1500",
    STATS_INTERVAL_MS: "500",
    SYNTHETIC_RATE: "4000",
    JOURNAL_DIR: journal,
  });
  assert.deepStrictEqual(code, 0, err);
  assert(out.includes("instruments (10):"), out);
  assert(/engine: engine thread \d+ (pinned to|NOT pinned to) CPU \d+/.test(out), out);
  assert(
    /engine: (NUMA node \d+: thread memory policy|NUMA: the host shows no topology)/.test(out),
    out,
  );
  assert(/engine: huge pages: [\d.]+ MiB (advised|not advised)/.test(out), out);
  assert(out.includes("synthetic market: 4000 commands/s, seed 1"), out);
  const stats = out.split("\n").filter((l) =>
    / commands \(\d+\/s\), \d+ events, \d+ trades/.test(l)
  );
  assert(stats.length >= 2, `expected periodic statistics, got:\n${out}`);
  // The counts, from the stopped status line (the lines above are for people).
  const trades = statusIn(out, "stopped")?.stats.trades ?? 0;
  assert(trades > 0, `expected trades, got:\n${out}`);
  assert(/stopped \(RUN_FOR_MS=1500\): \d+ commands/.test(out), out);
  assert(out.includes(`journal: ${journal}: new journal, process-crash`), out);

  // A second start recovers what the first journaled.
  // The market runs (slowly) again: it cancels its leftovers only when it will trade.
  const again = await runCore({ RUN_FOR_MS: "300", SYNTHETIC_RATE: "10", JOURNAL_DIR: journal });
  assert.deepStrictEqual(again.code, 0, again.err);
  const sent = statusIn(out, "stopped")?.stats.commands;
  const replayed = statusIn(again.out, "ready")?.journal?.replayed;
  // The journal holds the synthetic market's commands and the stored risk
  // state the core applied at start (controls), and replays them all.
  const controls = statusIn(out, "ready")?.applied.controls;
  assert(sent !== undefined && controls !== undefined, out);
  assert.deepStrictEqual(replayed, sent + controls, again.out);
  assert(out.includes(`stopped (RUN_FOR_MS=1500): ${sent} commands`), out);
  assert(again.out.includes(`replayed ${replayed} commands`), again.out);
  // The market's quotes left from the first run are cancelled, not kept beside new ones.
  assert(
    /synthetic market: cancelled [1-9]\d* of its orders left from before/.test(again.out),
    again.out,
  );
  await Deno.remove(journal, { recursive: true });
});

Deno.test("a core stopped the moment it says it is ready still shuts down in order", async () => {
  // A parent may stop it as soon as it reads the ready line; a few times, since
  // a signal that came before the core listened for it would kill it outright.
  for (let i = 0; i < 5; i++) {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", ...CORE_PERMISSIONS, MAIN],
      env: coreEnv({ JOURNAL_DIR: "none", SYNTHETIC_RATE: "0", NO_COLOR: "1" }),
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    let out = "";
    let signalled = false;
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      out += chunk;
      if (!signalled && statusIn(out, "ready") !== undefined) {
        child.kill("SIGTERM");
        signalled = true;
      }
    }
    const status = await child.status;
    assert(signalled, `no ready status line in:\n${out}${await stderr}`);
    assert.deepStrictEqual([status.code, status.signal], [0, null], out + (await stderr));
    const stopped = statusIn(out, "stopped");
    assert.deepStrictEqual([stopped?.pid, stopped?.why], [statusIn(out, "ready")?.pid, "SIGTERM"]);
  }
});

Deno.test("the core makes its data folder 0700 and its KV file, journal segments and snapshots 0600", async () => {
  const root = await Deno.makeTempDir({ prefix: "tc-main-modes-" });
  const data = `${root}/data`;
  try {
    const { code, err } = await runCore({
      RUN_FOR_MS: "800",
      SYNTHETIC_RATE: "4000",
      KV_PATH: `${data}/core.kv`,
      JOURNAL_DIR: `${data}/journal`,
      SNAPSHOT_EVERY: "500",
    });
    assert.deepStrictEqual(code, 0, err);
    const mode = (path: string) => (Deno.statSync(path).mode! & 0o777).toString(8);
    const seen: Record<string, string> = {};
    const walk = (dir: string) => {
      seen[dir.slice(root.length)] = mode(dir);
      for (const entry of Deno.readDirSync(dir)) {
        const path = `${dir}/${entry.name}`;
        if (entry.isDirectory) walk(path);
        else seen[path.slice(root.length)] = mode(path);
      }
    };
    walk(data);
    for (const folder of ["/data", "/data/journal", "/data/journal/snapshots"]) {
      assert.deepStrictEqual(seen[folder], "700", JSON.stringify(seen));
    }
    const files = Object.entries(seen).filter(([path]) => /\.(kv|tcj|tcs)$/.test(path));
    assert(files.length >= 3, JSON.stringify(seen));
    for (const [path, m] of files) assert.deepStrictEqual(m, "600", path);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("the core refuses a bad setting with a clear message and exit code 2", async () => {
  const { code, err } = await runCore({ SYNTHETIC_RATE: "lots", JOURNAL_DIR: "none" });
  assert.deepStrictEqual(code, 2);
  assert(err.includes('SYNTHETIC_RATE="lots" must be an integer from 0 to 10000000'), err);
});

Deno.test("the core serves the gateway: a trader logs in, trades against the synthetic market, and is told goodbye", async () => {
  // The gateway lets in registered accounts only.
  const kv = await Deno.openKv(KV_PATH);
  await new AccountStore(kv).createAccount({ name: "ALICE", role: "trader" });
  kv.close();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...CORE_PERMISSIONS, MAIN],
    env: coreEnv({ RUN_FOR_MS: "4000", SYNTHETIC_RATE: "2000", JOURNAL_DIR: "none" }),
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  let onLine: (() => void) | undefined;
  const reading = (async () => {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      out += chunk;
      onLine?.();
    }
  })();
  const stderr = new Response(child.stderr).text();
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ready status in:\n${out}`)), 3000);
      onLine = () => {
        const ready = statusIn(out, "ready");
        if (ready) {
          clearTimeout(timer);
          resolve(ready.addresses.ws);
        }
      };
      onLine();
    });
    const key = await crypto.subtle.importKey(
      "raw",
      SECRET,
      { name: "HMAC", hash: "SHA-256" },
      false,
      [
        "sign",
      ],
    );
    const exp = Math.floor(Date.now() / 1000) + 600;
    const jwt = await signJwt(
      { sub: "ALICE", role: "trader", iss: ISSUER, aud: AUDIENCE, exp },
      key,
    );
    const socket = new WebSocket(url, [SUBPROTOCOL, BEARER_PREFIX + jwt]);
    socket.binaryType = "arraybuffer";
    const received: ServerEvent[] = [];
    let arrived: (() => void) | undefined;
    socket.onmessage = (e) => {
      received.push(decodeServerMessage(new Uint8Array(e.data)));
      arrived?.();
    };
    const closed = new Promise<CloseEvent>((resolve) => (socket.onclose = resolve));
    await new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = () => reject(new Error("refused"));
    });
    const waitFor = (match: (m: ServerEvent) => boolean) =>
      new Promise<ServerEvent>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`waited; got ${received.length}`)), 2000);
        arrived = () => {
          const found = received.find(match);
          if (found) {
            clearTimeout(timer);
            resolve(found);
          }
        };
        arrived();
      });
    // A market buy sweeps the synthetic makers' offers: accepted, then fills as taker.
    socket.send(encodeClientMessage({
      type: "newOrder",
      requestId: 1n,
      sentAt: 0n,
      clientOrderId: 1n,
      symbol: "AAPL",
      side: "buy",
      orderType: "market",
      timeInForce: "ioc",
      postOnly: false,
      price: 0,
      quantity: 5,
      account: "",
    }));
    const accepted = await waitFor((m) => m.type === "executionReport");
    assert.deepStrictEqual([accepted.type === "executionReport" && accepted.execType], [
      "accepted",
    ]);
    const fill = await waitFor((m) => m.type === "executionReport" && m.execType !== "accepted");
    assert(
      fill.type === "executionReport" && (fill.execType === "trade" || fill.execType === "expired"),
      JSON.stringify(fill, (_, v) => typeof v === "bigint" ? String(v) : v),
    );
    const goodbye = await closed;
    assert.deepStrictEqual(goodbye.code, 1001);
    const status = await child.status;
    await reading;
    assert.deepStrictEqual(status.code, 0, await stderr);
    // The statistics count the trader's order beside the synthetic market's.
    assert(
      /stopped \(RUN_FOR_MS=4000\): \d+ commands.*; by source: .*gateway [1-9]/.test(out),
      out,
    );
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await child.status;
    await reading.catch(() => {});
    await stderr.catch(() => "");
  }
});

Deno.test("the core ends a disabled account's connections and tokens at once; re-enabling does not revive them", async () => {
  const kv = await Deno.openKv(KV_PATH);
  const store = new AccountStore(kv);
  await store.createAccount({ name: "CHIEF", role: "admin" });
  await store.createAccount({ name: "CAROL", role: "trader" });
  kv.close();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...CORE_PERMISSIONS, MAIN],
    env: coreEnv({
      RUN_FOR_MS: "20000",
      SYNTHETIC_RATE: "0",
      JOURNAL_DIR: "none",
      EDGE_URL: "https://quotes.example",
    }),
    stdout: "piped",
    stderr: "null",
  }).spawn();
  let out = "";
  const reading = (async () => {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) out += chunk;
  })();
  try {
    const deadline = performance.now() + 5000;
    let port = 0;
    while (port === 0 && performance.now() < deadline) {
      port = statusIn(out, "ready")?.addresses.port ?? 0;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert(port > 0, `no ready status in:\n${out}`);
    const base = `http://127.0.0.1:${port}`;
    const key = await crypto.subtle.importKey(
      "raw",
      SECRET,
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    const exp = Math.floor(Date.now() / 1000) + 600;
    const token = (sub: string, role: "admin" | "trader", epoch?: number) =>
      signJwt({
        sub,
        role,
        iss: ISSUER,
        aud: AUDIENCE,
        exp,
        ...(epoch === undefined ? {} : { epoch }),
      }, key);
    const chief = await token("CHIEF", "admin");
    const carol = await token("CAROL", "trader");
    const admin = (method: string, path: string, body?: unknown) =>
      fetch(`${base}/admin${path}`, {
        method,
        headers: { authorization: `Bearer ${chief}`, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    // The core's / names the edge it was told of.
    assert.deepStrictEqual((await (await fetch(`${base}/`)).json()).edge, "https://quotes.example");

    const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`, [SUBPROTOCOL, BEARER_PREFIX + carol]);
    const closed = new Promise<CloseEvent>((resolve) => (socket.onclose = resolve));
    await new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = () => reject(new Error("refused"));
    });
    // Programs read the core's counts from GET /status (loopback only).
    const status = await (await fetch(`${base}/status`)).json();
    assert.deepStrictEqual([status.pid, status.stats.connections], [child.pid, 1]);
    const disabled = await admin("PATCH", "/accounts/CAROL", { enabled: false });
    assert.deepStrictEqual(disabled.status, 200, await disabled.text());
    const goodbye = await closed;
    assert.deepStrictEqual([goodbye.code, goodbye.reason], [1008, "account disabled by an admin"]);

    const login = async (jwt: string) => {
      const answer = await rawUpgrade(port, {
        "Sec-WebSocket-Protocol": `${SUBPROTOCOL}, ${BEARER_PREFIX}${jwt}`,
      });
      return answer.status === 101 ? "101" : `${answer.status} ${JSON.parse(answer.body).reason}`;
    };
    assert.deepStrictEqual(await login(carol), "403 account_disabled");
    const enabled = await admin("PATCH", "/accounts/CAROL", { enabled: true });
    assert.deepStrictEqual([enabled.status, (await enabled.json()).tokenEpoch], [200, 2]);
    assert.deepStrictEqual(await login(carol), "401 token_revoked");
    assert.deepStrictEqual(await login(await token("CAROL", "trader", 2)), "101");
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await child.status;
    await reading.catch(() => {});
  }
});
