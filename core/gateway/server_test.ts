import assert from "node:assert";
import { encodeClientMessage } from "../wire/mod.ts";
import type { HeartbeatEvent, ServerEvent } from "../wire/types.ts";
import { BEARER_PREFIX, SUBPROTOCOL } from "./config.ts";
import { eventually, rawUpgrade, show, TestClient, WAIT_MS, withGateway } from "./_harness.ts";
import { craft, HS256 } from "./_testing.ts";
import { signJwt } from "./jwt.ts";

const ORDER = {
  type: "newOrder",
  sentAt: 0n,
  symbol: "AAPL",
  side: "buy",
  orderType: "limit",
  timeInForce: "gtc",
  postOnly: false,
  price: 19_000,
  quantity: 5,
  account: "",
} as const;

/** The byte offset of a single-segment frame's root data section. */
function rootData(frame: Uint8Array): number {
  const pointer = new DataView(frame.buffer, frame.byteOffset).getInt32(8, true);
  return 16 + (pointer >> 2) * 8;
}

Deno.test("gateway: a valid token opens a session that echoes tradecaptain.v1 and answers pings", async () => {
  await withGateway(async (h) => {
    const client = await h.connect("ALICE");
    assert.deepStrictEqual(client.socket.protocol, SUBPROTOCOL);
    client.send({ type: "ping", requestId: 77n, sentAt: 123_456n });
    const beat = await client.nextOf("heartbeat");
    assert.deepStrictEqual(
      { requestId: beat.requestId, echo: beat.echoSentAt, interval: beat.intervalMs },
      { requestId: 77n, echo: 123_456n, interval: 1000 },
    );
    assert.deepStrictEqual(beat.executionSequence, 0n);
    assert.deepStrictEqual(h.gateway.connections, 1);
  });
});

Deno.test("gateway: the token may come as ?token= instead of a subprotocol", async () => {
  await withGateway(async (h) => {
    const token = await h.token("BOB", "viewer");
    const client = await TestClient.open(`${h.url}?token=${token}`, []);
    try {
      assert.deepStrictEqual(client.socket.protocol, "");
      await client.sync();
    } finally {
      await client.close();
    }
  });
});

