/**
 * Entity tags from snapshot versions, and `If-None-Match` matching.
 *
 * A tag names the representation: its kind and shape (a prefix that
 * changes when the JSON does), the newest version among the snapshots it
 * shows, that snapshot's `updated` time (so a KV file started afresh, whose
 * versions begin again at 1, cannot collide with tags cached before), and
 * how many snapshots it shows. Every KV write takes a version above all
 * before it, so for one URL the newest version moves whenever a shown
 * snapshot changes or appears; the count tells a list that lost a symbol
 * from the same list before the symbol's last write.
 *
 * @module
 */

import type { QuoteSnapshot } from "../schemas/quotes.ts";

/**
 * The strong entity tag of a set of snapshots in one representation.
 *
 * @param kind The representation ("q1" for the quote JSON; bump it when the shape changes).
 * @param snapshots The snapshots shown (at least one).
 * @returns The tag, quotes included.
 *
 * @example
 * ```ts
 * import { snapshotsEtag } from "./etag.ts";
 * import { makeSnapshot } from "./_testing/kv.ts";
 * const tag = snapshotsEtag("q1", [makeSnapshot("A", { version: 7, updated: 36 })]);
 * if (tag !== '"q1-7-10-1"') throw new Error(tag);
 * ```
 */
export function snapshotsEtag(kind: string, snapshots: readonly QuoteSnapshot[]): string {
  let newest = snapshots[0];
  for (const s of snapshots) if (newest === undefined || s.version > newest.version) newest = s;
  return newest === undefined
    ? `"${kind}-0"`
    : `"${kind}-${newest.version}-${newest.updated.toString(36)}-${snapshots.length}"`;
}

/**
 * Whether an `If-None-Match` header matches `etag`, with the weak comparison
 * RFC 9110 prescribes for it (`W/"x"` matches `"x"`); `*` matches any
 * existing resource.
 *
 * @param header The request's `If-None-Match`, if any.
 * @param etag The current tag, quotes included.
 * @returns Whether to answer 304.
 *
 * @example
 * ```ts
 * import { ifNoneMatch } from "./etag.ts";
 * if (!ifNoneMatch('"a", W/"q1-7"', '"q1-7"')) throw new Error("weak tag missed");
 * if (ifNoneMatch('"q1-6"', '"q1-7"')) throw new Error("stale tag matched");
 * ```
 */
export function ifNoneMatch(header: string | undefined | null, etag: string): boolean {
  if (!header) return false;
  if (header === etag) return true; // the usual case: a client echoing our one tag
  for (let candidate of header.split(",")) {
    candidate = candidate.trim();
    if (candidate === "*") return true;
    if (candidate.startsWith("W/")) candidate = candidate.slice(2);
    if (candidate === etag) return true;
  }
  return false;
}
