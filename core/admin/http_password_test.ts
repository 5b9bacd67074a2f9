import assert from "node:assert";
import { adminApi } from "./http.ts";
import { AuditLog } from "./audit.ts";
import { verifyPassword } from "./password.ts";
import { AccountStore } from "./store.ts";
import { FakePort, INSTRUMENTS } from "./_testing.ts";

/** An admin API whose one token, "admin-token", is ROOT's. */
async function withApi(
  fn: (
    h: {
      put: (path: string, body: string, type?: string) => Promise<Response>;
      store: AccountStore;
      audit: AuditLog;
      changes: string[];
    },
  ) => Promise<void>,
): Promise<void> {
  const kv = await Deno.openKv(":memory:");
  try {
    const store = new AccountStore(kv);
    await store.createAccount({ name: "ROOT", role: "admin" });
    await store.createAccount({ name: "ALICE", role: "trader" });
    const audit = new AuditLog(kv);
    const changes: string[] = [];
    const app = adminApi({
      store,
      audit,
      port: new FakePort(),
      instruments: INSTRUMENTS,
      verify: (token) =>
        Promise.resolve(
          token === "admin-token"
            ? { ok: true, sub: "ROOT", role: "admin" }
            : { ok: false, status: 401, reason: "bad_signature", message: "Cannot verify token" },
        ),
      onAccessChange: (change) => changes.push(`${change.account}: ${change.why}`),
    });
    const put = async (path: string, body: string, type = "application/json") =>
      await app.fetch(
        new Request(`http://localhost/admin${path}`, {
          method: "PUT",
          headers: { authorization: "Bearer admin-token", "content-type": type },
          body,
        }),
      );
    await fn({ put, store, audit, changes });
  } finally {
    kv.close();
  }
}

Deno.test("PUT /admin/accounts/{name}/password stores a scrypt hash, ends the account's tokens and sessions, 204", async () => {
  await withApi(async ({ put, store, changes }) => {
    const response = await put("/accounts/ALICE/password", '{"password":"correct horse"}');
    assert.deepStrictEqual(response.status, 204, await response.clone().text());
    assert.deepStrictEqual(response.headers.get("etag"), '"2"');
    const stored = await store.passwordHash("ALICE");
    assert(stored !== undefined && stored.n === 2 ** 15, JSON.stringify(stored));
    assert.strictEqual(await verifyPassword("correct horse", stored), true);
    const account = await store.getAccount("ALICE");
    assert(account.ok && account.value.tokenEpoch === 1);
    assert.deepStrictEqual(changes, [
      "ALICE: account's password changed by an admin: log in again",
    ]);
  });
});

Deno.test("PUT …/password: bad input is a problem (too short, over 1 KiB, not a string, unknown account, not JSON, wrong type)", async () => {
  await withApi(async ({ put, store }) => {
    const check = async (
      path: string,
      body: string,
      expected: [number, string, string],
      type?: string,
    ) => {
      const response = await put(path, body, type);
      assert.deepStrictEqual(response.headers.get("content-type"), "application/problem+json");
      const p = await response.json();
      assert.deepStrictEqual([response.status, p.reason, p.detail], expected);
    };
    await check("/accounts/ALICE/password", '{"password":"short"}', [
      422,
      "bad_field",
      "Cannot set password: the password must be at least 8 characters",
    ]);
    await check("/accounts/ALICE/password", JSON.stringify({ password: "é".repeat(513) }), [
      422,
      "bad_field",
      "Cannot set password: the password must be at most 1024 bytes of UTF-8, not 1026",
    ]);
    await check("/accounts/ALICE/password", '{"password":12345678}', [
      422,
      "bad_field",
      "Cannot set password: the password must be a string",
    ]);
    await check("/accounts/ALICE/password", "{}", [
      422,
      "missing_field",
      'Cannot set password: the field "password" is required',
    ]);
    await check("/accounts/NOBODY/password", '{"password":"correct horse"}', [
      404,
      "account_not_found",
      'Cannot read account: no account is named "NOBODY"',
    ]);
    await check("/accounts/ALICE/password", "password=correct+horse", [
      400,
      "malformed_json",
      "Cannot set password: cannot read the body: it is not JSON",
    ]);
    await check("/accounts/ALICE/password", '{"password":"correct horse"}', [
      415,
      "unsupported_media_type",
      'Cannot set password: the body must be application/json, not "text/plain"',
    ], "text/plain");
    assert.strictEqual(await store.passwordHash("ALICE"), undefined);
  });
});

Deno.test("the audit log records a password request without the password", async () => {
  await withApi(async ({ put, audit }) => {
    const secret = "correct horse battery";
    await put("/accounts/ALICE/password", JSON.stringify({ password: secret }));
    await put(
      "/accounts/ALICE/password",
      `password=${secret}`,
      "application/x-www-form-urlencoded",
    );
    await put("/accounts/ALICE/password", JSON.stringify({ password: secret, extra: secret }));
    await put("/kill-switch", '{"on":true}');
    // Elsewhere, a member named like a password (refused: an unknown field).
    await put("/kill-switch", JSON.stringify({ on: true, adminPassword: secret }));
    const { entries } = await audit.list();
    assert.deepStrictEqual(entries.map((e) => [e.path, e.body, e.status]), [
      ["/admin/kill-switch", '{"on":true,"adminPassword":"[redacted]"}', 422],
      ["/admin/kill-switch", '{"on":true}', 200],
      ["/admin/accounts/ALICE/password", '{"password":"[redacted]","extra":"[redacted]"}', 422],
      ["/admin/accounts/ALICE/password", "[redacted: the body mentioned a password]", 415],
      ["/admin/accounts/ALICE/password", '{"password":"[redacted]"}', 204],
    ]);
    assert(!JSON.stringify(entries).includes("horse"), JSON.stringify(entries));
  });
});