Deno.test("gateway: refuses expired, alg none, wrong-audience tokens and bad Origins before upgrading", async () => {
  await withGateway(async (h) => {
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      sub: "ALICE",
      role: "trader",
      iss: "tradecaptain-core",
      aud: "tradecaptain-gateway",
      exp: now + 3600,
    };
    const cases: [string, Record<string, string>, number, string][] = [
      [
        "expired",
        {
          "Sec-WebSocket-Protocol": `${SUBPROTOCOL}, ${BEARER_PREFIX}${await h.token(
            "ALICE",
            "trader",
            { exp: now - 3600 },
          )}`,
        },
        401,
        "expired",
      ],
      [
        "alg none",
        {
          "Sec-WebSocket-Protocol": `${SUBPROTOCOL}, ${BEARER_PREFIX}${await craft(
            { alg: "none", typ: "JWT" },
            claims,
            undefined,
            "",
          )}`,
        },
        401,
        "bad_algorithm",
      ],
      [
        "wrong audience",
        {
          "Sec-WebSocket-Protocol": `${SUBPROTOCOL}, ${BEARER_PREFIX}${await craft(
            HS256,
            { ...claims, aud: "someone-else" },
            h.key,
          )}`,
        },
        401,
        "wrong_audience",
      ],
      [
        "bad Origin",
        {
          Origin: "https://evil.example",
          "Sec-WebSocket-Protocol": `${SUBPROTOCOL}, ${BEARER_PREFIX}${await h.token(
            "ALICE",
            "trader",
          )}`,
        },
        403,
        "bad_origin",
      ],
      ["no token", { "Sec-WebSocket-Protocol": SUBPROTOCOL }, 401, "missing_token"],
    ];
    for (const [what, headers, status, reason] of cases) {
      const response = await rawUpgrade(h.port, headers);
      assert.deepStrictEqual(response.status, status, what);
      assert.deepStrictEqual(
        response.headers.get("content-type"),
        "application/problem+json",
        what,
      );
      const body = JSON.parse(response.body);
      assert.deepStrictEqual([body.type, body.status], [
        `urn:tradecaptain:problem:${reason}`,
        status,
      ], what);
      // The RFC 9457 members and the reason, as the admin API and the edge send them.
      assert.deepStrictEqual(Object.keys(body).sort(), [
        "detail",
        "reason",
        "status",
        "title",
        "type",
      ], what);
      assert.deepStrictEqual(body.reason, reason, what);
      assert(body.detail.startsWith("Cannot accept connection: "), body.detail);
      assert.deepStrictEqual(response.headers.get("x-content-type-options"), "nosniff", what);
      assert(!response.headers.has("sec-websocket-accept"), `${what}: upgraded`);
    }
    // A browser-like client sees the refusal as a failed connection.
    const expired = await h.token("ALICE", "trader", { exp: now - 3600 });
    let refused = false;
    try {
      await (await TestClient.open(h.url, [SUBPROTOCOL, BEARER_PREFIX + expired])).close();
    } catch {
      refused = true;
    }
    assert(refused, "an expired token opened a WebSocket");
    // An allowed Origin passes.
    const ok = await rawUpgrade(h.port, {
      Origin: "https://trade.example",
      "Sec-WebSocket-Protocol": `${SUBPROTOCOL}, ${BEARER_PREFIX}${await h.token(
        "ALICE",
        "trader",
      )}`,
    });
    assert.deepStrictEqual(ok.status, 101);
    assert.deepStrictEqual(ok.headers.get("sec-websocket-protocol"), SUBPROTOCOL);
    assert.deepStrictEqual(h.gateway.connections <= 1, true);
  });
});

Deno.test("gateway: other paths are 404 problems, /ws wants GET and an upgrade, /admin goes to its handler", async () => {
  const seen: string[] = [];
  await withGateway(async (h) => {
    const get = async (path: string, init?: RequestInit) => {
      const response = await fetch(h.base + path, init);
      const body = await response.text();
      return { status: response.status, type: response.headers.get("content-type"), body };
    };
    const missing = await get("/elsewhere");
    assert.deepStrictEqual([missing.status, missing.type], [404, "application/problem+json"]);
    assert.deepStrictEqual(JSON.parse(missing.body).type, "urn:tradecaptain:problem:not_found");
    assert.deepStrictEqual((await get("/ws")).status, 426);
    assert.deepStrictEqual((await get("/ws", { method: "POST", body: "x" })).status, 405);
    const admin = await get("/admin/accounts?x=1");
    assert.deepStrictEqual([admin.status, admin.body], [200, "admin says hi"]);
    assert.deepStrictEqual((await get("/administrator")).status, 404);
  }, {
    admin: (request) => {
      seen.push(new URL(request.url).pathname);
      return Promise.resolve(new Response("admin says hi"));
    },
  });
  assert.deepStrictEqual(seen, ["/admin/accounts"]);
  await withGateway(async (h) => {
    const response = await fetch(`${h.base}/admin/accounts`);
    assert.deepStrictEqual(response.status, 404);
    assert.deepStrictEqual(
      JSON.parse(await response.text()).type,
      "urn:tradecaptain:problem:not_found",
    );
  });
});

