import fc from "fast-check";
import { jwtVerify, SignJWT } from "jose";
import { encodeBase64Url } from "./_base64url.ts";
import assert from "node:assert";
import { b64, claims, craft, HS256, newKey, NOW, OPTIONS } from "./_testing.ts";
import { type JwtClaims, type JwtFailureReason, signJwt, verifyJwt } from "./jwt.ts";

const KEY = await newKey();
const OTHER_KEY = await newKey();
const AT_NOW = { ...OPTIONS, now: new Date(NOW * 1000) };

/** Verifies `token` at {@linkcode NOW} and expects a refusal for `reason` whose message holds `includes`. */
async function refuse(
  token: string,
  reason: JwtFailureReason,
  includes: string,
  options: Partial<typeof AT_NOW & { leewaySeconds: number }> = {},
): Promise<void> {
  const result = await verifyJwt(token, KEY, { ...AT_NOW, ...options });
  assert(!result.ok, `accepted, expected ${reason}`);
  assert.deepStrictEqual({ reason: result.reason }, { reason }, result.message);
  assert(result.message.startsWith("Cannot verify token: "), result.message);
  assert(result.message.includes(includes), `${JSON.stringify(result.message)} lacks ${includes}`);
}

async function accept(token: string, options: Partial<typeof AT_NOW> = {}): Promise<JwtClaims> {
  const result = await verifyJwt(token, KEY, { ...AT_NOW, ...options });
  if (!result.ok) throw new Error(`refused: ${result.message}`);
  return result.claims;
}

Deno.test("signJwt() then verifyJwt() gives the claims back", async () => {
  const input: JwtClaims = {
    sub: "desk-7 é",
    role: "admin",
    iss: OPTIONS.issuer,
    aud: OPTIONS.audience,
    exp: NOW + 60,
    iat: NOW,
    nbf: NOW - 1,
    jti: "id-1",
    epoch: 3,
  };
  const token = await signJwt(input, KEY);
  assert.deepStrictEqual(await accept(token), input);
  assert(token.startsWith(b64('{"alg":"HS256","typ":"JWT"}') + "."), token);
});

Deno.test("verifyJwt() accepts a hand-made token with aud as an array holding the audience", async () => {
  const token = await craft(HS256, claims({ aud: ["other", OPTIONS.audience] }), KEY);
  assert.deepStrictEqual((await accept(token)).aud, ["other", OPTIONS.audience]);
});

Deno.test("verifyJwt() accepts a header without typ and ignores unknown claims", async () => {
  const token = await craft({ alg: "HS256" }, claims({ extra: { x: 1 } }), KEY);
  assert.deepStrictEqual((await accept(token)).sub, "ALICE");
});

Deno.test("verifyJwt() refuses every algorithm but exactly HS256, before the signature", async () => {
  await refuse(await craft({ alg: "none" }, claims(), undefined, ""), "bad_algorithm", '"none"');
  await refuse(await craft({ alg: "none", typ: "JWT" }, claims(), KEY), "bad_algorithm", '"none"');
  await refuse(await craft({ alg: "HS384" }, claims(), KEY), "bad_algorithm", '"HS384"');
  await refuse(await craft({ alg: "hs256" }, claims(), KEY), "bad_algorithm", '"hs256"');
  await refuse(await craft({ alg: "RS256" }, claims(), KEY), "bad_algorithm", '"RS256"');
  await refuse(await craft({ typ: "JWT" }, claims(), KEY), "bad_algorithm", "not missing");
  await refuse(await craft({ alg: ["HS256"] }, claims(), KEY), "bad_algorithm", "[");
});

Deno.test("verifyJwt() refuses a signature of another key, an altered payload, a short signature", async () => {
  const good = await craft(HS256, claims(), KEY);
  await refuse(await craft(HS256, claims(), OTHER_KEY), "bad_signature", "does not match");
  const [h, , s] = good.split(".");
  await refuse(`${h}.${b64(JSON.stringify(claims({ role: "admin" })))}.${s}`, "bad_signature", "");
  await refuse(await craft(HS256, claims(), undefined, ""), "bad_signature", "not 0");
  const short = encodeBase64Url(new Uint8Array(31));
  await refuse(await craft(HS256, claims(), undefined, short), "bad_signature", "not 31");
});

