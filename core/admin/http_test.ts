import assert from "node:assert";
import { adminApi, type AdminApiOptions, type TokenCheck } from "./http.ts";
import { AuditLog } from "./audit.ts";
import { AccountStore } from "./store.ts";
import { NO_LIMITS } from "./types.ts";
import { FakePort, INSTRUMENTS } from "./_testing.ts";

/** Tokens the fake verifier knows. */
const TOKENS: Record<string, TokenCheck> = {
  "admin-token": { ok: true, sub: "ROOT", role: "admin" },
  "trader-token": { ok: true, sub: "ALICE", role: "trader" },
  // Correctly signed admin tokens the store must refuse.
  "ghost-admin-token": { ok: true, sub: "GHOST", role: "admin" },
  "alice-admin-token": { ok: true, sub: "ALICE", role: "admin" },
  // ROOT's tokens minted at later token epochs.
  "root-epoch-1": { ok: true, sub: "ROOT", role: "admin", epoch: 1 },
  "root-epoch-2": { ok: true, sub: "ROOT", role: "admin", epoch: 2 },
  "expired-token": {
    ok: false,
    status: 401,
    reason: "expired",
    message: "Cannot verify token: token expired at 2026-11-25T10:00:00Z",
  },
  "revoked-token": {
    ok: false,
    status: 403,
    reason: "revoked",
    message: "Cannot use token: revoked",
  },
  "odd-token": { ok: false, status: 418, reason: "teapot", message: "Cannot verify token: odd" },
};

interface Harness {
  readonly fetch: (request: Request) => Promise<Response>;
  readonly port: FakePort;
  readonly store: AccountStore;
  readonly errors: unknown[];
  readonly audit: AuditLog;
  readonly kv: Deno.Kv;
  /** Every `onAccessChange` call, as `"NAME: why"`. */
  readonly accessChanges: string[];
}

async function withApi(
  fn: (h: Harness) => Promise<void>,
  options: Partial<AdminApiOptions> = {},
): Promise<void> {
  const kv = await Deno.openKv(":memory:");
  try {
    const store = new AccountStore(kv);
    // The admin tokens' account, as the store must hold it (registered, admin, enabled).
    await store.createAccount({ name: "ROOT", role: "admin" });
    const port = new FakePort();
    const errors: unknown[] = [];
    const audit = new AuditLog(kv);
    const accessChanges: string[] = [];
    const app = adminApi({
      store,
      audit,
      port,
      instruments: INSTRUMENTS,
      verify: (token) =>
        Promise.resolve(
          TOKENS[token] ??
            {
              ok: false,
              status: 401,
              reason: "bad_signature",
              message: "Cannot verify token: bad",
            },
        ),
      logError: (_message, error) => errors.push(error),
      onAccessChange: (change) => accessChanges.push(`${change.account}: ${change.why}`),
      ...options,
    });
    await fn({
      fetch: (request) => Promise.resolve(app.fetch(request)),
      port,
      store,
      errors,
      audit,
      kv,
      accessChanges,
    });
  } finally {
    kv.close();
  }
}

interface CallOptions {
  readonly body?: unknown;
  readonly raw?: BodyInit;
  readonly token?: string | null;
  readonly headers?: Record<string, string>;
}

/** A request to the API: JSON body, admin token unless told otherwise. */
function request(method: string, path: string, options: CallOptions = {}): Request {
  const headers: Record<string, string> = {};
  const token = options.token === undefined ? "admin-token" : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let body: BodyInit | undefined = options.raw;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["content-type"] = "application/json";
  }
  return new Request(`http://localhost/admin${path}`, {
    method,
    headers: { ...headers, ...options.headers },
    ...(body === undefined ? {} : { body }),
  });
}

/** Checks a problem response: status, media type, the RFC 9457 members, the reason. */
async function problem(
  response: Response,
  status: number,
  reason: string,
  includes = "",
): Promise<Record<string, unknown>> {
  const text = await response.text();
  assert.deepStrictEqual(response.status, status, text);
  assert.deepStrictEqual(response.headers.get("content-type"), "application/problem+json");
  const body = JSON.parse(text) as Record<string, unknown>;
  assert.deepStrictEqual(Object.keys(body).sort(), ["detail", "reason", "status", "title", "type"]);
  assert.deepStrictEqual(
    [body.type, body.status, body.reason],
    [`urn:tradecaptain:problem:${reason}`, status, reason],
  );
  assert(typeof body.title === "string" && body.title !== "", "no title");
  const detail = String(body.detail);
  assert(detail.includes(includes), `${JSON.stringify(detail)} lacks ${JSON.stringify(includes)}`);
  return body;
}