Deno.test("gateway: each bad input is answered with its reason, reaches nothing, and the connection stays up", async () => {
  await withGateway(async (h) => {
    const client = await h.connect("ALICE");
    await client.sync();
    const submitted = h.dispatcher.stats.submitted;
    const ping = encodeClientMessage({ type: "ping", requestId: 9n, sentAt: 0n });
    const unknownTag = ping.slice();
    new DataView(unknownTag.buffer).setUint16(rootData(ping) + 16, 42, true);
    const cases: [string, Uint8Array | string, ServerEvent["type"], string][] = [
      ["oversized frame", new Uint8Array(70_000), "error", "frameTooLarge"],
      [
        "impossible segment table",
        new Uint8Array([0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        "error",
        "malformedFrame",
      ],
      ["unknown union tag", unknownTag, "error", "unknownMessage"],
      [
        "out-of-range quantity",
        encodeClientMessage({ ...ORDER, requestId: 5n, clientOrderId: 1n, quantity: 0 }),
        "reject",
        "invalidQty",
      ],
      [
        "out-of-range price",
        encodeClientMessage({ ...ORDER, requestId: 6n, clientOrderId: 2n, price: -5 }),
        "reject",
        "invalidPrice",
      ],
      ["a text frame", "hello", "error", "malformedFrame"],
    ];
    for (const [what, frame, type, reason] of cases) {
      client.send(frame);
      const answer = await client.next();
      assert.deepStrictEqual(
        [answer.type, "reason" in answer ? answer.reason : ""],
        [type, reason],
        what,
      );
      if (answer.type === "reject") {
        assert.deepStrictEqual(answer.request, "newOrder", what);
        assert(answer.requestId === 5n || answer.requestId === 6n, what);
      }
      await client.sync(); // still up
    }
    assert.deepStrictEqual(h.dispatcher.stats.submitted, submitted, "something reached the engine");
    // And it still trades.
    client.send({ ...ORDER, requestId: 7n, clientOrderId: 3n });
    const accepted = await client.nextOf("executionReport");
    assert.deepStrictEqual([accepted.execType, accepted.requestId], ["accepted", 7n]);
  });
});

Deno.test("gateway: flooding past the message rate closes the connection with 1008", async () => {
  await withGateway(async (h) => {
    const client = await h.connect("ALICE");
    const other = await h.connect("BOB");
    for (let i = 0; i < 200; i++) client.send({ type: "ping", requestId: BigInt(i), sentAt: 0n });
    const closed = await client.closed;
    assert.deepStrictEqual([closed.code, closed.reason], [1008, "message rate over the limit"]);
    const error = client.inbox.find((m) => m.type === "error");
    assert(error?.type === "error" && error.closing === true, show(client.inbox.slice(-3)));
    await other.sync(); // others are untouched
  }, { messageRate: { perSecond: 50, burst: 50 } });
});

Deno.test("gateway: repeated bad frames close the connection with 1008", async () => {
  await withGateway(async (h) => {
    const client = await h.connect("ALICE");
    for (let i = 0; i < 5; i++) client.send(new Uint8Array([1, 2, 3]));
    const closed = await client.closed;
    assert.deepStrictEqual([closed.code, closed.reason], [1008, "too many bad frames"]);
    // Each of the four bad frames answered, then the closing error.
    const errors = client.inbox.filter((m) => m.type === "error");
    assert.deepStrictEqual(errors.map((e) => e.type === "error" && e.closing), [
      false,
      false,
      false,
      false,
      true,
    ], show(errors));
  }, { badFrameRate: { perMinute: 3, burst: 3 } });
});

Deno.test("gateway: an idle connection gets heartbeats carrying its execution sequence", async () => {
  await withGateway(async (h) => {
    const client = await h.connect("ALICE");
    client.send({ ...ORDER, requestId: 1n, clientOrderId: 1n });
    await client.nextOf("executionReport");
    const started = performance.now();
    const beat = await client.next<HeartbeatEvent>((m) =>
      m.type === "heartbeat" && m.requestId === 0n
    );
    const waited = performance.now() - started;
    assert(waited < 1000, `heartbeat after ${waited} ms`);
    assert.deepStrictEqual([beat.intervalMs, beat.executionSequence, beat.echoSentAt], [
      150,
      1n,
      0n,
    ]);
  }, { heartbeatIntervalMs: 150 });
});

Deno.test("gateway: subscriptions go to the market data port; viewers get market data only", async () => {
  await withGateway(async (h) => {
    const viewer = await h.connect("VIV", "viewer");
    viewer.send({ type: "subscribe", requestId: 3n, sentAt: 0n, symbol: "MSFT" });
    const snapshot = await viewer.nextOf("bookSnapshot");
    assert.deepStrictEqual([snapshot.symbol, snapshot.requestId], ["MSFT", 3n]);
    viewer.send({ type: "subscribe", requestId: 4n, sentAt: 0n, symbol: "NOPE" });
    const refused = await viewer.nextOf("reject");
    assert.deepStrictEqual([refused.reason, refused.request, refused.symbol], [
      "unknownSymbol",
      "subscribe",
      "NOPE",
    ]);
    viewer.send({ type: "requestSnapshot", requestId: 5n, sentAt: 0n, symbol: "MSFT" });
    assert.deepStrictEqual((await viewer.nextOf("bookSnapshot")).requestId, 5n);
    viewer.send({ type: "unsubscribe", requestId: 6n, sentAt: 0n, symbol: "MSFT" });
    await viewer.sync();
    viewer.send({ ...ORDER, requestId: 7n, clientOrderId: 1n });
    const order = await viewer.nextOf("reject");
    assert.deepStrictEqual([order.reason, order.requestId], ["notAuthorised", 7n]);
    viewer.send({ type: "requestOrders", requestId: 8n, sentAt: 0n, sinceSequence: 0n });
    assert.deepStrictEqual((await viewer.nextOf("reject")).reason, "notAuthorised");
    await viewer.close();
    assert.deepStrictEqual(h.marketData.calls, [
      "subscribe MSFT 3",
      "subscribe NOPE 4",
      "snapshot MSFT 5",
      "unsubscribe MSFT",
      "detach",
    ]);
    // The dispatcher feeds the port every command and a flush per drain.
    const trader = await h.connect("ALICE");
    trader.send({ ...ORDER, requestId: 1n, clientOrderId: 1n });
    await trader.nextOf("executionReport");
    assert(h.marketData.applied >= 1 && h.marketData.flushes >= 1);
  });
});

Deno.test("gateway: close() says goodbye with 1001 and refuses new connections", async () => {
  await withGateway(async (h) => {
    const client = await h.connect("ALICE");
    await client.sync();
    await h.gateway.close();
    const closed = await client.closed;
    assert.deepStrictEqual(closed.code, 1001);
    assert.deepStrictEqual(h.gateway.connections, 0);
    const late = await rawUpgrade(h.port, {
      "Sec-WebSocket-Protocol": `${SUBPROTOCOL}, ${BEARER_PREFIX}${await h.token("A", "trader")}`,
    });
    assert.deepStrictEqual(late.status, 503);
  });
});

Deno.test("gateway: a connection is closed when its token expires", async () => {
  await withGateway(async (h) => {
    // Expired 29 s ago: inside the handshake's 30 s leeway, out of it in a second or two.
    const exp = Math.floor(Date.now() / 1000) - 29;
    const token = await signJwt({
      sub: "ALICE",
      role: "trader",
      iss: "tradecaptain-core",
      aud: "tradecaptain-gateway",
      exp,
    }, h.key);
    const client = await TestClient.open(h.url, [SUBPROTOCOL, BEARER_PREFIX + token]);
    try {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const closed = await Promise.race([
        client.closed,
        new Promise<never>((_, reject) =>
          timer = setTimeout(() => reject(new Error("not closed")), 3 * WAIT_MS)
        ),
      ]);
      clearTimeout(timer);
      assert.deepStrictEqual([closed.code, closed.reason], [1008, "token expired"]);
    } finally {
      await client.close();
    }
  }, { heartbeatIntervalMs: 100 });
});

/** Sends one raw HTTP/1.1 request with the given Host header and reads the answer. */
async function rawRequest(
  port: number,
  host: string,
  path = "/",
): Promise<{ status: number; head: string; body: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const request = `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;
    await conn.write(new TextEncoder().encode(request));
    const decoder = new TextDecoder();
    const buffer = new Uint8Array(16 * 1024);
    let text = "";
    const deadline = performance.now() + WAIT_MS;
    while (performance.now() < deadline) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += decoder.decode(buffer.subarray(0, n), { stream: true });
    }
    const end = text.indexOf("\r\n\r\n");
    const head = text.slice(0, end).toLowerCase();
    const body = text.slice(end + 4);
    // Deno.serve may chunk the body: keep what lies between the chunk sizes.
    const unchunked = head.includes("transfer-encoding: chunked")
      ? body.split("\r\n").filter((_, i) => i % 2 === 1).join("")
      : body;
    return { status: Number(text.split(" ")[1]), head, body: unchunked };
  } finally {
    conn.close();
  }
}

Deno.test("gateway: a Host header that is not a host is a 400 problem, not a 500", async () => {
  await withGateway(async (h) => {
    for (const host of ["a b", "[zz", "ok:99999", "a/b", "x@y", "%%"]) {
      for (const path of ["/", "/ws", "/admin/state", "/elsewhere"]) {
        const answer = await rawRequest(h.port, host, path);
        assert.deepStrictEqual(answer.status, 400, `${host} ${path}: ${answer.body}`);
        assert(answer.head.includes("content-type: application/problem+json"), answer.head);
        assert(answer.head.includes("x-frame-options: deny"), answer.head);
        const body = JSON.parse(answer.body);
        assert.deepStrictEqual([body.reason, body.status], ["bad_host", 400]);
        assert.deepStrictEqual(body.type, "urn:tradecaptain:problem:bad_host");
        assert(String(body.detail).includes("is not a host name or address"), body.detail);
      }
    }
    assert.deepStrictEqual(h.errors, []);
    // Good hosts pass: a name, an address, an IPv6 literal, with or without a port.
    for (const host of ["localhost", "core.example:8080", `127.0.0.1:${h.port}`, "[::1]:8080"]) {
      assert.deepStrictEqual((await rawRequest(h.port, host, "/")).status, 200, host);
    }
  });
});

Deno.test("gateway: every HTTP answer carries the edge's security headers", async () => {
  await withGateway(async (h) => {
    for (const path of ["/", "/elsewhere", "/ws", "/admin/state", "/livez"]) {
      const response = await fetch(h.base + path);
      await response.body?.cancel();
      const headers = response.headers;
      assert.deepStrictEqual(
        [
          headers.get("x-content-type-options"),
          headers.get("x-frame-options"),
          headers.get("referrer-policy"),
          headers.get("cross-origin-opener-policy"),
          headers.get("strict-transport-security"),
          headers.get("content-security-policy"),
        ],
        [
          "nosniff",
          "DENY",
          "no-referrer",
          "same-origin",
          "max-age=63072000; includeSubDomains",
          "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        ],
        path,
      );
    }
  }, {
    admin: () => Promise.resolve(Response.json({ accounts: [] })),
    routes: (request) =>
      new URL(request.url).pathname === "/livez" ? Response.json({ status: "ok" }) : undefined,
  });
});

Deno.test("gateway: other routes are asked first, after the Host check, and pass on what is not theirs", async () => {
  const asked: string[] = [];
  await withGateway(async (h) => {
    const livez = await fetch(`${h.base}/livez`);
    assert.deepStrictEqual([livez.status, await livez.text()], [200, "alive"]);
    const elsewhere = await fetch(`${h.base}/elsewhere`);
    assert.deepStrictEqual(elsewhere.status, 404);
    await elsewhere.body?.cancel();
    // A bad Host never reaches them (the health handler parses the URL).
    assert.deepStrictEqual((await rawRequest(h.port, "a b", "/livez")).status, 400);
  }, {
    routes: (request) => {
      const path = new URL(request.url).pathname;
      asked.push(path);
      return path === "/livez" ? new Response("alive") : undefined;
    },
  });
  assert.deepStrictEqual(asked, ["/livez", "/elsewhere"]);
});

Deno.test("gateway: / says what the core serves (ws, admin) and where the edge is", async () => {
  await withGateway(async (h) => {
    const response = await fetch(h.base + "/");
    assert.deepStrictEqual(response.status, 200);
    assert.deepStrictEqual(response.headers.get("content-type"), "application/json");
    const body = await response.json();
    assert.deepStrictEqual(body.edge, "https://quotes.example");
    assert(String(body.serves.ws).startsWith(`ws://127.0.0.1:${h.port}/ws: `), body.serves.ws);
    assert(String(body.serves.admin).startsWith(`${h.base}/admin: `), body.serves.admin);
    assert(String(body.detail).includes("https://quotes.example"), body.detail);
    const post = await fetch(h.base + "/", { method: "POST", body: "x" });
    assert.deepStrictEqual([post.status, post.headers.get("allow")], [405, "GET, HEAD"]);
    await post.body?.cancel();
  }, { edgeUrl: "https://quotes.example" });
  await withGateway(async (h) => {
    const body = await (await fetch(h.base + "/")).json();
    assert.deepStrictEqual(body.edge, "http://127.0.0.1:8000");
  });
});

