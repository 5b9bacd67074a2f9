/**
 * A temporary folder for one test, removed afterwards whatever happens.
 *
 * @module
 */

/**
 * Runs `fn` with a fresh temporary folder and removes the folder afterwards.
 *
 * @param fn The test body.
 * @returns What `fn` returns.
 *
 * @example
 * ```ts
 * import { withTempDir } from "./temp.ts";
 * await withTempDir(async (dir) => {
 *   await Deno.writeTextFile(`${dir}/x`, "1");
 * });
 * ```
 */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir();
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