async function ok(response: Response, status = 200): Promise<Record<string, unknown>> {
  const text = await response.text();
  assert.deepStrictEqual(response.status, status, text);
  assert.deepStrictEqual(response.headers.get("content-type"), "application/json");
  assert.deepStrictEqual(response.headers.get("cache-control"), "no-store");
  return JSON.parse(text);
}

/** Creates ALICE (a trader) and clears the port's log. */
async function alice(h: Harness): Promise<void> {
  await ok(
    await h.fetch(request("POST", "/accounts", { body: { name: "ALICE", role: "trader" } })),
    201,
  );
  h.port.log.length = 0;
}

// Authentication.

Deno.test("adminApi refuses a request without a token with 401 and a Bearer challenge", async () => {
  await withApi(async (h) => {
    const res = await h.fetch(request("GET", "/state", { token: null }));
    assert.deepStrictEqual(
      res.headers.get("www-authenticate"),
      'Bearer realm="tradecaptain-admin"',
    );
    await problem(res, 401, "missing_token", "send Authorization: Bearer <token>");
  });
});

Deno.test("adminApi refuses an Authorization header that is not one bearer token", async () => {
  await withApi(async (h) => {
    for (const header of ["Basic dXNlcjpwdw==", "Bearer", "Bearer a b"]) {
      const res = await h.fetch(
        request("GET", "/state", { token: null, headers: { authorization: header } }),
      );
      await problem(res, 401, "bad_token", "must be Bearer followed by one token");
    }
    // The scheme is case-insensitive (RFC 9110 §11.1).
    await ok(
      await h.fetch(
        request("GET", "/state", { token: null, headers: { authorization: "bearer admin-token" } }),
      ),
    );
  });
});

Deno.test("adminApi passes the verifier's refusal on: its reason, message and status", async () => {
  await withApi(async (h) => {
    const expired = await h.fetch(request("GET", "/state", { token: "expired-token" }));
    assert.deepStrictEqual(
      expired.headers.get("www-authenticate"),
      'Bearer realm="tradecaptain-admin", error="invalid_token"',
    );
    await problem(expired, 401, "expired", "token expired at 2026-11-25T10:00:00Z");
    await problem(
      await h.fetch(request("GET", "/state", { token: "forged" })),
      401,
      "bad_signature",
    );
    await problem(
      await h.fetch(request("GET", "/state", { token: "revoked-token" })),
      403,
      "revoked",
    );
    // Statuses other than 401 and 403 are answered as 401.
    await problem(await h.fetch(request("GET", "/state", { token: "odd-token" })), 401, "teapot");
  });
});

Deno.test("adminApi refuses a valid token of another role with 403", async () => {
  await withApi(async (h) => {
    const res = await h.fetch(request("GET", "/accounts", { token: "trader-token" }));
    assert.deepStrictEqual(
      res.headers.get("www-authenticate"),
      'Bearer realm="tradecaptain-admin", error="insufficient_scope"',
    );
    await problem(res, 403, "forbidden", '"ALICE" holds the role "trader", and this needs admin');
  });
});

Deno.test("adminApi refuses a signed admin token for an unregistered name or for a trader with 403", async () => {
  await withApi(async (h) => {
    await alice(h);
    const ghost = await h.fetch(request("GET", "/state", { token: "ghost-admin-token" }));
    assert.deepStrictEqual(
      ghost.headers.get("www-authenticate"),
      'Bearer realm="tradecaptain-admin", error="insufficient_scope"',
    );
    await problem(
      ghost,
      403,
      "unknown_account",
      'Cannot administer: account "GHOST" is not registered',
    );
    await problem(
      await h.fetch(request("POST", "/accounts", {
        token: "ghost-admin-token",
        body: { name: "MALLORY", role: "admin" },
      })),
      403,
      "unknown_account",
    );
    await problem(
      await h.fetch(request("PUT", "/kill-switch", {
        token: "alice-admin-token",
        body: { on: true },
      })),
      403,
      "role_mismatch",
      'the token says admin, but account "ALICE" is a trader',
    );
    // Nothing was tried, nor recorded (but ALICE's creation).
    assert.deepStrictEqual([h.port.log, (await h.audit.list()).entries.length], [[], 1]);
    assert.deepStrictEqual((await h.store.listAccounts()).map((a) => a.name), ["ALICE", "ROOT"]);
  });
});