Deno.test("gateway: authorize gets the token's claims, and its refusal is a problem with its reason", async () => {
  const asked: string[] = [];
  await withGateway(async (h) => {
    const refused = await rawUpgrade(h.port, {
      "Sec-WebSocket-Protocol": `${SUBPROTOCOL}, ${BEARER_PREFIX}${await h.token("OFF", "trader", {
        epoch: 4,
      })}`,
    });
    assert.deepStrictEqual(refused.status, 403);
    const body = JSON.parse(refused.body);
    assert.deepStrictEqual([body.reason, body.type], [
      "account_disabled",
      "urn:tradecaptain:problem:account_disabled",
    ]);
    assert.deepStrictEqual(body.detail, 'Cannot accept connection: account "OFF" is disabled');
    await (await h.connect("ALICE")).sync();
  }, {
    authorize: (account, role, claims) => {
      asked.push(`${account} ${role} ${claims.epoch ?? "-"}`);
      return Promise.resolve(
        account === "OFF"
          ? {
            status: 403,
            reason: "account_disabled",
            message: 'Cannot accept connection: account "OFF" is disabled',
          }
          : undefined,
      );
    },
  });
  assert.deepStrictEqual(asked, ["OFF trader 4", "ALICE trader -"]);
});

Deno.test("gateway: closeAccount() closes every connection of the account, with an error first, and no other", async () => {
  await withGateway(async (h) => {
    const alice1 = await h.connect("ALICE");
    const alice2 = await h.connect("ALICE", "viewer");
    const bob = await h.connect("BOB");
    await eventually(() => h.gateway.connections === 3, "three connections");
    assert.deepStrictEqual(
      h.gateway.closeAccount("ALICE", 1008, "account disabled by an admin"),
      2,
    );
    for (const alice of [alice1, alice2]) {
      const error = await alice.nextOf("error");
      assert.deepStrictEqual([error.reason, error.closing, error.message], [
        "notAuthorised",
        true,
        "Closing connection: account disabled by an admin",
      ]);
      const closed = await alice.closed;
      assert.deepStrictEqual([closed.code, closed.reason], [1008, "account disabled by an admin"]);
    }
    await bob.sync();
    assert.deepStrictEqual(h.gateway.closeAccount("NOBODY", 1008, "x"), 0);
    await eventually(() => h.gateway.connections === 1, "ALICE's connections gone");
  });
});

