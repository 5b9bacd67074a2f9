// The login API as the core serves it (createCore, in this process): over
// HTTP beside the gateway, its tokens good for the WebSocket, a logout
// closing that token's connections, and a change of the account by another
// writer closing all of them within the account directory's poll.

import assert from "node:assert";
import { AccountStore, hashPassword } from "../admin/mod.ts";
import { createCore, readConfig } from "../app/mod.ts";
import { SUBPROTOCOL } from "../gateway/mod.ts";
import { decodeServerMessage, encodeClientMessage, type ServerEvent } from "../wire/mod.ts";

const EDGE = "http://127.0.0.1:8000";
const CHEAP = { n: 1024, r: 8, p: 1 } as const;

async function withCore(
  fn: (base: string, ws: string, kv: Deno.Kv) => Promise<void>,
): Promise<void> {
  const kv = await Deno.openKv(":memory:");
  const store = new AccountStore(kv);
  for (const name of ["ALICE", "BOB"]) {
    await store.createAccount({ name, role: "trader" });
    await store.setPassword(name, await hashPassword(`${name} password`, CHEAP));
  }
  const core = await createCore({
    ...readConfig(() => undefined),
    corePort: 0,
    journalDir: undefined,
    syntheticRate: 0,
    allowedOrigins: [EDGE],
  }, {
    kv,
    key: await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
      "verify",
    ]),
    log: () => {},
    syntheticMarket: false,
    pinMainThread: false,
  });
  try {
    await fn(core.addresses.http, core.addresses.ws, kv);
  } finally {
    await core.close();
    kv.close();
  }
}