Deno.test("adminApi refuses a disabled admin at once, and its old tokens stay dead once re-enabled", async () => {
  await withApi(async (h) => {
    // An admin may disable itself; its own token stops working at once.
    await ok(await h.fetch(request("PATCH", "/accounts/ROOT", { body: { enabled: false } })));
    assert.deepStrictEqual(h.accessChanges, ["ROOT: account disabled by an admin"]);
    await problem(
      await h.fetch(request("GET", "/state")),
      403,
      "account_disabled",
      'Cannot administer: account "ROOT" is disabled',
    );
    // Re-enabled (by another admin; here straight in the store): the token minted before stays dead.
    await h.store.updateAccount("ROOT", { enabled: true });
    const revoked = await h.fetch(request("GET", "/state"));
    assert.deepStrictEqual(
      revoked.headers.get("www-authenticate"),
      'Bearer realm="tradecaptain-admin", error="invalid_token"',
    );
    await problem(
      revoked,
      401,
      "token_revoked",
      "(token epoch 0, the account's 2); mint a new token",
    );
    await problem(
      await h.fetch(request("GET", "/state", { token: "root-epoch-1" })),
      401,
      "token_revoked",
    );
    await ok(await h.fetch(request("GET", "/state", { token: "root-epoch-2" })));
  });
});

Deno.test("adminApi: a role taken away ends the admin's rights at once; onAccessChange hears of it", async () => {
  await withApi(async (h) => {
    await alice(h);
    await ok(await h.fetch(request("PATCH", "/accounts/ROOT", { body: { role: "trader" } })));
    await problem(await h.fetch(request("GET", "/state")), 403, "role_mismatch");
    // Limits and kill switches do not touch who may use the account.
    await h.store.updateAccount("ROOT", { role: "admin" });
    await ok(
      await h.fetch(
        request("PUT", "/accounts/ALICE/kill-switch", {
          token: "root-epoch-2",
          body: { on: true },
        }),
      ),
    );
    await ok(
      await h.fetch(
        request("PATCH", "/accounts/ALICE", { token: "root-epoch-2", body: { enabled: false } }),
      ),
    );
    assert.deepStrictEqual(h.accessChanges, [
      "ROOT: account's role changed to trader by an admin",
      "ALICE: account disabled by an admin",
    ]);
  });
});

Deno.test("adminApi authenticates before routing and before reading a body", async () => {
  await withApi(async (h) => {
    await problem(await h.fetch(request("GET", "/nowhere", { token: null })), 401, "missing_token");
    await problem(await h.fetch(request("GET", "/nowhere")), 404, "no_route", '"/admin/nowhere"');
    const huge = request("POST", "/accounts", { token: null, raw: "x".repeat(1 << 20) });
    await problem(await h.fetch(huge), 401, "missing_token");
  });
});

Deno.test("adminApi answers 500 without details when the verifier throws, and logs it", async () => {
  await withApi(async (h) => {
    await problem(
      await h.fetch(request("GET", "/state")),
      500,
      "internal",
      "an internal error occurred",
    );
    assert.deepStrictEqual(h.errors.map(String), ["Error: key store unreachable"]);
  }, { verify: () => Promise.reject(new Error("key store unreachable")) });
});

// Accounts.

Deno.test("POST /accounts creates an account, defines it in the engine and answers 201", async () => {
  await withApi(async (h) => {
    const res = await h.fetch(request("POST", "/accounts", {
      body: { name: "desk 7/α", role: "viewer", enabled: false },
    }));
    assert.deepStrictEqual(
      [res.headers.get("location"), res.headers.get("etag")],
      ["/admin/accounts/desk%207%2F%CE%B1", '"1"'],
    );
    const body = await ok(res, 201);
    assert.deepStrictEqual(
      [body.name, body.role, body.enabled, body.killSwitch, body.revision, body.limits],
      ["desk 7/α", "viewer", false, false, 1, NO_LIMITS],
    );
    assert.deepStrictEqual(h.port.log.slice(0, 2), ["define desk 7/α=1", "kill desk 7/α on"]);
    const fetched = await ok(await h.fetch(request("GET", "/accounts/desk%207%2F%CE%B1")));
    assert.deepStrictEqual(fetched, body);
  });
});

Deno.test("an account's Location finds it, whatever its name holds", async () => {
  await withApi(async (h) => {
    for (
      const name of ["50%", "a%2Fb", "x/y/z", "q?x=1#f", "a+b c", "...", "日本", "😀", "%E0%A4%A"]
    ) {
      const res = await h.fetch(request("POST", "/accounts", { body: { name, role: "trader" } }));
      assert.deepStrictEqual(res.status, 201, await res.clone().text());
      const location = res.headers.get("location")!;
      const fetched = await ok(
        await h.fetch(
          new Request(`http://localhost${location}`, {
            headers: { authorization: "Bearer admin-token" },
          }),
        ),
      );
      assert.deepStrictEqual(fetched.name, name);
    }
  });
});