/** The next message answering `requestId`. */
function answer(client: TestClient, requestId: bigint): Promise<ServerEvent> {
  return client.next((m) => m.requestId === requestId);
}

Deno.test("gateway: reauthenticate with a fresh token keeps the connection open past the old token's expiry", async () => {
  await withGateway(async (h) => {
    // Expired 27 s ago: inside the 30 s leeway for about three more seconds.
    const oldExp = Math.floor(Date.now() / 1000) - 27;
    const old = await h.token("ALICE", "trader", { exp: oldExp, jti: "old" });
    const client = await TestClient.open(h.url, [SUBPROTOCOL, BEARER_PREFIX + old]);
    try {
      const fresh = await h.token("ALICE", "trader", { jti: "fresh" });
      client.send({ type: "reauthenticate", requestId: 31n, sentAt: 555n, token: fresh });
      const beat = await answer(client, 31n);
      assert.deepStrictEqual([beat.type, beat.type === "heartbeat" && beat.echoSentAt], [
        "heartbeat",
        555n,
      ]);
      // Past the old token's expiry and leeway: still open, still answering.
      await eventually(() => Date.now() / 1000 > oldExp + 30.5, "the old token's end", 10_000);
      await client.sync();
      assert.deepStrictEqual(h.gateway.connections, 1);
      // The connection now holds the new token: a logout of the old one leaves it,
      // a logout of the new one closes it.
      assert.deepStrictEqual(h.gateway.closeToken("old", 1008, "logged out"), 0);
      assert.deepStrictEqual(h.gateway.closeToken("fresh", 1008, "logged out"), 1);
      const closed = await client.closed;
      assert.deepStrictEqual([closed.code, closed.reason], [1008, "logged out"]);
    } finally {
      await client.close();
    }
  }, { heartbeatIntervalMs: 100 });
});