async function login(base: string, account: string): Promise<string> {
  const response = await fetch(`${base}/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: EDGE },
    body: JSON.stringify({ account, password: `${account} password` }),
  });
  assert.deepStrictEqual(response.status, 200, await response.clone().text());
  assert.deepStrictEqual(response.headers.get("access-control-allow-origin"), EDGE);
  // The gateway's security headers too.
  assert.deepStrictEqual(response.headers.get("x-content-type-options"), "nosniff");
  return (await response.json()).token;
}

/** A socket opened with `token`, and its close event when it comes. */
async function open(ws: string, token: string) {
  const socket = new WebSocket(ws, [SUBPROTOCOL, `bearer.${token}`]);
  const closed = new Promise<CloseEvent>((resolve) => (socket.onclose = resolve));
  await new Promise<void>((resolve, reject) => {
    socket.onopen = () => resolve();
    socket.onerror = () => reject(new Error("the socket did not open"));
  });
  return { socket, closed };
}

/** Whether `closed` settles within `ms`. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | "timeout"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("the core: a login's token opens the WebSocket; its logout closes that token's connections (1008) and no other", async () => {
  await withCore(async (base, ws) => {
    const first = await login(base, "ALICE");
    const second = await login(base, "ALICE");
    const a = await open(ws, first);
    const b = await open(ws, second);
    try {
      const out = await fetch(`${base}/auth/logout`, {
        method: "POST",
        headers: { authorization: `Bearer ${first}`, origin: EDGE },
      });
      assert.deepStrictEqual(out.status, 204);
      const event = await within(a.closed, 5_000);
      assert(event !== "timeout", "the logged-out token's connection stayed open");
      assert.deepStrictEqual([event.code, event.reason], [1008, "logged out"]);
      assert.deepStrictEqual(await within(b.closed, 300), "timeout", "another token's closed");
      // The ended token opens nothing any more.
      const refused = await fetch(`${base}/ws`, {
        headers: {
          upgrade: "websocket",
          "sec-websocket-protocol": `${SUBPROTOCOL}, bearer.${first}`,
        },
      });
      assert.deepStrictEqual(refused.status, 401);
      assert.deepStrictEqual((await refused.json()).reason, "token_revoked");
    } finally {
      a.socket.close();
      b.socket.close();
      await b.closed;
    }
  });
});

Deno.test("the core: an account disabled by another writer of its store loses its connections within the directory's poll", async () => {
  await withCore(async (base, ws, kv) => {
    const alice = await open(ws, await login(base, "ALICE"));
    const bob = await open(ws, await login(base, "BOB"));
    try {
      // Another AccountStore over the same KV: the directory sees it only by polling.
      await new AccountStore(kv).updateAccount("ALICE", { enabled: false });
      const event = await within(alice.closed, 5_000);
      assert(event !== "timeout", "the disabled account's connection stayed open");
      assert.deepStrictEqual([event.code, event.reason], [1008, "account disabled"]);
      assert.deepStrictEqual(await within(bob.closed, 300), "timeout", "BOB was closed too");
    } finally {
      bob.socket.close();
      await bob.closed;
    }
  });
});

Deno.test("the core answers the login API's preflight for the gateway's origins only", async () => {
  await withCore(async (base) => {
    const preflight = (origin: string) =>
      fetch(`${base}/auth/refresh`, {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization",
        },
      });
    const ok = await preflight(EDGE);
    assert.deepStrictEqual(
      [ok.status, ok.headers.get("access-control-allow-origin"), ok.headers.get("vary")],
      [204, EDGE, "Origin"],
    );
    const refused = await preflight("http://127.0.0.1:9999");
    assert.deepStrictEqual(
      [refused.status, refused.headers.get("access-control-allow-origin")],
      [403, null],
    );
    await refused.body?.cancel();
  });
});

/** Sends a reauthenticate on `socket` and waits for the message answering it. */
async function reauthenticate(
  socket: WebSocket,
  token: string,
  requestId: bigint,
): Promise<ServerEvent> {
  socket.binaryType = "arraybuffer";
  const answer = new Promise<ServerEvent>((resolve) => {
    socket.onmessage = (e) => {
      const event = decodeServerMessage(new Uint8Array(e.data as ArrayBuffer));
      if (event.requestId === requestId) resolve(event);
    };
  });
  socket.send(encodeClientMessage({ type: "reauthenticate", requestId, sentAt: 0n, token }));
  const event = await within(answer, 5_000);
  assert(event !== "timeout", "no answer to the reauthenticate");
  return event;
}

Deno.test("the core: a refreshed token reauthenticates an open connection, whose logout then closes it; an ended or another account's token is refused", async () => {
  await withCore(async (base, ws) => {
    const first = await login(base, "ALICE");
    const a = await open(ws, first);
    try {
      const refreshed = await fetch(`${base}/auth/refresh`, {
        method: "POST",
        headers: { authorization: `Bearer ${first}`, origin: EDGE },
      });
      assert.deepStrictEqual(refreshed.status, 200);
      const second: string = (await refreshed.json()).token;
      const accepted = await reauthenticate(a.socket, second, 1n);
      assert.deepStrictEqual(
        accepted.type,
        "heartbeat",
        JSON.stringify(accepted, (_, v) => typeof v === "bigint" ? `${v}` : v),
      );
      // The old token ended: its logout leaves the connection, which holds the new one.
      const out = await fetch(`${base}/auth/logout`, {
        method: "POST",
        headers: { authorization: `Bearer ${first}`, origin: EDGE },
      });
      assert.deepStrictEqual(out.status, 204);
      const ended = await reauthenticate(a.socket, first, 2n);
      assert(ended.type === "reject" && ended.reason === "notAuthorised");
      assert.deepStrictEqual(
        ended.message,
        "Cannot reauthenticate: the token was ended by a logout; log in again",
      );
      const bob = await reauthenticate(a.socket, await login(base, "BOB"), 3n);
      assert(bob.type === "reject" && bob.message.includes('account "BOB"'), bob.type);
      assert.deepStrictEqual(await within(a.closed, 300), "timeout", "refusals closed it");
      // The new token's logout closes it.
      await fetch(`${base}/auth/logout`, {
        method: "POST",
        headers: { authorization: `Bearer ${second}`, origin: EDGE },
      });
      const event = await within(a.closed, 5_000);
      assert(event !== "timeout", "the new token's logout left the connection open");
      assert.deepStrictEqual([event.code, event.reason], [1008, "logged out"]);
    } finally {
      a.socket.close();
    }
  });
});