Deno.test("POST /accounts refuses each bad body with its reason", async () => {
  await withApi(async (h) => {
    const cases: [unknown, number, string, string][] = [
      [{ name: "A", role: "trader", colour: "red" }, 422, "unknown_field", '"colour"'],
      [{ name: "A" }, 422, "missing_field", 'the field "role" is required'],
      [{ role: "trader" }, 422, "missing_field", '"name"'],
      [{ name: "A", role: "root" }, 422, "bad_role", 'one of trader, viewer, admin, not "root"'],
      [{ name: "A", role: 1 }, 422, "bad_role", "not number"],
      [{ name: "", role: "trader" }, 422, "bad_account_name", "its name must not be empty"],
      [{ name: "é".repeat(25), role: "trader" }, 422, "bad_account_name", "not 50"],
      [{ name: null, role: "trader" }, 422, "bad_account_name", "must be a string, not null"],
      // Printable characters only: no NUL, newline, escape code, bidirectional override.
      [{ name: "EVE\u0000", role: "trader" }, 422, "bad_account_name", "not U+0000 at character 4"],
      [{ name: "EVE\nBOB", role: "trader" }, 422, "bad_account_name", "not U+000A at character 4"],
      [{ name: "\u001b[2J", role: "trader" }, 422, "bad_account_name", "printable characters only"],
      [{ name: "A\u202eB", role: "trader" }, 422, "bad_account_name", "not U+202E at character 2"],
      [{ name: "A\u0085", role: "trader" }, 422, "bad_account_name", "not U+0085 at character 2"],
      [
        { name: "A", role: "trader", enabled: "yes" },
        422,
        "bad_field",
        "enabled must be a boolean",
      ],
      [["A", "trader"], 400, "malformed_json", "must be a JSON object, not array"],
      [null, 400, "malformed_json", "not null"],
    ];
    for (const [body, status, reason, includes] of cases) {
      const res = await h.fetch(request("POST", "/accounts", { body }));
      const p = await problem(res, status, reason, includes);
      assert(String(p.detail).startsWith("Cannot create account: "), String(p.detail));
    }
    // JSON.parse makes "__proto__" an own field: refused like any other unknown one.
    await problem(
      await h.fetch(request("POST", "/accounts", {
        raw: '{"name":"A","role":"trader","__proto__":{"enabled":false}}',
        headers: { "content-type": "application/json" },
      })),
      422,
      "unknown_field",
      '"__proto__"',
    );
    assert.deepStrictEqual((await h.store.listAccounts()).map((a) => a.name), ["ROOT"]);
    assert.deepStrictEqual(h.port.log, []);
  });
});

Deno.test("POST /accounts refuses bodies that are not JSON, or not UTF-8, or not labelled JSON", async () => {
  await withApi(async (h) => {
    const json = { "content-type": "application/json" };
    await problem(
      await h.fetch(request("POST", "/accounts", { raw: "{name:", headers: json })),
      400,
      "malformed_json",
      "it is not JSON",
    );
    await problem(
      await h.fetch(
        request("POST", "/accounts", { raw: new Uint8Array([0x7b, 0xff]), headers: json }),
      ),
      400,
      "malformed_json",
      "it is not UTF-8",
    );
    await problem(
      await h.fetch(request("POST", "/accounts", {
        raw: '{"name":"A","role":"trader"}',
        headers: { "content-type": "text/plain" },
      })),
      415,
      "unsupported_media_type",
      'not "text/plain"',
    );
    await problem(
      await h.fetch(request("POST", "/accounts", { raw: '{"name":"A","role":"trader"}' })),
      415,
      "unsupported_media_type",
    );
    // Parameters are allowed.
    await ok(
      await h.fetch(request("POST", "/accounts", {
        raw: '{"name":"A","role":"trader"}',
        headers: { "content-type": "Application/JSON; charset=utf-8" },
      })),
      201,
    );
  });
});

Deno.test("POST /accounts refuses a name that is taken with 409", async () => {
  await withApi(async (h) => {
    await alice(h);
    await problem(
      await h.fetch(request("POST", "/accounts", { body: { name: "ALICE", role: "admin" } })),
      409,
      "account_exists",
      'an account named "ALICE" exists',
    );
  });
});

Deno.test("the body limit refuses large bodies with 413, declared or streamed", async () => {
  await withApi(async (h) => {
    const big = JSON.stringify({ name: "A", role: "trader", pad: "x".repeat(300) });
    const json = { "content-type": "application/json" };
    await problem(
      await h.fetch(request("POST", "/accounts", {
        raw: big,
        headers: { ...json, "content-length": String(big.length) },
      })),
      413,
      "body_too_large",
      "over 256 bytes",
    );
    const stream = new Blob([big]).stream();
    await problem(
      await h.fetch(request("POST", "/accounts", { raw: stream, headers: json })),
      413,
      "body_too_large",
    );
    await ok(
      await h.fetch(request("POST", "/accounts", { body: { name: "A", role: "trader" } })),
      201,
    );
  }, { maxBodyBytes: 256 });
});

