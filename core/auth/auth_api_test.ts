import assert from "node:assert";
import { AccountStore, checkAccess, hashPassword } from "../admin/mod.ts";
import { AUDIENCE, ISSUER, signJwt, verifyJwt } from "../gateway/mod.ts";
import { authApi, type AuthApiOptions, INVALID_CREDENTIALS } from "./auth_api.ts";

/** Fast, weak parameters for the accounts' own hashes: tests of the logic. */
const CHEAP = { n: 1024, r: 8, p: 1 } as const;
const EDGE = "http://127.0.0.1:8000";
const BASE = "http://127.0.0.1:8080";

interface Setup {
  readonly store: AccountStore;
  readonly key: CryptoKey;
  readonly auth: ReturnType<typeof authApi>;
  readonly ended: { account: string; jti: string }[];
}

async function withAuth(
  fn: (s: Setup) => Promise<void>,
  options: Partial<AuthApiOptions> = {},
): Promise<void> {
  const kv = await Deno.openKv(":memory:");
  try {
    const store = new AccountStore(kv);
    for (
      const [name, role] of [["ALICE", "trader"], ["ROOT", "admin"], ["OFF", "trader"]] as const
    ) {
      await store.createAccount({ name, role });
      await store.setPassword(name, await hashPassword(`${name.toLowerCase()} password`, CHEAP));
    }
    await store.updateAccount("OFF", { enabled: false });
    await store.createAccount({ name: "NOPASS", role: "trader" });
    const key = await crypto.subtle.generateKey(
      { name: "HMAC", hash: "SHA-256", length: 256 },
      false,
      ["sign", "verify"],
    );
    const ended: { account: string; jti: string }[] = [];
    const auth = authApi({
      store,
      key,
      allowedOrigins: [EDGE],
      onLogout: (e) => void ended.push({ ...e }),
      ...options,
    });
    await fn({ store, key, auth, ended });
  } finally {
    kv.close();
  }
}

function from(address: string): Deno.ServeHandlerInfo {
  return {
    remoteAddr: { transport: "tcp", hostname: address, port: 40000 },
    completed: Promise.resolve(),
  } as Deno.ServeHandlerInfo;
}

