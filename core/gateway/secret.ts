/**
 * The gateway's signing secret: from `GATEWAY_JWT_SECRET`, or else from
 * `<data>/jwt.secret`, generated on first start.
 *
 * The file holds the raw secret bytes (32 when generated). It is created
 * with mode 0600 under a temporary name and then hard-linked to its final
 * name: `link` fails when the name exists, so two processes starting at once
 * never replace each other's secret (a `rename` would, silently voiding the
 * tokens the loser had minted); the loser reads the winner's file.
 *
 * Error messages never contain the secret.
 *
 * @module
 */

import { decodeBase64Url } from "./_base64url.ts";
import { DEFAULT_DATA_DIR, MIN_SECRET_BYTES, SECRET_ENV, SECRET_FILE } from "./config.ts";

/** Options of {@linkcode loadSecret}. */
export interface LoadSecretOptions {
  /** Looks a variable up (default: `Deno.env.get`). */
  readonly env?: (name: string) => string | undefined;
  /** The folder of `jwt.secret` (default `data`). */
  readonly dataDir?: string;
}

/** Secret files longer than this are refused rather than read whole. */
const MAX_SECRET_FILE_BYTES = 1024;

/**
 * Loads the HS256 secret as a non-extractable CryptoKey.
 *
 * `GATEWAY_JWT_SECRET`, when set and not empty, must be base64url without
 * padding and decode to at least 32 bytes; for example
 * `openssl rand -base64 32 | tr '+/' '-_' | tr -d '='`. Otherwise the secret
 * is read from `<dataDir>/jwt.secret`, which is created with 32 random bytes
 * and mode 0600 when missing (and the folder, if missing too, with 0700).
 *
 * @param options Where to look.
 * @returns An HMAC SHA-256 key usable to sign and verify.
 * @throws {RangeError} If the variable is not base64url or decodes to fewer
 *   than 32 bytes, or the file holds fewer than 32 bytes (or over 1 KiB).
 * @throws {Deno.errors.PermissionDenied} If the file is readable or
 *   writable by anyone but its owner (mode not within 0600), or the process
 *   may not read it or create it.
 * @throws {Deno.errors.InvalidData} If the path is not a regular file.
 *
 * @example
 * ```ts
 * import { loadSecret } from "./secret.ts";
 * const dataDir = await Deno.makeTempDir();
 * const key = await loadSecret({ env: () => undefined, dataDir });
 * const again = await loadSecret({ env: () => undefined, dataDir });
 * const data = new Uint8Array([1, 2, 3]);
 * const mac = await crypto.subtle.sign("HMAC", key, data);
 * if (!await crypto.subtle.verify("HMAC", again, mac, data)) throw new Error("not the same secret");
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function loadSecret(options: LoadSecretOptions = {}): Promise<CryptoKey> {
  const env = options.env ?? ((name: string) => Deno.env.get(name));
  const raw = env(SECRET_ENV);
  const bytes = raw === undefined || raw === ""
    ? await readOrCreate(options.dataDir ?? DEFAULT_DATA_DIR)
    : fromEnv(raw);
  return await crypto.subtle.importKey(
    "raw",
    bytes,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );
}

function fromEnv(raw: string): Uint8Array<ArrayBuffer> {
  const bytes = decodeBase64Url(raw);
  if (bytes === undefined) {
    throw new RangeError(
      `Cannot load gateway secret: ${SECRET_ENV} must be base64url without padding ` +
        `(letters, digits, "-" and "_"; e.g. openssl rand -base64 32 | tr '+/' '-_' | tr -d '=')`,
    );
  }
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new RangeError(
      `Cannot load gateway secret: ${SECRET_ENV} decodes to ${bytes.length} bytes; ` +
        `HS256 needs at least ${MIN_SECRET_BYTES} (256 bits)`,
    );
  }
  return bytes;
}

async function readOrCreate(dir: string): Promise<Uint8Array<ArrayBuffer>> {
  const path = `${dir}/${SECRET_FILE}`;
  try {
    return await readSecretFile(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound) || await exists(path)) throw error;
  }
  const secret = crypto.getRandomValues(new Uint8Array(MIN_SECRET_BYTES));
  // The data folder is the owner's only (as core/app/private_files.ts makes it):
  // this may be the first to make it. An existing folder keeps its mode.
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${crypto.randomUUID()}`;
  try {
    // createNew: never write through a file (or symlink) someone left at the temporary name.
    const file = await Deno.open(tmp, { write: true, createNew: true, mode: 0o600 });
    try {
      for (let written = 0; written < secret.length;) {
        written += await file.write(secret.subarray(written));
      }
      await file.sync();
    } finally {
      file.close();
    }
    try {
      await Deno.link(tmp, path);
    } catch (error) {
      // Another process published its secret first: use that one.
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
  return await readSecretFile(path);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

async function readSecretFile(path: string): Promise<Uint8Array<ArrayBuffer>> {
  const file = await Deno.open(path, { read: true });
  try {
    // The mode and size come from the open file, so they describe the bytes read.
    const info = await file.stat();
    if (!info.isFile) {
      throw new Deno.errors.InvalidData(
        `Cannot load gateway secret: ${path} is not a regular file`,
      );
    }
    // mode is null where the OS has no Unix permissions (Windows); nothing to check there.
    if (info.mode !== null && (info.mode & 0o077) !== 0) {
      throw new Deno.errors.PermissionDenied(
        `Cannot load gateway secret: ${path} has mode 0${(info.mode & 0o777).toString(8)}; ` +
          `anyone but its owner could read or replace the secret (run chmod 600 ${path})`,
      );
    }
    if (info.size < MIN_SECRET_BYTES || info.size > MAX_SECRET_FILE_BYTES) {
      throw new RangeError(
        `Cannot load gateway secret: ${path} holds ${info.size} bytes; ` +
          `it must hold ${MIN_SECRET_BYTES} to ${MAX_SECRET_FILE_BYTES} (delete it to generate a new one)`,
      );
    }
    const bytes = new Uint8Array(info.size);
    let read = 0;
    while (read < bytes.length) {
      const n = await file.read(bytes.subarray(read));
      if (n === null) break;
      read += n;
    }
    if (read !== bytes.length) {
      throw new RangeError(
        `Cannot load gateway secret: ${path} changed while being read (${read} of ${bytes.length} bytes)`,
      );
    }
    return bytes;
  } finally {
    file.close();
  }
}