Deno.test("GET /accounts lists accounts without limits; GET /accounts/{name} 404s on a stranger", async () => {
  await withApi(async (h) => {
    await alice(h);
    const listed = await ok(await h.fetch(request("GET", "/accounts")));
    assert.deepStrictEqual(
      (listed.accounts as Record<string, unknown>[]).map((a) => [a.name, "limits" in a]),
      [["ALICE", false], ["ROOT", false]],
    );
    await problem(
      await h.fetch(request("GET", "/accounts/BOB")),
      404,
      "account_not_found",
      'no account is named "BOB"',
    );
    await problem(
      await h.fetch(request("GET", `/accounts/${"x".repeat(49)}`)),
      404,
      "bad_account_name",
      "must be 1 to 48 bytes of UTF-8, not 49",
    );
  });
});

Deno.test("PATCH /accounts/{name} changes the role and enabled, and honours If-Match", async () => {
  await withApi(async (h) => {
    await alice(h);
    const disabled = await h.fetch(request("PATCH", "/accounts/ALICE", {
      body: { enabled: false, role: "admin" },
      headers: { "if-match": '"1"' },
    }));
    assert.deepStrictEqual(disabled.headers.get("etag"), '"2"');
    const body = await ok(disabled);
    assert.deepStrictEqual([body.enabled, body.role, body.revision], [false, "admin", 2]);
    assert.deepStrictEqual(h.port.log, ["kill ALICE on"]);
    await problem(
      await h.fetch(request("PATCH", "/accounts/ALICE", {
        body: { enabled: true },
        headers: { "if-match": '"1"' },
      })),
      412,
      "revision_mismatch",
      'account "ALICE" is at revision 2, not 1',
    );
    for (const bad of ['W/"2"', "2", '"0"', '"2", "3"']) {
      await problem(
        await h.fetch(request("PATCH", "/accounts/ALICE", {
          body: { enabled: true },
          headers: { "if-match": bad },
        })),
        400,
        "bad_precondition",
        "must be an account's ETag",
      );
    }
    await ok(
      await h.fetch(request("PATCH", "/accounts/ALICE", {
        body: { enabled: true },
        headers: { "if-match": "*" },
      })),
    );
    await problem(
      await h.fetch(request("PATCH", "/accounts/ALICE", { body: {} })),
      422,
      "empty_change",
      "Cannot update account: name a role or enabled",
    );
    await problem(
      await h.fetch(request("PATCH", "/accounts/ALICE", { body: { name: "EVE" } })),
      422,
      "unknown_field",
      '"name" (fields: role, enabled)',
    );
    await problem(
      await h.fetch(request("PATCH", "/accounts/NOBODY", { body: { enabled: true } })),
      404,
      "account_not_found",
    );
  });
});

// Limits.

Deno.test("PUT /accounts/{name}/limits replaces the whole set and reaches the engine", async () => {
  await withApi(async (h) => {
    await alice(h);
    const limits = { ...NO_LIMITS, maxOrderQty: 1000, maxNotional: 5_000_000, ordersPerSecond: 50 };
    const body = await ok(
      await h.fetch(request("PUT", "/accounts/ALICE/limits", { body: limits })),
    );
    assert.deepStrictEqual(body.limits, limits);
    assert.deepStrictEqual(h.port.log, [
      "set ALICE * maxOrderQty=1000",
      "set ALICE * maxNotional=5000000",
      "set ALICE * ordersPerSecond=50",
    ]);
  });
});

Deno.test("PUT /accounts/{name}/limits refuses each bad set with its reason", async () => {
  await withApi(async (h) => {
    await alice(h);
    const { collarBps: _, ...five } = NO_LIMITS;
    const cases: [unknown, string, string][] = [
      [five, "missing_field", 'the field "collarBps" is required'],
      [{ ...NO_LIMITS, size: 1 }, "unknown_field", '"size"'],
      [
        { ...NO_LIMITS, maxOrderQty: -1 },
        "bad_limit",
        "Cannot set limits: maxOrderQty must be a non-negative safe integer (0: no limit), not -1",
      ],
      [{ ...NO_LIMITS, position: 1.5 }, "bad_limit", "not 1.5"],
      [{ ...NO_LIMITS, position: "10" }, "bad_limit", 'not "10"'],
      [{ ...NO_LIMITS, position: null }, "bad_limit", "not null"],
      [{ ...NO_LIMITS, position: 2 ** 53 }, "bad_limit", "not 9007199254740992"],
    ];
    for (const [body, reason, includes] of cases) {
      await problem(
        await h.fetch(request("PUT", "/accounts/ALICE/limits", { body })),
        422,
        reason,
        includes,
      );
    }
    assert.deepStrictEqual(h.port.log, []);
  });
});

