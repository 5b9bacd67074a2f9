import assert from "node:assert";
import { claims, craft, HS256, newKey, NOW, OPTIONS } from "./_testing.ts";
import { authenticateUpgrade, type UpgradeFailureReason } from "./handshake.ts";

const KEY = await newKey();
const ORIGIN = "https://trade.example";
const UPGRADE = {
  key: KEY,
  ...OPTIONS,
  allowedOrigins: [ORIGIN, "http://localhost:5173"],
  now: new Date(NOW * 1000),
};
const TOKEN = await craft(HS256, claims({ role: "viewer" }), KEY);

/** An upgrade request to `/ws` + `query` with these headers. */
function upgrade(headers: Record<string, string>, query = ""): Request {
  return new Request(`https://trade.example/ws${query}`, {
    headers: { upgrade: "websocket", connection: "Upgrade", ...headers },
  });
}

async function refuse(
  request: Request,
  status: 401 | 403,
  reason: UpgradeFailureReason,
  includes: string,
): Promise<void> {
  const result = await authenticateUpgrade(request, UPGRADE);
  assert(!result.ok, `accepted, expected ${reason}`);
  assert.deepStrictEqual(
    { status: result.status, reason: result.reason },
    { status, reason },
    result.message,
  );
  assert(result.message.startsWith("Cannot accept connection: "), result.message);
  assert(result.message.includes(includes), `${JSON.stringify(result.message)} lacks ${includes}`);
}

Deno.test("authenticateUpgrade() takes the token from the subprotocol and echoes tradecaptain.v1", async () => {
  const result = await authenticateUpgrade(
    upgrade({ origin: ORIGIN, "sec-websocket-protocol": `tradecaptain.v1, bearer.${TOKEN}` }),
    UPGRADE,
  );
  assert(result.ok, JSON.stringify(result));
  assert.deepStrictEqual(
    { account: result.account, role: result.role, protocol: result.protocol },
    { account: "ALICE", role: "viewer", protocol: "tradecaptain.v1" },
  );
  assert.deepStrictEqual(result.claims.exp, NOW + 3600);
});

Deno.test("authenticateUpgrade() reads the token whatever the order and spacing of subprotocols", async () => {
  const result = await authenticateUpgrade(
    upgrade({ "sec-websocket-protocol": `  bearer.${TOKEN} ,tradecaptain.v1,other` }),
    UPGRADE,
  );
  assert(result.ok && result.protocol === "tradecaptain.v1", JSON.stringify(result));
});

Deno.test("authenticateUpgrade() accepts a bearer subprotocol alone, with nothing to echo", async () => {
  const result = await authenticateUpgrade(
    upgrade({ "sec-websocket-protocol": `bearer.${TOKEN}` }),
    UPGRADE,
  );
  assert(result.ok && !("protocol" in result), JSON.stringify(result));
});

Deno.test("authenticateUpgrade() takes the token from the query parameter", async () => {
  const result = await authenticateUpgrade(upgrade({ origin: ORIGIN }, `?token=${TOKEN}`), UPGRADE);
  assert(result.ok && result.account === "ALICE" && result.protocol === undefined);
  const both = await authenticateUpgrade(
    upgrade({ "sec-websocket-protocol": "tradecaptain.v1" }, `?x=1&token=${TOKEN}`),
    UPGRADE,
  );
  assert(both.ok && both.protocol === "tradecaptain.v1", JSON.stringify(both));
});

Deno.test("authenticateUpgrade() refuses a request without a token with 401 missing_token", async () => {
  await refuse(upgrade({ origin: ORIGIN }), 401, "missing_token", "bearer.<jwt>");
  await refuse(upgrade({ "sec-websocket-protocol": "tradecaptain.v1" }), 401, "missing_token", "");
  await refuse(
    upgrade({ "sec-websocket-protocol": "bearer." }, "?token="),
    401,
    "missing_token",
    "",
  );
  await refuse(upgrade({ authorization: `Bearer ${TOKEN}` }), 401, "missing_token", "?token=");
});