function post(
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Request {
  return new Request(`${BASE}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

async function login(
  s: Setup,
  account: string,
  password: string,
  address = "10.0.0.1",
): Promise<Response> {
  return await s.auth(post("/auth/login", { account, password }), from(address));
}

/** A problem's status, reason and detail (and that it is one). */
async function problemOf(response: Response) {
  assert.deepStrictEqual(response.headers.get("content-type"), "application/problem+json");
  const body = await response.json();
  assert.deepStrictEqual(body.type, `urn:tradecaptain:problem:${body.reason}`);
  assert.deepStrictEqual(body.status, response.status);
  assert(typeof body.title === "string" && body.title !== "");
  return { status: response.status, reason: body.reason as string, detail: body.detail as string };
}

Deno.test("login answers a gateway token for the account's role and token epoch, with a jti, for 15 minutes", async () => {
  await withAuth(async (s) => {
    const before = Math.floor(Date.now() / 1000);
    const response = await login(s, "ALICE", "alice password");
    assert.deepStrictEqual(response.status, 200, await response.clone().text());
    assert.deepStrictEqual(response.headers.get("cache-control"), "no-store");
    const body = await response.json();
    assert.deepStrictEqual(Object.keys(body).sort(), ["account", "expiresAt", "role", "token"]);
    assert.deepStrictEqual([body.account, body.role], ["ALICE", "trader"]);
    const verified = await verifyJwt(body.token, s.key, { issuer: ISSUER, audience: AUDIENCE });
    assert(verified.ok, JSON.stringify(verified));
    const { sub, role, epoch, jti, iat, exp } = verified.claims;
    assert.deepStrictEqual({ sub, role, epoch }, { sub: "ALICE", role: "trader", epoch: 1 });
    assert(jti !== undefined && jti.length >= 32, `jti ${jti}`);
    assert(iat !== undefined && iat >= before && exp === iat + 900, `iat ${iat} exp ${exp}`);
    assert.deepStrictEqual(body.expiresAt, new Date(exp * 1000).toISOString());
    // The gateway's handshake and the admin API let it in.
    assert.strictEqual(
      await checkAccess(s.store, { account: sub, role, epoch: 1, jti }, "x"),
      undefined,
    );
    // An admin logs in with its own role.
    const root = await (await login(s, "ROOT", "root password")).json();
    assert.deepStrictEqual(root.role, "admin");
  });
});

Deno.test("login refuses alike an unknown account, one without a password, a disabled one and a wrong password", async () => {
  await withAuth(async (s) => {
    const answers = [];
    for (
      const [account, password] of [
        ["NOBODY", "alice password"],
        ["NOPASS", "alice password"],
        ["OFF", "off password"], // the right password of a disabled account
        ["ALICE", "alice passwor"],
        ["bad name\n", "alice password"],
      ]
    ) {
      const response = await login(s, account!, password!, `10.0.0.${answers.length + 1}`);
      answers.push({
        status: response.status,
        auth: response.headers.get("www-authenticate"),
        body: await response.text(),
      });
    }
    for (const answer of answers) assert.deepStrictEqual(answer, answers[0]);
    assert.deepStrictEqual(answers[0]!.status, 401);
    assert.deepStrictEqual(JSON.parse(answers[0]!.body), {
      type: "urn:tradecaptain:problem:invalid_credentials",
      title: "Invalid credentials",
      status: 401,
      detail: INVALID_CREDENTIALS,
      reason: "invalid_credentials",
    });
  });
});

Deno.test("login attempts are limited per account and per address: 429 with Retry-After, the right password too", async () => {
  await withAuth(async (s) => {
    // Per account, from many addresses: two attempts, then refused.
    assert.deepStrictEqual((await login(s, "ALICE", "wrong one", "10.0.1.1")).status, 401);
    assert.deepStrictEqual((await login(s, "ALICE", "wrong two", "10.0.1.2")).status, 401);
    const limited = await login(s, "ALICE", "alice password", "10.0.1.3");
    assert.deepStrictEqual(await problemOf(limited.clone()), {
      status: 429,
      reason: "rate_limited",
      detail: "Cannot log in: too many attempts for this account; try again in 30 s",
    });
    assert.deepStrictEqual(limited.headers.get("retry-after"), "30");
    // Per address, over many accounts: three attempts, then refused.
    for (const name of ["A1", "A2", "A3"]) {
      assert.deepStrictEqual((await login(s, name, "whatever1", "10.0.2.1")).status, 401);
    }
    const address = await login(s, "ROOT", "root password", "10.0.2.1");
    assert.deepStrictEqual(
      (await problemOf(address.clone())).detail,
      "Cannot log in: too many attempts for this address; try again in 20 s",
    );
    assert.deepStrictEqual(address.headers.get("retry-after"), "20");
    // Another address, another account: untouched.
    assert.deepStrictEqual((await login(s, "ROOT", "root password", "10.0.2.2")).status, 200);
  }, { perAccount: { perMinute: 2 }, perAddress: { perMinute: 3 } });
});

Deno.test("login: bad input gets a problem saying what is wrong, before any attempt is counted", async () => {
  await withAuth(async (s) => {
    const check = async (request: Request, status: number, reason: string, detail: string) =>
      assert.deepStrictEqual(await problemOf(await s.auth(request, from("10.0.3.1"))), {
        status,
        reason,
        detail,
      });
    await check(
      post("/auth/login", "{not json"),
      400,
      "malformed_json",
      "Cannot log in: cannot read the body: it is not JSON",
    );
    await check(
      post("/auth/login", "[1]"),
      400,
      "malformed_json",
      "Cannot log in: the body must be a JSON object, not an array",
    );
    await check(
      post("/auth/login", { account: "ALICE", password: "x" }, { "content-type": "text/plain" }),
      415,
      "unsupported_media_type",
      'Cannot log in: the body must be application/json, not "text/plain"',
    );
    await check(
      post("/auth/login", { account: "ALICE" }),
      422,
      "missing_field",
      'Cannot log in: the field "password" is required',
    );
    await check(
      post("/auth/login", ""),
      422,
      "missing_field",
      'Cannot log in: send {"account","password"} as JSON',
    );
    await check(
      post("/auth/login", { account: "ALICE", password: "alice password", otp: 1 }),
      422,
      "unknown_field",
      'Cannot log in: unknown field "otp" (fields: account, password)',
    );
    await check(
      post("/auth/login", { account: "ALICE", password: "é".repeat(513) }),
      422,
      "bad_field",
      "Cannot log in: password must be at most 1024 bytes of UTF-8, not 1026",
    );
    await check(
      post("/auth/login", { account: 7, password: "alice password" }),
      422,
      "bad_field",
      "Cannot log in: account must be a non-empty string of at most 256 characters",
    );
    await check(
      post("/auth/login", { account: "ALICE", password: "x".repeat(5000) }),
      413,
      "body_too_large",
      "Cannot log in: the body is over 4096 bytes",
    );
    await check(
      new Request(`${BASE}/auth/login`),
      405,
      "method_not_allowed",
      "Cannot GET /auth/login: use POST",
    );
    await check(
      post("/auth/elsewhere", {}),
      404,
      "no_route",
      "Cannot find /auth/elsewhere: the login API has /auth/login, /auth/refresh, /auth/logout",
    );
    // None of it counted: the right password still gets in at once (one attempt a minute).
    assert.deepStrictEqual((await login(s, "ALICE", "alice password", "10.0.3.1")).status, 200);
  }, { perAccount: { perMinute: 1 }, perAddress: { perMinute: 1 } });
});

Deno.test("logout ends that token only: refused by checkAccess and refresh, its connections told; the account's other tokens go on", async () => {
  await withAuth(async (s) => {
    const first = await (await login(s, "ALICE", "alice password")).json();
    const second = await (await login(s, "ALICE", "alice password")).json();
    const claimsOf = async (token: string) => {
      const v = await verifyJwt(token, s.key, { issuer: ISSUER, audience: AUDIENCE });
      assert(v.ok);
      return v.claims;
    };
    const one = await claimsOf(first.token);
    const out = await s.auth(post("/auth/logout", "", { authorization: `Bearer ${first.token}` }));
    assert.deepStrictEqual(out.status, 204);
    assert.deepStrictEqual(s.ended, [{ account: "ALICE", jti: one.jti }]);
    const access = (c: typeof one) =>
      checkAccess(s.store, { account: c.sub, role: c.role, epoch: c.epoch!, jti: c.jti! }, "x");
    assert.deepStrictEqual((await access(one))?.reason, "token_revoked");
    assert.strictEqual(await access(await claimsOf(second.token)), undefined);
    const refreshed = await s.auth(
      post("/auth/refresh", "", { authorization: `Bearer ${first.token}` }),
    );
    assert.deepStrictEqual(await problemOf(refreshed), {
      status: 401,
      reason: "token_revoked",
      detail: "Cannot refresh the token: the token was ended by a logout; log in again",
    });
    // The token in the body works too; twice is fine.
    assert.deepStrictEqual(
      (await s.auth(post("/auth/logout", { token: second.token }))).status,
      204,
    );
    assert.deepStrictEqual(
      (await s.auth(post("/auth/logout", { token: second.token }))).status,
      204,
    );
    assert.deepStrictEqual((await access(await claimsOf(second.token)))?.reason, "token_revoked");
  });
});

Deno.test("logout and refresh refuse a missing, malformed or foreign token, and one without an id", async () => {
  await withAuth(async (s) => {
    const check = async (request: Request, status: number, reason: string) => {
      const p = await problemOf(await s.auth(request));
      assert.deepStrictEqual([p.status, p.reason], [status, reason], p.detail);
    };
    await check(post("/auth/logout", ""), 401, "missing_token");
    await check(post("/auth/refresh", "", { authorization: "Basic abc" }), 400, "bad_token_header");
    await check(post("/auth/refresh", "", { authorization: "Bearer a.b.c" }), 401, "malformed");
    const other = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
    ]);
    const exp = Math.floor(Date.now() / 1000) + 60;
    const claims = {
      sub: "ALICE",
      role: "trader",
      iss: ISSUER,
      aud: AUDIENCE,
      exp,
      epoch: 1,
    } as const;
    const foreign = await signJwt({ ...claims, jti: "x" }, other);
    await check(post("/auth/logout", { token: foreign }), 401, "bad_signature");
    const noId = await signJwt(claims, s.key);
    await check(post("/auth/logout", { token: noId }), 422, "no_token_id");
    await check(post("/auth/logout", { token: noId, also: 1 }), 422, "unknown_field");
  });
});

Deno.test("refresh answers a new token (new jti, later expiry) while the account may still log in, and refuses once it may not", async () => {
  let clock = Date.now();
  await withAuth(async (s) => {
    const first = await (await login(s, "ALICE", "alice password")).json();
    clock += 600_000; // ten minutes on: five left
    const response = await s.auth(
      post("/auth/refresh", "", { authorization: `Bearer ${first.token}` }),
    );
    assert.deepStrictEqual(response.status, 200, await response.clone().text());
    const next = await response.json();
    assert(Date.parse(next.expiresAt) - Date.parse(first.expiresAt) >= 599_000, next.expiresAt);
    const verify = (t: string) =>
      verifyJwt(t, s.key, { issuer: ISSUER, audience: AUDIENCE, now: new Date(clock) });
    const a = await verify(first.token);
    const b = await verify(next.token);
    assert(a.ok && b.ok);
    assert.notDeepStrictEqual(a.claims.jti, b.claims.jti);
    assert.deepStrictEqual([b.claims.sub, b.claims.role, b.claims.epoch], ["ALICE", "trader", 1]);
    // Disabled: refused.
    await s.store.updateAccount("ALICE", { enabled: false });
    const refused = await s.auth(post("/auth/refresh", { token: next.token }));
    assert.deepStrictEqual(await problemOf(refused), {
      status: 403,
      reason: "account_disabled",
      detail: 'Cannot refresh the token: account "ALICE" is disabled (an admin re-enables it)',
    });
    // Enabled again: its tokens of before stay dead (the epoch moved on twice).
    await s.store.updateAccount("ALICE", { enabled: true });
    const again = await s.auth(post("/auth/refresh", { token: next.token }));
    assert.deepStrictEqual((await problemOf(again)).reason, "token_revoked");
    // Past its expiry (and the 30 s leeway): refused by the verifier.
    clock += 20 * 60_000;
    const late = await s.auth(post("/auth/refresh", { token: next.token }));
    assert.deepStrictEqual((await problemOf(late)).reason, "expired");
  }, { now: () => clock });
});

Deno.test("CORS: the gateway's origins get their preflight and Access-Control-Allow-Origin; others 403 bad_origin; Vary: Origin always", async () => {
  await withAuth(async (s) => {
    const preflight = (origin: string) =>
      s.auth(
        new Request(`${BASE}/auth/login`, {
          method: "OPTIONS",
          headers: {
            origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
          },
        }),
      );
    const ok = await preflight(EDGE);
    assert.deepStrictEqual(ok.status, 204);
    assert.deepStrictEqual(
      [
        ok.headers.get("access-control-allow-origin"),
        ok.headers.get("access-control-allow-methods"),
        ok.headers.get("access-control-allow-headers"),
        ok.headers.get("vary"),
        ok.headers.get("access-control-allow-credentials"),
      ],
      [EDGE, "POST", "authorization, content-type", "Origin", null],
    );
    const foreign = await preflight("https://evil.example");
    assert.deepStrictEqual(foreign.headers.get("access-control-allow-origin"), null);
    assert.deepStrictEqual((await problemOf(foreign)).reason, "bad_origin");
    const loggedIn = await s.auth(
      post("/auth/login", { account: "ALICE", password: "alice password" }, { origin: EDGE }),
    );
    assert.deepStrictEqual(loggedIn.status, 200);
    assert.deepStrictEqual(loggedIn.headers.get("access-control-allow-origin"), EDGE);
    const refused = await s.auth(
      post("/auth/login", { account: "ALICE", password: "alice password" }, {
        origin: "http://localhost:8000",
      }),
    );
    assert.deepStrictEqual([refused.status, refused.headers.get("vary")], [403, "Origin"]);
    await refused.body?.cancel();
    // No Origin (not a browser): answered, without CORS fields.
    const plain = await login(s, "ROOT", "root password");
    assert.deepStrictEqual(
      [plain.status, plain.headers.get("access-control-allow-origin"), plain.headers.get("vary")],
      [200, null, "Origin"],
    );
    await plain.body?.cancel();
  });
});