Deno.test("PUT /accounts/{name}/limits/{limit} sets one limit", async () => {
  await withApi(async (h) => {
    await alice(h);
    const body = await ok(
      await h.fetch(request("PUT", "/accounts/ALICE/limits/position", { body: { value: 250 } })),
    );
    assert.deepStrictEqual((body.limits as Record<string, number>).position, 250);
    assert.deepStrictEqual(h.port.log, ["set ALICE * position=250"]);
    await problem(
      await h.fetch(request("PUT", "/accounts/ALICE/limits/size", { body: { value: 1 } })),
      404,
      "unknown_limit",
      'Cannot find limit "size": limits are maxOrderQty, maxNotional',
    );
    await problem(
      await h.fetch(request("PUT", "/accounts/ALICE/limits/position", { body: { value: "x" } })),
      422,
      "bad_limit",
      "position must be a non-negative safe integer",
    );
    await problem(
      await h.fetch(request("PUT", "/accounts/ALICE/limits/position", { body: {} })),
      422,
      "missing_field",
      '"value"',
    );
    await problem(
      await h.fetch(
        request("PUT", "/accounts/ALICE/limits/position", { body: { value: 1, unit: "lots" } }),
      ),
      422,
      "unknown_field",
      '"unit"',
    );
    await problem(
      await h.fetch(request("PUT", "/accounts/BOB/limits/position", { body: { value: 1 } })),
      404,
      "account_not_found",
    );
  });
});

Deno.test("overrides: PUT a symbol's set, PUT and DELETE one, DELETE them all", async () => {
  await withApi(async (h) => {
    await alice(h);
    const put = await ok(
      await h.fetch(request("PUT", "/accounts/ALICE/overrides/MSFT", {
        body: { position: 10, collarBps: 0 },
      })),
    );
    assert.deepStrictEqual(put.overrides, { MSFT: { position: 10, collarBps: 0 } });
    const one = await ok(
      await h.fetch(request("PUT", "/accounts/ALICE/overrides/SPY/maxOrderQty", {
        body: { value: 7 },
      })),
    );
    assert.deepStrictEqual(one.overrides, {
      MSFT: { position: 10, collarBps: 0 },
      SPY: { maxOrderQty: 7 },
    });
    const removed = await ok(
      await h.fetch(request("DELETE", "/accounts/ALICE/overrides/MSFT/collarBps")),
    );
    assert.deepStrictEqual(removed.overrides, { MSFT: { position: 10 }, SPY: { maxOrderQty: 7 } });
    const cleared = await ok(await h.fetch(request("DELETE", "/accounts/ALICE/overrides/SPY")));
    assert.deepStrictEqual([cleared.overrides, cleared.revision], [{ MSFT: { position: 10 } }, 5]);
    assert.deepStrictEqual(h.port.log, [
      "set ALICE #1 position=10",
      "set ALICE #1 collarBps=0",
      "set ALICE #2 maxOrderQty=7",
      "clear ALICE #1 collarBps",
      "clear ALICE #2 maxOrderQty",
    ]);
  });
});

Deno.test("overrides: a symbol that is not in the table, or not a symbol, is a 404", async () => {
  await withApi(async (h) => {
    await alice(h);
    await problem(
      await h.fetch(request("PUT", "/accounts/ALICE/overrides/TSLA", { body: { position: 1 } })),
      404,
      "unknown_symbol",
      'Cannot find symbol "TSLA": the instrument table has no such symbol',
    );
    await problem(
      await h.fetch(
        request("PUT", "/accounts/ALICE/overrides/msft/position", { body: { value: 1 } }),
      ),
      404,
      "bad_symbol",
      "must be 1 to 12 of A-Z",
    );
    await problem(
      await h.fetch(request("PUT", "/accounts/ALICE/overrides/MSFT", { body: { size: 1 } })),
      422,
      "unknown_field",
      '"size"',
    );
    await problem(
      await h.fetch(request("PUT", "/accounts/ALICE/overrides/MSFT", { body: { position: -1 } })),
      422,
      "bad_limit",
      "Cannot set overrides: position must be",
    );
    await problem(
      await h.fetch(request("DELETE", "/accounts/ALICE/overrides/MSFT/size")),
      404,
      "unknown_limit",
    );
    // Removing from a symbol the table no longer lists is allowed (nothing to tell the engine).
    await ok(await h.fetch(request("DELETE", "/accounts/ALICE/overrides/TSLA")));
    assert.deepStrictEqual(h.port.log, []);
  });
});

// Kill switches and state.

