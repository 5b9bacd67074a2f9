import assert from "node:assert";
import { AccountStore } from "../admin/mod.ts";
import { AUDIENCE, BEARER_PREFIX, ISSUER, signJwt, SUBPROTOCOL } from "../gateway/mod.ts";
import { newKey } from "../gateway/_testing.ts";
import { encodeClientMessage } from "../wire/mod.ts";
import { type Core, type CoreOptions, createCore, readConfig } from "./mod.ts";
import type { CoreConfig } from "./config.ts";

/** The production defaults, on a free loopback port, without a journal or a market. */
function config(overrides: Partial<CoreConfig> = {}): CoreConfig {
  return {
    ...readConfig(() => undefined),
    corePort: 0,
    journalDir: undefined,
    syntheticRate: 0,
    ...overrides,
  };
}

/** Runs `fn` against a core on an in-memory KV holding ALICE (trader); closes both. */
async function withCore(
  fn: (core: Core, key: CryptoKey) => Promise<void>,
  settings: Partial<CoreConfig> = {},
  options: CoreOptions = {},
): Promise<void> {
  const kv = await Deno.openKv(":memory:");
  const key = await newKey();
  let core: Core | undefined;
  try {
    await new AccountStore(kv).createAccount({ name: "ALICE", role: "trader" });
    core = await createCore(config(settings), {
      kv,
      key,
      log: () => {},
      pinMainThread: false,
      ...options,
    });
    await fn(core, key);
  } finally {
    await core?.close();
    kv.close();
  }
}

async function open(url: string, token: string): Promise<WebSocket> {
  const socket = new WebSocket(url, [SUBPROTOCOL, BEARER_PREFIX + token]);
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = () => reject(new Error(`Cannot open ${url}`));
  });
  return socket;
}

async function eventually(condition: () => boolean | Promise<boolean>, what: string) {
  const deadline = performance.now() + 5_000;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`Timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

Deno.test("createCore() serves on the port it bound and names it: ws, admin, status", async () => {
  await withCore(async (core) => {
    const a = core.addresses;
    assert.ok(a.port > 0, String(a.port));
    assert.strictEqual(a.hostname, "127.0.0.1");
    assert.strictEqual(a.ws, `ws://127.0.0.1:${a.port}/ws`);
    assert.strictEqual(a.admin, `http://127.0.0.1:${a.port}/admin`);
    assert.strictEqual(a.status, `http://127.0.0.1:${a.port}/status`);
    // The admin API is mounted (a request without a token is its 401, not the gateway's 404).
    const admin = await fetch(`${a.admin}/accounts`);
    assert.strictEqual(admin.status, 401, await admin.text());
    const ready = await fetch(`${a.http}/readyz`);
    assert.strictEqual(ready.status, 200, await ready.text());
    const status = await (await fetch(a.status)).json();
    assert.deepStrictEqual([status.pid, status.state, status.addresses], [Deno.pid, "running", a]);
    assert.strictEqual(status.journal, null);
    assert.strictEqual(core.recovery, undefined);
  });
});

Deno.test("createCore()'s stats and GET /status count connections and commands by source", async () => {
  await withCore(async (core, key) => {
    const token = await signJwt({
      sub: "ALICE",
      role: "trader",
      iss: ISSUER,
      aud: AUDIENCE,
      exp: Math.floor(Date.now() / 1000) + 600,
    }, key);
    const socket = await open(core.addresses.ws, token);
    const reports: unknown[] = [];
    socket.onmessage = (e) => reports.push(e.data);
    socket.send(encodeClientMessage({
      type: "newOrder",
      requestId: 1n,
      sentAt: 0n,
      clientOrderId: 1n,
      symbol: "AAPL",
      side: "buy",
      orderType: "limit",
      timeInForce: "gtc",
      postOnly: false,
      price: 18_000,
      quantity: 5,
      account: "",
    }));
    await eventually(() => core.stats().commands === 1, "the engine took the order");
    const stats = core.stats();
    assert.deepStrictEqual(
      [stats.connections, stats.bySource, stats.engine.state],
      [1, { gateway: 1 }, "running"],
    );
    const status = await (await fetch(core.addresses.status)).json();
    assert.deepStrictEqual(
      [status.stats.connections, status.stats.commands, status.stats.bySource],
      [1, 1, { gateway: 1 }],
    );
    const closed = new Promise<CloseEvent>((resolve) => (socket.onclose = resolve));
    socket.close();
    await closed;
    await eventually(() => core.stats().connections === 0, "the connection was counted closed");
    assert.strictEqual(core.stats().closedConnections, 1);
  });
});

Deno.test("createCore() runs the synthetic market at the configured rate, unless told to build none", async () => {
  await withCore(async (core) => {
    await eventually(() => (core.stats().bySource.synthetic ?? 0) > 0, "the market traded");
    assert.ok(core.parts.market !== undefined);
  }, { syntheticRate: 2000 });
  await withCore(
    async (core) => {
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.deepStrictEqual(core.stats().bySource, {});
      assert.strictEqual(core.parts.market, undefined);
      // Its accounts were not defined: the first engine account is the stored trader's.
      assert.strictEqual(core.parts.accounts.name(0), "ALICE");
    },
    { syntheticRate: 2000 },
    { syntheticMarket: false },
  );
});

Deno.test("close() says goodbye to traders, stops serving and returns the final counts once", async () => {
  const lines: string[] = [];
  await withCore(
    async (core, key) => {
      const token = await signJwt({
        sub: "ALICE",
        role: "trader",
        iss: ISSUER,
        aud: AUDIENCE,
        exp: Math.floor(Date.now() / 1000) + 600,
      }, key);
      const socket = await open(core.addresses.ws, token);
      const goodbye = new Promise<CloseEvent>((resolve) => (socket.onclose = resolve));
      const [first, second] = await Promise.all([core.close("test"), core.close("again")]);
      assert.strictEqual(first, second);
      assert.strictEqual((await goodbye).code, 1001);
      await assert.rejects(fetch(core.addresses.status), TypeError);
      assert.ok(lines.some((l) => l.startsWith("stopped (test): 0 commands")), lines.join("\n"));
      assert.ok(!lines.some((l) => l.startsWith("stopped (again)")), lines.join("\n"));
    },
    {},
    { log: (line) => lines.push(line) },
  );
});

Deno.test("createCore() recovers from its journal and reports it; a core that fails to start leaves the journal free", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tc-create-core-" });
  try {
    const journalDir = `${dir}/journal`;
    let commands = 0;
    await withCore(async (core) => {
      assert.strictEqual(core.recovery?.created, true);
      await eventually(() => core.stats().commands >= 200, "the market traded");
      commands = (await core.close()).commands;
    }, { journalDir, syntheticRate: 4000 });
    await withCore((core) => {
      assert.ok(core.recovery !== undefined && !core.recovery.created);
      assert.ok(core.recovery.replayed >= commands, `${core.recovery.replayed} < ${commands}`);
      assert.strictEqual(typeof core.recoveredStateHash, "bigint");
      assert.strictEqual(core.status().journal?.stateHash, String(core.recoveredStateHash));
      return Promise.resolve();
    }, { journalDir });
    // A port in use: the core fails after its engine opened the journal…
    const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    try {
      await assert.rejects(
        withCore(() => Promise.resolve(), { journalDir, corePort: taken.addr.port }),
        Deno.errors.AddrInUse,
      );
    } finally {
      taken.close();
    }
    // …and closed it again, so the next core may take the folder.
    await withCore((core) => {
      assert.ok(core.recovery !== undefined);
      return Promise.resolve();
    }, { journalDir });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
