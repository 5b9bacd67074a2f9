/**
 * Rate limiting per client address: a token bucket each, advertised with
 * the `RateLimit-Policy` and `RateLimit` fields of the IETF draft
 * (draft-ietf-httpapi-ratelimit-headers, structured-field form):
 *
 * ```text
 * RateLimit-Policy: "edge";q=120;w=60     a bucket of 120, refilled over 60 s (2 a second)
 * RateLimit: "edge";r=117;t=2              117 requests left; full again in 2 s
 * ```
 *
 * A request takes one token; without one it is answered 429 with
 * `Retry-After` (seconds until a token is back) and the same fields.
 *
 * # Known limitations
 *
 * Buckets live in one process: behind several edge replicas, a client gets
 * each replica's quota. At most `maxClients` buckets are kept: when the
 * table is full, buckets that have refilled are forgotten (a sweep at most
 * once a second), and until that frees room, new addresses share one
 * overflow bucket. So a flood from many addresses costs bounded memory and
 * CPU and is still limited, at the price of new clients sharing a quota
 * during it. IPv6 addresses count one by one (no /64 grouping).
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { problem } from "./problem.ts";

/** Options of {@linkcode TokenBuckets} and {@linkcode rateLimit}. */
export interface RateLimitOptions {
  /** Bucket size: the burst a client may make (default 120). */
  readonly limit?: number;
  /** Seconds to refill an empty bucket (default 60: 2 requests a second). */
  readonly windowSeconds?: number;
  /** The most buckets kept (default 10,000). */
  readonly maxClients?: number;
  /** The policy's name in the headers (default "edge"). */
  readonly policyName?: string;
}

/** The defaults of {@linkcode RateLimitOptions}. */
export const RATE_LIMIT_DEFAULTS = {
  limit: 120,
  windowSeconds: 60,
  maxClients: 10_000,
  policyName: "edge",
} as const;

/** What one request took from its bucket. */
export interface Take {
  /** Whether a token was taken. */
  readonly allowed: boolean;
  /** Whole tokens left. */
  readonly remaining: number;
  /** Seconds until the bucket is full again (rounded up). */
  readonly resetSeconds: number;
  /** Seconds until a token is back, when refused (rounded up, at least 1). */
  readonly retryAfterSeconds: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets by key.
 *
 * @example
 * ```ts
 * import { TokenBuckets } from "./rate_limit.ts";
 * let now = 0;
 * const buckets = new TokenBuckets({ limit: 2, windowSeconds: 2 }, () => now);
 * buckets.take("a");
 * buckets.take("a");
 * if (buckets.take("a").allowed) throw new Error("third let through");
 * now = 1000; // one token back
 * if (!buckets.take("a").allowed) throw new Error("refill lost");
 * ```
 */
export class TokenBuckets {
  readonly #capacity: number;
  readonly #perMs: number;
  readonly #maxClients: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();
  #overflow: Bucket | undefined;
  #lastSweep = -Infinity;

  /**
   * Makes the buckets.
   *
   * @param options Size, refill window and the most buckets kept.
   * @param now The clock (ms).
   * @throws {RangeError} When an option is not a positive integer.
   */
  constructor(options: RateLimitOptions = {}, now: () => number = Date.now) {
    const o = { ...RATE_LIMIT_DEFAULTS, ...options };
    for (const name of ["limit", "windowSeconds", "maxClients"] as const) {
      if (!(Number.isSafeInteger(o[name]) && o[name] > 0)) {
        throw new RangeError(
          `Cannot make the rate limiter: ${name} must be a positive integer, not ${o[name]}`,
        );
      }
    }
    this.#capacity = o.limit;
    this.#perMs = o.limit / (o.windowSeconds * 1000);
    this.#maxClients = o.maxClients;
    this.#now = now;
  }

  /** How many buckets are kept. */
  get size(): number {
    return this.#buckets.size;
  }

