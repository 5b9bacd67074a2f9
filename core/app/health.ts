/**
 * The core's health over HTTP, beside the gateway:
 *
 * - `GET /livez`: 200 `{"status":"ok"}` while the process answers at all.
 * - `GET /readyz`: 200 `{"status":"ready","engine":{"state":"running",…}}`
 *   while the engine takes orders; once it has halted (its journal failed:
 *   a full disk, a failed sync), 503 `application/problem+json` with type
 *   `urn:tradecaptain:problem:engine_halted`, the reason (what failed, with
 *   the path) as `detail`, and the `engine` state (`cause`: `"ENOSPC"`, …).
 * - `GET /metrics`: Prometheus text: `core_engine_halted` (0 or 1),
 *   `core_engine_halt_info{cause}` while halted, and the caller's own lines.
 *
 * The core listens on loopback by default; these answers name paths, so
 * keep them there (the edge shows the public part, the cause's code).
 *
 * @module
 */

import type { EngineState } from "../../schemas/quotes.ts";
import type { Halted } from "./engine_watch.ts";

/** What health reads of the engine (an `EngineWatch`). */
export interface HealthSource {
  /** The halt once seen, or undefined. */
  readonly halted: Halted | undefined;
  /** The engine's state (`alive.engine` in the quote snapshots). */
  readonly state: EngineState;
}

/** Options for {@linkcode coreHealth}. */
export interface CoreHealthOptions {
  /** The engine's watch. */
  readonly engine: HealthSource;
  /** More metric lines (text format, each ending in a newline). */
  readonly metrics?: () => string;
}

/** The paths {@linkcode coreHealth} answers. */
export const HEALTH_ROUTES = { livez: "/livez", readyz: "/readyz", metrics: "/metrics" } as const;

const JSON_HEADERS = {
  "content-type": "application/json",
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
};

/**
 * Makes the health handler: it answers `GET`/`HEAD` of
 * {@linkcode HEALTH_ROUTES} and returns undefined for every other request
 * (for the gateway to answer).
 *
 * @param options The engine's watch and extra metrics.
 * @returns The handler.
 *
 * @example
 * ```ts
 * import { coreHealth } from "./health.ts";
 * const health = coreHealth({
 *   engine: { halted: undefined, state: { state: "running", cause: null, since: null } },
 * });
 * const ready = health(new Request("http://localhost/readyz"))!;
 * if (ready.status !== 200) throw new Error(`expected 200, got ${ready.status}`);
 * if (health(new Request("http://localhost/ws")) !== undefined) throw new Error("not ours");
 * ```
 */
export function coreHealth(options: CoreHealthOptions): (request: Request) => Response | undefined {
  const { engine, metrics } = options;
  return function health(request: Request): Response | undefined {
    if (request.method !== "GET" && request.method !== "HEAD") return undefined;
    const path = new URL(request.url).pathname;
    switch (path) {
      case HEALTH_ROUTES.livez:
        return new Response('{"status":"ok"}', { headers: JSON_HEADERS });
      case HEALTH_ROUTES.readyz:
        return readyz(engine);
      case HEALTH_ROUTES.metrics:
        return new Response(engineMetrics(engine) + (metrics?.() ?? ""), {
          headers: {
            "content-type": "text/plain; version=0.0.4; charset=utf-8",
            "cache-control": "no-store",
            "x-content-type-options": "nosniff",
          },
        });
      default:
        return undefined;
    }
  };
}

function readyz(engine: HealthSource): Response {
  const halted = engine.halted;
  if (halted === undefined) {
    return new Response(JSON.stringify({ status: "ready", engine: engine.state }), {
      headers: JSON_HEADERS,
    });
  }
  const body = {
    type: "urn:tradecaptain:problem:engine_halted",
    title: "Engine halted",
    status: 503,
    detail: `Cannot take orders: ${halted.reason}`,
    reason: "engine_halted",
    engine: engine.state,
  };
  return new Response(JSON.stringify(body), {
    status: 503,
    headers: { ...JSON_HEADERS, "content-type": "application/problem+json" },
  });
}

/**
 * The engine's metrics in the text format.
 *
 * @param engine The engine's watch.
 * @returns The lines, each ending with a newline.
 *
 * @example
 * ```ts
 * import { engineMetrics } from "./health.ts";
 * const text = engineMetrics({
 *   halted: { reason: "Engine halted: disk full", errno: 28, cause: "ENOSPC", since: 0 },
 *   state: { state: "halted", cause: "ENOSPC", since: 0 },
 * });
 * if (!text.includes('core_engine_halt_info{cause="ENOSPC"} 1')) throw new Error(text);
 * ```
 */
export function engineMetrics(engine: HealthSource): string {
  const halted = engine.halted;
  let out = "# HELP core_engine_halted 1 once the matching engine has halted (its journal " +
    "failed): it takes no more orders until the core restarts.\n" +
    "# TYPE core_engine_halted gauge\n" +
    `core_engine_halted ${halted === undefined ? 0 : 1}\n`;
  if (halted !== undefined) {
    out +=
      "# HELP core_engine_halt_info Why the engine halted: the failed OS call's error code.\n" +
      "# TYPE core_engine_halt_info gauge\n" +
      `core_engine_halt_info{cause="${halted.cause.replace(/[\\"\n]/g, "")}"} 1\n` +
      "# HELP core_engine_halted_since_seconds When the engine halted (Unix time).\n" +
      "# TYPE core_engine_halted_since_seconds gauge\n" +
      `core_engine_halted_since_seconds ${halted.since / 1000}\n`;
  }
  return out;
}