Deno.test("verifyJwt() refuses a re-spelled signature (non-zero trailing bits) as malformed", async () => {
  const good = await craft(HS256, claims(), KEY);
  const last = good.at(-1)!;
  // 32 bytes = 43 letters; the last carries 4 data bits and 2 unused zero bits.
  const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const respelled = ALPHABET[ALPHABET.indexOf(last) | 1]!;
  await refuse(good.slice(0, -1) + respelled, "malformed", "signature is not base64url");
});

Deno.test("verifyJwt() refuses expired tokens and honours the leeway", async () => {
  const token = await craft(HS256, claims({ exp: NOW - 10 }), KEY);
  await accept(token); // within the default 30 s
  await refuse(token, "expired", "token expired at 2026-11-25T09:59:50Z", { leewaySeconds: 0 });
  await refuse(token, "expired", "expired", { leewaySeconds: 10 });
  await accept(token, { leewaySeconds: 11 } as Partial<typeof AT_NOW>);
  const long = await craft(HS256, claims({ exp: NOW - 3600 }), KEY);
  await refuse(long, "expired", "token expired at 2026-11-25T09:00:00Z");
});

Deno.test("verifyJwt() refuses a token before nbf, beyond the leeway", async () => {
  const token = await craft(HS256, claims({ nbf: NOW + 20 }), KEY);
  await accept(token);
  await refuse(token, "not_yet_valid", "not valid before 2026-11-25T10:00:20Z", {
    leewaySeconds: 19,
  });
  await refuse(await craft(HS256, claims({ nbf: NOW + 31 }), KEY), "not_yet_valid", "10:00:31Z");
});

Deno.test("verifyJwt() refuses the wrong issuer and the wrong audience", async () => {
  await refuse(await craft(HS256, claims({ iss: "evil" }), KEY), "wrong_issuer", '"evil"');
  await refuse(await craft(HS256, claims({ aud: "edge" }), KEY), "wrong_audience", '"edge"');
  await refuse(await craft(HS256, claims({ aud: ["a", "b"] }), KEY), "wrong_audience", '["a","b"]');
  await refuse(await craft(HS256, claims({ aud: [] }), KEY), "wrong_audience", "[]");
  await refuse(await craft(HS256, claims({ aud: [1] }), KEY), "malformed", "aud must be");
});

Deno.test("verifyJwt() refuses a token missing exp, sub, role, iss or aud", async () => {
  for (const name of ["exp", "sub", "role", "iss", "aud"]) {
    const payload = claims();
    delete payload[name];
    await refuse(await craft(HS256, payload, KEY), "missing_claim", `no ${name} claim`);
  }
});

Deno.test("verifyJwt() refuses bad roles and bad accounts", async () => {
  const check = async (extra: Record<string, unknown>, reason: JwtFailureReason, msg: string) =>
    await refuse(await craft(HS256, claims(extra), KEY), reason, msg);
  await check({ role: "root" }, "bad_role", 'not "root"');
  await check({ role: "Trader" }, "bad_role", 'not "Trader"');
  await check({ role: 1 }, "bad_role", "not a number");
  await check({ sub: "" }, "bad_account", "must not be empty");
  await check({ sub: "é".repeat(25) }, "bad_account", "not 50 bytes");
  await check({ sub: 7 }, "bad_account", "not a number");
  await check({ sub: "\ud800" }, "bad_account", "lone surrogate");
  // Printable characters only: no NUL, newlines, escape codes, format characters.
  await check({ sub: "ALICE\u0000" }, "bad_account", "printable characters only, not U+0000");
  await check({ sub: "AL\nICE" }, "bad_account", "not U+000A at character 3");
  await check({ sub: "\u001b[31mROOT" }, "bad_account", "not U+001B at character 1");
  await check({ sub: "é\u007f" }, "bad_account", "not U+007F at character 2");
  await check({ sub: "A\u2028" }, "bad_account", "not U+2028");
  await check({ sub: "A\u200dB" }, "bad_account", "not U+200D");
  assert.deepStrictEqual(
    (await accept(await craft(HS256, claims({ sub: "desk 7/α ü" }), KEY))).sub,
    "desk 7/α ü",
  );
  assert.deepStrictEqual(
    (await accept(await craft(HS256, claims({ sub: "x".repeat(48) }), KEY))).sub.length,
    48,
  );
});

