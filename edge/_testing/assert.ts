/**
 * The few assertions the edge's tests need. `@std/assert` comes from JSR,
 * which this project cannot reach, and the edge imports nothing from
 * `core/` (its tests included), so these are the edge's own.
 *
 * @module
 */

/** Thrown when an assertion fails. */
export class AssertionError extends Error {
  /**
   * Makes the error.
   *
   * @param message What failed.
   */
  constructor(message: string) {
    super(message);
    this.name = "AssertionError";
  }
}

/**
 * Asserts that `condition` is truthy.
 *
 * @param condition The value to test.
 * @param message What failed, for the error.
 * @throws {AssertionError} If `condition` is falsy.
 *
 * @example
 * ```ts
 * import { assert } from "./assert.ts";
 * assert(1 + 1 === 2);
 * ```
 */
export function assert(condition: unknown, message = "Assertion failed"): asserts condition {
  if (!condition) throw new AssertionError(message);
}

/**
 * Asserts that two values are deeply equal as JSON values (object key order
 * does not matter; `undefined` members are left out, as JSON does).
 *
 * @param actual The value produced.
 * @param expected The value wanted.
 * @param message Prefix for the error message.
 * @throws {AssertionError} If the values differ.
 *
 * @example
 * ```ts
 * import { assertEquals } from "./assert.ts";
 * assertEquals({ b: 1, a: [2] }, { a: [2], b: 1 });
 * ```
 */
export function assertEquals(actual: unknown, expected: unknown, message?: string): void {
  const a = canonical(actual);
  const e = canonical(expected);
  if (a === e) return;
  throw new AssertionError(`${message ? `${message}: ` : ""}expected ${e}\n  but got ${a}`);
}

/**
 * Asserts that `text` matches `pattern`.
 *
 * @param text The string produced.
 * @param pattern What it must match.
 * @param message Prefix for the error message.
 * @throws {AssertionError} If it does not match.
 *
 * @example
 * ```ts
 * import { assertMatch } from "./assert.ts";
 * assertMatch("max-age=0", /max-age=\d+/);
 * ```
 */
export function assertMatch(text: string, pattern: RegExp, message?: string): void {
  if (pattern.test(text)) return;
  throw new AssertionError(`${message ? `${message}: ` : ""}${JSON.stringify(text)} !~ ${pattern}`);
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === "bigint") return `${v}n`;
    if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  }) ?? "undefined";
}
