import assert from "node:assert";
import { encodeBase64Url } from "./_base64url.ts";

import { signJwt, verifyJwt } from "./jwt.ts";
import { loadSecret } from "./secret.ts";
import { withTempDir } from "../_testing/temp.ts";

const NO_ENV = () => undefined;
const CLAIMS = { sub: "ALICE", role: "trader", iss: "i", aud: "a", exp: 2_000_000_000 } as const;

/** Whether tokens minted with `a` verify with `b`. */
async function sameSecret(a: CryptoKey, b: CryptoKey): Promise<boolean> {
  const token = await signJwt(CLAIMS, a);
  const result = await verifyJwt(token, b, { issuer: "i", audience: "a", now: new Date(0) });
  return result.ok;
}

Deno.test("loadSecret() generates 32 bytes with mode 0600 on first start, then reuses them", async () => {
  await withTempDir(async (root) => {
    const dataDir = `${root}/data/nested`;
    const first = await loadSecret({ env: NO_ENV, dataDir });
    const path = `${dataDir}/jwt.secret`;
    const info = await Deno.stat(path);
    assert.deepStrictEqual((info.mode! & 0o777).toString(8), "600");
    // The folders it made are the owner's only too.
    for (const dir of [`${root}/data`, dataDir]) {
      assert.deepStrictEqual(((await Deno.stat(dir)).mode! & 0o777).toString(8), "700", dir);
    }
    assert.deepStrictEqual(info.size, 32);
    const bytes = await Deno.readFile(path);
    const second = await loadSecret({ env: NO_ENV, dataDir });
    assert(await sameSecret(first, second), "the second start has another secret");
    assert.deepStrictEqual([...await Deno.readFile(path)], [...bytes], "the file was rewritten");
    assert.deepStrictEqual([...Deno.readDirSync(dataDir)].map((e) => e.name), ["jwt.secret"]);
    const third = await loadSecret({ env: NO_ENV, dataDir: `${root}/other` });
    assert(!await sameSecret(first, third), "two folders share a secret");
  });
});

Deno.test("loadSecret() run concurrently on a new folder agrees on one secret", async () => {
  await withTempDir(async (dataDir) => {
    const keys = await Promise.all(
      Array.from({ length: 8 }, () => loadSecret({ env: NO_ENV, dataDir })),
    );
    for (const key of keys) assert(await sameSecret(keys[0]!, key), "two secrets were generated");
    assert.deepStrictEqual([...Deno.readDirSync(dataDir)].map((e) => e.name), ["jwt.secret"]);
  });
});

Deno.test("loadSecret() refuses a secret file readable by others (0644, 0640) and names chmod", async () => {
  await withTempDir(async (dataDir) => {
    const path = `${dataDir}/jwt.secret`;
    await Deno.writeFile(path, crypto.getRandomValues(new Uint8Array(32)));
    for (const mode of [0o644, 0o640, 0o604, 0o620]) {
      await Deno.chmod(path, mode);
      await assert.rejects(
        () => loadSecret({ env: NO_ENV, dataDir }),
        (error: unknown) =>
          error instanceof Deno.errors.PermissionDenied &&
          error.message.includes(`has mode 0${mode.toString(8)}`) &&
          error.message.includes("chmod 600"),
      );
    }
    await Deno.chmod(path, 0o400);
    await loadSecret({ env: NO_ENV, dataDir });
  });
});

Deno.test("loadSecret() refuses a secret file of fewer than 32 bytes, or that is a folder", async () => {
  await withTempDir(async (dataDir) => {
    const path = `${dataDir}/jwt.secret`;
    await Deno.writeFile(path, new Uint8Array(31), { mode: 0o600 });
    await Deno.chmod(path, 0o600);
    await assert.rejects(() => loadSecret({ env: NO_ENV, dataDir }), {
      name: "RangeError",
      message: /holds 31 bytes/,
    });
    await Deno.writeFile(path, new Uint8Array(0));
    await assert.rejects(() => loadSecret({ env: NO_ENV, dataDir }), {
      name: "RangeError",
      message: /holds 0 bytes/,
    });
    await Deno.remove(path);
    await Deno.mkdir(path, { mode: 0o700 });
    await assert.rejects(() => loadSecret({ env: NO_ENV, dataDir }), {
      name: "InvalidData",
      message: /not a regular file/,
    });
  });
});

Deno.test("loadSecret() takes GATEWAY_JWT_SECRET first, and writes no file", async () => {
  await withTempDir(async (dataDir) => {
    const raw = crypto.getRandomValues(new Uint8Array(48));
    const env = (name: string) => name === "GATEWAY_JWT_SECRET" ? encodeBase64Url(raw) : undefined;
    const fromEnv = await loadSecret({ env, dataDir });
    const direct = await crypto.subtle.importKey(
      "raw",
      raw,
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    );
    assert(await sameSecret(fromEnv, direct), "the key is not the variable's secret");
    assert.deepStrictEqual([...Deno.readDirSync(dataDir)], []);
    // Empty counts as unset, as in core/app/config.ts.
    await loadSecret({ env: () => "", dataDir });
    assert.deepStrictEqual([...Deno.readDirSync(dataDir)].map((e) => e.name), ["jwt.secret"]);
  });
});

Deno.test("loadSecret() refuses a short or malformed GATEWAY_JWT_SECRET without printing it", async () => {
  const check = async (value: string, includes: string) => {
    await assert.rejects(
      () => loadSecret({ env: () => value, dataDir: "/nonexistent" }),
      (error: unknown) =>
        error instanceof RangeError && error.message.includes(includes) &&
        error.message.startsWith("Cannot load gateway secret: GATEWAY_JWT_SECRET") &&
        // The message must not leak the secret.
        !error.message.includes(value),
    );
  };
  await check(encodeBase64Url(new Uint8Array(31).fill(7)), "decodes to 31 bytes");
  await check(encodeBase64Url(new Uint8Array(16).fill(7)), "at least 32 (256 bits)");
  await check(btoa(String.fromCharCode(...new Uint8Array(32).fill(251))), "base64url"); // "+" "/" "="
  await check(encodeBase64Url(new Uint8Array(32).fill(7)) + "\n", "without padding");
});
