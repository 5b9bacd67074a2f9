/**
 * The core's data is its owner's only: the folders it makes are `0700` and
 * its files `0600` (the KV file of accounts and quotes here; the journal's
 * segments and snapshots in native code; the gateway's secret in
 * `core/gateway/secret.ts`). Folders that exist already keep their mode: `KV_PATH`
 * may point into a folder shared with others (`/tmp`), which is not ours to
 * close.
 *
 * @module
 */

/** Mode of the folders the core makes. */
export const PRIVATE_DIR_MODE = 0o700;
/** Mode of the files the core makes. */
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Makes a folder and its missing parents, each `0700`; an existing one
 * keeps its mode.
 *
 * @param path The folder.
 * @throws {Deno.errors.PermissionDenied} Or another error of `mkdir`.
 *
 * @example
 * ```ts
 * import { makePrivateDir } from "./private_files.ts";
 * const dir = `${await Deno.makeTempDir()}/data/journal`;
 * makePrivateDir(dir);
 * if ((Deno.statSync(dir).mode! & 0o777) !== 0o700) throw new Error("not private");
 * ```
 */
export function makePrivateDir(path: string): void {
  Deno.mkdirSync(path, { recursive: true, mode: PRIVATE_DIR_MODE });
}

/**
 * Makes a Deno KV file `0600`, with the `-wal` and `-shm` files SQLite keeps
 * beside it (those that exist: SQLite gives the ones it makes later the
 * database file's mode). Call it once the store is open. A no-op on Windows,
 * which has no such modes.
 *
 * @param path The KV file.
 * @returns The files whose mode was set.
 *
 * @example
 * ```ts
 * import { makeKvPrivate } from "./private_files.ts";
 * const path = `${await Deno.makeTempDir()}/core.kv`;
 * const kv = await Deno.openKv(path);
 * makeKvPrivate(path);
 * if ((Deno.statSync(path).mode! & 0o777) !== 0o600) throw new Error("not private");
 * kv.close();
 * ```
 */
export function makeKvPrivate(path: string): string[] {
  if (Deno.build.os === "windows") return [];
  const done: string[] = [];
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      Deno.chmodSync(file, PRIVATE_FILE_MODE);
      done.push(file);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return done;
}