Deno.test("authenticateUpgrade() refuses two tokens, even identical, with 401 ambiguous_token", async () => {
  await refuse(
    upgrade({ "sec-websocket-protocol": `bearer.${TOKEN}` }, `?token=${TOKEN}`),
    401,
    "ambiguous_token",
    "2 tokens",
  );
  await refuse(upgrade({}, `?token=${TOKEN}&token=${TOKEN}`), 401, "ambiguous_token", "2 tokens");
});

Deno.test("authenticateUpgrade() refuses an Origin outside the allowlist with 403, before the token", async () => {
  const bad = { "sec-websocket-protocol": `tradecaptain.v1, bearer.${TOKEN}` };
  for (const origin of ["https://evil.example", "https://trade.example.evil.example", "null", ""]) {
    await refuse(
      upgrade({ ...bad, origin }),
      403,
      "bad_origin",
      `Origin ${JSON.stringify(origin)}`,
    );
  }
  // Exact match: scheme, host and port all count.
  await refuse(
    upgrade({ ...bad, origin: "http://trade.example" }),
    403,
    "bad_origin",
    "not allowed",
  );
  await refuse(upgrade({ ...bad, origin: "https://trade.example:443" }), 403, "bad_origin", "");
  await refuse(upgrade({ origin: "https://evil.example" }), 403, "bad_origin", "");
  const local = await authenticateUpgrade(
    upgrade({ ...bad, origin: "http://localhost:5173" }),
    UPGRADE,
  );
  assert(local.ok);
  const set = { ...UPGRADE, allowedOrigins: new Set([ORIGIN]) };
  assert((await authenticateUpgrade(upgrade({ ...bad, origin: ORIGIN }), set)).ok);
  const refused = await authenticateUpgrade(
    upgrade({ ...bad, origin: "http://localhost:5173" }),
    set,
  );
  assert(!refused.ok && refused.status === 403);
});

Deno.test("authenticateUpgrade() lets a request without Origin (a bot) through on its token", async () => {
  const result = await authenticateUpgrade(upgrade({}, `?token=${TOKEN}`), {
    ...UPGRADE,
    allowedOrigins: [],
  });
  assert(result.ok && result.role === "viewer");
});

Deno.test("authenticateUpgrade() refuses bad tokens with 401 and the JWT's reason", async () => {
  const token = async (header: Record<string, unknown>, extra: Record<string, unknown>) =>
    await craft(
      header,
      claims(extra),
      header.alg === "none" ? undefined : KEY,
      header.alg === "none" ? "" : undefined,
    );
  const cases: [string, UpgradeFailureReason, string][] = [
    [await token({ alg: "none" }, {}), "bad_algorithm", 'alg must be "HS256", not "none"'],
    [await token(HS256, { exp: NOW - 3600 }), "expired", "token expired at 2026-11-25T09:00:00Z"],
    [await token(HS256, { aud: "edge" }), "wrong_audience", '"edge"'],
    [await token(HS256, { iss: "x" }), "wrong_issuer", '"x"'],
    [await token(HS256, { role: "root" }), "bad_role", '"root"'],
    [await craft(HS256, claims(), await newKey()), "bad_signature", "does not match"],
    ["junk", "malformed", "3 dot-separated parts"],
  ];
  for (const [jwt, reason, message] of cases) {
    await refuse(upgrade({ "sec-websocket-protocol": `bearer.${jwt}` }), 401, reason, message);
    await refuse(upgrade({}, `?token=${encodeURIComponent(jwt)}`), 401, reason, message);
  }
});

Deno.test("authenticateUpgrade() says when a token expired, in a person's words", async () => {
  const expired = await craft(HS256, claims({ exp: NOW - 30 }), KEY);
  const result = await authenticateUpgrade(upgrade({}, `?token=${expired}`), UPGRADE);
  assert.deepStrictEqual(result, {
    ok: false,
    status: 401,
    reason: "expired",
    message: "Cannot accept connection: token expired at 2026-11-25T09:59:30Z",
  });
});
