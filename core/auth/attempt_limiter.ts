/**
 * Login attempts per key (an account name, a remote address): one token
 * bucket per key, `burst` attempts at once, refilled at `perMinute`.
 *
 * Memory is bounded: at most `maxKeys` buckets are kept. Past that, the
 * buckets that have refilled (which mean the same as no bucket) are dropped
 * first, then the least recently used; a dropped key starts again full. So
 * a flood of new keys (made-up account names) costs a bounded map, and can
 * at worst give back attempts to keys idle for longest.
 *
 * @module
 */

/** Options of {@linkcode AttemptLimiter}. */
export interface AttemptLimit {
  /** Attempts a minute, refilled continuously. */
  readonly perMinute: number;
  /** Attempts at once (default `perMinute`). */
  readonly burst?: number;
  /** Keys kept at most (default 10,000). */
  readonly maxKeys?: number;
}

/** What {@linkcode AttemptLimiter.take} answers. */
export type Attempt =
  | { readonly ok: true }
  | {
    readonly ok: false;
    /** Whole seconds until the next attempt is allowed (at least 1): `Retry-After`. */
    readonly retryAfterSeconds: number;
  };

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets by key; see the module documentation.
 *
 * @example
 * ```ts
 * import { AttemptLimiter } from "./attempt_limiter.ts";
 * const limiter = new AttemptLimiter({ perMinute: 6, burst: 2 });
 * const t = 0;
 * if (!limiter.take("ALICE", t).ok || !limiter.take("ALICE", t).ok) throw new Error("burst refused");
 * const third = limiter.take("ALICE", t);
 * if (third.ok || third.retryAfterSeconds !== 10) throw new Error("a third let in at once");
 * if (!limiter.take("BOB", t).ok) throw new Error("keys share a bucket");
 * if (!limiter.take("ALICE", t + 10_000).ok) throw new Error("not refilled after 10 s");
 * ```
 */
export class AttemptLimiter {
  readonly #perMs: number;
  readonly #burst: number;
  readonly #maxKeys: number;
  readonly #buckets = new Map<string, Bucket>();

  /**
   * @param limit The rate, burst and key bound.
   * @throws {RangeError} When a number is not positive (or `maxKeys` not a positive integer).
   */
  constructor(limit: AttemptLimit) {
    const burst = limit.burst ?? limit.perMinute;
    const maxKeys = limit.maxKeys ?? 10_000;
    if (
      !(limit.perMinute > 0) || !(burst >= 1) || !(Number.isSafeInteger(maxKeys) && maxKeys > 0)
    ) {
      throw new RangeError(
        `Cannot make an attempt limit: perMinute (${limit.perMinute}), burst (${burst}) and ` +
          `maxKeys (${maxKeys}) must be positive`,
      );
    }
    this.#perMs = limit.perMinute / 60_000;
    this.#burst = burst;
    this.#maxKeys = maxKeys;
  }

  /** How many keys are held now. */
  get size(): number {
    return this.#buckets.size;
  }

  /**
   * Takes one attempt for `key`.
   *
   * @param key The account or address.
   * @param now The time in ms (default `performance.now()`).
   * @returns Allowed, or how long to wait.
   */
  take(key: string, now: number = performance.now()): Attempt {
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      bucket = { tokens: this.#burst, at: now };
      this.#make(now);
    } else {
      bucket.tokens = Math.min(this.#burst, bucket.tokens + (now - bucket.at) * this.#perMs);
      bucket.at = now;
      this.#buckets.delete(key); // re-inserted last: the map's order is least recent first
    }
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    const retryAfterSeconds = Math.max(1, Math.ceil((1 - bucket.tokens) / this.#perMs / 1000));
    return { ok: false, retryAfterSeconds };
  }

  /** Makes room for one more key. */
  #make(now: number): void {
    if (this.#buckets.size < this.#maxKeys) return;
    for (const [key, b] of this.#buckets) {
      if (b.tokens + (now - b.at) * this.#perMs >= this.#burst) this.#buckets.delete(key);
    }
    for (const key of this.#buckets.keys()) {
      if (this.#buckets.size < this.#maxKeys) break;
      this.#buckets.delete(key);
    }
  }
}