Deno.test("gateway: reauthenticate refuses another account, another role, a revoked, expired or malformed token, and keeps the connection", async () => {
  const asked: string[] = [];
  await withGateway(async (h) => {
    const client = await h.connect("ALICE");
    const now = Math.floor(Date.now() / 1000);
    const cases: [string, string, string][] = [
      ["another account", await h.token("BOB", "trader"), 'for account "BOB"'],
      ["another role", await h.token("ALICE", "viewer"), "role is viewer"],
      [
        "revoked",
        await h.token("ALICE", "trader", { jti: "ended" }),
        "the token was ended by a logout",
      ],
      ["expired", await h.token("ALICE", "trader", { exp: now - 3600 }), "expired"],
      ["malformed", "not-a-jwt", "3 dot-separated parts"],
      ["empty", "", "the token is missing"],
    ];
    let id = 40n;
    for (const [name, token, includes] of cases) {
      client.send({ type: "reauthenticate", requestId: ++id, sentAt: 0n, token });
      const reject = await answer(client, id);
      assert(reject.type === "reject", `${name}: ${show([reject])}`);
      assert.deepStrictEqual(
        [reject.reason, reject.request],
        ["notAuthorised", "reauthenticate"],
        name,
      );
      assert(reject.message.startsWith("Cannot reauthenticate: "), `${name}: ${reject.message}`);
      assert(reject.message.includes(includes), `${name}: ${reject.message}`);
    }
    await client.sync();
    assert.deepStrictEqual(h.gateway.connections, 1);
    // The token the connection opened with is still its own.
    assert.deepStrictEqual(h.gateway.closeToken("ended", 1008, "logged out"), 0);
  }, {
    authorize: (account, role, claims) => {
      asked.push(`${account} ${role}`);
      return Promise.resolve(
        claims.jti === "ended"
          ? {
            status: 401,
            reason: "token_revoked",
            message: "Cannot accept connection: the token was ended by a logout",
          }
          : undefined,
      );
    },
  });
  // The handshake's check, then the reauthenticates' whose signature and claims checked out.
  assert.deepStrictEqual(asked, ["ALICE trader", "BOB trader", "ALICE viewer", "ALICE trader"]);
});

Deno.test("gateway: reauthenticate frames count against the message rate", async () => {
  await withGateway(async (h) => {
    const client = await h.connect("ALICE");
    const token = await h.token("ALICE", "trader");
    for (let i = 0; i < 200; i++) {
      client.send({ type: "reauthenticate", requestId: BigInt(i), sentAt: 0n, token });
    }
    const closed = await client.closed;
    assert.deepStrictEqual([closed.code, closed.reason], [1008, "message rate over the limit"]);
  }, { messageRate: { perSecond: 50, burst: 50 } });
});
