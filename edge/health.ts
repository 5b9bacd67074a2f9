/**
 * Liveness and readiness.
 *
 * - `GET /livez`: 200 `{"status":"ok"}` while the process answers at all.
 * - `GET /readyz`: 200
 *   `{"status":"ready","version":93,"symbols":12,"newestAgeSeconds":0.04,"aliveAgeSeconds":0.3}`
 *   when the cache has loaded and the snapshots are known to be current:
 *   the newest snapshot, or the writer's later `alive` mark (which it sets
 *   at least once a second even when no quote moves), is younger than the
 *   threshold (default 5 s). Otherwise 503 `not_ready` (problem+json)
 *   saying which. A core that stops writing, or a KV the edge cannot read,
 *   both show as an ageing sign of life; a quiet market does not.
 *   `aliveAgeSeconds` is null with a core that writes no `alive` mark.
 *   A core whose matching engine has halted (its `alive` mark says so: its
 *   journal failed, e.g. `ENOSPC`) is not ready either, however fresh its
 *   mark: it takes no orders and its quotes are frozen. The detail names
 *   the cause's code and since when.
 *
 * @module
 */

import type { Handler } from "hono";
import type { SnapshotCache } from "./snapshot_cache.ts";
import { problem } from "./problem.ts";

/** The default readiness threshold: the newest snapshot's greatest age. */
export const DEFAULT_READY_MAX_AGE_MS = 5_000;

/** Whether the edge is ready, and why not. */
export type Readiness =
  | {
    readonly ready: true;
    /** The newest snapshot's age. */
    readonly newestAgeSeconds: number;
    /** The writer's `alive` mark's age, or null without one. */
    readonly aliveAgeSeconds: number | null;
  }
  | { readonly ready: false; readonly detail: string };

/**
 * Decides readiness.
 *
 * @param cache The snapshot cache.
 * @param now The time (ms).
 * @param maxAgeMs The newest snapshot's greatest age.
 * @returns Ready with the newest age, or not with the reason.
 *
 * @example
 * ```ts
 * import { readiness } from "./health.ts";
 * import { SnapshotCache } from "./snapshot_cache.ts";
 * const kv = await Deno.openKv(":memory:");
 * const cache = new SnapshotCache({ kv });
 * const r = readiness(cache, Date.now(), 5000);
 * if (r.ready) throw new Error("ready before loading");
 * kv.close();
 * ```
 */
export function readiness(cache: SnapshotCache, now: number, maxAgeMs: number): Readiness {
  if (!cache.loaded) {
    return { ready: false, detail: "Cannot serve quotes: the snapshots have not been read yet" };
  }
  const newest = cache.newestUpdate;
  const life = cache.lastSignOfLife;
  if (newest === undefined || life === undefined) {
    return { ready: false, detail: "Cannot serve quotes: the core has written no snapshot yet" };
  }
  const engine = cache.engine;
  if (engine?.state === "halted") {
    const since = engine.since === null ? "" : ` since ${new Date(engine.since).toISOString()}`;
    return {
      ready: false,
      detail: `Cannot serve live quotes: the core's matching engine has halted (${engine.cause})` +
        `${since}; it takes no orders and the quotes are frozen until the core is restarted`,
    };
  }
  const age = now - life;
  if (age > maxAgeMs) {
    return {
      ready: false,
      detail: `Cannot serve fresh quotes: the core last wrote ${
        (age / 1000).toFixed(1)
      } s ago, over ${maxAgeMs / 1000} s`,
    };
  }
  const alive = cache.aliveAt;
  return {
    ready: true,
    newestAgeSeconds: (now - newest) / 1000,
    aliveAgeSeconds: alive === undefined ? null : (now - alive) / 1000,
  };
}

/**
 * The `/livez` handler.
 *
 * @returns The handler.
 */
export function livez(): Handler {
  return function livez() {
    return new Response('{"status":"ok"}', {
      headers: { "content-type": "application/json", "cache-control": "no-store" },
    });
  };
}

/**
 * The `/readyz` handler.
 *
 * @param cache The snapshot cache.
 * @param now The clock (ms).
 * @param maxAgeMs The newest snapshot's greatest age.
 * @returns The handler.
 */
export function readyz(cache: SnapshotCache, now: () => number, maxAgeMs: number): Handler {
  return function readyz() {
    const r = readiness(cache, now(), maxAgeMs);
    if (!r.ready) return problem("not_ready", r.detail, { headers: { "retry-after": "1" } });
    const body = {
      status: "ready",
      version: cache.version,
      symbols: cache.all().length,
      newestAgeSeconds: r.newestAgeSeconds,
      aliveAgeSeconds: r.aliveAgeSeconds,
    };
    return new Response(JSON.stringify(body), {
      headers: { "content-type": "application/json", "cache-control": "no-store" },
    });
  };
}