Deno.test("verifyJwt() refuses claims of the wrong type as malformed", async () => {
  const check = async (extra: Record<string, unknown>, msg: string) =>
    await refuse(await craft(HS256, claims(extra), KEY), "malformed", msg);
  await check({ exp: "tomorrow" }, "exp must be a number");
  await check({ epoch: "1" }, "epoch must be a non-negative safe integer, not a string");
  await check({ epoch: -1 }, "epoch must be a non-negative safe integer, not -1");
  await check({ epoch: 1.5 }, "not 1.5");
  await check({ exp: 1e300 }, "exp must be seconds from 0");
  await check({ nbf: -1 }, "nbf must be seconds");
  await check({ iat: null }, "iat must be a number, not null");
  await check({ iss: 1 }, "iss must be a string");
  await check({ jti: 1 }, "jti must be a string");
});

Deno.test("verifyJwt() refuses oversize tokens before decoding", async () => {
  const big = await craft(HS256, claims({ pad: "x".repeat(4000) }), KEY);
  assert(big.length > 4096);
  await refuse(big, "malformed", `the token is ${big.length} bytes, over 4096`);
  await refuse("a".repeat(1_000_000), "malformed", "over 4096");
});

Deno.test("verifyJwt() refuses junk: wrong part count, foreign letters, padding, non-JSON, non-objects", async () => {
  const good = await craft(HS256, claims(), KEY);
  const [h, p, s] = good.split(".") as [string, string, string];
  await refuse("", "malformed", "not 1");
  await refuse("a.b", "malformed", "not 2");
  await refuse(`${good}.x`, "malformed", "not 4");
  await refuse(`${h}=.${p}.${s}`, "malformed", "header is not base64url");
  await refuse(`${h}.${p}+.${s}`, "bad_signature", ""); // payload is only decoded after the signature
  await refuse(`${h}.${p}.${s}=`, "malformed", "signature is not base64url");
  await refuse(`${h}.${p}.${s.slice(0, -1)}/`, "malformed", "signature is not base64url");
  await refuse(` ${good}`, "malformed", "header is not base64url");
  await refuse(`${b64("{")}.${p}.${s}`, "malformed", "header is not JSON");
  await refuse(`${b64('"HS256"')}.${p}.${s}`, "malformed", "header must be a JSON object");
  await refuse(`${b64("null")}.${p}.${s}`, "malformed", "not null");
  await refuse(`${b64("[1]")}.${p}.${s}`, "malformed", "not an array");
  await refuse(`AAAAA.${p}.${s}`, "malformed", "header is not base64url"); // length 1 mod 4
  await refuse(await craft(HS256, "[]", KEY), "malformed", "payload must be a JSON object");
  await refuse(await craft(HS256, "{", KEY), "malformed", "payload is not JSON");
  await refuse(await craft({ ...HS256, crit: ["exp"] }, claims(), KEY), "malformed", "crit");
  const latin1 = `${h}.${encodeBase64Url(new Uint8Array([0x7b, 0xff, 0x7d]))}`;
  const mac = await crypto.subtle.sign("HMAC", KEY, new TextEncoder().encode(latin1));
  await refuse(`${latin1}.${encodeBase64Url(new Uint8Array(mac))}`, "malformed", "UTF-8");
});

Deno.test("verifyJwt() refuses a non-string token without throwing", async () => {
  for (const junk of [undefined, null, 42, {}, ["a.b.c"]]) {
    await refuse(junk as unknown as string, "malformed", "must be a string");
  }
});

