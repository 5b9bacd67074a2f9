/**
 * An edge app over an in-memory KV, for `app.request` tests: the test
 * writes snapshots the way the core does, refreshes the cache by hand (no
 * timers), and moves a fake clock.
 *
 * @module
 */

import type { Hono } from "hono";
import type { EdgeEnv } from "../_env.ts";
import { createEdge, type EdgeSettings } from "../create_edge.ts";
import { SnapshotCache } from "../snapshot_cache.ts";
import { type SnapshotWrite, T0, writeSnapshots } from "./kv.ts";

/** What a test gets. */
export interface TestEdge {
  readonly app: Hono<EdgeEnv>;
  readonly kv: Deno.Kv;
  readonly cache: SnapshotCache;
  /** The fake clock (ms); starts 100 ms after the test snapshots' `updated`. */
  readonly clock: { now: number };
  /** Writes to KV as the core does, then refreshes the cache. */
  write(write: SnapshotWrite): Promise<number>;
  /** `app.request` from a client address. */
  get(path: string, init?: RequestInit, address?: string): Promise<Response>;
}

/**
 * Runs `fn` with a fresh edge; closes everything afterwards.
 *
 * @param fn The test body.
 * @param settings Edge settings (rate limiting is off unless given).
 * @returns What `fn` returns.
 */
export async function withEdge<T>(
  fn: (edge: TestEdge) => Promise<T>,
  settings: EdgeSettings = {},
): Promise<T> {
  const kv = await Deno.openKv(":memory:");
  const cache = new SnapshotCache({ kv });
  const clock = { now: T0 + 100 };
  const app = createEdge({ rateLimit: false, now: () => clock.now, ...settings, cache });
  try {
    return await fn({
      app,
      kv,
      cache,
      clock,
      async write(write) {
        const version = await writeSnapshots(kv, write);
        await cache.refresh();
        return version;
      },
      get(path, init, address = "192.0.2.1") {
        return Promise.resolve(
          app.request(path, init, { remoteAddr: { transport: "tcp", hostname: address, port: 1 } }),
        );
      },
    });
  } finally {
    await cache.close();
    kv.close();
  }
}