Deno.test("PUT /accounts/{name}/kill-switch sets the account's switch, idempotently", async () => {
  await withApi(async (h) => {
    await alice(h);
    const on = await ok(
      await h.fetch(request("PUT", "/accounts/ALICE/kill-switch", { body: { on: true } })),
    );
    assert.deepStrictEqual([on.killSwitch, on.revision], [true, 2]);
    const again = await ok(
      await h.fetch(request("PUT", "/accounts/ALICE/kill-switch", { body: { on: true } })),
    );
    assert.deepStrictEqual(again.revision, 2);
    assert.deepStrictEqual(h.port.log, ["kill ALICE on"]);
    await problem(
      await h.fetch(request("PUT", "/accounts/ALICE/kill-switch", { body: { on: "yes" } })),
      422,
      "bad_field",
      "Cannot set kill switch: on must be a boolean, not string",
    );
    await problem(
      await h.fetch(request("PUT", "/accounts/ALICE/kill-switch", { body: {} })),
      422,
      "missing_field",
      '"on"',
    );
  });
});

Deno.test("PUT /kill-switch sets the global switch; GET /state shows everything", async () => {
  await withApi(async (h) => {
    await alice(h);
    assert.deepStrictEqual(
      await ok(await h.fetch(request("PUT", "/kill-switch", { body: { on: true } }))),
      { killSwitch: true },
    );
    assert.deepStrictEqual(h.port.log, ["kill all on"]);
    await problem(
      await h.fetch(request("PUT", "/kill-switch", { body: { on: 1 } })),
      422,
      "bad_field",
      "Cannot set the global kill switch: on must be a boolean, not number",
    );
    const state = await ok(await h.fetch(request("GET", "/state")));
    assert.deepStrictEqual([state.version, state.killSwitch], [3, true]);
    const accounts = state.accounts as Record<string, unknown>[];
    assert.deepStrictEqual(accounts.map((a) => [a.name, a.limits, a.overrides]), [
      ["ALICE", NO_LIMITS, {}],
      ["ROOT", NO_LIMITS, {}],
    ]);
  });
});

// Engine refusals.

Deno.test("a change the engine refuses is a 503 and leaves nothing changed", async () => {
  await withApi(async (h) => {
    await alice(h);
    h.port.refuse = () => "engine halted: journal sync failed";
    await problem(
      await h.fetch(request("PUT", "/accounts/ALICE/limits/position", { body: { value: 5 } })),
      503,
      "engine_refused",
      'Cannot set limit: the engine refused to set position to 5 for "ALICE" on all instruments: ' +
        "engine halted: journal sync failed; the stored state was restored",
    );
    await problem(
      await h.fetch(request("PUT", "/kill-switch", { body: { on: true } })),
      503,
      "engine_refused",
    );
    await problem(
      await h.fetch(request("POST", "/accounts", { body: { name: "BOB", role: "trader" } })),
      503,
      "engine_refused",
    );
    const state = await ok(await h.fetch(request("GET", "/state")));
    const accounts = state.accounts as Record<string, unknown>[];
    assert.deepStrictEqual(
      [state.killSwitch, accounts.map((a) => [a.name, a.limits])],
      [false, [["ALICE", NO_LIMITS], ["ROOT", NO_LIMITS]]],
    );
  });
});

Deno.test("a change the engine does not acknowledge in time is a 504", async () => {
  await withApi(async (h) => {
    await alice(h);
    h.port.hang = (command) => command === "kill ALICE on";
    await problem(
      await h.fetch(request("PUT", "/accounts/ALICE/kill-switch", { body: { on: true } })),
      504,
      "engine_timeout",
      "within 20 ms",
    );
    const body = await ok(await h.fetch(request("GET", "/accounts/ALICE")));
    assert.deepStrictEqual(body.killSwitch, false);
  }, { engineTimeoutMs: 20 });
});

// Routing.

Deno.test("a known path with a method it does not take is a 405 naming the methods it does", async () => {
  await withApi(async (h) => {
    const cases: [string, string, string][] = [
      ["DELETE", "/accounts/ALICE", "GET, PATCH"],
      ["PUT", "/accounts", "GET, POST"],
      ["POST", "/state", "GET"],
      ["GET", "/kill-switch", "PUT"],
      ["GET", "/accounts/ALICE/overrides/MSFT", "PUT, DELETE"],
    ];
    for (const [method, path, allow] of cases) {
      const res = await h.fetch(request(method, path));
      assert.deepStrictEqual(res.headers.get("allow"), allow);
      await problem(res, 405, "method_not_allowed", `it takes ${allow}`);
    }
  });
});

Deno.test("adminApi serves under the base path it is given", async () => {
  await withApi(async (h) => {
    const res = await h.fetch(
      new Request("http://localhost/ops/risk/state", {
        headers: { authorization: "Bearer admin-token" },
      }),
    );
    await ok(res);
    await problem(await h.fetch(request("GET", "/state")), 404, "no_route");
  }, { basePath: "/ops/risk" });
});

