/**
 * The few assertions the project's tests need (core, bench). `@std/assert` comes from JSR,
 * which this project cannot reach, so these stand in for it.
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
 * does not matter; a bigint compares as its decimal digits followed by "n").
 * The error shows a line diff: arrays one element per line, anything else
 * pretty-printed.
 *
 * @param actual The value produced.
 * @param expected The value wanted.
 * @param message Prefix for the error message.
 * @throws {AssertionError} If the values differ.
 *
 * @example
 * ```ts
 * import { assertEquals } from "./assert.ts";
 * assertEquals([{ b: 1, a: 2n }], [{ a: 2n, b: 1 }]);
 * ```
 */
export function assertEquals(actual: unknown, expected: unknown, message?: string): void {
  const a = toLines(actual);
  const e = toLines(expected);
  if (a.join("\n") === e.join("\n")) return;
  const header = `${message ? `${message}: ` : ""}values are not equal (- expected, + actual)`;
  throw new AssertionError(`${header}\n${diff(e, a).join("\n")}`);
}

/**
 * Asserts that `fn` throws an instance of `ErrorClass` whose message contains
 * `includes`.
 *
 * @typeParam E The error class expected.
 * @param fn The function to call.
 * @param ErrorClass The class the error must be an instance of.
 * @param includes A substring the message must contain.
 * @returns The error thrown, for further checks.
 * @throws {AssertionError} If `fn` returns, or throws something else.
 *
 * @example
 * ```ts
 * import { assertThrows } from "./assert.ts";
 * assertThrows(() => JSON.parse("{"), SyntaxError);
 * ```
 */
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  ErrorClass?: new (...args: never[]) => E,
  includes?: string,
): E {
  try {
    fn();
  } catch (error) {
    if (ErrorClass && !(error instanceof ErrorClass)) {
      throw new AssertionError(`Expected ${ErrorClass.name} to be thrown, got: ${String(error)}`);
    }
    const e = error as E;
    if (includes !== undefined && !e.message.includes(includes)) {
      throw new AssertionError(
        `Expected the error message to include ${JSON.stringify(includes)}, got: ${
          JSON.stringify(e.message)
        }`,
      );
    }
    return e;
  }
  throw new AssertionError(`Expected ${ErrorClass?.name ?? "an error"} to be thrown`);
}

/**
 * Fails unless `lo <= actual <= hi`.
 *
 * @param actual The number seen.
 * @param lo Smallest acceptable value.
 * @param hi Largest acceptable value.
 * @param what Names the quantity in the failure message.
 * @throws {AssertionError} If `actual` is outside the range.
 *
 * @example
 * ```ts
 * import { assertBetween } from "./assert.ts";
 * assertBetween(0.55, 0.53, 0.57, "limit share");
 * ```
 */
export function assertBetween(actual: number, lo: number, hi: number, what: string): void {
  if (!(actual >= lo && actual <= hi)) {
    throw new AssertionError(`${what} = ${actual}, expected within [${lo}, ${hi}]`);
  }
}

function canonical(value: unknown, indent?: number): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === "bigint") return `${v}n`;
    if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      // Sorting keys makes key order irrelevant to equality.
      const rec = v as Record<string, unknown>;
      return Object.fromEntries(Object.keys(rec).sort().map((k) => [k, rec[k]]));
    }
    return v;
  }, indent) ?? String(value);
}

function toLines(value: unknown): string[] {
  // One array element per line keeps a diff of event streams readable.
  return Array.isArray(value) ? value.map((v) => canonical(v)) : canonical(value, 2).split("\n");
}

/** A line diff by longest common subsequence; falls back to a positional one when large. */
function diff(expected: string[], actual: string[]): string[] {
  const n = expected.length;
  const m = actual.length;
  if (n * m > 4_000_000) {
    const out: string[] = [];
    for (let i = 0; i < Math.max(n, m); i++) {
      if (expected[i] === actual[i]) continue;
      if (i < n) out.push(`- [${i}] ${expected[i]}`);
      if (i < m) out.push(`+ [${i}] ${actual[i]}`);
      if (out.length > 40) break;
    }
    return out;
  }
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = expected[i] === actual[j]
        ? lcs[i + 1]![j + 1]! + 1
        : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && expected[i] === actual[j]) {
      out.push(`  ${expected[i++]}`);
      j++;
    } else if (i < n && (j === m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      out.push(`- ${expected[i++]}`);
    } else {
      out.push(`+ ${actual[j++]}`);
    }
  }
  return out;
}