  /**
   * Takes a token from `key`'s bucket, if it has one.
   *
   * @param key The client's address.
   * @returns What was taken and what is left.
   */
  take(key: string): Take {
    const bucket = this.#refill(key);
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    return {
      allowed,
      remaining: Math.floor(bucket.tokens),
      resetSeconds: this.secondsToFull(bucket.tokens),
      retryAfterSeconds: allowed
        ? 0
        : Math.max(1, Math.ceil((1 - bucket.tokens) / this.#perMs / 1000)),
    };
  }

  /**
   * Takes a token from `key`'s bucket, if it has one, allocating nothing
   * for a known key: {@linkcode take} for the quote fast path. A refusal
   * takes nothing, so calling {@linkcode take} after it refuses again (or
   * allows, if a token came back in between).
   *
   * @param key The client's address.
   * @returns The tokens left after taking (fractional, `0 <= x < limit`), or -1 when refused.
   *
   * @example
   * ```ts
   * import { TokenBuckets } from "./rate_limit.ts";
   * const buckets = new TokenBuckets({ limit: 1 }, () => 0);
   * if (buckets.tryTake("a") !== 0 || buckets.tryTake("a") !== -1) throw new Error();
   * ```
   */
  tryTake(key: string): number {
    const bucket = this.#refill(key);
    if (bucket.tokens < 1) return -1;
    return bucket.tokens -= 1;
  }

  /**
   * Seconds until a bucket holding `tokens` is full again.
   *
   * @param tokens The tokens it holds.
   * @returns The seconds, rounded up.
   */
  secondsToFull(tokens: number): number {
    return Math.ceil((this.#capacity - tokens) / this.#perMs / 1000);
  }

  // The key's bucket (a new one, or the overflow bucket when the table is
  // full), refilled up to now.
  #refill(key: string): Bucket {
    const now = this.#now();
    let bucket = this.#buckets.get(key);
    if (bucket === undefined && this.#buckets.size >= this.#maxClients) {
      if (now - this.#lastSweep >= 1000) this.#sweep(now);
      if (this.#buckets.size >= this.#maxClients) {
        bucket = this.#overflow ??= { tokens: this.#capacity, at: now };
      }
    }
    if (bucket === undefined) {
      bucket = { tokens: this.#capacity, at: now };
      this.#buckets.set(key, bucket);
    } else {
      bucket.tokens = Math.min(this.#capacity, bucket.tokens + (now - bucket.at) * this.#perMs);
      bucket.at = now;
    }
    return bucket;
  }

  // Forgets the buckets that have refilled: they hold nothing a new one
  // would not.
  #sweep(now: number): void {
    this.#lastSweep = now;
    for (const [key, b] of this.#buckets) {
      if (b.tokens + (now - b.at) * this.#perMs >= this.#capacity) this.#buckets.delete(key);
    }
  }
}

/**
 * A rate limit policy: its buckets and its header fields. The middleware
 * and the quote fast path (`quote_fast_path.ts`) share one, so that a
 * client has one quota whichever path answers it.
 *
 * @example
 * ```ts
 * import { RateLimitPolicy } from "./rate_limit.ts";
 * const policy = new RateLimitPolicy({ limit: 10, windowSeconds: 5 }, () => 0);
 * const left = policy.buckets.tryTake("a");
 * if (policy.policyField !== '"edge";q=10;w=5') throw new Error(policy.policyField);
 * if (policy.stateField(left) !== '"edge";r=9;t=1') throw new Error(policy.stateField(left));
 * ```
 */
export class RateLimitPolicy {
  /** The buckets, by client address. */
  readonly buckets: TokenBuckets;
  /** The policy's name in the fields. */
  readonly name: string;
  /** The bucket size. */
  readonly limit: number;
  /** Seconds to refill an empty bucket. */
  readonly windowSeconds: number;
  /** `RateLimit-Policy`: `"<name>";q=<limit>;w=<window>`. */
  readonly policyField: string;

  /**
   * Makes the policy.
   *
   * @param options Size, refill window, the most buckets kept, the name.
   * @param now The clock (ms).
   * @throws {RangeError} When an option is not a positive integer.
   */
  constructor(options: RateLimitOptions = {}, now: () => number = Date.now) {
    this.buckets = new TokenBuckets(options, now);
    this.name = options.policyName ?? RATE_LIMIT_DEFAULTS.policyName;
    this.limit = options.limit ?? RATE_LIMIT_DEFAULTS.limit;
    this.windowSeconds = options.windowSeconds ?? RATE_LIMIT_DEFAULTS.windowSeconds;
    this.policyField = `"${this.name}";q=${this.limit};w=${this.windowSeconds}`;
  }

  /**
   * The `RateLimit` field of a bucket holding `tokens`.
   *
   * @param tokens The tokens left.
   * @returns `"<name>";r=<whole tokens left>;t=<seconds to full>`.
   */
  stateField(tokens: number): string {
    return `"${this.name}";r=${Math.floor(tokens)};t=${this.buckets.secondsToFull(tokens)}`;
  }
}

/** Options of {@linkcode rateLimit}. */
export interface RateLimitMiddlewareOptions extends RateLimitOptions {
  /** The policy to apply (default: one made from these options and `now`). */
  readonly policy?: RateLimitPolicy;
  /** The client's address (the bucket's key), or undefined when unknown (one shared bucket). */
  readonly clientAddress: (c: Context) => string | undefined;
  /** Paths never limited (health checks and metrics). */
  readonly exempt?: ReadonlySet<string>;
  /** The clock (ms). */
  readonly now?: () => number;
}

/**
 * Hono middleware: limits each client address with a token bucket and sets
 * `RateLimit-Policy` and `RateLimit` on every limited answer.
 *
 * @param options The policy, how to find a client's address, and exempt paths.
 * @returns The middleware.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { rateLimit } from "./rate_limit.ts";
 * const app = new Hono();
 * app.use(rateLimit({ limit: 1, windowSeconds: 60, clientAddress: () => "10.0.0.1" }));
 * app.get("/", (c) => c.text("hi"));
 * if ((await app.request("/")).status !== 200) throw new Error("first refused");
 * const second = await app.request("/");
 * if (second.status !== 429 || second.headers.get("retry-after") !== "60") {
 *   throw new Error("second let through");
 * }
 * ```
 */
export function rateLimit(options: RateLimitMiddlewareOptions): MiddlewareHandler {
  const { buckets, name, limit, windowSeconds: window, policyField: policy } = options.policy ??
    new RateLimitPolicy(options, options.now);
  const exempt = options.exempt ?? new Set<string>();
  return async function rateLimit(c, next) {
    if (exempt.has(c.req.path)) return await next();
    const take = buckets.take(options.clientAddress(c) ?? "unknown");
    const state = `"${name}";r=${take.remaining};t=${take.resetSeconds}`;
    if (!take.allowed) {
      return problem(
        "rate_limited",
        `Cannot answer: this address has used its ${limit} requests (refilled over ${window} s); ` +
          `retry in ${take.retryAfterSeconds} s`,
        {
          headers: {
            "retry-after": String(take.retryAfterSeconds),
            "ratelimit-policy": policy,
            "ratelimit": state,
          },
        },
      );
    }
    await next();
    c.res.headers.append("ratelimit-policy", policy);
    c.res.headers.append("ratelimit", state);
  };
}