Deno.test("adminApi refuses a body limit that is not a positive integer", () => {
  assert.throws(() =>
    adminApi({
      store: {} as AccountStore,
      audit: {} as AuditLog,
      port: new FakePort(),
      instruments: [],
      verify: () => Promise.resolve({ ok: true, sub: "R", role: "admin" }),
      maxBodyBytes: 0,
    }), { name: "RangeError", message: /maxBodyBytes must be a positive integer, not 0/ });
});

Deno.test("every request that may change something is audited: who, what, the body and the answer", async () => {
  await withApi(async (h) => {
    await alice(h);
    await ok(
      await h.fetch(request("PUT", "/accounts/ALICE/limits/position", { body: { value: 100 } })),
    );
    await problem(
      await h.fetch(request("PUT", "/accounts/ALICE/limits/position", { body: { value: -1 } })),
      422,
      "bad_limit",
    );
    await problem(
      await h.fetch(request("PUT", "/accounts/BOB/kill-switch", { body: { on: true } })),
      404,
      "account_not_found",
    );
    // Reads are not audited; requests without an admin token never reach it.
    await ok(await h.fetch(request("GET", "/accounts/ALICE")));
    await problem(
      await h.fetch(request("PUT", "/kill-switch", { body: { on: true }, token: null })),
      401,
      "missing_token",
    );
    await problem(
      await h.fetch(request("PUT", "/kill-switch", { body: { on: true }, token: "trader-token" })),
      403,
      "forbidden",
    );
    const { entries } = await h.audit.list();
    assert.deepStrictEqual(
      entries.map(({ actor, method, path, body, status }) => ({
        actor,
        method,
        path,
        body,
        status,
      })),
      [
        {
          actor: "ROOT",
          method: "PUT",
          path: "/admin/accounts/BOB/kill-switch",
          body: '{"on":true}',
          status: 404,
        },
        {
          actor: "ROOT",
          method: "PUT",
          path: "/admin/accounts/ALICE/limits/position",
          body: '{"value":-1}',
          status: 422,
        },
        {
          actor: "ROOT",
          method: "PUT",
          path: "/admin/accounts/ALICE/limits/position",
          body: '{"value":100}',
          status: 200,
        },
        {
          actor: "ROOT",
          method: "POST",
          path: "/admin/accounts",
          body: '{"name":"ALICE","role":"trader"}',
          status: 201,
        },
      ],
    );
    for (const e of entries) assert(!Number.isNaN(Date.parse(e.at)), e.at);
  });
});

Deno.test("GET /audit pages the log newest first, and refuses a bad limit or before", async () => {
  await withApi(async (h) => {
    for (const on of [true, false, true]) {
      await ok(await h.fetch(request("PUT", "/kill-switch", { body: { on } })));
    }
    const first = await ok(await h.fetch(request("GET", "/audit?limit=2")));
    const entries = first.entries as { body: string; id: string }[];
    assert.deepStrictEqual(entries.map((e) => e.body), ['{"on":true}', '{"on":false}']);
    const rest = await ok(await h.fetch(request("GET", `/audit?limit=2&before=${first.next}`)));
    assert.deepStrictEqual((rest.entries as { body: string }[]).map((e) => e.body), [
      '{"on":true}',
    ]);
    assert.deepStrictEqual(rest.next, undefined);
    for (
      const query of ["limit=0", "limit=1001", "limit=two", "limit=", "before=1", "before=%20"]
    ) {
      await problem(
        await h.fetch(request("GET", `/audit?${query}`)),
        400,
        "bad_query",
        "Cannot list the audit log",
      );
    }
    await problem(await h.fetch(request("DELETE", "/audit")), 405, "method_not_allowed");
  });
});

Deno.test("a change that cannot be put on record is not made, and is answered 500", async () => {
  await withApi(async (h) => {
    await alice(h);
    const failing = new AuditLog(h.kv);
    failing.begin = () => Promise.reject(new Error("KV is gone"));
    const app = adminApi({
      store: h.store,
      audit: failing,
      port: h.port,
      instruments: INSTRUMENTS,
      verify: () => Promise.resolve({ ok: true, sub: "ROOT", role: "admin" }),
      logError: () => {},
    });
    await problem(
      await app.fetch(request("PUT", "/accounts/ALICE/kill-switch", { body: { on: true } })),
      500,
      "internal",
    );
    assert.deepStrictEqual(h.port.log, []);
    assert.deepStrictEqual(
      (await ok(await h.fetch(request("GET", "/accounts/ALICE")))).killSwitch,
      false,
    );
  });
});