Deno.test("verifyJwt() never throws on random strings or random dotted parts", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.string({ maxLength: 5000 }),
        fc.string({ unit: "binary", maxLength: 300 }),
        fc.array(fc.base64String({ maxLength: 80 }), { maxLength: 4 }).map((p) => p.join(".")),
        fc.tuple(fc.json(), fc.json(), fc.string()).map(([h, p, s]) => `${b64(h)}.${b64(p)}.${s}`),
      ),
      async (token) => {
        const result = await verifyJwt(token, KEY, OPTIONS);
        assert(!result.ok, `accepted ${token}`);
        assert(result.message.startsWith("Cannot verify token: "), result.message);
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("verifyJwt() never throws on correctly signed tokens with random JSON payloads", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.json(),
        fc.record({ sub: fc.jsonValue(), role: fc.jsonValue(), exp: fc.jsonValue() }, {
          requiredKeys: [],
        }).map((v) => JSON.stringify({ ...claims(), ...v })),
      ),
      async (payload) => {
        const result = await verifyJwt(await craft(HS256, payload, KEY), KEY, AT_NOW);
        assert(result.ok || result.message.startsWith("Cannot verify token: "));
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("signJwt() refuses bad claims and keys that cannot sign", async () => {
  const base = claims() as unknown as JwtClaims;
  const sign = (c: Record<string, unknown>) => signJwt({ ...base, ...c } as JwtClaims, KEY);
  await assert.rejects(() => sign({ role: "root" }), {
    name: "TypeError",
    message: /Cannot sign token: role/,
  });
  await assert.rejects(() => sign({ sub: "" }), {
    name: "TypeError",
    message: /account must not be empty/,
  });
  await assert.rejects(() => sign({ sub: "EVE\n" }), {
    name: "TypeError",
    message: /printable characters only/,
  });
  await assert.rejects(() => sign({ epoch: -1 }), { name: "RangeError", message: /epoch must be/ });
  await assert.rejects(() => sign({ exp: 1e20 }), {
    name: "RangeError",
    message: /exp must be seconds/,
  });
  await assert.rejects(() => sign({ jti: "x".repeat(4000) }), {
    name: "RangeError",
    message: /over 4096/,
  });
  const verifyOnly = await crypto.subtle.importKey(
    "raw",
    new Uint8Array(32),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["verify"],
  );
  await assert.rejects(() => signJwt(base, verifyOnly), {
    name: "TypeError",
    message: /allowed to sign/,
  });
  const sha512 = await crypto.subtle.importKey(
    "raw",
    new Uint8Array(32),
    { name: "HMAC", hash: "SHA-512" },
    false,
    ["sign", "verify"],
  );
  await assert.rejects(() => verifyJwt("a.b.c", sha512, OPTIONS), {
    name: "TypeError",
    message: /SHA-256/,
  });
});

Deno.test("verifyJwt() and jose agree: each accepts the other's HS256 tokens, and an HS512 one is refused", async () => {
  const ours = await signJwt(claims() as unknown as JwtClaims, KEY);
  const theirs = await jwtVerify(ours, KEY, {
    algorithms: ["HS256"],
    ...OPTIONS,
    currentDate: new Date(NOW * 1000),
  });
  assert.deepStrictEqual(theirs.payload, claims());
  const minted = await new SignJWT({ role: "viewer" })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject("BOB")
    .setIssuer(OPTIONS.issuer)
    .setAudience([OPTIONS.audience])
    .setIssuedAt(NOW)
    .setNotBefore(NOW)
    .setExpirationTime(NOW + 60)
    .sign(KEY);
  const accepted = await accept(minted);
  assert.deepStrictEqual([accepted.sub, accepted.role, accepted.aud, accepted.nbf], [
    "BOB",
    "viewer",
    [OPTIONS.audience],
    NOW,
  ]);
  const secret = crypto.getRandomValues(new Uint8Array(64));
  const hs512 = await new SignJWT(claims()).setProtectedHeader({ alg: "HS512" }).sign(secret);
  await refuse(hs512, "bad_algorithm", '"HS512"');
});

Deno.test("verifyJwt() names the first claim at fault by its type before comparing issuer and time", async () => {
  // A wrong issuer and a bad role, expired and malformed epoch: the claim's own fault wins.
  await refuse(
    await craft(HS256, claims({ iss: "evil", role: "root" }), KEY),
    "bad_role",
    'not "root"',
  );
  await refuse(
    await craft(HS256, claims({ exp: NOW - 3600, epoch: -1 }), KEY),
    "malformed",
    "epoch must be",
  );
  await refuse(
    await craft(HS256, claims({ iss: "evil", aud: "edge" }), KEY),
    "wrong_issuer",
    "evil",
  );
});
