/**
 * The admin API's audit log: every request that may change accounts,
 * roles, limits or kill switches, who sent it, what it said and how it was
 * answered, in Deno KV beside the accounts.
 *
 * Write-ahead: an entry is written before the change is attempted and its
 * answer's status added after, so a core that stops in between leaves the
 * attempt on record with no status rather than a change with no record.
 *
 * @module
 */

import { KEY_ROOT } from "./store.ts";

/** One administrative request as the audit log holds it. */
export interface AuditEntry {
  /** Sortable and unique: later entries have greater ids. */
  readonly id: string;
  /** When the request arrived (ISO 8601, UTC). */
  readonly at: string;
  /** The admin token's subject. */
  readonly actor: string;
  /** The HTTP method. */
  readonly method: string;
  /** The path, as requested. */
  readonly path: string;
  /** The body as sent, when there was one. */
  readonly body?: string;
  /** The answer's status; absent while in flight, or when the core stopped before answering. */
  readonly status?: number;
}

/** What {@linkcode AuditLog.begin} records. */
export type AuditAttempt = Pick<AuditEntry, "actor" | "method" | "path" | "body">;

/** A page of {@linkcode AuditLog.list}, newest first. */
export interface AuditPage {
  readonly entries: readonly AuditEntry[];
  /** Pass as `before` for the next (older) page; absent on the last. */
  readonly next?: string;
}

/** The most entries one page holds. */
export const MAX_AUDIT_PAGE = 1000;

/** Where the entries live: `[KEY_ROOT, "audit", id]`. */
const AUDIT_PREFIX = [KEY_ROOT, "audit"] as const;

/** An entry id: milliseconds since the epoch and a counter, both zero-padded. */
const ID = /^\d{15}-\d{6}$/;

/**
 * The audit log over a KV.
 *
 * @example
 * ```ts
 * import { AuditLog } from "./audit.ts";
 * const kv = await Deno.openKv(":memory:");
 * const log = new AuditLog(kv);
 * const id = await log.begin({ actor: "ROOT", method: "PUT", path: "/admin/kill-switch", body: '{"on":true}' });
 * await log.finish(id, 200);
 * const { entries } = await log.list();
 * if (entries[0]?.status !== 200 || entries[0].actor !== "ROOT") throw new Error("not recorded");
 * kv.close();
 * ```
 */
export class AuditLog {
  readonly #kv: Deno.Kv;
  readonly #now: () => number;
  #lastMs = 0;
  #counter = 0;

  /**
   * @param kv Where the entries go.
   * @param options `now`: the clock (ms since the epoch; default `Date.now`).
   */
  constructor(kv: Deno.Kv, options: { readonly now?: () => number } = {}) {
    this.#kv = kv;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Records an attempt, before it is made.
   *
   * @param attempt Who asked what.
   * @returns The entry's id, for {@linkcode AuditLog.finish}.
   * @throws {Error} When KV refuses the write (the attempt must then not be made).
   */
  async begin(attempt: AuditAttempt): Promise<string> {
    const ms = this.#now();
    // Ids only grow within a process, even if the clock steps back.
    if (ms > this.#lastMs) {
      this.#lastMs = ms;
      this.#counter = 0;
    } else {
      this.#counter++;
    }
    const id = `${String(this.#lastMs).padStart(15, "0")}-${
      String(this.#counter).padStart(6, "0")
    }`;
    const entry: AuditEntry = { id, at: new Date(ms).toISOString(), ...attempt };
    const commit = await this.#kv.atomic()
      .check({ key: [...AUDIT_PREFIX, id], versionstamp: null })
      .set([...AUDIT_PREFIX, id], entry)
      .commit();
    if (!commit.ok) throw new Error(`Cannot record the admin request: audit entry ${id} exists`);
    return id;
  }

  /**
   * Adds the answer's status to an entry.
   *
   * @param id What {@linkcode AuditLog.begin} returned.
   * @param status The answer's HTTP status.
   * @throws {Error} When there is no such entry.
   */
  async finish(id: string, status: number): Promise<void> {
    const key = [...AUDIT_PREFIX, id];
    const current = await this.#kv.get<AuditEntry>(key);
    if (current.value === null) {
      throw new Error(`Cannot finish audit entry ${id}: it does not exist`);
    }
    await this.#kv.set(key, { ...current.value, status });
  }

  /**
   * Entries, newest first.
   *
   * @param options `limit` (1–{@linkcode MAX_AUDIT_PAGE}, default 100); `before`: only entries older than this id.
   * @returns A page.
   * @throws {RangeError} When `limit` or `before` is out of range.
   */
  async list(
    options: { readonly limit?: number; readonly before?: string } = {},
  ): Promise<AuditPage> {
    const limit = options.limit ?? 100;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_AUDIT_PAGE) {
      throw new RangeError(
        `Cannot list the audit log: limit must be an integer from 1 to ${MAX_AUDIT_PAGE}, not ${limit}`,
      );
    }
    if (options.before !== undefined && !isAuditId(options.before)) {
      throw new RangeError(
        `Cannot list the audit log: before must be an entry id such as 001764000000000-000000`,
      );
    }
    const selector = options.before === undefined
      ? { prefix: [...AUDIT_PREFIX] }
      : { prefix: [...AUDIT_PREFIX], end: [...AUDIT_PREFIX, options.before] };
    const entries: AuditEntry[] = [];
    // One more than asked: whether there is a next page.
    for await (
      const { value } of this.#kv.list<AuditEntry>(selector, { reverse: true, limit: limit + 1 })
    ) {
      entries.push(value);
    }
    const more = entries.length > limit;
    const page = more ? entries.slice(0, limit) : entries;
    return more ? { entries: page, next: page[page.length - 1]!.id } : { entries: page };
  }
}

/**
 * Whether `id` has the shape of an audit entry id.
 *
 * @param id The candidate.
 * @returns True when it does.
 *
 * @example
 * ```ts
 * import { isAuditId } from "./audit.ts";
 * console.log(isAuditId("001764000000000-000003"), isAuditId("3")); // true false
 * ```
 */
export function isAuditId(id: string): boolean {
  return ID.test(id);
}
